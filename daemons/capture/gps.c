/*
 * GPS for frame tags: a libgps client of gpsd on the daemon's sd-event
 * loop (no thread).  Keeps the latest fix and the monotonic time it came;
 * frames get it with its age, or {"fix": false} when there is none, it is
 * older than MaxFixAgeSec, or gpsd is not there.  gpsd absent or gone:
 * retry with backoff (GPS_BACKOFF_MIN_USEC doubling to GPS_BACKOFF_MAX_USEC);
 * frames keep flowing meanwhile, tagged "no fix".
 *
 * Runs in alpr-captured.  Trusts gpsd's reports as far as libgps parses
 * them; every number is checked with isfinite() before use.
 *
 * States: DISCONNECTED --connect ok--> STREAMING --read error/EOF-->
 * DISCONNECTED (timer armed, the fix forgotten).
 */
#include "config.h"

#include <errno.h>
#include <gps.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/time.h"
#include "capture.h"

#define GPS_BACKOFF_MIN_USEC (250 * USEC_PER_MSEC)
#define GPS_BACKOFF_MAX_USEC (5 * USEC_PER_SEC)

struct gps_fix {
	bool valid;
	int mode;
	double lat, lon, speed, track, eph, epx, epy, epv;
	int64_t time_usec;	/* the fix's own time (realtime), 0 if unknown */
	int64_t mono_usec;	/* when we received it */
};

struct gps {
	sd_event *event;
	char *host;
	char port[8];
	int64_t max_age_usec;
	bool connected;
	bool warned;			/* "unreachable" logged since the last success */
	struct gps_data_t data;
	sd_event_source *io;
	sd_event_source *timer;
	int64_t backoff_usec;
	struct gps_fix fix;
	uint64_t fixes;
};

static void gps_schedule(struct gps *g);

static void
gps_disconnect(struct gps *g, const char *why)
{
	if (!g->connected)
		return;
	g->io = sd_event_source_disable_unref(g->io);
	(void)gps_close(&g->data);
	g->connected = false;
	/* Without gpsd nothing vouches for the last fix any more. */
	g->fix.valid = false;
	log_warnx("gpsd %s:%s: %s, frames are tagged \"no fix\" until it returns", g->host,
	    g->port, why);
	g->backoff_usec = GPS_BACKOFF_MIN_USEC;
	gps_schedule(g);
}

static void
take_fix(struct gps *g)
{
	const struct gps_fix_t *f = &g->data.fix;
	struct gps_fix n = { 0 };

	if (!(g->data.set & MODE_SET))
		return;
	if (f->mode < MODE_2D || !isfinite(f->latitude) || !isfinite(f->longitude) ||
	    fabs(f->latitude) > 90 || fabs(f->longitude) > 180) {
		if (g->fix.valid)
			log_info("gps: fix lost (mode %d)", f->mode);
		g->fix.valid = false;
		return;
	}
	n.valid = true;
	n.mode = f->mode;
	n.lat = f->latitude;
	n.lon = f->longitude;
	n.speed = f->speed;
	n.track = f->track;
	n.eph = f->eph;
	n.epx = f->epx;
	n.epy = f->epy;
	n.epv = f->epv;
	if (f->time.tv_sec > 0)
		n.time_usec = (int64_t)f->time.tv_sec * USEC_PER_SEC + f->time.tv_nsec / 1000;
	n.mono_usec = time_monotonic_usec();
	if (!g->fix.valid)
		log_info("gps: fix acquired (mode %d)", n.mode);
	g->fix = n;
	g->fixes++;
}

static int
on_gps_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct gps *g = userdata;
	unsigned n = 0;
	int r;

	/*
	 * gps_read() handles one report; libgps may buffer more than one from a
	 * single recv(), and epoll would not wake us for those, so drain with
	 * gps_waiting().  Bounded, so a chatty gpsd cannot starve the frames.
	 */
	do {
		errno = 0;
		r = gps_read(&g->data, NULL, 0);
		if (r < 0) {
			gps_disconnect(g, errno != 0 ? strerror(errno) : "connection closed");
			return 0;
		}
		take_fix(g);
	} while (++n < 64 && gps_waiting(&g->data, 0));
	if (revents & (EPOLLHUP | EPOLLERR) && r == 0)
		gps_disconnect(g, "connection closed");
	return 0;
}

static int
gps_try(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct gps *g = userdata;
	int r;

	memset(&g->data, 0, sizeof(g->data));
	if (gps_open(g->host, g->port, &g->data) != 0) {
		if (!g->warned)
			log_warnx("gpsd %s:%s unreachable: %s, retrying; frames are tagged \"no fix\"",
			    g->host, g->port, gps_errstr(errno));
		g->warned = true;
		goto retry;
	}
	if (gps_stream(&g->data, WATCH_ENABLE | WATCH_JSON, NULL) < 0) {
		(void)gps_close(&g->data);
		goto retry;
	}
	r = sd_event_add_io(g->event, &g->io, g->data.gps_fd, EPOLLIN, on_gps_io, g);
	if (r < 0) {
		log_warn_r(r, "gps: watching the gpsd socket");
		(void)gps_close(&g->data);
		goto retry;
	}
	g->connected = true;
	g->warned = false;
	g->backoff_usec = GPS_BACKOFF_MIN_USEC;
	log_info("gpsd %s:%s connected", g->host, g->port);
	return 0;
retry:
	g->backoff_usec = g->backoff_usec * 2 > GPS_BACKOFF_MAX_USEC ? GPS_BACKOFF_MAX_USEC :
	    g->backoff_usec * 2;
	gps_schedule(g);
	return 0;
}

static void
gps_schedule(struct gps *g)
{
	uint64_t now;

	(void)sd_event_now(g->event, CLOCK_MONOTONIC, &now);
	if (g->timer == NULL) {
		if (sd_event_add_time(g->event, &g->timer, CLOCK_MONOTONIC, now + g->backoff_usec,
		    USEC_PER_MSEC * 10, gps_try, g) < 0) {
			log_warnx("gps: cannot arm the reconnect timer, GPS stays off");
			return;
		}
	} else
		(void)sd_event_source_set_time(g->timer, now + g->backoff_usec);
	(void)sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT);
}

static int
gps_configure(struct gps *g, const struct conf_gps *conf)
{
	char *host;

	if ((host = strdup(conf->host)) == NULL)
		return -ENOMEM;
	free(g->host);
	g->host = host;
	snprintf(g->port, sizeof(g->port), "%d", (int)conf->port);
	g->max_age_usec = conf->max_fix_age_sec * USEC_PER_SEC;
	return 0;
}

int
gps_new(sd_event *e, const struct conf_gps *conf, struct gps **ret)
{
	struct gps *g;
	int r;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -ENOMEM;
	g->event = e;
	if ((r = gps_configure(g, conf)) < 0) {
		free(g);
		return r;
	}
	/* The first attempt runs at once, from the loop. */
	g->backoff_usec = 0;
	gps_schedule(g);
	g->backoff_usec = GPS_BACKOFF_MIN_USEC;
	*ret = g;
	return 0;
}

struct gps *
gps_free(struct gps *g)
{
	if (g == NULL)
		return NULL;
	if (g->connected) {
		sd_event_source_disable_unref(g->io);
		(void)gps_close(&g->data);
	}
	sd_event_source_disable_unref(g->timer);
	free(g->host);
	free(g);
	return NULL;
}

int
gps_reconfigure(struct gps *g, const struct conf_gps *conf)
{
	char port[8];
	bool moved;
	int r;

	snprintf(port, sizeof(port), "%d", (int)conf->port);
	moved = strcmp(g->host, conf->host) != 0 || strcmp(g->port, port) != 0;
	if ((r = gps_configure(g, conf)) < 0)
		return r;
	if (moved && g->connected) {
		sd_event_source_disable_unref(g->io);
		g->io = NULL;
		(void)gps_close(&g->data);
		g->connected = false;
		g->fix.valid = false;
		g->backoff_usec = 0;
		gps_schedule(g);
		g->backoff_usec = GPS_BACKOFF_MIN_USEC;
	}
	return 0;
}

static bool
fix_current(const struct gps *g, int64_t mono_usec)
{
	return g != NULL && g->fix.valid && mono_usec - g->fix.mono_usec <= g->max_age_usec;
}

/* A number gpsd did not give (NaN) is left out rather than sent as a guess. */
static void
set_real(json_t *o, const char *key, double v)
{
	if (isfinite(v))
		(void)json_object_set_new(o, key, json_real(v));
}

json_t *
gps_tag(const struct gps *g, int64_t mono_usec)
{
	json_t *o;
	int64_t age;

	if (!fix_current(g, mono_usec))
		return json_pack("{s:b}", "fix", 0);
	age = mono_usec - g->fix.mono_usec;
	if (age < 0)
		age = 0;	/* a fix that arrived after the frame was taken */
	o = json_pack("{s:b, s:f, s:f, s:i, s:I}", "fix", 1, "lat", g->fix.lat, "lon",
	    g->fix.lon, "mode", g->fix.mode, "age_ms", (json_int_t)(age / USEC_PER_MSEC));
	if (o == NULL)
		return NULL;
	set_real(o, "speed", g->fix.speed);
	set_real(o, "heading", g->fix.track);
	set_real(o, "eph", g->fix.eph);
	set_real(o, "epx", g->fix.epx);
	set_real(o, "epy", g->fix.epy);
	set_real(o, "epv", g->fix.epv);
	if (g->fix.time_usec > 0)
		(void)json_object_set_new(o, "time_usec", json_integer(g->fix.time_usec));
	return o;
}

json_t *
gps_fixed_tag(double lat, double lon)
{
	return json_pack("{s:b, s:f, s:f, s:i, s:i, s:b}", "fix", 1, "lat", lat, "lon", lon,
	    "mode", 2, "age_ms", 0, "fixed", 1);
}

const char *
gps_state(const struct gps *g, int64_t mono_usec)
{
	if (g == NULL || !g->connected)
		return "absent";
	return fix_current(g, mono_usec) ? "fix" : "no-fix";
}
