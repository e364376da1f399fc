/*
 * alpr-captured internals, shared by its role files (main.c, frame.c,
 * replay.c, v4l2.c, gps.c, health.c, inspect.c).  One process serves one
 * camera; everything runs on the one sd-event loop, no threads.
 */
#ifndef ALPR_CAPTURE_H
#define ALPR_CAPTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/conf.h"

struct daemon;
struct ipc_client;
struct ipc_server;

/*
 * One grey image in a sealed memfd: 8 bits per pixel, stride bytes per
 * row.  Reference counted, because a replay source keeps its decoded
 * frames to send them again, and inspection keeps the latest one.  Once
 * sealed, nobody can write to it, so sharing the descriptor is safe.
 */
struct frame {
	unsigned refs;
	int fd;
	const uint8_t *copy;	/* the pixels read back, made by frame_pixels() */
	size_t size;
	int width, height, stride;
};

/* A frame of width x height (stride == width) with pixels to fill; seal it before use. */
int frame_new(int width, int height, struct frame **ret, uint8_t **ret_pixels);
/* Writes the pixels into a sealed memfd and lets them go, even on failure. */
int frame_seal(struct frame *f, uint8_t *pixels);
/* The pixels, read-only (read back on first use), or NULL. */
const uint8_t *frame_pixels(struct frame *f);
struct frame *frame_ref(struct frame *f);
struct frame *frame_unref(struct frame *f);

/* ---- sources: V4L2 camera, image folder, video file --------------------- */

struct source;

/*
 * What a source reports to the daemon.  frame() takes a reference of its
 * own when it keeps the frame; capture_usec/mono_usec are the time the
 * sensor took it.  state() says the source went up or down (why: a short
 * reason for the log, NULL when up).
 */
struct source_sink {
	void (*frame)(void *userdata, struct frame *f, int64_t capture_usec, int64_t mono_usec);
	void (*state)(void *userdata, bool up, const char *why);
	void (*finished)(void *userdata);	/* replay without Loop= reached the end */
	/* The hand-off has a frame waiting: FrameRate=0 replay waits for room. */
	bool (*busy)(void *userdata);
	void *userdata;
};

int replay_images_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct source **ret);
int replay_video_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct source **ret);
int v4l2_source_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct source **ret);
struct source *source_free(struct source *s);
/* "v4l2 /dev/video0 1280x720 YUYV" for STATUS and inspection. */
const char *source_describe(const struct source *s);

/* Replay sources share their frame pacing: a timer at FrameRate= (0: as fast as taken). */
struct source {
	const char *kind;
	void (*free)(struct source *s);
	/* Replay only: begins playing (a replay waits for alpr-ocrd, a camera does not). */
	void (*play)(struct source *s);
	bool playing;
	char desc[160];
};

/* ---- GPS (gpsd through libgps) ------------------------------------------ */

struct gps;

int gps_new(sd_event *e, const struct conf_gps *conf, struct gps **ret);
struct gps *gps_free(struct gps *g);
/* After a reload: host or port changed means a new connection. */
int gps_reconfigure(struct gps *g, const struct conf_gps *conf);
/* The fix current at mono_usec as FRAME's "gps" object (new reference). */
json_t *gps_tag(const struct gps *g, int64_t mono_usec);
/* "fix", "no-fix" or "absent" (not connected to gpsd). */
const char *gps_state(const struct gps *g, int64_t mono_usec);

/* A fixed camera's configured place, as FRAME's "gps" object. */
json_t *gps_fixed_tag(double lat, double lon);

/* ---- camera health (R11) ------------------------------------------------ */

enum health_state {
	HEALTH_OK,
	HEALTH_DARK,
	HEALTH_BRIGHT,
	HEALTH_BLURRED,
	HEALTH_BLANK,
	HEALTH_NO_FRAMES,
	HEALTH_DOWN,
};

struct frame_stats {
	double brightness;	/* mean grey level, 0..255 */
	double contrast;	/* standard deviation of the grey levels */
	double sharpness;	/* variance of the Laplacian of the downscaled frame */
};

/* Statistics of one frame, downscaled first (cheap enough once per interval). */
int health_measure(struct frame *f, struct frame_stats *ret);
/* The state these statistics put a camera in, by cam's limits. */
enum health_state health_classify(const struct conf_camera *cam, const struct frame_stats *st);
const char *health_state_name(enum health_state s);

/* ---- the daemon --------------------------------------------------------- */

struct captured {
	struct daemon *d;
	const struct conf_camera *cam;	/* in d->conf; refreshed on reload */
	struct ipc_client *ocr;
	struct ipc_client *alert;
	struct ipc_server *ctl;
	struct source *src;
	struct gps *gps;		/* NULL for fixed cameras */

	/* Hand-off: the newest frame not yet taken by the socket. */
	struct frame *pending;
	json_t *pending_meta;
	sd_event_source *drain_timer;

	/* The newest frame, for health and inspection. */
	struct frame *latest;
	int64_t latest_mono_usec;
	int64_t latest_capture_usec;
	uint64_t latest_seq;

	uint64_t seq;			/* frames captured */
	uint64_t sent;
	uint64_t dropped;		/* frames the socket could not take */
	bool source_up;
	const char *down_why;

	/* Health, evaluated every HealthIntervalSec. */
	sd_event_source *health_timer;
	int64_t health_since_usec;	/* start of the current interval (mono) */
	uint64_t health_frames;		/* frames in it */
	uint64_t health_dropped;	/* drops at its start */
	double fps;
	struct frame_stats stats;
	bool have_stats;
	enum health_state state;
	bool state_reported;
};

/* Health: the interval timer and the one-frame measurement (health.c). */
int health_start(struct captured *c);
void health_stop(struct captured *c);
/* Re-evaluates now and sends HEALTH if the state changed. */
void health_update(struct captured *c, bool measure);
json_t *health_message(const struct captured *c);

/* Inspection on capture-NAME.sock (inspect.c). */
int inspect_start(struct captured *c);

#endif
