/*
 * Camera health (policy IV.D, R11): frames per second, dropped frames,
 * mean brightness, contrast and sharpness (variance of the Laplacian),
 * evaluated every HealthIntervalSec on the newest frame shrunk to
 * HEALTH_WIDTH, never on every frame.  A change of state is logged once
 * and sent as HEALTH to alpr-ocrd and, when it listens, alpr-alertd (the
 * deputy sees it on the MDC); alpr-ocrd also gets HEALTH every interval as
 * metrics.  Runs in alpr-captured on our own frames.
 *
 * State, first match wins: down (the source failed) > no-frames (none in
 * the interval) > dark (mean < MinBrightness) > bright (> MaxBrightness) >
 * blank (contrast < MinContrast: lens covered or obstructed) > blurred
 * (sharpness < MinSharpness) > ok.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/time.h"
#include "capture.h"
#include "cv.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

#define HEALTH_WIDTH 640	/* sharpness is measured at this width, whatever the camera */
#define HEALTH_MSGID "6c1f3e0a9b5d4f27a8e2c4d6b1f09a37"	/* journalctl MESSAGE_ID= */

static const char *const names[] = {
	[HEALTH_OK] = "ok",
	[HEALTH_DARK] = "dark",
	[HEALTH_BRIGHT] = "bright",
	[HEALTH_BLURRED] = "blurred",
	[HEALTH_BLANK] = "blank",
	[HEALTH_NO_FRAMES] = "no-frames",
	[HEALTH_DOWN] = "down",
};

const char *
health_state_name(enum health_state s)
{
	return names[s];
}

int
health_measure(struct frame *f, struct frame_stats *ret)
{
	const uint8_t *p;

	if ((p = frame_pixels(f)) == NULL)
		return -errno;
	return cvw_stats(p, f->width, f->height, f->stride, HEALTH_WIDTH, &ret->brightness,
	    &ret->contrast, &ret->sharpness);
}

enum health_state
health_classify(const struct conf_camera *cam, const struct frame_stats *st)
{
	if (st->brightness < cam->min_brightness)
		return HEALTH_DARK;
	if (st->brightness > cam->max_brightness)
		return HEALTH_BRIGHT;
	if (st->contrast < cam->min_contrast)
		return HEALTH_BLANK;
	if (st->sharpness < cam->min_sharpness)
		return HEALTH_BLURRED;
	return HEALTH_OK;
}

json_t *
health_message(const struct captured *c)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:f, s:I, s:I, s:s}", "camera", c->cam->name, "state",
	    health_state_name(c->state), "fps", c->fps, "dropped", (json_int_t)c->dropped,
	    "frames", (json_int_t)c->seq, "gps",
	    c->cam->mode == CONF_MODE_FIXED ? "fix" : gps_state(c->gps, time_monotonic_usec()));
	if (o == NULL)
		return NULL;
	if (c->have_stats) {
		(void)json_object_set_new(o, "brightness", json_real(c->stats.brightness));
		(void)json_object_set_new(o, "contrast", json_real(c->stats.contrast));
		(void)json_object_set_new(o, "sharpness", json_real(c->stats.sharpness));
	}
	return o;
}

static void
send_health(struct captured *c, bool changed)
{
	json_t *o;

	if ((o = health_message(c)) == NULL)
		return;
	/* Neither peer is required: HEALTH is dropped while one is away. */
	(void)ipc_client_send(c->ocr, IPC_MSG_HEALTH, o, -1);
	if (changed && c->alert != NULL)
		(void)ipc_client_send(c->alert, IPC_MSG_HEALTH, o, -1);
	json_decref(o);
}

void
health_update(struct captured *c, bool measure)
{
	int64_t now = time_monotonic_usec();
	int64_t interval = c->d->conf->capture.health_interval_sec * USEC_PER_SEC;
	int64_t elapsed = now - c->health_since_usec;
	enum health_state s;
	bool changed;
	int r;

	if (measure && elapsed > 0) {
		c->fps = (double)c->health_frames * USEC_PER_SEC / elapsed;
		c->health_frames = 0;
		c->health_since_usec = now;
	}
	if (!c->source_up)
		s = HEALTH_DOWN;
	else if (c->latest == NULL || now - c->latest_mono_usec > interval)
		s = HEALTH_NO_FRAMES;
	else if (measure) {
		if ((r = health_measure(c->latest, &c->stats)) < 0) {
			log_warn_r(r, "health: measuring frame %llu, ignoring",
			    (unsigned long long)c->latest_seq);
			return;
		}
		c->have_stats = true;
		s = health_classify(c->cam, &c->stats);
	} else
		s = c->state;
	changed = !c->state_reported || s != c->state;
	c->state = s;
	if (changed) {
		c->state_reported = true;
		if (s == HEALTH_OK)
			log_event(LOG_LEVEL_NOTICE, HEALTH_MSGID, "camera %s health: ok", c->cam->name);
		else if (s == HEALTH_DOWN)
			log_event(LOG_LEVEL_WARNING, HEALTH_MSGID, "camera %s health: down (%s)",
			    c->cam->name, c->down_why != NULL ? c->down_why : "source failed");
		else if (s == HEALTH_NO_FRAMES)
			log_event(LOG_LEVEL_WARNING, HEALTH_MSGID,
			    "camera %s health: no-frames (none for %lld s)", c->cam->name,
			    (long long)(interval / USEC_PER_SEC));
		else
			log_event(LOG_LEVEL_WARNING, HEALTH_MSGID,
			    "camera %s health: %s (brightness %.1f contrast %.1f sharpness %.1f)",
			    c->cam->name, health_state_name(s), c->stats.brightness,
			    c->stats.contrast, c->stats.sharpness);
	}
	if (changed || measure)
		send_health(c, changed);
	daemon_status(c->d, "camera %s: %s, %.1f fps, %llu frames, %llu dropped, gps %s",
	    c->cam->name, health_state_name(s), c->fps, (unsigned long long)c->seq,
	    (unsigned long long)c->dropped,
	    c->cam->mode == CONF_MODE_FIXED ? "fixed" : gps_state(c->gps, now));
}

static int
on_health_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct captured *c = userdata;

	health_update(c, true);
	(void)sd_event_source_set_time(s, usec + c->d->conf->capture.health_interval_sec *
	    USEC_PER_SEC);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

int
health_start(struct captured *c)
{
	int64_t now = time_monotonic_usec();
	int r;

	c->health_since_usec = now;
	r = sd_event_add_time(c->d->event, &c->health_timer, CLOCK_MONOTONIC,
	    now + c->d->conf->capture.health_interval_sec * USEC_PER_SEC, USEC_PER_MSEC * 10,
	    on_health_timer, c);
	if (r < 0)
		return r;
	(void)sd_event_source_set_enabled(c->health_timer, SD_EVENT_ONESHOT);
	return 0;
}

void
health_stop(struct captured *c)
{
	c->health_timer = sd_event_source_disable_unref(c->health_timer);
}
