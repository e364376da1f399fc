/*
 * Pre-deployment inspection (policy IV.D, R11) on capture-NAME.sock:
 * `alprctl inspect run NAME` sends REQUEST {"op": "inspect"} and gets a
 * live check of this camera (frames arriving, brightness, contrast and
 * sharpness within the configured limits, measured now on the newest
 * frame) and a sample frame as PNG or JPEG bytes in a sealed memfd.
 * alprctl records the inspection with the operator through alpr-matchd;
 * this daemon records nothing.
 *
 * Every REPLY on this socket carries a sealed memfd, empty when there is
 * no sample (errors included): the IPC handler tables match a message's
 * descriptor exactly, so a client's table row for REPLY says fd = true.
 *
 * Runs in alpr-captured.  Trusts the ctl peer only as far as the socket's
 * mode and group admit it; the request's fields are type-checked.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "capture.h"
#include "cv.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

/* Frames must have come within this long for "frames_arriving". */
#define INSPECT_FRESH_USEC (2 * USEC_PER_SEC)

/* A sealed memfd of no bytes: the descriptor of a reply without a sample. */
static int
empty_memfd(void)
{
	int fd, r;

	if ((fd = memfd_create("alpr-inspect", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		return -errno;
	if ((r = ipc_memfd_seal(fd)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int
send_reply(struct ipc_conn *conn, uint32_t flags, uint64_t seq, json_t *body, int fd)
{
	int r;

	if (fd < 0 && (fd = empty_memfd()) < 0)
		return fd;
	r = ipc_conn_send(conn, IPC_MSG_REPLY, flags, seq, body, fd);
	close(fd);
	return r;
}

static int
reply_error(struct ipc_conn *conn, uint64_t seq, const char *code, const char *error)
{
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", error, "code", code);
	int r;

	if (o == NULL)
		return -ENOMEM;
	r = send_reply(conn, IPC_F_ERROR, seq, o, -1);
	json_decref(o);
	return r;
}

/* The sample as image bytes in a new sealed memfd, or -errno. */
static int
sample_memfd(struct frame *f, const char *ext, size_t *ret_len)
{
	const uint8_t *p;
	uint8_t *buf;
	size_t len;
	void *map;
	int fd, r;

	if ((p = frame_pixels(f)) == NULL)
		return -errno;
	if ((r = cvw_encode(p, f->width, f->height, f->stride, ext, &buf, &len)) < 0)
		return r;
	if ((fd = ipc_memfd_new("alpr-inspect", len, &map)) < 0) {
		free(buf);
		return fd;
	}
	memcpy(map, buf, len);
	free(buf);
	(void)munmap(map, len);
	if ((r = ipc_memfd_seal(fd)) < 0) {
		close(fd);
		return r;
	}
	*ret_len = len;
	return fd;
}

static int
do_inspect(struct captured *c, struct ipc_conn *conn, uint64_t seq, json_t *args)
{
	const struct conf_camera *cam = c->cam;
	const char *format = "png";
	struct frame_stats st = { 0 };
	int64_t now = time_monotonic_usec();
	bool arriving, measured = false, b_ok = false, c_ok = false, s_ok = false, passed;
	enum health_state state = HEALTH_NO_FRAMES;
	json_t *res, *o;
	size_t len = 0;
	int fd = -1, r;

	if (json_is_object(args)) {
		o = json_object_get(args, "format");
		if (o != NULL && !json_is_string(o))
			return reply_error(conn, seq, "bad-request", "args.format must be a string");
		if (o != NULL)
			format = json_string_value(o);
	}
	if (strcmp(format, "png") != 0 && strcmp(format, "jpeg") != 0)
		return reply_error(conn, seq, "bad-request", "args.format: png or jpeg");

	arriving = c->source_up && c->latest != NULL &&
	    now - c->latest_mono_usec <= INSPECT_FRESH_USEC;
	if (!c->source_up)
		state = HEALTH_DOWN;
	if (c->latest != NULL && health_measure(c->latest, &st) == 0) {
		measured = true;
		b_ok = st.brightness >= cam->min_brightness && st.brightness <= cam->max_brightness;
		c_ok = st.contrast >= cam->min_contrast;
		s_ok = st.sharpness >= cam->min_sharpness;
		if (arriving)
			state = health_classify(cam, &st);
	}
	passed = arriving && b_ok && c_ok && s_ok;
	res = json_pack("{s:s, s:s, s:s, s:b, s:f, s:I, s:I, s:s, s:b}", "camera", cam->name,
	    "source", source_describe(c->src), "state", health_state_name(state),
	    "frames_arriving", arriving, "fps", c->fps, "frames", (json_int_t)c->seq,
	    "dropped", (json_int_t)c->dropped, "gps",
	    cam->mode == CONF_MODE_FIXED ? "fix" : gps_state(c->gps, now), "passed", passed);
	if (res == NULL)
		return -ENOMEM;
	(void)json_object_set_new(res, "limits", json_pack("{s:f, s:f, s:f, s:f}",
	    "min_brightness", cam->min_brightness, "max_brightness", cam->max_brightness,
	    "min_contrast", cam->min_contrast, "min_sharpness", cam->min_sharpness));
	if (measured) {
		(void)json_object_set_new(res, "brightness", json_real(st.brightness));
		(void)json_object_set_new(res, "brightness_ok", json_boolean(b_ok));
		(void)json_object_set_new(res, "contrast", json_real(st.contrast));
		(void)json_object_set_new(res, "contrast_ok", json_boolean(c_ok));
		(void)json_object_set_new(res, "sharpness", json_real(st.sharpness));
		(void)json_object_set_new(res, "sharpness_ok", json_boolean(s_ok));
	}
	if (c->latest != NULL) {
		(void)json_object_set_new(res, "frame", json_integer((json_int_t)c->latest_seq));
		(void)json_object_set_new(res, "width", json_integer(c->latest->width));
		(void)json_object_set_new(res, "height", json_integer(c->latest->height));
		(void)json_object_set_new(res, "capture_usec",
		    json_integer(c->latest_capture_usec));
		fd = sample_memfd(c->latest, strcmp(format, "png") == 0 ? ".png" : ".jpg", &len);
		if (fd < 0)
			log_warn_r(fd, "inspect: encoding the sample frame, sending none");
		else
			(void)json_object_set_new(res, "sample", json_pack("{s:s, s:I}", "format",
			    format, "length", (json_int_t)len));
	}
	log_info("inspection of camera %s by %s (uid %u): %s", cam->name,
	    ipc_conn_peer_name(conn), (unsigned)ipc_conn_peer_uid(conn),
	    passed ? "passed" : "failed");
	o = json_pack("{s:b, s:o}", "ok", 1, "result", res);
	if (o == NULL) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	r = send_reply(conn, 0, seq, o, fd);
	json_decref(o);
	return r;
}

static int
on_request(struct ipc_conn *conn, struct ipc_msg *m, void *userdata)
{
	struct captured *c = userdata;
	json_t *op = json_object_get(m->body, "op");
	int r;

	if (!json_is_string(op))
		r = reply_error(conn, m->seq, "bad-request", "op must be a string");
	else if (strcmp(json_string_value(op), "inspect") == 0)
		r = do_inspect(c, conn, m->seq, json_object_get(m->body, "args"));
	else
		r = reply_error(conn, m->seq, "unknown-op", "unknown op");
	/* A reply we cannot queue costs that peer, not the camera. */
	if (r < 0)
		log_warn_r(r, "inspect: replying to %s", ipc_conn_peer_name(conn));
	return 0;
}

static const struct ipc_handler ctl_table[] = {
	{ IPC_MSG_REQUEST, IPC_ROLE_CTL | IPC_ROLE_TEST, false, true, on_request },
	{ 0 }
};
static const struct ipc_ops ctl_ops = { .table = ctl_table };

int
inspect_start(struct captured *c)
{
	char name[CONF_NAME_MAX + 16];
	int fd, r;

	snprintf(name, sizeof(name), "capture-%s.sock", c->cam->name);
	if ((fd = daemon_listen(c->d, name)) < 0) {
		log_warn_r(fd, "%s", name);
		return fd;
	}
	r = ipc_server_new(c->d->event, fd, IPC_ROLE_CAPTURE, c->d->name, IPC_ROLE_CTL |
	    IPC_ROLE_TEST, &ctl_ops, c, &c->ctl);
	if (r < 0)
		close(fd);
	return r;
}
