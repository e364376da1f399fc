/*
 * Frames of alpr-captured: grey images in sealed memfds, shared by
 * reference count.  Runs in alpr-captured; holds only our own pixels.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "ipc/ipc.h"

int
frame_new(int width, int height, struct frame **ret, uint8_t **ret_pixels)
{
	struct frame *f;
	void *map;
	int fd;

	if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
		return -EINVAL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->size = (size_t)width * height;
	if ((fd = ipc_memfd_new("alpr-frame", f->size, &map)) < 0) {
		free(f);
		return fd;
	}
	f->refs = 1;
	f->fd = fd;
	f->width = width;
	f->height = height;
	f->stride = width;
	*ret = f;
	*ret_pixels = map;
	return 0;
}

/* The writable mapping must go first: the kernel refuses F_SEAL_WRITE while one exists. */
int
frame_seal(struct frame *f, uint8_t *pixels)
{
	(void)munmap(pixels, f->size);
	return ipc_memfd_seal(f->fd);
}

/*
 * Health and inspection look at a few frames only, so the read-only
 * mapping is made on demand rather than for every frame.
 */
const uint8_t *
frame_pixels(struct frame *f)
{
	void *map;

	if (f->map == NULL) {
		map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, f->fd, 0);
		if (map == MAP_FAILED)
			return NULL;
		f->map = map;
	}
	return f->map;
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
	if (f->map != NULL)
		(void)munmap((void *)f->map, f->size);
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
