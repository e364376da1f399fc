/*
 * The stale-list banner: alpr-alertd asks alpr-matchd (control op
 * hotlist_age) how old each active hot list is, when the control socket
 * comes up, every minute, and when a page loads, and pushes the page a
 * "lists" event when the answer changes.  A list is stale past
 * MaxListAgeHours ([match], matchd's own check); manual entries are not a
 * list that ages.  No list at all is shown too.  The same answer carries
 * matchd's storage state: "failing: ..." (a full disk) is a banner too,
 * so the deputy knows reads are kept without their images.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/time.h"
#include "daemons/alert/alertd.h"

#define LISTS_CHECK_USEC (10 * USEC_PER_SEC)

struct lists {
	struct alertd *a;
	sd_event_source *timer;
	json_t *banner;		/* what the page shows (NULL: not known yet) */
	bool asking;
};

/* {"known", "none", "stale": [{"source", "age_hours"}...], "max_age_hours", "storage"} */
static json_t *
banner_json(const json_t *reply)
{
	json_t *stale = json_array(), *l;
	int64_t now = json_integer_value(json_object_get(reply, "now_usec")), at;
	const char *storage;
	size_t i, n = 0;

	json_array_foreach(json_object_get(reply, "lists"), i, l) {
		const char *src = json_string_value(json_object_get(l, "source"));

		if (src == NULL || strcmp(src, "manual") == 0)
			continue;
		n++;
		if (!json_is_true(json_object_get(l, "stale")))
			continue;
		at = json_integer_value(json_object_get(l, "source_usec"));
		if (at <= 0)
			at = json_integer_value(json_object_get(l, "imported_usec"));
		json_array_append_new(stale, json_pack("{s:s, s:I}", "source", src,
		    "age_hours", (json_int_t)((now - at) / (3600 * USEC_PER_SEC))));
	}
	storage = json_string_value(json_object_get(reply, "storage"));
	return json_pack("{s:b, s:b, s:o, s:O, s:s}", "known", 1, "none", n == 0, "stale", stale,
	    "max_age_hours", json_object_get(reply, "max_age_hours"), "storage",
	    storage != NULL ? storage : "unknown");
}

static void
age_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
	struct lists *l = arg;
	json_t *b;

	if (more)
		return;
	l->asking = false;
	if (reply == NULL || !ok) {
		log_warnx("hot-list ages: %s", err != NULL ? err : "refused");
		return;
	}
	if ((b = banner_json(json_object_get(reply, "result"))) == NULL)
		return;
	if (l->banner != NULL && json_equal(b, l->banner)) {
		json_decref(b);
		return;
	}
	if (json_array_size(json_object_get(b, "stale")) > 0 || json_is_true(json_object_get(b, "none")))
		log_warnx("hot lists: %zu stale, %s", json_array_size(json_object_get(b, "stale")),
		    json_is_true(json_object_get(b, "none")) ? "none loaded" : "some loaded");
	{
		const char *now = json_string_value(json_object_get(b, "storage"));
		const char *was = l->banner != NULL ?
		    json_string_value(json_object_get(l->banner, "storage")) : "ok";

		if (now != NULL && was != NULL && strcmp(now, was) != 0)
			log_warnx("alpr-matchd says storage %s: shown on the page", now);
	}
	json_decref(l->banner);
	l->banner = b;
	http_push(l->a->http, "lists", b);
}

void
lists_refresh(struct lists *l)
{
	int r;

	if (l == NULL || l->asking || !ctl_up(l->a->ctl))
		return;
	if ((r = ctl_request(l->a->ctl, "hotlist_age", NULL, NULL, NULL, NULL, age_cb, l)) < 0) {
		log_warn_r(r, "asking matchd for the hot-list ages");
		return;
	}
	l->asking = true;
}

json_t *
lists_json(const struct lists *l)
{
	return l->banner != NULL ? json_incref(l->banner) : json_pack("{s:b}", "known", 0);
}

static int
on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct lists *l = userdata;

	(void)sd_event_source_set_time(s, usec + LISTS_CHECK_USEC);
	lists_refresh(l);
	return 0;
}

int
lists_new(struct alertd *a, struct lists **ret)
{
	struct lists *l;
	uint64_t now;
	int r;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->a = a;
	(void)sd_event_now(a->event, CLOCK_MONOTONIC, &now);
	if ((r = sd_event_add_time(a->event, &l->timer, CLOCK_MONOTONIC, now + LISTS_CHECK_USEC,
	    USEC_PER_SEC, on_timer, l)) < 0) {
		free(l);
		return r;
	}
	(void)sd_event_source_set_enabled(l->timer, SD_EVENT_ON);
	*ret = l;
	return 0;
}

struct lists *
lists_free(struct lists *l)
{
	if (l == NULL)
		return NULL;
	if (l->a->ctl != NULL)
		ctl_cancel(l->a->ctl, l);
	sd_event_source_disable_unref(l->timer);
	json_decref(l->banner);
	free(l);
	return NULL;
}
