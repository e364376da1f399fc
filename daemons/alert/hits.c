/*
 * Hits on display in alpr-alertd: the queue the deputy works through, the
 * workflow steps, repeats within the cool-down, and today's list.  Runs in
 * alpr-alertd; the HIT payloads come from alpr-matchd (a trusted peer, but
 * every field is still type-checked before use).
 *
 * Life of a hit here: received on alert.sock -> on display and pushed to
 * the pages -> "hit_shown" recorded by matchd (then main.c acknowledges the
 * HIT) -> steps taken by the deputy, each recorded by matchd first ->
 * resolved (a final state).  Hits stay in memory for today's list; the
 * images are the read's sealed memfd, mapped read-only and served by an
 * opaque random id, so no plate ever appears in a URL.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "daemon/daemon.h"
#include "daemons/alert/alertd.h"

#define HITS_MAX 5000		/* in memory; the oldest resolved go first */

struct hits {
	struct alertd *a;
	struct hit *list;		/* newest first */
	size_t n;
	sd_event_source *repeat;
	int64_t announced_id;		/* the hit whose sound last played */
};

static const char *const state_names[HIT_STATE_MAX] = {
	[HIT_NEW] = "NEW",
	[HIT_VISUALLY_CONFIRMED] = "VISUALLY_CONFIRMED",
	[HIT_MISREAD] = "MISREAD",
	[HIT_CLETS_CONFIRMED] = "CLETS_CONFIRMED",
	[HIT_CLETS_NOT_CONFIRMED] = "CLETS_NOT_CONFIRMED",
	[HIT_DISPOSED] = "DISPOSED",
};

/* The first is no action; the others are enforcement actions (a case number). */
static const char *const dispositions[] = { "no-action", "stop", "arrest", "citation",
	"vehicle-recovered", "investigation", NULL };

const char *
hit_state_name(int state)
{
	return state >= 0 && state < HIT_STATE_MAX ? state_names[state] : "?";
}

int
hit_state_from_name(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < HIT_STATE_MAX; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -EINVAL;
}

bool
hit_state_final(int state)
{
	return state == HIT_MISREAD || state == HIT_CLETS_NOT_CONFIRMED || state == HIT_DISPOSED;
}

bool
hit_disposition_valid(const char *d)
{
	size_t i;

	for (i = 0; d != NULL && dispositions[i] != NULL; i++)
		if (strcmp(d, dispositions[i]) == 0)
			return true;
	return false;
}

bool
hit_disposition_is_action(const char *d)
{
	return hit_disposition_valid(d) && strcmp(d, dispositions[0]) != 0;
}

bool
hit_step_legal(int from, int to)
{
	switch (from) {
	case HIT_NEW:
		return to == HIT_VISUALLY_CONFIRMED || to == HIT_MISREAD;
	case HIT_VISUALLY_CONFIRMED:
		return to == HIT_CLETS_CONFIRMED || to == HIT_CLETS_NOT_CONFIRMED;
	case HIT_CLETS_CONFIRMED:
		/* R5: a disposition only after CLETS verification. */
		return to == HIT_DISPOSED;
	default:
		return false;
	}
}

static void
hit_free(struct hit *hit)
{
	if (hit == NULL)
		return;
	json_decref(hit->body);
	json_decref(hit->steps);
	if (hit->map != NULL)
		munmap(hit->map, hit->map_size);
	free(hit);
}

static void
random_id(char out[33])
{
	unsigned char b[16];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		fatal("getrandom");
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* {"crop": [offset, length], ...} inside the memfd's size. */
static int
image_range(const json_t *images, const char *key, size_t size, size_t *ret_off, size_t *ret_len)
{
	json_t *v = json_object_get(images, key);
	json_int_t off, len;

	if (v == NULL)
		return 0;
	if (json_unpack((json_t *)v, "[II]", &off, &len) < 0 || off < 0 || len <= 0 ||
	    (uint64_t)off > size || (uint64_t)len > size - (uint64_t)off)
		return -EBADMSG;
	*ret_off = off;
	*ret_len = len;
	return 1;
}

static int
hit_images(struct hit *hit, int fd)
{
	json_t *images;
	size_t size;
	void *map;
	int r;

	images = json_object_get(hit->body, "images");
	if (images == NULL)
		images = json_object_get(json_object_get(hit->body, "read"), "images");
	if (fd < 0 || !json_is_object(images))
		return 0;
	if ((r = ipc_memfd_check(fd, &size)) < 0)
		return r;
	if (size == 0)
		return 0;
	if ((map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		return -errno;
	hit->map = map;
	hit->map_size = size;
	if ((r = image_range(images, "crop", size, &hit->crop_off, &hit->crop_len)) < 0)
		return r;
	if (r > 0)
		random_id(hit->img_crop);
	if ((r = image_range(images, "context", size, &hit->ctx_off, &hit->ctx_len)) < 0)
		return r;
	if (r > 0)
		random_id(hit->img_context);
	return 0;
}

/* The fields the page and the announcement need, type-checked. */
static int
hit_parse(struct hit *hit)
{
	json_t *read, *entry, *match, *j;
	json_int_t id, prio = 3;
	const char *plate, *category;
	int person = 0;

	if (json_unpack(hit->body, "{s:I, s:o, s:o, s?o}", "hit", &id, "read", &read,
	    "entry", &entry, "match", &match) < 0 || id < 0)
		return -EBADMSG;
	if (json_unpack(read, "{s:s}", "plate", &plate) < 0 || *plate == '\0' ||
	    strlen(plate) > 16)
		return -EBADMSG;
	if (json_unpack(entry, "{s:s, s?I, s?b}", "category", &category, "priority", &prio,
	    "person", &person) < 0)
		return -EBADMSG;
	/*
	 * Optional fields must at least have the right type; null is
	 * "absent" (matchd sends an entry without a description or source
	 * as null, and such a hit must still be shown).
	 */
	if (((j = json_object_get(entry, "id")) != NULL && !json_is_integer(j)) ||
	    ((j = json_object_get(entry, "source")) != NULL && !json_is_string(j) &&
	    !json_is_null(j)) ||
	    ((j = json_object_get(entry, "description")) != NULL && !json_is_string(j) &&
	    !json_is_null(j)) ||
	    ((j = json_object_get(read, "camera")) != NULL && !json_is_string(j)) ||
	    ((j = json_object_get(read, "capture_usec")) != NULL && !json_is_integer(j)) ||
	    ((j = json_object_get(read, "gps")) != NULL && !json_is_object(j)))
		return -EBADMSG;
	hit->id = id;
	hit->priority = prio < 1 ? 1 : prio > 9 ? 9 : (int)prio;
	hit->person = person;
	return 0;
}

static const char *
hit_plate(const struct hit *hit)
{
	return json_string_value(json_object_get(json_object_get(hit->body, "read"), "plate"));
}

static json_int_t
hit_entry_id(const struct hit *hit)
{
	return json_integer_value(json_object_get(json_object_get(hit->body, "entry"), "id"));
}

struct hit *
hits_find(struct hits *h, int64_t id)
{
	struct hit *hit;

	for (hit = h->list; hit != NULL; hit = hit->next)
		if (hit->id == id)
			return hit;
	return NULL;
}

int
hits_image(struct hits *h, const char *img, const void **ret_data, size_t *ret_len)
{
	struct hit *hit;

	if (img == NULL || strlen(img) != 32)
		return -ENOENT;
	for (hit = h->list; hit != NULL; hit = hit->next) {
		if (hit->map == NULL)
			continue;
		if (strcmp(hit->img_crop, img) == 0) {
			*ret_data = (const char *)hit->map + hit->crop_off;
			*ret_len = hit->crop_len;
			return 0;
		}
		if (strcmp(hit->img_context, img) == 0) {
			*ret_data = (const char *)hit->map + hit->ctx_off;
			*ret_len = hit->ctx_len;
			return 0;
		}
	}
	return -ENOENT;
}

struct hit *
hits_top(struct hits *h)
{
	struct hit *hit, *best = NULL;

	for (hit = h->list; hit != NULL; hit = hit->next) {
		if (hit_state_final(hit->state) || hit->quiet)
			continue;
		/* Most urgent first; among equals the oldest (the list is newest first). */
		if (best == NULL || hit->priority <= best->priority)
			best = hit;
	}
	return best;
}

json_t *
hit_json(const struct hit *hit)
{
	json_t *o, *legal, *read, *entry, *match;
	int s;

	read = json_object_get(hit->body, "read");
	entry = json_object_get(hit->body, "entry");
	match = json_object_get(hit->body, "match");
	if ((legal = json_array()) == NULL)
		return NULL;
	for (s = 0; s < HIT_STATE_MAX; s++)
		if (hit_step_legal(hit->state, s))
			json_array_append_new(legal, json_string(state_names[s]));
	o = json_pack("{s:I, s:s, s:o, s:O, s:i, s:b, s:I, s:i, s:b, s:b, s:b,"
	    " s:O, s:O, s:O*, s:O*, s:O*, s:s?}",
	    "id", (json_int_t)hit->id,
	    "state", hit_state_name(hit->state),
	    "legal", legal,
	    "steps", hit->steps,
	    "priority", hit->priority,
	    "person", hit->person,
	    "received_usec", (json_int_t)hit->received_usec,
	    "seen", (int)hit->seen,
	    "quiet", hit->quiet,
	    "acked", hit->acked,
	    "recorded", hit->recorded,
	    "read", read,
	    "entry", entry,
	    "match", match,
	    "state_check", json_object_get(hit->body, "state_check"),
	    "retro", json_object_get(hit->body, "retro"),
	    "disposition", hit->disposition[0] != '\0' ? hit->disposition : NULL);
	if (o == NULL)
		return NULL;
	/* The page never needs the read's image offsets. */
	json_object_del(json_object_get(o, "read"), "images");
	json_object_set_new(o, "crop", hit->img_crop[0] != '\0' ?
	    json_sprintf("img/%s", hit->img_crop) : json_null());
	json_object_set_new(o, "context", hit->img_context[0] != '\0' ?
	    json_sprintf("img/%s", hit->img_context) : json_null());
	return o;
}

json_t *
hits_list_json(struct hits *h)
{
	struct hit *hit;
	json_t *a, *o;

	if ((a = json_array()) == NULL)
		return NULL;
	for (hit = h->list; hit != NULL; hit = hit->next)
		if ((o = hit_json(hit)) != NULL)
			json_array_append_new(a, o);
	return a;
}

static int64_t
local_midnight_usec(int64_t now_usec)
{
	time_t t = now_usec / USEC_PER_SEC;
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * USEC_PER_SEC;
}

/* Today's list keeps resolved hits of today and every unresolved one. */
static void
prune(struct hits *h)
{
	int64_t midnight = local_midnight_usec(time_realtime_usec());
	struct hit **pp, *hit;

	for (pp = &h->list; (hit = *pp) != NULL;) {
		if (hit_state_final(hit->state) && hit->recorded &&
		    (hit->received_usec < midnight || h->n > HITS_MAX)) {
			*pp = hit->next;
			h->n--;
			hit_free(hit);
			continue;
		}
		pp = &hit->next;
	}
}

static void
announce_top(struct hits *h)
{
	const struct alpr_conf *conf = alertd_conf(h->a);
	struct hit *top = hits_top(h);
	uint64_t now;

	if (top == NULL || top->acked) {
		audio_stop(h->a->audio);
		h->announced_id = -1;
		return;
	}
	h->announced_id = top->id;
	audio_announce(h->a->audio, top);
	/* The next repeat counts from this announcement. */
	(void)sd_event_now(h->a->event, CLOCK_MONOTONIC, &now);
	(void)sd_event_source_set_time(h->repeat, now + conf->alert.repeat_interval_sec * USEC_PER_SEC);
	(void)sd_event_source_set_enabled(h->repeat, SD_EVENT_ON);
}

static int
on_repeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hits *h = userdata;
	const struct alpr_conf *conf = alertd_conf(h->a);
	struct hit *top = hits_top(h);

	(void)sd_event_source_set_time(s, usec + conf->alert.repeat_interval_sec * USEC_PER_SEC);
	if (conf->alert.repeat_until_ack && top != NULL && !top->acked)
		announce_top(h);
	return 0;
}

/* What a hit_shown request is about: matchd's error replies do not name the hit. */
struct shown {
	struct hits *h;
	int64_t id;
};

static void
shown_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
	struct shown *sh = arg;
	struct hit *hit;

	if (more)
		return;
	if (reply != NULL && (hit = hits_find(sh->h, sh->id)) != NULL) {
		if (!ok)
			log_warnx("hit=%lld: recording it as shown failed: %s, acknowledging it anyway",
			    (long long)sh->id, err);
		hit->recorded = true;
		alertd_hits_recorded(sh->h->a);
	}
	/* reply NULL: the connection is gone; hits_control_up() asks again. */
	free(sh);
}

static void
record_shown(struct hits *h, struct hit *hit)
{
	struct shown *sh;
	json_t *args;
	int r;

	if ((sh = malloc(sizeof(*sh))) == NULL)
		return;
	sh->h = h;
	sh->id = hit->id;
	if ((args = json_pack("{s:I, s:b}", "hit", (json_int_t)hit->id, "quiet", hit->quiet)) == NULL) {
		free(sh);
		return;
	}
	r = ctl_request(h->a->ctl, "hit_shown", NULL, NULL, NULL, args, shown_cb, sh);
	json_decref(args);
	if (r < 0) {
		free(sh);
		if (r != -ENOTCONN)
			log_warn_r(r, "hit=%lld: asking matchd to record it as shown", (long long)hit->id);
	}
}

int
hits_take(struct hits *h, const json_t *body, int fd)
{
	const struct alpr_conf *conf = alertd_conf(h->a);
	struct hit *hit, *old;
	int64_t cooldown;
	json_t *o;
	int r;

	if ((hit = calloc(1, sizeof(*hit))) == NULL)
		return -ENOMEM;
	hit->body = json_deep_copy(body);
	hit->steps = json_array();
	if (hit->body == NULL || hit->steps == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = hit_parse(hit)) < 0)
		goto fail;
	if ((old = hits_find(h, hit->id)) != NULL) {
		/* A resend (matchd or alertd restarted): already on display. */
		hit_free(hit);
		if (!old->recorded)
			record_shown(h, old);
		return old->id;
	}
	if ((r = hit_images(hit, fd)) < 0) {
		/* The alert matters more than its pictures: show it without them. */
		log_warn_r(r, "hit=%lld: images unusable, showing the hit without them",
		    (long long)hit->id);
		if (hit->map != NULL)
			munmap(hit->map, hit->map_size);
		hit->map = NULL;
		hit->img_crop[0] = hit->img_context[0] = '\0';
	}
	{
		/* A state we already know came with the resend of an unresolved hit. */
		const char *st = json_string_value(json_object_get(body, "workflow_state"));
		const char *disp = json_string_value(json_object_get(body, "disposition"));

		if (hit_disposition_valid(disp))
			snprintf(hit->disposition, sizeof(hit->disposition), "%s", disp);
		json_t *steps = json_object_get(body, "steps");

		if (st != NULL && hit_state_from_name(st) >= 0)
			hit->state = hit_state_from_name(st);
		if (json_is_array(steps))
			json_array_extend(hit->steps, steps);
	}
	hit->received_usec = time_realtime_usec();
	hit->seen = 1;
	/* The same plate and entry within the cool-down: listed, not alerted again. */
	cooldown = conf->match.alert_cooldown_sec * USEC_PER_SEC;
	for (old = h->list; old != NULL; old = old->next)
		if (old->received_usec >= hit->received_usec - cooldown &&
		    hit_entry_id(old) == hit_entry_id(hit) &&
		    strcmp(hit_plate(old), hit_plate(hit)) == 0 && !old->quiet) {
			hit->quiet = true;
			old->seen++;
			break;
		}
	hit->next = h->list;
	h->list = hit;
	h->n++;
	prune(h);
	log_info("hit=%lld priority=%d: on display%s", (long long)hit->id, hit->priority,
	    hit->quiet ? " (repeat within the cool-down, not announced)" : "");
	if ((o = hit_json(hit)) != NULL) {
		http_push(h->a->http, "hit", o);
		json_decref(o);
	}
	if (hit->quiet && old != NULL && (o = hit_json(old)) != NULL) {
		http_push(h->a->http, "update", o);
		json_decref(o);
	}
	if (!hit->quiet && hits_top(h) == hit)
		announce_top(h);
	record_shown(h, hit);
	return hit->id;
fail:
	hit_free(hit);
	return r;
}

void
hits_control_up(struct hits *h)
{
	struct hit *hit;
	int r;

	for (hit = h->list; hit != NULL; hit = hit->next)
		if (!hit->recorded)
			record_shown(h, hit);
	/* After a restart of either side: matchd sends unresolved hits again on alert.sock. */
	if ((r = ctl_request(h->a->ctl, "hit_resend", NULL, NULL, NULL, NULL, NULL, NULL)) < 0)
		log_warn_r(r, "asking matchd for unresolved hits, ignoring");
}

void
hits_stepped(struct hits *h, struct hit *hit, int to, const char *disposition,
    const char *user, const char *case_no)
{
	json_t *step, *o;

	hit->state = to;
	hit->acked = true;
	if (disposition != NULL)
		snprintf(hit->disposition, sizeof(hit->disposition), "%s", disposition);
	step = json_pack("{s:s, s:s, s:I}", "to", hit_state_name(to), "user", user,
	    "usec", (json_int_t)time_realtime_usec());
	if (step != NULL && case_no != NULL)
		json_object_set_new(step, "case", json_string(case_no));
	if (step != NULL && disposition != NULL)
		json_object_set_new(step, "disposition", json_string(disposition));
	if (step != NULL)
		json_array_append_new(hit->steps, step);
	log_info("hit=%lld: %s%s%s by \"%s\"", (long long)hit->id, hit_state_name(to),
	    disposition != NULL ? " " : "", disposition != NULL ? disposition : "", user);
	if ((o = hit_json(hit)) != NULL) {
		http_push(h->a->http, "update", o);
		json_decref(o);
	}
	if (h->announced_id == hit->id || hit_state_final(to))
		announce_top(h);
}

void
hits_ack(struct hits *h, struct hit *hit)
{
	json_t *o;

	hit->acked = true;
	if (h->announced_id == hit->id)
		audio_stop(h->a->audio);
	if ((o = hit_json(hit)) != NULL) {
		http_push(h->a->http, "update", o);
		json_decref(o);
	}
}

int
hits_new(struct alertd *a, struct hits **ret)
{
	const struct alpr_conf *conf = alertd_conf(a);
	struct hits *h;
	uint64_t now;
	int r;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->a = a;
	h->announced_id = -1;
	(void)sd_event_now(a->event, CLOCK_MONOTONIC, &now);
	if ((r = sd_event_add_time(a->event, &h->repeat, CLOCK_MONOTONIC,
	    now + conf->alert.repeat_interval_sec * USEC_PER_SEC, 100000, on_repeat, h)) < 0) {
		free(h);
		return r;
	}
	(void)sd_event_source_set_enabled(h->repeat, SD_EVENT_ON);
	*ret = h;
	return 0;
}

struct hits *
hits_free(struct hits *h)
{
	struct hit *hit;

	if (h == NULL)
		return NULL;
	sd_event_source_disable_unref(h->repeat);
	while ((hit = h->list) != NULL) {
		h->list = hit->next;
		hit_free(hit);
	}
	free(h);
	return NULL;
}
