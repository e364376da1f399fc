/*
 * Frames of alpr-captured: grey images in sealed memfds, shared by
 * reference count.  Runs in alpr-captured; holds only our own pixels.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "capture.h"
#include "ipc/ipc.h"

/*
 * Sources fill a frame's pixels in plain memory and frame_seal() writes
 * them into a new memfd: on virtual machines a fresh shared mapping costs
 * several times a copy.  One scratch buffer is kept for the frame being
 * filled (sources fill one at a time); a second one at once gets its own.
 */
static uint8_t *scratch;
static size_t scratch_size;
static bool scratch_busy;

static uint8_t *
pixels_get(size_t size)
{
	uint8_t *p;

	if (scratch_busy)
		return malloc(size);
	if (size > scratch_size) {
		if ((p = realloc(scratch, size)) == NULL)
			return NULL;
		scratch = p;
		scratch_size = size;
	}
	scratch_busy = true;
	return scratch;
}

static void
pixels_put(uint8_t *p)
{
	if (p == scratch)
		scratch_busy = false;
	else
		free(p);
}

int
frame_new(int width, int height, struct frame **ret, uint8_t **ret_pixels)
{
	struct frame *f;

	if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
		return -EINVAL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->size = (size_t)width * height;
	if ((*ret_pixels = pixels_get(f->size)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->refs = 1;
	f->fd = -1;
	f->width = width;
	f->height = height;
	f->stride = width;
	*ret = f;
	return 0;
}

int
frame_seal(struct frame *f, uint8_t *pixels)
{
	int fd;

	fd = ipc_memfd_from("alpr-frame", pixels, f->size);
	pixels_put(pixels);
	if (fd < 0)
		return fd;
	f->fd = fd;
	return 0;
}

/*
 * Health and inspection look at a few frames only, so they get a copy
 * read back on demand rather than one kept for every frame.
 */
const uint8_t *
frame_pixels(struct frame *f)
{
	if (f->copy == NULL && f->fd >= 0)
		f->copy = ipc_memfd_copy(f->fd, f->size);
	return f->copy;
}

struct frame *
frame_ref(struct frame *f)
{
	f->refs++;
	return f;
}

struct frame *
frame_unref(struct frame *f)
{
	if (f == NULL || --f->refs > 0)
		return NULL;
	free((void *)f->copy);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return NULL;
}

struct source *
source_free(struct source *s)
{
	if (s != NULL)
		s->free(s);
	return NULL;
}

const char *
source_describe(const struct source *s)
{
	return s != NULL ? s->desc : "none";
}
