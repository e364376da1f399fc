/*
 * FRAME messages, run in alpr-ocrd's main process.
 *
 * Input: a message from a peer that said it is alpr-captured (role checked
 * by lib/ipc, SO_PEERCRED by the socket's mode), trusted for nothing.  Every
 * field of the JSON body is fetched with its type checked and its range
 * bounded, the descriptor must be a memfd sealed against writes and
 * resizing whose size is exactly stride * height.
 * Only then does a frame exist; a bad one is refused alone (the caller logs).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "ipc/ipc.h"
#include "ocrd.h"

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
	free(f->copy);
	if (f->fd >= 0)
		close(f->fd);
	json_decref(f->gps);
	free(f);
	return NULL;
}

const uint8_t *
frame_pixels(struct frame *f)
{
	if (f->copy == NULL)
		f->copy = ipc_memfd_copy(f->fd, f->size);
	return f->copy;
}

/* Camera names are config section names: [A-Za-z0-9_-], 1..32 bytes. */
static bool
camera_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > OCR_CAMERA_MAX)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool
number_in(json_t *o, const char *key, double lo, double hi, bool required, double *ret)
{
	json_t *v = json_object_get(o, key);
	double d;

	if (v == NULL)
		return !required;
	if (!json_is_number(v))
		return false;
	d = json_number_value(v);
	if (!isfinite(d) || d < lo || d > hi)
		return false;
	*ret = d;
	return true;
}

/*
 * A copy of the GPS object holding only the fields we checked, so that
 * nothing unvetted travels on inside a read.
 */
static json_t *
gps_copy(json_t *g)
{
	json_t *fix, *mode, *age, *out;
	double lat = 0, lon = 0, speed = -1, heading = -1, eph = -1;

	if (!json_is_object(g) || !json_is_boolean(fix = json_object_get(g, "fix")))
		return NULL;
	if (!json_is_true(fix))
		return json_pack("{s:b}", "fix", 0);
	if (!number_in(g, "lat", -90, 90, true, &lat) ||
	    !number_in(g, "lon", -180, 180, true, &lon) ||
	    !number_in(g, "speed", 0, 1000, false, &speed) ||
	    !number_in(g, "heading", 0, 360, false, &heading) ||
	    !number_in(g, "eph", 0, 1e6, false, &eph))
		return NULL;
	if ((out = json_pack("{s:b,s:f,s:f}", "fix", 1, "lat", lat, "lon", lon)) == NULL)
		return NULL;
	if (speed >= 0)
		json_object_set_new(out, "speed", json_real(speed));
	if (heading >= 0)
		json_object_set_new(out, "heading", json_real(heading));
	if (eph >= 0)
		json_object_set_new(out, "eph", json_real(eph));
	mode = json_object_get(g, "mode");
	if (mode != NULL) {
		if (!json_is_integer(mode) || (json_integer_value(mode) != 2 &&
		    json_integer_value(mode) != 3))
			goto bad;
		json_object_set_new(out, "mode", json_integer(json_integer_value(mode)));
	}
	age = json_object_get(g, "age_ms");
	if (age != NULL) {
		if (!json_is_integer(age) || json_integer_value(age) < 0)
			goto bad;
		json_object_set_new(out, "age_ms", json_integer(json_integer_value(age)));
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

int
frame_from_msg(struct ipc_msg *m, struct frame **ret, const char **ret_why)
{
	const char *camera, *format;
	json_int_t number, width, height, stride, capture_usec, mono_usec;
	json_t *gps;
	json_error_t err;
	struct frame *f = NULL;
	size_t size;
	int r;

	*ret_why = NULL;
	if (m->fd < 0) {
		*ret_why = "no descriptor";
		return -EBADMSG;
	}
	if (json_unpack_ex(m->body, &err, 0, "{s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:I,s:o}",
	    "camera", &camera, "frame", &number, "width", &width, "height", &height,
	    "stride", &stride, "format", &format, "capture_usec", &capture_usec,
	    "mono_usec", &mono_usec, "gps", &gps) < 0) {
		*ret_why = "missing or mistyped field";
		return -EBADMSG;
	}
	if (!camera_ok(camera))
		*ret_why = "bad camera name";
	else if (number < 0)
		*ret_why = "bad frame number";
	else if (strcmp(format, "GREY") != 0)
		*ret_why = "format is not GREY";
	else if (width < 16 || height < 16 || width > REC_MAX_SIDE || height > REC_MAX_SIDE ||
	    width * height > REC_MAX_PIXELS)
		*ret_why = "bad image size";
	else if (stride < width || stride > 4 * width)
		*ret_why = "bad stride";
	else if (capture_usec <= 0 || mono_usec < 0)
		*ret_why = "bad timestamp";
	if (*ret_why != NULL)
		return -EBADMSG;
	if ((r = ipc_memfd_check(m->fd, &size)) < 0) {
		*ret_why = "descriptor is not a sealed memfd";
		return -EBADMSG;
	}
	if (size != (size_t)stride * (size_t)height) {
		*ret_why = "memfd size differs from stride * height";
		return -EBADMSG;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->refs = 1;
	f->fd = -1;
	if ((f->gps = gps_copy(gps)) == NULL) {
		*ret_why = "bad gps object";
		r = -EBADMSG;
		goto fail;
	}
	f->size = size;
	f->fd = m->fd;
	m->fd = -1;
	strcpy(f->camera, camera);
	f->number = number;
	f->width = (int)width;
	f->height = (int)height;
	f->stride = (size_t)stride;
	f->capture_usec = capture_usec;
	f->mono_usec = mono_usec;
	f->received_usec = time_monotonic_usec();
	*ret = f;
	return 0;
fail:
	frame_unref(f);
	return r;
}
