/*
 * Replay sources for demos, tests and benchmarks: a folder of image files
 * played in name order, or a video file, at FrameRate= (0: as fast as the
 * hand-off takes them), once or looping.  Downstream they look like a
 * camera.  Runs in alpr-captured; the files are the operator's, decoded
 * as untrusted pixels by OpenCV (cv.cpp): a file that does not decode
 * costs only that frame.
 *
 * A looping folder whose decoded frames fit in REPLAY_CACHE_MAX is decoded
 * once: the sealed memfds are sent again on every pass, so replay costs no
 * decoding and no copy after the first pass.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "capture.h"
#include "cv.h"

#define REPLAY_CACHE_MAX (256u << 20)	/* bytes of decoded frames kept */
#define REPLAY_FILES_MAX 100000
#define REPLAY_FAST_TICK_USEC 1000	/* FrameRate=0: look for room this often */
#define REPLAY_FAST_BURST 64		/* frames per tick at most */
#define REPLAY_RESCAN_USEC (5 * USEC_PER_SEC)	/* a folder without images: look again */

struct replay {
	struct source src;
	sd_event *event;
	sd_event_source *timer;
	sd_event_source *rescan;
	struct source_sink sink;
	bool loop;
	int64_t period_usec;		/* 0: as fast as taken */
	int64_t next_usec;
	bool finished;

	/* images */
	char *dir;
	char **files;
	size_t n_files, pos;
	struct frame **cache;		/* NULL entries: not decoded (yet) */
	size_t cached_bytes;
	bool caching;
	unsigned bad_files;

	/* video */
	struct cvw_video *video;
	int width, height;
};

static int
has_image_suffix(const char *name)
{
	static const char *const ext[] = { ".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".bmp",
		".tif", ".tiff", ".webp", NULL };
	const char *dot = strrchr(name, '.');
	unsigned i;

	if (dot == NULL)
		return 0;
	for (i = 0; ext[i] != NULL; i++)
		if (strcasecmp(dot, ext[i]) == 0)
			return 1;
	return 0;
}

static int
filter(const struct dirent *de)
{
	return de->d_name[0] != '.' && has_image_suffix(de->d_name);
}

/* Byte order, not the locale's: the same folder plays the same everywhere. */
static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
list_images(struct replay *rp)
{
	struct dirent **de = NULL;
	int n, i, r = 0;

	n = scandir(rp->dir, &de, filter, by_name);
	if (n < 0)
		return -errno;
	if (n == 0) {
		r = -ENOENT;
		goto out;
	}
	if (n > REPLAY_FILES_MAX) {
		r = -E2BIG;
		goto out;
	}
	if ((rp->files = calloc(n, sizeof(*rp->files))) == NULL ||
	    (rp->cache = calloc(n, sizeof(*rp->cache))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (asprintf(&rp->files[i], "%s/%s", rp->dir, de[i]->d_name) < 0) {
			rp->files[i] = NULL;
			r = -ENOMEM;
			goto out;
		}
		rp->n_files++;
	}
out:
	for (i = 0; i < n; i++)
		free(de[i]);
	free(de);
	return r;
}

static void
drop_cache(struct replay *rp)
{
	size_t i;

	for (i = 0; i < rp->n_files; i++)
		rp->cache[i] = frame_unref(rp->cache[i]);
	rp->cached_bytes = 0;
	rp->caching = false;
}

/* The frame of file i, decoded now or taken from the cache; NULL if it does not decode. */
static struct frame *
image_frame(struct replay *rp, size_t i)
{
	struct frame *f;
	uint8_t *pixels, *dst;
	int w, h, r;

	if (rp->cache[i] != NULL)
		return frame_ref(rp->cache[i]);
	r = cvw_image_load_grey(rp->files[i], &pixels, &w, &h);
	if (r < 0) {
		/* Once per file and pass is enough: the log must not flood. */
		if (rp->bad_files++ < 8)
			log_warnx("replay: cannot decode \"%s\": %s, skipping", rp->files[i],
			    strerror(-r));
		return NULL;
	}
	r = frame_new(w, h, &f, &dst);
	if (r < 0) {
		free(pixels);
		log_warn_r(r, "replay: frame of %dx%d", w, h);
		return NULL;
	}
	memcpy(dst, pixels, (size_t)w * h);
	free(pixels);
	if ((r = frame_seal(f, dst)) < 0) {
		log_warn_r(r, "replay: sealing a frame");
		return frame_unref(f);
	}
	if (rp->caching) {
		if (rp->cached_bytes + f->size > REPLAY_CACHE_MAX) {
			log_info("replay: %s does not fit in %u MiB, decoding every pass",
			    rp->dir, REPLAY_CACHE_MAX >> 20);
			drop_cache(rp);
		} else {
			rp->cache[i] = frame_ref(f);
			rp->cached_bytes += f->size;
		}
	}
	return f;
}

static struct frame *
video_frame(struct replay *rp, bool *ret_end)
{
	struct frame *f;
	uint8_t *dst;
	int r;

	*ret_end = false;
	if ((r = frame_new(rp->width, rp->height, &f, &dst)) < 0) {
		log_warn_r(r, "replay: frame of %dx%d", rp->width, rp->height);
		return NULL;
	}
	r = cvw_video_read_grey(rp->video, dst, rp->width, rp->height, rp->width);
	if (r <= 0) {
		if (r < 0)
			log_warn_r(r, "replay: decoding %s", rp->dir);
		*ret_end = true;
		(void)frame_seal(f, dst);
		return frame_unref(f);
	}
	if ((r = frame_seal(f, dst)) < 0) {
		log_warn_r(r, "replay: sealing a frame");
		return frame_unref(f);
	}
	return f;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata);

/* The folder's file list and cached frames, dropped. */
static void
files_forget(struct replay *rp)
{
	size_t i;

	if (rp->cache != NULL)
		drop_cache(rp);
	for (i = 0; i < rp->n_files; i++)
		free(rp->files[i]);
	free(rp->files);
	free(rp->cache);
	rp->files = NULL;
	rp->cache = NULL;
	rp->n_files = rp->pos = 0;
}

/*
 * The folder went away under a running replay: the camera was unplugged.
 * The files and cached frames are forgotten, the source is reported down
 * (camera health), and the folder is looked for every REPLAY_RESCAN_USEC
 * until it returns (on_rescan, which starts the replay again).
 */
static void
folder_lost(struct replay *rp)
{
	char why[200];

	files_forget(rp);
	log_warnx("replay: %s is gone, looking for it every %d s", rp->dir,
	    (int)(REPLAY_RESCAN_USEC / USEC_PER_SEC));
	snprintf(why, sizeof(why), "%.150s: gone", rp->dir);
	snprintf(rp->src.desc, sizeof(rp->src.desc), "images %.140s (none)", rp->dir);
	rp->sink.state(rp->sink.userdata, false, why);
	if (rp->rescan == NULL) {
		if (sd_event_add_time_relative(rp->event, &rp->rescan, CLOCK_MONOTONIC,
		    REPLAY_RESCAN_USEC, USEC_PER_MSEC * 100, on_rescan, rp) < 0)
			log_warnx("replay: cannot arm the rescan timer, the source stays down");
	} else {
		(void)sd_event_source_set_time(rp->rescan,
		    (uint64_t)(time_monotonic_usec() + REPLAY_RESCAN_USEC));
		(void)sd_event_source_set_enabled(rp->rescan, SD_EVENT_ONESHOT);
	}
}

static bool
folder_gone(const struct replay *rp)
{
	return access(rp->dir, F_OK) < 0 && errno == ENOENT;
}

/* Emits the next frame; false once a pass ended without Loop= or the folder went away. */
static bool
emit_one(struct replay *rp)
{
	struct frame *f = NULL;
	bool end = false;
	size_t tries;
	int64_t now_mono, now_real;

	if (rp->video != NULL) {
		f = video_frame(rp, &end);
		if (end && rp->loop && cvw_video_rewind(rp->video) == 0)
			f = video_frame(rp, &end);
	} else {
		/* Skip files that do not decode, but never spin over a folder of them. */
		for (tries = 0; f == NULL && tries < rp->n_files; tries++) {
			if (rp->pos == rp->n_files) {
				if (!rp->loop) {
					end = true;
					break;
				}
				rp->pos = 0;
				rp->bad_files = 0;
				/* Cached frames would hide an unplugged folder: look once a pass. */
				if (folder_gone(rp)) {
					folder_lost(rp);
					return false;
				}
			}
			f = image_frame(rp, rp->pos++);
		}
		if (f == NULL && rp->n_files > 0 && folder_gone(rp)) {
			folder_lost(rp);
			return false;
		}
		if (f == NULL && rp->pos == rp->n_files && !rp->loop)
			end = true;
	}
	if (f == NULL) {
		if (end) {
			rp->finished = true;
			if (rp->sink.finished != NULL)
				rp->sink.finished(rp->sink.userdata);
		}
		return !end;
	}
	now_real = time_realtime_usec();
	now_mono = time_monotonic_usec();
	rp->sink.frame(rp->sink.userdata, f, now_real, now_mono);
	frame_unref(f);
	return true;
}

static int
on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct replay *rp = userdata;
	int64_t now = (int64_t)usec;
	unsigned n;

	if (rp->finished)
		return 0;
	if (rp->period_usec == 0) {
		for (n = 0; n < REPLAY_FAST_BURST && !rp->sink.busy(rp->sink.userdata); n++)
			if (!emit_one(rp))
				return 0;
		rp->next_usec = now + REPLAY_FAST_TICK_USEC;
	} else {
		if (!emit_one(rp))
			return 0;
		/* Keep the cadence, but never burst to catch up after a stall. */
		rp->next_usec += rp->period_usec;
		if (rp->next_usec < now)
			rp->next_usec = now + rp->period_usec;
	}
	(void)sd_event_source_set_time(s, rp->next_usec);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static void
replay_free(struct source *s)
{
	struct replay *rp = (struct replay *)s;

	sd_event_source_disable_unref(rp->timer);
	sd_event_source_disable_unref(rp->rescan);
	files_forget(rp);
	cvw_video_free(rp->video);
	free(rp->dir);
	free(rp);
}

static int
replay_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct replay **ret)
{
	struct replay *rp;

	if (cam->path == NULL || cam->path[0] == '\0')
		return -EDESTADDRREQ;
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return -ENOMEM;
	rp->src.free = replay_free;
	rp->event = e;
	rp->sink = *sink;
	rp->loop = cam->loop;
	rp->period_usec = cam->frame_rate > 0 ? (int64_t)(USEC_PER_SEC / cam->frame_rate) : 0;
	if ((rp->dir = strdup(cam->path)) == NULL) {
		free(rp);
		return -ENOMEM;
	}
	*ret = rp;
	return 0;
}

static void
replay_play(struct source *s)
{
	struct replay *rp = (struct replay *)s;

	if (s->playing)
		return;
	s->playing = true;
	if (rp->video == NULL && rp->n_files == 0)
		return;		/* starts once the folder has images (on_rescan) */
	rp->next_usec = time_monotonic_usec();
	(void)sd_event_source_set_time(rp->timer, rp->next_usec);
	(void)sd_event_source_set_enabled(rp->timer, SD_EVENT_ONESHOT);
}

/* The pacing timer, armed by replay_play(). */
static int
replay_start(struct replay *rp)
{
	int r;

	rp->src.play = replay_play;
	/* Accuracy 1 us: 0 would mean sd-event's default slack of 250 ms. */
	r = sd_event_add_time(rp->event, &rp->timer, CLOCK_MONOTONIC, 0, 1, on_tick, rp);
	if (r < 0)
		return r;
	(void)sd_event_source_set_enabled(rp->timer, SD_EVENT_OFF);
	return 0;
}

/*
 * A folder that is missing or has no image is the source down, like an
 * unplugged camera: it is looked at again every REPLAY_RESCAN_USEC.
 */
static int
scan_folder(struct replay *rp)
{
	char why[200];
	int r;

	if ((r = list_images(rp)) < 0) {
		files_forget(rp);
		if (r == -ENOMEM)
			return r;
		snprintf(why, sizeof(why), "%.150s: %s", rp->dir,
		    r == -ENOENT ? "no image files" : strerror(-r));
		snprintf(rp->src.desc, sizeof(rp->src.desc), "images %.140s (none)", rp->dir);
		rp->sink.state(rp->sink.userdata, false, why);
		return 0;
	}
	rp->caching = rp->loop;
	snprintf(rp->src.desc, sizeof(rp->src.desc), "images %.120s (%zu files%s)", rp->dir,
	    rp->n_files, rp->loop ? ", loop" : "");
	rp->sink.state(rp->sink.userdata, true, NULL);
	return 1;
}

static int
on_rescan(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct replay *rp = userdata;

	if (scan_folder(rp) > 0) {
		log_info("replay: %s", rp->src.desc);
		if (rp->src.playing) {
			rp->src.playing = false;
			replay_play(&rp->src);
		}
		return 0;
	}
	(void)sd_event_source_set_time(s, usec + REPLAY_RESCAN_USEC);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

int
replay_images_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct source **ret)
{
	struct replay *rp;
	int r;

	if ((r = replay_new(e, cam, sink, &rp)) < 0)
		return r;
	rp->src.kind = "images";
	if ((r = replay_start(rp)) < 0 || (r = scan_folder(rp)) < 0)
		goto fail;
	if (r == 0) {
		r = sd_event_add_time_relative(e, &rp->rescan, CLOCK_MONOTONIC,
		    REPLAY_RESCAN_USEC, USEC_PER_MSEC * 100, on_rescan, rp);
		if (r < 0)
			goto fail;
	}
	*ret = &rp->src;
	return 0;
fail:
	replay_free(&rp->src);
	return r;
}

int
replay_video_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct source **ret)
{
	struct replay *rp;
	int r;

	if ((r = replay_new(e, cam, sink, &rp)) < 0)
		return r;
	rp->src.kind = "video";
	if ((r = cvw_video_open(rp->dir, &rp->video)) < 0)
		goto fail;
	cvw_video_size(rp->video, &rp->width, &rp->height);
	snprintf(rp->src.desc, sizeof(rp->src.desc), "video %.120s %dx%d%s", rp->dir, rp->width,
	    rp->height, rp->loop ? " (loop)" : "");
	if ((r = replay_start(rp)) < 0)
		goto fail;
	rp->sink.state(rp->sink.userdata, true, NULL);
	*ret = &rp->src;
	return 0;
fail:
	replay_free(&rp->src);
	return r;
}
