/*
 * Unit tests of alpr-ocrd's tracker (daemons/ocr/tracker.c, included for
 * its statics): one car over several frames is one track whatever the
 * per-frame misreads, two cars are two tracks, tracks close by frames and
 * by time, short tracks give nothing, the text comes from the votes of
 * all frames rather than the single best one, a confident track's read
 * goes early, then once more as an update when the track closes, and a
 * car hidden for a moment stays one read.
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

#include "../../daemons/ocr/tracker.c"

static struct track closed[16];
static int n_closed;
static struct track early[16];
static int n_early;

/* As reads_emit() does: the first call names the read, each records its frames. */
static void
on_closed(struct track *t, bool closing, void *userdata)
{
	(void)userdata;
	if (t->read_id[0] == '\0')
		snprintf(t->read_id, sizeof(t->read_id), "%032llu", (unsigned long long)t->id);
	t->sent_frames = t->frames;
	if (!closing) {
		assert_true(n_early < 16);
		early[n_early] = *t;
		early[n_early++].best = NULL;
		return;
	}
	assert_true(n_closed < 16);
	closed[n_closed] = *t;
	closed[n_closed].best = NULL;	/* freed by the tracker after */
	n_closed++;
}

static struct frame *
frame_new(int64_t n)
{
	struct frame *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->refs = 1;
	f->fd = -1;
	strcpy(f->camera, "front");
	f->number = n;
	f->width = 1280;
	f->height = 720;
	f->capture_usec = 1000000 + n * 100000;
	return f;
}

static void
plate_set(struct rec_plate *p, const char *text, float conf, int x, int y)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->text, text);
	p->confidence = conf;
	p->box[0] = x;
	p->box[1] = y;
	p->box[2] = 160;
	p->box[3] = 80;
	p->n_candidates = 1;
	strcpy(p->candidates[0].text, text);
	p->candidates[0].confidence = conf;
}

/* One frame with the given plates (text, conf, x) at y = 400. */
static void
feed(struct tracker *tr, int64_t n, int k, const char **texts, const float *confs,
    const int *xs, int64_t now)
{
	struct rec_result res = { .n_plates = k };
	struct frame *f = frame_new(n);

	for (int i = 0; i < k; i++)
		plate_set(&res.plates[i], texts[i], confs[i], xs[i], 400);
	tracker_add(tr, f, &res, now);
	frame_unref(f);
}

/* A new tracker with p, its reads recorded from none. */
static struct tracker *
tracker_with(const struct tracker_params *p)
{
	struct tracker *tr = NULL;

	n_closed = n_early = 0;
	assert_int_equal(tracker_new(p, on_closed, NULL, &tr), 0);
	return tr;
}

static struct tracker *
tracker(int64_t close_frames, int64_t min_frames)
{
	struct tracker_params p = { close_frames, 2000000, min_frames, 0, 0, 0 };

	return tracker_with(&p);
}

static struct tracker *
tracker_early_conf(double conf)
{
	struct tracker_params p = { 3, 2000000, 2, conf, 0, 0 };

	return tracker_with(&p);
}

/*
 * EarlyReadConfidence: the read goes with the second sighting (TrackMinFrames
 * 2) once the frames agree at >= 60 on average, not before and not twice;
 * the close sends one update of the same read with all its frames.
 */
static void
test_early_read(void **state)
{
	const char *t = "7ABC123", *low = "7ABC128";
	struct tracker *tr = tracker_early_conf(60);

	(void)state;
	feed(tr, 0, 1, &t, (float[]){ 90 }, (int[]){ 100 }, 0);
	assert_int_equal(n_early, 0);	/* one frame: fewer than TrackMinFrames */
	feed(tr, 1, 1, &t, (float[]){ 80 }, (int[]){ 150 }, 100000);
	assert_int_equal(n_early, 1);
	assert_int_equal(early[0].frames, 2);
	assert_string_equal(track_text(&early[0]), t);
	for (int i = 2; i < 5; i++)
		feed(tr, i, 1, &low, (float[]){ 30 }, (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 1);	/* once */
	assert_int_equal(n_closed, 0);
	for (int i = 5; i < 8; i++)
		feed(tr, i, 0, NULL, NULL, NULL, i * 100000);
	assert_int_equal(n_closed, 1);	/* the update */
	assert_string_equal(closed[0].read_id, early[0].read_id);
	assert_int_equal(closed[0].frames, 5);
	tracker_free(tr);
}

/* Not sure enough, or a text of no known format: the read waits for the close. */
static void
test_early_read_refused(void **state)
{
	const char *t = "7ABC123", *vanity = "HELLO";
	struct tracker *tr = tracker_early_conf(60);

	(void)state;
	for (int i = 0; i < 4; i++)
		feed(tr, i, 1, &t, (float[]){ 50 }, (int[]){ 100 + 50 * i }, i * 100000);
	for (int i = 0; i < 4; i++)
		feed(tr, 10 + i, 1, &vanity, (float[]){ 95 }, (int[]){ 1000 }, (10 + i) * 100000);
	assert_int_equal(n_early, 0);
	tracker_free(tr);
	assert_int_equal(n_closed, 2);
	/* 0 turns early reads off whatever the confidence */
	tr = tracker_early_conf(0);
	for (int i = 0; i < 4; i++)
		feed(tr, i, 1, &t, (float[]){ 99 }, (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 0);
	tracker_free(tr);
	assert_int_equal(n_closed, 1);
}

/*
 * OCR_EARLY_AGREE: low confidences (a softmax over many candidates) but the
 * same top-1 text in 3 frames, most of the track's: the read goes on the
 * third; a track whose frames disagree waits for its close.
 */
static void
test_early_read_agreed(void **state)
{
	const char *t = "7ABC123", *other = "7ABC128", *third = "7ABC723";
	struct tracker_params p = { 3, 2000000, 2, 60, 3, 0 };
	struct tracker *tr = NULL;

	(void)state;
	tr = tracker_with(&p);
	feed(tr, 0, 1, &t, (float[]){ 10 }, (int[]){ 100 }, 0);
	feed(tr, 1, 1, &t, (float[]){ 12 }, (int[]){ 150 }, 100000);
	assert_int_equal(n_early, 0);	/* 2 frames agree: not yet */
	feed(tr, 2, 1, &t, (float[]){ 11 }, (int[]){ 200 }, 200000);
	assert_int_equal(n_early, 1);
	assert_int_equal(early[0].frames, 3);
	assert_string_equal(track_text(&early[0]), t);
	tracker_free(tr);

	/* 3 frames of one text among 7 that disagree: no majority, no early read */
	tr = tracker_with(&p);
	for (int i = 0; i < 7; i++)
		feed(tr, i, 1, i % 3 == 0 ? &t : i % 3 == 1 ? &other : &third, (float[]){ 10 },
		    (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 0);
	tracker_free(tr);
	assert_int_equal(n_closed, 1);
}

/*
 * An early read on a misread text is updated as soon as more frames agree
 * on another text (not at the close), once, and the counts say so; a close
 * with no frame since sends nothing more.
 */
static void
test_early_read_changed(void **state)
{
	const char *wrong = "7ABC128", *right = "7ABC123";
	struct tracker_params p = { 3, 2000000, 2, 60, 3, 0 };
	const struct tracker_counts *c;
	struct tracker *tr = NULL;
	int i;

	(void)state;
	tr = tracker_with(&p);
	for (i = 0; i < 3; i++)
		feed(tr, i, 1, &wrong, (float[]){ 10 }, (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 1);
	assert_string_equal(track_text(&early[0]), wrong);
	/* three frames of the right text tie the votes: not yet */
	for (; i < 6; i++)
		feed(tr, i, 1, &right, (float[]){ 10 }, (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 1);
	feed(tr, i, 1, &right, (float[]){ 10 }, (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 2);
	assert_int_equal(early[1].frames, 7);
	assert_string_equal(early[1].read_id, early[0].read_id);
	assert_string_equal(track_text(&early[1]), right);
	c = tracker_counts(tr);
	assert_int_equal(c->early, 1);
	assert_int_equal(c->changed, 1);
	/* the same text again: no more updates before the close */
	i++;
	feed(tr, i, 1, &right, (float[]){ 10 }, (int[]){ 100 + 50 * i }, i * 100000);
	assert_int_equal(n_early, 2);
	tracker_tick(tr, 10000000);
	assert_int_equal(n_closed, 1);		/* one frame since the update */
	assert_int_equal(c->closed_changed, 0);
	assert_int_equal(c->at_close, 0);
	tracker_free(tr);
}

static void
test_distance(void **state)
{
	(void)state;
	assert_int_equal(tracker_text_distance("7ABC123", "7ABC123"), 0);
	assert_int_equal(tracker_text_distance("7ABC123", "7BC123"), 1);
	assert_int_equal(tracker_text_distance("7ABC123", "7ABC128"), 1);
	assert_int_equal(tracker_text_distance("ABC", "XYZ"), 3);
	assert_int_equal(tracker_text_distance("", "ABC"), 3);
}

/* A car misread in some frames and moving 70 px a frame is one track. */
static void
test_one_car(void **state)
{
	const char *texts[] = { "7ABC123", "7BC123", "7ABC123", "7ABC128", "ABC123", "7ABC123" };
	struct tracker *tr = tracker(3, 2);

	(void)state;
	for (int i = 0; i < 6; i++)
		feed(tr, i, 1, &texts[i], (float[]){ 50 }, (int[]){ 100 + 70 * i }, i * 100000);
	assert_int_equal(n_closed, 0);
	for (int i = 6; i < 9; i++)
		feed(tr, i, 0, NULL, NULL, NULL, i * 100000);
	assert_int_equal(n_closed, 1);
	assert_int_equal(closed[0].frames, 6);
	assert_string_equal(track_text(&closed[0]), "7ABC123");
	assert_int_equal(closed[0].first_usec, 1000000);
	assert_int_equal(closed[0].last_usec, 1000000 + 5 * 100000);
	tracker_free(tr);
}

/* Two cars side by side, different plates: two tracks, two reads. */
static void
test_two_cars(void **state)
{
	const char *texts[] = { "8MKR527", "482HTV" };
	struct tracker *tr = tracker(3, 2);

	(void)state;
	for (int i = 0; i < 5; i++)
		feed(tr, i, 2, texts, (float[]){ 60, 60 }, (int[]){ 100 + 40 * i, 900 - 40 * i },
		    i * 100000);
	tracker_free(tr);
	assert_int_equal(n_closed, 2);
	assert_int_equal(closed[0].frames + closed[1].frames, 10);
	assert_int_equal(closed[0].frames, 5);
	assert_true(strcmp(track_text(&closed[0]), track_text(&closed[1])) != 0);
}

/*
 * Another plate where a track's was, 3 s later (a car taking another's
 * place at a light, or a slow camera's next frame): another car, another
 * read, however large the overlap; within half a second a far text on the
 * same box is a misread of the same plate.
 */
static void
test_other_plate_same_place(void **state)
{
	struct tracker_params p = { 100, 10000000, 1, 0, 0, 0 };	/* TrackCloseMs 10 s */
	const char *a = "K38275", *b = "58294";
	struct tracker *tr = NULL;

	(void)state;
	tr = tracker_with(&p);
	feed(tr, 0, 1, &a, (float[]){ 70 }, (int[]){ 400 }, 0);
	feed(tr, 30, 1, &b, (float[]){ 70 }, (int[]){ 400 }, 3000000);
	assert_int_equal(tracker_open(tr), 2);
	tracker_free(tr);
	assert_int_equal(n_closed, 2);
	assert_string_not_equal(track_text(&closed[0]), track_text(&closed[1]));
	tr = tracker_with(&p);
	feed(tr, 0, 1, &a, (float[]){ 70 }, (int[]){ 400 }, 0);
	feed(tr, 1, 1, &b, (float[]){ 60 }, (int[]){ 400 }, 100000);
	assert_int_equal(tracker_open(tr), 1);
	tracker_free(tr);
	assert_int_equal(n_closed, 1);
	assert_string_equal(track_text(&closed[0]), a);
}

/* The same text far away in a later frame after the gap is a second pass. */
static void
test_close_by_frames_and_time(void **state)
{
	const char *t = "ABC1234";
	struct tracker *tr = tracker(3, 1);

	(void)state;
	feed(tr, 0, 1, &t, (float[]){ 70 }, (int[]){ 100 }, 0);
	feed(tr, 1, 1, &t, (float[]){ 70 }, (int[]){ 170 }, 100000);
	/* nothing arrives: time closes it */
	tracker_tick(tr, 100000 + 1999999);
	assert_int_equal(n_closed, 0);
	tracker_tick(tr, 100000 + 2000000);
	assert_int_equal(n_closed, 1);
	assert_int_equal(closed[0].frames, 2);
	assert_int_equal(tracker_open(tr), 0);
	tracker_free(tr);
}

/* A plate in one frame only gives no read when TrackMinFrames is 2. */
static void
test_min_frames(void **state)
{
	const char *t = "ABC1234";
	struct tracker *tr = tracker(2, 2);

	(void)state;
	feed(tr, 0, 1, &t, (float[]){ 90 }, (int[]){ 100 }, 0);
	feed(tr, 1, 0, NULL, NULL, NULL, 100000);
	feed(tr, 2, 0, NULL, NULL, NULL, 200000);
	assert_int_equal(tracker_open(tr), 0);
	assert_int_equal(n_closed, 0);
	tracker_free(tr);
}

/* Votes over frames beat the one best frame; the best frame is still kept. */
static void
test_votes(void **state)
{
	const char *a = "8ABC123", *b = "8ABC128";
	struct tracker *tr = tracker(3, 1);

	(void)state;
	feed(tr, 0, 1, &a, (float[]){ 90 }, (int[]){ 100 }, 0);
	for (int i = 1; i < 4; i++)
		feed(tr, i, 1, &b, (float[]){ 60 }, (int[]){ 100 + 50 * i }, i * 100000);
	tracker_free(tr);
	assert_int_equal(n_closed, 1);
	assert_string_equal(track_text(&closed[0]), "8ABC128");
	assert_string_equal(closed[0].best_text, "8ABC123");
	assert_int_equal(closed[0].best_box[0], 100);
}

/* Four frames of one plate moving 50 px a frame, from frame n on. */
static void
pass(struct tracker *tr, int64_t n, const char *text, int x)
{
	for (int64_t i = n; i < n + 4; i++)
		feed(tr, i, 1, &text, (float[]){ 80 }, (int[]){ x + 50 * (int)(i - n) }, i * 100000);
}

static void
nothing(struct tracker *tr, int64_t from, int64_t to)
{
	for (int64_t i = from; i < to; i++)
		feed(tr, i, 0, NULL, NULL, NULL, i * 100000);
}

/* The plate read as after in frames from to to - 1, moving on from x = 800. */
static void
after_van_more(struct tracker *tr, const char *after, int64_t from, int64_t to)
{
	for (int64_t i = from; i < to; i++)
		feed(tr, i, 1, &after, (float[]){ 80 }, (int[]){ 800 + 50 * (int)(i - 16) },
		    i * 100000);
}

/* A new tracker: text read in frames 0-3, hidden until 16, then after in n frames. */
static struct tracker *
after_van(const struct tracker_params *p, const char *text, const char *after, int n)
{
	struct tracker *tr = tracker_with(p);

	pass(tr, 0, text, 100);
	nothing(tr, 4, 16);
	after_van_more(tr, after, 16, 16 + n);
	return tr;
}

/*
 * TrackRejoinMs: a car hidden behind a van for 12 frames ends its track;
 * seen again with the same text 1.3 s later, it goes on as the same read
 * (an update with all its frames, first seen at the first track's start),
 * not a second read.  One character off (a near miss), too late, or with
 * rejoining off, it is another read.
 */
static void
test_occlusion_one_read(void **state)
{
	struct tracker_params p = { 3, 2000000, 2, 60, 3, 2000000 };
	const char *text = "7ABC123";
	struct tracker *tr = NULL;

	(void)state;
	tr = tracker_with(&p);
	pass(tr, 0, text, 100);
	assert_int_equal(n_early, 1);
	nothing(tr, 4, 16);
	assert_int_equal(n_closed, 1);		/* the first track ended, its update sent */
	assert_int_equal(tracker_open(tr), 0);
	pass(tr, 16, text, 800);
	assert_int_equal(n_early, 2);
	assert_string_equal(early[1].read_id, early[0].read_id);
	assert_int_equal(early[1].frames, 4 + 2);
	assert_int_equal(early[1].first_usec, 1000000);
	assert_int_equal(tracker_counts(tr)->rejoined, 1);
	assert_int_equal(tracker_counts(tr)->early, 1);
	nothing(tr, 20, 23);
	assert_int_equal(n_closed, 2);
	assert_string_equal(closed[1].read_id, early[0].read_id);
	assert_int_equal(closed[1].frames, 8);
	/* one character off within the window: another car, another read */
	pass(tr, 24, "7ABC128", 800);
	assert_int_equal(n_early, 3);
	assert_string_not_equal(early[2].read_id, early[0].read_id);
	/* the first text again 1.3 s after its last frame (19): still one read */
	nothing(tr, 28, 32);
	pass(tr, 32, text, 800);
	assert_int_equal(n_early, 4);
	assert_string_equal(early[3].read_id, early[0].read_id);
	/* 2.5 s after that: the window has passed, a new pass */
	nothing(tr, 36, 60);
	pass(tr, 60, text, 800);
	assert_int_equal(n_early, 5);
	assert_string_not_equal(early[4].read_id, early[0].read_id);
	assert_int_equal(tracker_counts(tr)->rejoined, 2);
	tracker_free(tr);

	/*
	 * Coming out from behind the van, its first two frames miss the first
	 * character: the read waits, and goes as the update when the text
	 * sent is read again.
	 */
	tr = after_van(&p, text, "ABC123", 2);
	assert_int_equal(n_early, 1);		/* held: 2 frames read it, not 3 */
	/* ... and read alike by a third frame, it is another car's own read */
	after_van_more(tr, "ABC123", 18, 19);
	assert_int_equal(n_early, 2);
	assert_string_not_equal(early[1].read_id, early[0].read_id);
	tracker_free(tr);
	tr = after_van(&p, text, "ABC123", 2);
	after_van_more(tr, text, 18, 21);
	assert_int_equal(n_early, 2);
	assert_string_equal(early[1].read_id, early[0].read_id);
	assert_string_equal(track_text(&early[1]), text);
	tracker_free(tr);

	/*
	 * Back 1.8 s after its last frame (3), misread at first: the new
	 * track began within the window, so the closed one waits for its
	 * first read, due 2.3 s after that last frame.
	 */
	tr = tracker_with(&p);
	pass(tr, 0, text, 100);
	nothing(tr, 4, 21);
	after_van_more(tr, "ABC123", 21, 23);
	after_van_more(tr, text, 23, 26);
	assert_int_equal(n_early, 2);
	assert_string_equal(early[1].read_id, early[0].read_id);
	tracker_free(tr);

	/* TrackRejoinMs=0: the occluded car gives two reads */
	p.rejoin_usec = 0;
	tr = after_van(&p, text, text, 4);
	assert_int_equal(n_early, 2);
	assert_string_not_equal(early[1].read_id, early[0].read_id);
	assert_int_equal(tracker_counts(tr)->rejoined, 0);
	tracker_free(tr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_one_car),
		cmocka_unit_test(test_two_cars),
		cmocka_unit_test(test_other_plate_same_place),
		cmocka_unit_test(test_close_by_frames_and_time),
		cmocka_unit_test(test_min_frames),
		cmocka_unit_test(test_votes),
		cmocka_unit_test(test_early_read),
		cmocka_unit_test(test_early_read_refused),
		cmocka_unit_test(test_early_read_agreed),
		cmocka_unit_test(test_early_read_changed),
		cmocka_unit_test(test_occlusion_one_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
