/*
 * alpr-ocrd: receives frames from alpr-captured on ocr.sock (sealed memfds),
 * has them read by recognizer worker processes, tracks plates across frames
 * and sends one read per passing vehicle to alpr-matchd (reliable).
 *
 * This file runs the main process: it owns the sockets, the worker pool,
 * the tracker and the reads, and trusts no frame (frames.c checks them)
 * and no worker (worker.c checks their answers).  See ocrd.h for the roles.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"
#include "ocrd.h"

#define TICK_USEC (200 * 1000LL)
#define TICK_ACCURACY_USEC (10 * 1000LL)
#define STATUS_USEC (2 * 1000000LL)
#define BAD_LOG_USEC (10 * 1000000LL)	/* one line per bad-frame burst */

struct ocrd {
	struct daemon *d;
	struct ipc_server *frames;
	struct pool *pool;
	struct tracker *tracker;
	struct reads *reads;
	sd_event_source *tick;
	uint64_t received, refused, bad;
	/*
	 * capture -> received; the frame that made an early read due -> its
	 * READ sent; a closing read's last frame -> its READ (or update) sent
	 */
	struct latency transit_lat, read_lat, close_lat;
	/* frames/s over the last status period */
	uint64_t done_mark;
	int64_t status_usec;
	double fps;
	/* rate limit for bad frames */
	int64_t bad_log_usec;
	uint64_t bad_unlogged;
};

static void
bad_frame(struct ocrd *o, struct ipc_conn *c, const char *why)
{
	int64_t now = time_monotonic_usec();

	o->bad++;
	if (o->bad_log_usec != 0 && now - o->bad_log_usec < BAD_LOG_USEC) {
		o->bad_unlogged++;
		return;
	}
	log_warnx("frame from \"%s\" (pid %d) refused: %s (%llu more since the last line), "
	    "ignoring", ipc_conn_peer_name(c), (int)ipc_conn_peer_pid(c), why,
	    (unsigned long long)o->bad_unlogged);
	o->bad_log_usec = now;
	o->bad_unlogged = 0;
}

static int
on_frame(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	struct ocrd *o = userdata;
	struct frame *f;
	const char *why;
	int r;

	o->received++;
	/* Reads first: with matchd behind, frames are what we give up. */
	if (reads_blocked(o->reads)) {
		o->refused++;
		return 0;
	}
	if ((r = frame_from_msg(m, &f, &why)) < 0) {
		bad_frame(o, c, why != NULL ? why : "out of memory");
		return 0;
	}
	latency_add(&o->transit_lat, f->received_usec - f->mono_usec);
	pool_submit(o->pool, f);
	frame_unref(f);
	return 0;
}

static int
on_health(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	/* Camera health is alertd's business; accepted so capture may send it. */
	return 0;
}

static const struct ipc_handler frame_table[] = {
	{ IPC_MSG_FRAME, IPC_ROLE_CAPTURE | IPC_ROLE_TEST, true, true, on_frame },
	{ IPC_MSG_HEALTH, IPC_ROLE_CAPTURE | IPC_ROLE_TEST, false, true, on_health },
	{ 0 }
};
static const struct ipc_ops frame_ops = { .table = frame_table };

static void
on_result(struct frame *f, const struct rec_result *res, void *userdata)
{
	struct ocrd *o = userdata;

	tracker_add(o->tracker, f, res, time_monotonic_usec());
}

static void
on_track(struct track *t, bool closing, void *userdata)
{
	struct ocrd *o = userdata;

	reads_emit(o->reads, t, closing);
	/*
	 * an early read (or an update with another text) is due on its
	 * latest frame; a closing one on a timer
	 */
	latency_add(closing ? &o->close_lat : &o->read_lat,
	    time_monotonic_usec() - t->last_mono_usec);
}

/* p50/p99 of a stage in ms, for the stop line. */
static void
lat_text(char *buf, size_t size, const char *name, const struct latency *l)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s %.1f/%.1f", n > 0 ? ", " : "", name,
	    latency_ms(l, 50), latency_ms(l, 99));
}

static void
status(struct ocrd *o, int64_t now)
{
	uint64_t done = pool_done(o->pool);

	if (o->status_usec != 0 && now > o->status_usec)
		o->fps = (double)(done - o->done_mark) * 1e6 / (double)(now - o->status_usec);
	o->done_mark = done;
	o->status_usec = now;
	daemon_status(o->d, "%.1f frames/s, %llu frames, %llu dropped (superseded), %llu refused, %llu bad, "
	    "%llu reads (%zu unacknowledged, %zu spooled, %llu dead-lettered), %zu tracks, workers %u up %u busy %llu restarts",
	    o->fps, (unsigned long long)o->received, (unsigned long long)pool_dropped(o->pool),
	    (unsigned long long)o->refused, (unsigned long long)o->bad,
	    (unsigned long long)reads_sent(o->reads), reads_unacked(o->reads),
	    reads_spooled(o->reads), (unsigned long long)reads_dead(o->reads), tracker_open(o->tracker), pool_workers(o->pool), pool_busy(o->pool),
	    (unsigned long long)pool_restarts(o->pool));
}

static int
on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ocrd *o = userdata;
	int64_t now = time_monotonic_usec();

	pool_tick(o->pool, now, o->d->conf->ocr.job_timeout_sec * 1000000LL);
	tracker_tick(o->tracker, now);
	(void)reads_blocked(o->reads);
	if (now - o->status_usec >= STATUS_USEC)
		status(o, now);
	sd_event_source_set_time(s, usec + TICK_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

static void
track_params(const struct alpr_conf *conf, struct tracker_params *p)
{
	p->close_frames = conf->ocr.track_close_frames;
	p->close_usec = conf->ocr.track_close_ms * USEC_PER_MSEC;
	p->min_frames = conf->ocr.track_min_frames;
	p->early_conf = (double)conf->ocr.early_read_confidence;
	p->early_agree = OCR_EARLY_AGREE;
	p->rejoin_usec = conf->ocr.track_rejoin_ms * USEC_PER_MSEC;
}

static int
ocrd_start(struct daemon *d)
{
	struct tracker_params tp;
	struct ocrd *o;
	uint64_t now;
	unsigned n;
	char *path, *spool;
	long cores;
	int fd, r;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	o->d = d;
	d->userdata = o;
	n = (unsigned)d->conf->ocr.workers;
	if (n == 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores < 1 ? 1 : cores > 16 ? 16 : (unsigned)cores;
	}
	/* One process per core: OpenCV must not add threads of its own. */
	rec_global_set_threads(1);
	/* Workers first, so they inherit nothing but what worker_main keeps. */
	if ((r = pool_new(d->event, d->conf, n, on_result, o, &o->pool)) < 0)
		fatal_r(r, "cannot start %u recognizer workers", n);
	track_params(d->conf, &tp);
	if ((r = tracker_new(&tp, on_track, o, &o->tracker)) < 0)
		return r;
	if ((path = daemon_socket_path(d, "match.sock")) == NULL)
		return -ENOMEM;
	if (d->conf->ocr.spool_dir[0] != '\0')
		spool = strdup(d->conf->ocr.spool_dir);
	else if (asprintf(&spool, "%s-ocrd", d->conf->general.state_dir) < 0)
		spool = NULL;
	if (spool == NULL) {
		free(path);
		return -ENOMEM;
	}
	r = reads_new(d->event, path, spool, d->conf->ocr.top_n, &o->reads);
	free(path);
	free(spool);
	if (r < 0)
		return r;
	if ((fd = daemon_listen(d, "ocr.sock")) < 0)
		fatal_r(fd, "ocr.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_OCR, d->name,
	    IPC_ROLE_CAPTURE | IPC_ROLE_TEST, &frame_ops, o, &o->frames)) < 0)
		return r;
	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	/* TICK_ACCURACY_USEC, not sd-event's default 250 ms: a track closes on time. */
	if ((r = sd_event_add_time(d->event, &o->tick, CLOCK_MONOTONIC, now + TICK_USEC,
	    TICK_ACCURACY_USEC, on_tick, o)) < 0)
		return r;
	log_info("%u recognizer workers, models from \"%s\"", n, d->conf->ocr.model_dir);
	daemon_status(d, "waiting for frames, %u workers", n);
	return 0;
}

static int
ocrd_reload(struct daemon *d, const struct alpr_conf *old)
{
	struct ocrd *o = d->userdata;
	struct tracker_params tp;

	track_params(d->conf, &tp);
	tracker_set_params(o->tracker, &tp);
	reads_set_top_n(o->reads, d->conf->ocr.top_n);
	return 0;
}

static void
ocrd_stop(struct daemon *d)
{
	struct ocrd *o = d->userdata;
	const struct tracker_counts *tc;
	char lat[640] = "";

	if (o == NULL)
		return;

	o->tick = sd_event_source_disable_unref(o->tick);
	ipc_server_free(o->frames);
	/* Where a frame's time went (tests/bench/bench-pipeline.sh reads this line). */
	lat_text(lat, sizeof(lat), "capture->ocrd", &o->transit_lat);
	lat_text(lat, sizeof(lat), "queue", pool_queue_latency(o->pool));
	lat_text(lat, sizeof(lat), "recognize", pool_job_latency(o->pool));
	lat_text(lat, sizeof(lat), "frame->early read or update sent", &o->read_lat);
	lat_text(lat, sizeof(lat), "last frame->read at the close", &o->close_lat);
	lat_text(lat, sizeof(lat), "spool append", reads_spool_latency(o->reads));
	log_info("stage latency p50/p99 ms: %s", lat);
	tc = tracker_counts(o->tracker);
	log_info("closed tracks' reads: %llu early, %llu updated before the close with another "
	    "text, %llu changed by the closing update, %llu first sent at the close, "
	    "%llu rejoined a closed track's read",
	    (unsigned long long)tc->early, (unsigned long long)tc->changed,
	    (unsigned long long)tc->closed_changed, (unsigned long long)tc->at_close,
	    (unsigned long long)tc->rejoined);
	/* Open tracks become reads now; what matchd has not acknowledged is logged. */
	tracker_free(o->tracker);
	log_info("stopping: %llu frames received, %llu read, %llu dropped, %llu refused, "
	    "%llu bad, %llu reads sent, %llu worker restarts",
	    (unsigned long long)o->received, (unsigned long long)pool_done(o->pool),
	    (unsigned long long)pool_dropped(o->pool), (unsigned long long)o->refused,
	    (unsigned long long)o->bad, (unsigned long long)reads_sent(o->reads),
	    (unsigned long long)pool_restarts(o->pool));
	pool_free(o->pool);
	reads_free(o->reads);
	free(o);
}

static const struct daemon_ops ops = {
	.name = "alpr-ocrd",
	.summary = "Find and read licence plates in camera frames.",
	.start = ocrd_start,
	.reload = ocrd_reload,
	.stop = ocrd_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
