/*
 * alpr-alertd's private interfaces between its role files:
 *
 *	main.c	skeleton, alert.sock (HIT, HEALTH), wiring
 *	ctl.c	client of alpr-matchd's control socket (REQUEST -> REPLY)
 *	hits.c	hits on display: queue by priority, workflow steps, cool-down
 *	http.c	the MDC page over libmicrohttpd, sessions, CSRF, SSE
 *	page.c	the page itself (HTML, CSS, JS), embedded
 *	announce.c	what the announcement says (phonetic alphabet)
 *	audio.c	tones and spoken announcements (espeak-ng, ALSA, WAV)
 *	lists.c	the stale-list banner (hot-list ages from matchd)
 *
 * One process, one sd-event loop, no threads.
 */
#ifndef ALPR_ALERTD_H
#define ALPR_ALERTD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/conf.h"
#include "ipc/ipc.h"
#include "policy/hit.h"

struct alertd;
struct ctl;
struct http;
struct audio;

/* ---- hit workflow ------------------------------------------------------- */

/*
 * The hit workflow is libalpr's (policy/hit.h): alpr-matchd enforces it on
 * the database and has the last word; alertd uses the same machine to
 * decide which buttons the page offers and to refuse a forged step before
 * it is sent.
 */

struct hit {
	struct hit *next;
	int64_t id;			/* matchd's hit number */
	char img_crop[33], img_context[33];	/* opaque ids of the images ("" if none) */
	json_t *body;			/* the HIT payload */
	int state;
	char disposition[24];		/* once DISPOSED */
	char plate[POLICY_HIT_PLATE_MAX + 1];	/* for the cool-down only: never logged */
	int64_t entry_id;
	int priority;			/* 1 is the most urgent */
	bool person;
	bool recorded;			/* matchd knows it was shown */
	bool acked;			/* the deputy silenced it */
	bool quiet;			/* a repeat within the cool-down: no sound */
	int64_t received_usec;		/* CLOCK_REALTIME: shown, day boundary */
	int64_t boot_usec;		/* CLOCK_BOOTTIME: the cool-down */
	unsigned seen;			/* times matchd sent this plate and entry */
	json_t *steps;			/* [{"to", "user", "usec", "case"}] */
	void *map;			/* the image memfd, mapped read-only */
	size_t map_size;
	size_t crop_off, crop_len, ctx_off, ctx_len;
};

struct hits;

int hits_new(struct alertd *a, struct hits **ret);
struct hits *hits_free(struct hits *h);
/*
 * Takes a HIT payload (and its image memfd, or -1; the caller keeps its
 * own), puts it on display and asks matchd to record it as shown.  Returns
 * the hit number, or -errno (-EBADMSG for a malformed payload).  Once
 * matchd answered, alertd_hits_recorded() lets main.c acknowledge it.
 */
int hits_take(struct hits *h, const json_t *body, int fd);
struct hit *hits_find(struct hits *h, int64_t id);
/* The image with opaque id, or NULL. */
int hits_image(struct hits *h, const char *img, const void **ret_data, size_t *ret_len);
/* The most urgent hit still waiting for the deputy, or NULL. */
struct hit *hits_top(struct hits *h);
/* Today's hits as the page shows them (JSON array, new reference). */
json_t *hits_list_json(struct hits *h);
json_t *hit_json(const struct hit *hit);
/* The control socket is up: record unrecorded hits, ask for unresolved ones again. */
void hits_control_up(struct hits *h);
/* A step taken by user; pushes the update to the page. */
void hits_stepped(struct hits *h, struct hit *hit, int to, const char *disposition,
    const char *user, const char *case_no);
void hits_ack(struct hits *h, struct hit *hit);

/* ---- control client ----------------------------------------------------- */

/*
 * cb runs once per REPLY (more is true on all but the last of a stream),
 * or once with reply NULL and err set when the request failed locally or
 * the connection went down.  fd is a file that came with a streamed part
 * (an export's sealed memfd), or -1; it stays the caller's.
 */
typedef void (*ctl_cb)(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg);

int ctl_new(struct alertd *a, const char *path, struct ctl **ret);
struct ctl *ctl_free(struct ctl *c);
bool ctl_up(const struct ctl *c);
/*
 * Sends {"op", "session", "case", "reason", "args"} (NULL fields left out;
 * args is borrowed).  Returns 0 or -errno (-ENOTCONN while down).
 */
int ctl_request(struct ctl *c, const char *op, const char *session, const char *case_no,
    const char *reason, json_t *args, ctl_cb cb, void *arg);
/* Forgets every callback with this arg (its owner is going away). */
void ctl_cancel(struct ctl *c, void *arg);

/* ---- HTTP --------------------------------------------------------------- */

int http_new(struct alertd *a, struct http **ret);
struct http *http_free(struct http *h);
/* Sends an SSE event (data is a JSON object) to every logged-in page. */
void http_push(struct http *h, const char *event, const json_t *data);
size_t http_clients(const struct http *h);

/* The embedded page. */
struct page_file {
	const char *path, *type;
	const char *data;
};
extern const struct page_file page_files[];	/* ends with path NULL */
size_t page_len(const struct page_file *f);

/* ---- the announcement (announce.c) ------------------------------------- */

/*
 * The announcement text for a hit ("Stolen vehicle. California. Seven,
 * Adam, ..."), malloc'd, or NULL.  Pure: tests call it.
 */
char *announce_text(const json_t *hit_body, int alphabet);

/* ---- audio -------------------------------------------------------------- */

int audio_new(struct alertd *a, struct audio **ret);
struct audio *audio_free(struct audio *au);
/* Announces the hit now (tone and speech), replacing what is playing. */
void audio_announce(struct audio *au, const struct hit *hit);
void audio_stop(struct audio *au);
/* mute: 0 or 1, -1 unchanged; volume 0-100, -1 unchanged. */
void audio_set(struct audio *au, int mute, int volume);
json_t *audio_json(const struct audio *au);
/* Synthesises tone + text into 16-bit mono samples at *ret_rate. */
int audio_render(const char *text, int priority, int volume, int16_t **ret_samples,
    size_t *ret_n, int *ret_rate);
int audio_write_wav(const char *path, const int16_t *samples, size_t n, int rate);

/* ---- hot-list ages ----------------------------------------------------- */

struct lists;

int lists_new(struct alertd *a, struct lists **ret);
struct lists *lists_free(struct lists *l);
/* Asks matchd again; the page hears of a change by a "lists" event. */
void lists_refresh(struct lists *l);
/* The banner's data: {"known", "none", "stale": [...], "max_age_hours"} (new reference). */
json_t *lists_json(const struct lists *l);

/* ---- the daemon --------------------------------------------------------- */

struct health {
	char camera[33];
	json_t *body;
	int64_t received_usec;
};

#define ALERT_CAMERAS_MAX 16

struct alertd {
	struct daemon *d;
	sd_event *event;
	const struct alpr_conf *conf;	/* d->conf: replaced on reload */
	struct ipc_server *sock;
	struct ctl *ctl;
	struct hits *hits;
	struct http *http;
	struct audio *audio;
	struct lists *lists;
	struct health health[ALERT_CAMERAS_MAX];
};

const struct alpr_conf *alertd_conf(const struct alertd *a);
/* Some hits were recorded as shown: acknowledge what is now complete. */
void alertd_hits_recorded(struct alertd *a);
json_t *alertd_health_json(const struct alertd *a);

#endif
