/*
 * Unit tests of alpr-alertd's hits.c: the workflow machine as alertd
 * offers it (every pair of states), the HIT payload checks, image ranges
 * inside the memfd, priority order, and the cool-down of repeats.  The
 * file is included to reach its statics; the daemon's other parts are
 * replaced by the small recorders below.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../daemons/alert/hits.c"

/* ---- what hits.c calls in the rest of the daemon ------------------------- */

static struct alpr_conf *conf;
static int pushes, announces, shown_requests;
static char last_event[32];

const struct alpr_conf *
alertd_conf(const struct alertd *a)
{
	return conf;
}

void
alertd_hits_recorded(struct alertd *a)
{
}

void
http_push(struct http *h, const char *event, const json_t *data)
{
	pushes++;
	snprintf(last_event, sizeof(last_event), "%s", event);
}

void
audio_announce(struct audio *au, const struct hit *hit)
{
	announces++;
}

void
audio_stop(struct audio *au)
{
}

bool
ctl_up(const struct ctl *c)
{
	return true;
}

int
ctl_request(struct ctl *c, const char *op, const char *session, const char *case_no,
    const char *reason, json_t *args, ctl_cb cb, void *arg)
{
	if (strcmp(op, "hit_shown") == 0) {
		shown_requests++;
		/* As if the connection dropped: the hit stays unrecorded, arg is freed. */
		cb(NULL, false, false, -1, "stub", arg);
	}
	return 0;
}

/* ---- fixtures ------------------------------------------------------------ */

static struct alertd alertd;
static struct hits *hits;

static int
setup(void **state)
{
	assert_int_equal(conf_defaults(&conf), 0);
	conf->alert.repeat_interval_sec = 15;
	conf->match.alert_cooldown_sec = 300;
	assert_int_equal(sd_event_new(&alertd.event), 0);
	assert_int_equal(hits_new(&alertd, &hits), 0);
	alertd.hits = hits;
	pushes = announces = shown_requests = 0;
	return 0;
}

static int
teardown(void **state)
{
	hits = hits_free(hits);
	alertd.event = sd_event_unref(alertd.event);
	conf_free(conf);
	return 0;
}

static json_t *
hit_body(long long id, const char *plate, int entry, int priority)
{
	return json_pack("{s:I, s:{s:s, s:s, s:I}, s:{s:i, s:s, s:s, s:i, s:b}, s:{s:s, s:[]}}",
	    "hit", (json_int_t)id,
	    "read", "plate", plate, "camera", "front", "capture_usec", (json_int_t)1,
	    "entry", "id", entry, "category", "stolen_vehicle", "source", "NCIC",
	    "priority", priority, "person", 0,
	    "match", "type", "exact", "differs");
}

static int
take(json_t *body, int fd)
{
	int r = hits_take(hits, body, fd);

	json_decref(body);
	return r;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_machine(void **state)
{
	/* The only legal steps, spelled out; every other pair must be refused. */
	static const int legal[][2] = {
		{ HIT_NEW, HIT_VISUALLY_CONFIRMED }, { HIT_NEW, HIT_MISREAD },
		{ HIT_VISUALLY_CONFIRMED, HIT_CLETS_CONFIRMED },
		{ HIT_VISUALLY_CONFIRMED, HIT_CLETS_NOT_CONFIRMED },
		{ HIT_CLETS_CONFIRMED, HIT_DISPOSED },
	};
	int from, to, n_legal = 0;
	size_t i;

	for (from = -1; from <= HIT_STATE_MAX; from++)
		for (to = -1; to <= HIT_STATE_MAX; to++) {
			bool want = false;

			for (i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
				if (legal[i][0] == from && legal[i][1] == to)
					want = true;
			assert_int_equal(policy_hit_step_allowed(from, to) == 0, want);
			n_legal += want;
		}
	assert_int_equal(n_legal, 5);
	/* R5: no disposition before CLETS verification, from any earlier state. */
	assert_true(policy_hit_step_allowed(HIT_NEW, HIT_DISPOSED) < 0);
	assert_true(policy_hit_step_allowed(HIT_VISUALLY_CONFIRMED, HIT_DISPOSED) < 0);
	assert_true(policy_hit_step_allowed(HIT_CLETS_NOT_CONFIRMED, HIT_DISPOSED) < 0);
	assert_true(policy_hit_step_allowed(HIT_DISPOSED, HIT_DISPOSED) < 0);
	assert_true(policy_disposition_is_action("arrest"));
	assert_false(policy_disposition_is_action("no-action"));
	assert_false(policy_disposition_valid("immigration-hold"));
	assert_false(policy_disposition_valid(NULL));
	for (from = 0; from < HIT_STATE_MAX; from++)
		assert_int_equal(policy_hit_state_from_name(policy_hit_state_name(from)), from);
	assert_true(policy_hit_state_from_name("visually_confirmed") < 0);
	assert_true(policy_hit_state_from_name(NULL) < 0);
}

static void
test_malformed(void **state)
{
	json_t *b;

	assert_int_equal(take(json_pack("{s:s}", "hit", "1"), -1), -EBADMSG);
	b = hit_body(1, "7ABC123", 1, 1);
	json_object_del(json_object_get(b, "read"), "plate");
	assert_int_equal(take(b, -1), -EBADMSG);
	b = hit_body(1, "", 1, 1);
	assert_int_equal(take(b, -1), -EBADMSG);
	b = hit_body(1, "0123456789ABCDEFG", 1, 1);	/* 17 characters */
	assert_int_equal(take(b, -1), -EBADMSG);
	b = hit_body(1, "7ABC123", 1, 1);
	json_object_set_new(json_object_get(b, "entry"), "priority", json_string("1"));
	assert_int_equal(take(b, -1), -EBADMSG);
	b = hit_body(1, "7ABC123", 1, 1);
	json_object_set_new(json_object_get(b, "read"), "gps", json_string("here"));
	assert_int_equal(take(b, -1), -EBADMSG);
	b = hit_body(-5, "7ABC123", 1, 1);
	assert_int_equal(take(b, -1), -EBADMSG);
	assert_null(hits->list);
	assert_int_equal(pushes, 0);
	assert_int_equal(shown_requests, 0);
}

static void
test_images(void **state)
{
	const void *data;
	size_t len;
	void *map;
	json_t *b;
	int fd;
	struct hit *hit;

	fd = ipc_memfd_new("t", 100, &map);
	assert_true(fd >= 0);
	memset(map, 'x', 100);
	munmap(map, 100);
	assert_int_equal(ipc_memfd_seal(fd), 0);

	/* In range: served by an opaque id. */
	b = hit_body(1, "7ABC123", 1, 1);
	json_object_set_new(b, "images", json_pack("{s:[ii], s:[ii]}", "crop", 0, 40, "context", 40, 60));
	assert_int_equal(take(b, fd), 1);
	hit = hits_find(hits, 1);
	assert_non_null(hit);
	assert_int_equal(strlen(hit->img_crop), 32);
	assert_int_equal(hits_image(hits, hit->img_crop, &data, &len), 0);
	assert_int_equal(len, 40);
	assert_int_equal(hits_image(hits, hit->img_context, &data, &len), 0);
	assert_int_equal(len, 60);
	assert_int_equal(hits_image(hits, "7ABC123", &data, &len), -ENOENT);

	/* Out of range: the hit shows, without images. */
	b = hit_body(2, "8XYZ987", 2, 1);
	json_object_set_new(b, "images", json_pack("{s:[ii]}", "crop", 90, 20));
	assert_int_equal(take(b, fd), 2);
	hit = hits_find(hits, 2);
	assert_string_equal(hit->img_crop, "");
	assert_null(hit->map);

	/* An unsealed memfd is not trusted either. */
	close(fd);
	fd = ipc_memfd_new("t", 10, &map);
	munmap(map, 10);
	b = hit_body(3, "5DEF456", 3, 1);
	json_object_set_new(b, "images", json_pack("{s:[ii]}", "crop", 0, 5));
	assert_int_equal(take(b, fd), 3);
	assert_null(hits_find(hits, 3)->map);
	close(fd);
}

static void
test_priority_and_cooldown(void **state)
{
	struct hit *top;

	assert_int_equal(take(hit_body(1, "AAA111", 1, 3), -1), 1);
	assert_int_equal(announces, 1);
	assert_int_equal(take(hit_body(2, "BBB222", 2, 1), -1), 2);
	assert_int_equal(announces, 2);		/* more urgent: announced at once */
	assert_int_equal(take(hit_body(3, "CCC333", 3, 1), -1), 3);
	assert_int_equal(announces, 2);		/* same priority: waits its turn */
	top = hits_top(hits);
	assert_int_equal(top->id, 2);		/* most urgent, then oldest */

	/* Same plate and entry within the cool-down: listed, quiet, counted. */
	assert_int_equal(take(hit_body(4, "BBB222", 2, 1), -1), 4);
	assert_true(hits_find(hits, 4)->quiet);
	assert_int_equal(hits_find(hits, 2)->seen, 2);
	assert_int_equal(announces, 2);
	assert_int_equal(shown_requests, 4);	/* every hit is recorded as shown */
	/* Same plate, another entry: a new alert. */
	assert_int_equal(take(hit_body(5, "BBB222", 9, 1), -1), 5);
	assert_false(hits_find(hits, 5)->quiet);
	/* Past the cool-down (CLOCK_BOOTTIME's) the same plate and entry alert again. */
	for (struct hit *x = hits->list; x != NULL; x = x->next)
		x->boot_usec -= 301 * USEC_PER_SEC;
	assert_int_equal(take(hit_body(6, "BBB222", 2, 1), -1), 6);
	assert_false(hits_find(hits, 6)->quiet);
	assert_int_equal(hits_find(hits, 2)->seen, 2);

	/* A resend of a hit on display is not a second hit. */
	assert_int_equal(take(hit_body(2, "BBB222", 2, 1), -1), 2);
	assert_int_equal(shown_requests, 7);	/* not recorded yet: asked again */

	/* Stepping the top hit to a final state brings the next one. */
	hits_stepped(hits, hits_find(hits, 2), HIT_VISUALLY_CONFIRMED, NULL, "deputy1", NULL);
	assert_string_equal(last_event, "update");
	assert_int_equal(hits_top(hits)->id, 2);
	hits_stepped(hits, hits_find(hits, 2), HIT_MISREAD, NULL, "deputy1", NULL);
	assert_int_equal(hits_top(hits)->id, 3);
	assert_int_equal(json_array_size(hits_find(hits, 2)->steps), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_and_cooldown, setup, teardown),
	};

	log_init("test-alert-hits", false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
