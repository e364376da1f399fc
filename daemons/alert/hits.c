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
#define RESEND_RETRY_USEC (2 * USEC_PER_SEC)

struct hits {
	struct alertd *a;
	struct hit *list;		/* newest first */
	size_t n;
	sd_event_source *repeat;
	sd_event_source *resend_retry;	/* asks matchd for the unresolved hits again */
	int64_t announced_id;		/* the hit whose sound last played */
};

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

static int
hit_images(struct hit *hit, const struct policy_hit_msg *m, int fd)
{
	size_t size;
	void *map;
	int r;

	if (fd < 0 || m->images == NULL)
		return 0;
	if ((r = ipc_memfd_check(fd, &size)) < 0)
		return r;
	if (size == 0)
		return 0;
	if ((map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		return -errno;
	hit->map = map;
	hit->map_size = size;
	if ((r = policy_hit_msg_image(m, "crop", size, &hit->crop_off, &hit->crop_len)) < 0)
		return r;
	if (r > 0)
		random_id(hit->img_crop);
	if ((r = policy_hit_msg_image(m, "context", size, &hit->ctx_off, &hit->ctx_len)) < 0)
		return r;
	if (r > 0)
		random_id(hit->img_context);
	return 0;
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
		if (policy_hit_state_final(hit->state) || hit->quiet)
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
		if (policy_hit_step_allowed(hit->state, s) == 0)
			json_array_append_new(legal, json_string(policy_hit_state_name(s)));
	o = json_pack("{s:I, s:s, s:o, s:O, s:i, s:b, s:I, s:i, s:b, s:b, s:b,"
	    " s:O, s:O, s:O*, s:O*, s:O*, s:s?}",
	    "id", (json_int_t)hit->id,
	    "state", policy_hit_state_name(hit->state),
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
		if (policy_hit_state_final(hit->state) && hit->recorded &&
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
	struct policy_hit_msg m;
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
	if ((r = policy_hit_msg_parse(hit->body, &m)) < 0)
		goto fail;
	hit->id = m.id;
	hit->priority = m.priority;
	hit->person = m.person;
	hit->entry_id = m.entry_id;
	snprintf(hit->plate, sizeof(hit->plate), "%s", m.plate);
	/* A state we already know came with the resend of an unresolved hit. */
	hit->state = m.state;
	if (m.disposition != NULL)
		snprintf(hit->disposition, sizeof(hit->disposition), "%s", m.disposition);
	if (json_is_array(json_object_get(body, "steps")))
		json_array_extend(hit->steps, json_object_get(body, "steps"));
	if ((old = hits_find(h, hit->id)) != NULL) {
		/* A resend (matchd or alertd restarted): already on display. */
		hit_free(hit);
		if (!old->recorded)
			record_shown(h, old);
		return old->id;
	}
	if ((r = hit_images(hit, &m, fd)) < 0) {
		/* The alert matters more than its pictures: show it without them. */
		log_warn_r(r, "hit=%lld: images unusable, showing the hit without them",
		    (long long)hit->id);
		if (hit->map != NULL)
			munmap(hit->map, hit->map_size);
		hit->map = NULL;
		hit->img_crop[0] = hit->img_context[0] = '\0';
	}
	hit->received_usec = time_realtime_usec();
	hit->boot_usec = time_now_usec(CLOCK_BOOTTIME);
	hit->seen = 1;
	/*
	 * The same plate and entry within the cool-down: listed, not alerted
	 * again.  Measured on CLOCK_BOOTTIME: a wall clock set forwards (GPS
	 * time, NTP, a person) must not end the cool-down early, nor one set
	 * backwards stretch it; a suspended MDC still counts the time asleep.
	 */
	cooldown = conf->match.alert_cooldown_sec * USEC_PER_SEC;
	for (old = h->list; old != NULL && old->boot_usec >= hit->boot_usec - cooldown;
	    old = old->next)
		if (!old->quiet && old->entry_id == hit->entry_id &&
		    strcmp(old->plate, hit->plate) == 0) {
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

static void ask_resend(struct hits *h);

static int
on_resend_retry(sd_event_source *es, uint64_t usec, void *userdata)
{
	ask_resend(userdata);
	return 0;
}

static void
retry_resend(struct hits *h)
{
	int r;

	if (h->resend_retry == NULL)
		r = sd_event_add_time_relative(h->a->event, &h->resend_retry, CLOCK_MONOTONIC,
		    RESEND_RETRY_USEC, 0, on_resend_retry, h);
	else if ((r = sd_event_source_set_time_relative(h->resend_retry, RESEND_RETRY_USEC)) >= 0)
		r = sd_event_source_set_enabled(h->resend_retry, SD_EVENT_ONESHOT);
	if (r < 0)
		log_warn_r(r, "cannot schedule asking matchd for the unresolved hits again");
}

static void
resend_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
	struct hits *h = arg;
	json_int_t n = -1;

	if (more || reply == NULL)
		return;		/* reply NULL: the connection is gone; hits_control_up() asks again */
	if (!ok) {
		log_warnx("matchd did not send the unresolved hits again (%s), asking again", err);
		retry_resend(h);
		return;
	}
	(void)json_unpack(reply, "{s:{s:I}}", "result", "count", &n);
	log_info("unresolved hits sent again by matchd: %lld", (long long)n);
}

/*
 * The hits of the last day not resolved yet come again on alert.sock
 * (this alertd may be new; matchd too).  Until matchd has said yes: a
 * refusal or a failed request is tried again, not forgotten, or a deputy
 * would lose the hits on display across a restart.
 */
static void
ask_resend(struct hits *h)
{
	int r;

	if (!ctl_up(h->a->ctl))
		return;		/* hits_control_up() asks once it is back */
	r = ctl_request(h->a->ctl, "hit_resend", NULL, NULL, NULL, NULL, resend_cb, h);
	if (r < 0) {
		log_warn_r(r, "asking matchd for the unresolved hits, asking again");
		retry_resend(h);
	}
}

void
hits_control_up(struct hits *h)
{
	struct hit *hit;

	for (hit = h->list; hit != NULL; hit = hit->next)
		if (!hit->recorded)
			record_shown(h, hit);
	ask_resend(h);
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
	step = json_pack("{s:s, s:s, s:I}", "to", policy_hit_state_name(to), "user", user,
	    "usec", (json_int_t)time_realtime_usec());
	if (step != NULL && case_no != NULL)
		json_object_set_new(step, "case", json_string(case_no));
	if (step != NULL && disposition != NULL)
		json_object_set_new(step, "disposition", json_string(disposition));
	if (step != NULL)
		json_array_append_new(hit->steps, step);
	log_info("hit=%lld: %s%s%s by \"%s\"", (long long)hit->id, policy_hit_state_name(to),
	    disposition != NULL ? " " : "", disposition != NULL ? disposition : "", user);
	if ((o = hit_json(hit)) != NULL) {
		http_push(h->a->http, "update", o);
		json_decref(o);
	}
	if (h->announced_id == hit->id || policy_hit_state_final(to))
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
	sd_event_source_disable_unref(h->resend_retry);
	while ((hit = h->list) != NULL) {
		h->list = hit->next;
		hit_free(hit);
	}
	free(h);
	return NULL;
}
