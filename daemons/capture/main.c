/*
 * alpr-captured: one instance per camera (-c NAME, [camera.NAME]).  Reads
 * frames from V4L2 or a replay source, tags them with time and GPS, and
 * hands them to alpr-ocrd as sealed memfds on ocr.sock.  Trusts the
 * camera's bytes only as pixels.
 *
 * Hand-off (doc/protocol.md, FRAME): a frame goes to the socket at once
 * when the connection's queue is empty.  Otherwise it waits as the one
 * pending frame, replacing (dropping) an older pending one: newest wins,
 * the capture loop never blocks, and memory stays bounded by one frame
 * plus what the kernel holds for the socket, itself capped near
 * QueueFrames (on_ocr_connected).  Drops are counted in STATUS and HEALTH.
 * With alpr-ocrd away, frames are dropped and counted too.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/time.h"
#include "capture.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

#define DRAIN_USEC (2 * USEC_PER_MSEC)	/* look again for room this soon */

/*
 * Kernel bytes per FRAME in flight: a socket buffer of a few hundred bytes
 * of payload plus the kernel's own overhead (measured: about 1 KiB).
 */
#define FRAME_SNDBUF_BYTES 1024

static int
on_ocr_connected(struct ipc_conn *conn, void *userdata)
{
	struct captured *c = userdata;
	int r;

	/*
	 * Each frame in flight pins its memfd: cap them near QueueFrames
	 * (the kernel doubles the value and keeps a floor of a few frames),
	 * else a stalled alpr-ocrd would hold hundreds of megabytes.
	 */
	r = ipc_conn_set_sndbuf(conn, (int)c->d->conf->capture.queue_frames *
	    FRAME_SNDBUF_BYTES / 2);
	if (r < 0)
		log_warn_r(r, "ocr.sock: send buffer, ignoring");

	/* A replay starts with alpr-ocrd there, so a demo shows its first frame. */
	if (c->src != NULL && c->src->play != NULL && !c->src->playing) {
		log_info("camera %s: alpr-ocrd is there, replay starts", c->cam->name);
		c->src->play(c->src);
	}
	return 0;
}

static const struct ipc_handler ocr_table[] = { { 0 } };
static const struct ipc_ops ocr_ops = { .table = ocr_table, .connected = on_ocr_connected };
static const struct ipc_handler alert_table[] = { { 0 } };
static const struct ipc_ops alert_ops = { .table = alert_table };

static bool
queue_busy(struct captured *c)
{
	struct ipc_conn *conn = ipc_client_conn(c->ocr);

	return conn != NULL && ipc_conn_queued(conn) > 0;
}

static void
drop_pending(struct captured *c)
{
	if (c->pending == NULL)
		return;
	c->pending = frame_unref(c->pending);
	json_decref(c->pending_meta);
	c->pending_meta = NULL;
	c->dropped++;
}

/* Sends the pending frame if the socket has room; true when nothing waits. */
static bool
flush_pending(struct captured *c)
{
	struct ipc_conn *conn;
	int r;

	if (c->pending == NULL)
		return true;
	if ((conn = ipc_client_conn(c->ocr)) == NULL) {
		drop_pending(c);
		return true;
	}
	if (ipc_conn_queued(conn) > 0)
		return false;
	r = ipc_conn_send(conn, IPC_MSG_FRAME, 0, 0, c->pending_meta, c->pending->fd);
	if (r < 0) {
		drop_pending(c);
		return true;
	}
	c->sent++;
	c->pending = frame_unref(c->pending);
	json_decref(c->pending_meta);
	c->pending_meta = NULL;
	return true;
}

static int
on_drain(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct captured *c = userdata;

	if (!flush_pending(c)) {
		(void)sd_event_source_set_time(s, usec + DRAIN_USEC);
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

static json_t *
frame_meta(struct captured *c, const struct frame *f, int64_t capture_usec, int64_t mono_usec)
{
	json_t *gps;

	if (c->cam->mode == CONF_MODE_FIXED)
		gps = gps_fixed_tag(c->cam->latitude, c->cam->longitude);
	else
		gps = gps_tag(c->gps, mono_usec);
	if (gps == NULL)
		return NULL;
	return json_pack("{s:s, s:I, s:i, s:i, s:i, s:s, s:I, s:I, s:o}", "camera", c->cam->name,
	    "frame", (json_int_t)c->seq, "width", f->width, "height", f->height, "stride",
	    f->stride, "format", "GREY", "capture_usec", (json_int_t)capture_usec,
	    "mono_usec", (json_int_t)mono_usec, "gps", gps);
}

static void
on_frame(void *userdata, struct frame *f, int64_t capture_usec, int64_t mono_usec)
{
	struct captured *c = userdata;
	json_t *meta;

	c->seq++;
	c->health_frames++;
	frame_unref(c->latest);
	c->latest = frame_ref(f);
	c->latest_seq = c->seq;
	c->latest_mono_usec = mono_usec;
	c->latest_capture_usec = capture_usec;

	if ((meta = frame_meta(c, f, capture_usec, mono_usec)) == NULL) {
		c->dropped++;
		return;
	}
	/* Newest wins: an older frame still waiting is dropped for this one. */
	drop_pending(c);
	c->pending = frame_ref(f);
	c->pending_meta = meta;
	if (!flush_pending(c)) {
		(void)sd_event_source_set_time_relative(c->drain_timer, DRAIN_USEC);
		(void)sd_event_source_set_enabled(c->drain_timer, SD_EVENT_ONESHOT);
	}
}

static void
on_source_state(void *userdata, bool up, const char *why)
{
	struct captured *c = userdata;

	c->source_up = up;
	c->down_why = up ? NULL : why;
	if (!up) {
		c->latest = frame_unref(c->latest);
		c->have_stats = false;
	}
	/* Down is reported at once; up waits for the next interval's measurement. */
	if (!up)
		health_update(c, false);
	c->down_why = NULL;
}

static void
on_finished(void *userdata)
{
	struct captured *c = userdata;

	log_info("camera %s: replay finished after %llu frames", c->cam->name,
	    (unsigned long long)c->seq);
}

/* FrameRate=0 replay waits while a frame waits, or while alpr-ocrd is away. */
static bool
on_busy(void *userdata)
{
	struct captured *c = userdata;

	return c->pending != NULL || ipc_client_conn(c->ocr) == NULL || queue_busy(c);
}

static int
open_source(struct captured *c)
{
	const struct source_sink sink = {
		.frame = on_frame,
		.state = on_source_state,
		.finished = on_finished,
		.busy = on_busy,
		.userdata = c,
	};

	switch (c->cam->source) {
	case CONF_SOURCE_IMAGES:
		return replay_images_new(c->d->event, c->cam, &sink, &c->src);
	case CONF_SOURCE_VIDEO:
		return replay_video_new(c->d->event, c->cam, &sink, &c->src);
	default:
		return v4l2_source_new(c->d->event, c->cam, &sink, &c->src);
	}
}

static int
captured_start(struct daemon *d)
{
	struct captured *c;
	char *path;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	d->userdata = c;
	c->d = d;
	c->cam = conf_camera(d->conf, d->camera);
	/* No-frames, not down, until the source says otherwise. */
	c->source_up = true;
	if ((path = daemon_socket_path(d, "ocr.sock")) == NULL)
		return -ENOMEM;
	r = ipc_client_new(d->event, path, IPC_ROLE_CAPTURE, d->name, &ocr_ops, c, &c->ocr);
	free(path);
	if (r < 0)
		return r;
	/* alertd shows camera faults on the MDC; it may not run (fleet bench, tests). */
	if ((path = daemon_socket_path(d, "alert.sock")) == NULL)
		return -ENOMEM;
	r = ipc_client_new(d->event, path, IPC_ROLE_CAPTURE, d->name, &alert_ops, c, &c->alert);
	free(path);
	if (r < 0)
		return r;
	if ((r = sd_event_add_time(d->event, &c->drain_timer, CLOCK_MONOTONIC, 0, 1, on_drain,
	    c)) < 0)
		return r;
	(void)sd_event_source_set_enabled(c->drain_timer, SD_EVENT_OFF);
	if (c->cam->mode != CONF_MODE_FIXED && (r = gps_new(d->event, &d->conf->gps, &c->gps)) < 0)
		return r;
	if ((r = inspect_start(c)) < 0)
		return r;
	if ((r = health_start(c)) < 0)
		return r;
	if ((r = open_source(c)) < 0) {
		log_warn_r(r, "camera %s: source %s", c->cam->name,
		    c->cam->source == CONF_SOURCE_V4L2 ? c->cam->device : c->cam->path);
		return r;
	}
	daemon_status(d, "camera %s: %s", c->cam->name, source_describe(c->src));
	return 0;
}

static int
captured_reload(struct daemon *d, const struct alpr_conf *old)
{
	struct captured *c = d->userdata;
	const struct conf_camera *cam = conf_camera(d->conf, d->camera);

	if (cam == NULL) {
		log_warnx("reload: [camera.%s] is gone", d->camera);
		return -ENOENT;
	}
	/* Mode switches GPS on or off; the rest of what changes is read where used. */
	if ((cam->mode == CONF_MODE_FIXED) != (c->cam->mode == CONF_MODE_FIXED)) {
		log_warnx("reload: [camera.%s] Mode= between fixed and not needs a restart",
		    d->camera);
		return -EINVAL;
	}
	if (c->gps != NULL) {
		int r = gps_reconfigure(c->gps, &d->conf->gps);

		if (r < 0)
			return r;
	}
	c->cam = cam;
	return 0;
}

static void
captured_stop(struct daemon *d)
{
	struct captured *c = d->userdata;

	if (c == NULL)
		return;
	log_info("camera %s: %llu frames, %llu sent, %llu dropped", c->cam->name,
	    (unsigned long long)c->seq, (unsigned long long)c->sent,
	    (unsigned long long)c->dropped);
	source_free(c->src);
	health_stop(c);
	frame_unref(c->pending);
	json_decref(c->pending_meta);
	frame_unref(c->latest);
	sd_event_source_disable_unref(c->drain_timer);
	gps_free(c->gps);
	ipc_server_free(c->ctl);
	ipc_client_free(c->alert);
	ipc_client_free(c->ocr);
	free(c);
}

static const struct daemon_ops ops = {
	.name = "alpr-captured",
	.summary = "Capture frames from one camera for plate recognition.",
	.camera = true,
	.start = captured_start,
	.reload = captured_reload,
	.stop = captured_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
