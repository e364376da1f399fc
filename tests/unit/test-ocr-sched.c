/*
 * Unit tests of alpr-ocrd's frame scheduling (daemons/ocr/worker.c,
 * included for its statics; no worker is started, so frames stay in their
 * slots until the test takes them as a free worker would): one waiting
 * frame a camera, a newer one supersedes it (counted, its reference
 * dropped), the cameras are taken in turn, and a camera beyond
 * OCR_CAMERAS_MAX waits nowhere until a slot is free.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemons/ocr/worker.c"

#include "rec-stub.h"

static struct frame *
frame(const char *camera, int64_t n)
{
	struct frame *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->refs = 1;
	f->fd = -1;
	snprintf(f->camera, sizeof(f->camera), "%s", camera);
	f->number = n;
	return f;
}

/* A pool without workers: submissions wait in the slots. */
static struct pool *
pool(void)
{
	struct pool *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	return p;
}

/* Submits a frame of its own; returns what pool_submit said. */
static int
submit(struct pool *p, const char *camera, int64_t n)
{
	struct frame *f = frame(camera, n);
	int r = pool_submit(p, f);

	frame_unref(f);
	return r;
}

/* Takes the next waiting frame as a free worker would; checks it. */
static void
take(struct pool *p, const char *camera, int64_t n)
{
	struct frame *f = slot_take(p);

	assert_non_null(f);
	assert_string_equal(f->camera, camera);
	assert_int_equal(f->number, n);
	frame_unref(f);
}

static void
test_newest_wins(void **state)
{
	struct pool *p = pool();
	struct frame *old = frame("front", 1);

	(void)state;
	assert_int_equal(pool_submit(p, old), 0);
	assert_int_equal(old->refs, 2);		/* the slot holds it */
	assert_int_equal(submit(p, "front", 2), 1);
	assert_int_equal(old->refs, 1);		/* superseded: let go */
	assert_int_equal(p->dropped, 1);
	take(p, "front", 2);
	assert_null(slot_take(p));
	frame_unref(old);
	pool_free(p);
}

static void
test_cameras_in_turn(void **state)
{
	struct pool *p = pool();

	(void)state;
	/* a camera at 3 times the rate of the other gets no more turns */
	assert_int_equal(submit(p, "front", 1), 0);
	assert_int_equal(submit(p, "rear", 1), 0);
	take(p, "front", 1);
	assert_int_equal(submit(p, "front", 2), 0);
	take(p, "rear", 1);		/* not front's newer frame */
	assert_int_equal(submit(p, "front", 3), 1);
	assert_int_equal(submit(p, "rear", 2), 0);
	assert_int_equal(submit(p, "front", 4), 1);
	take(p, "front", 4);
	assert_int_equal(submit(p, "front", 5), 0);
	take(p, "rear", 2);
	take(p, "front", 5);
	assert_null(slot_take(p));
	assert_int_equal(p->dropped, 2);
	pool_free(p);
}

static void
test_too_many_cameras(void **state)
{
	struct pool *p = pool();
	char name[16];

	(void)state;
	for (int i = 0; i < OCR_CAMERAS_MAX; i++) {
		snprintf(name, sizeof(name), "cam%d", i);
		assert_int_equal(submit(p, name, 1), 0);
	}
	assert_int_equal(submit(p, "late", 1), 1);	/* waits nowhere */
	assert_int_equal(p->dropped, 1);
	take(p, "cam0", 1);
	assert_int_equal(submit(p, "late", 2), 0);	/* takes the free slot */
	for (int i = 1; i < OCR_CAMERAS_MAX; i++) {
		snprintf(name, sizeof(name), "cam%d", i);
		take(p, name, 1);
	}
	take(p, "late", 2);
	assert_null(slot_take(p));
	pool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newest_wins),
		cmocka_unit_test(test_cameras_in_turn),
		cmocka_unit_test(test_too_many_cameras),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
