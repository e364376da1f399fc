/*
 * test-recognize.c - unit tests of lib/recognize.
 *
 * Reads plates of every supported format rendered from a Debian font by
 * tools/train/render_test_plates.py (tests/data/plates), a scene built
 * around one of them, and hostile inputs: empty, random, truncated and
 * oversized files, and bad arguments.  They must give errors, not crashes.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rec-test.h"
#define PLATES_DIR TOP_SRCDIR "/tests/data/plates"
#ifndef DRIVE_DIR
#define DRIVE_DIR "build/drive"
#endif

static struct rec_ctx *ctx;
static char tmpdir[] = "/tmp/test-recognize.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	if (rec_test_new(&ctx) < 0)
		return -1;
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	rec_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* O and 0 are one class for the reader; compare with that in mind. */
static int
same_plate(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == 'O' ? '0' : *a, y = *b == 'O' ? '0' : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

static void
test_rendered_plates(void **state)
{
	char line[256], path[512];
	FILE *f = fopen(PLATES_DIR "/plates.txt", "r");
	int n = 0, top1 = 0, intop = 0, states = 0, states_right = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char file[64], text[32], st[8];
		struct rec_result res;
		uint8_t *grey;
		int w, h, in_top = 0;

		if (line[0] == '#' || sscanf(line, "%63s %31s %7s", file, text, st) != 3)
			continue;
		snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, file);
		assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
		assert_int_equal(rec_run(ctx, grey, w, h, (size_t)w, REC_CROP, &res), 0);
		n++;
		assert_int_equal(res.n_plates, 1);
		if (same_plate(res.plates[0].text, text))
			top1++;
		for (int k = 0; k < res.plates[0].n_candidates; k++)
			in_top |= same_plate(res.plates[0].candidates[k].text, text);
		print_message("# %s: want %s got %s (%.1f), state %s got %s\n", file,
			      text, res.plates[0].text, res.plates[0].confidence, st,
			      res.plates[0].state[0] ? res.plates[0].state : "-");
		intop += in_top;
		if (strcmp(st, "-") != 0) {
			struct rec_result again;

			states++;
			states_right += strcmp(st, res.plates[0].state) == 0;
			/* the state guess is its own stage, and can be left out */
			assert_true(res.stage_ms[REC_STAGE_READ] > 0);
			assert_true(res.plates[0].state[0] == '\0' ||
				    res.stage_ms[REC_STAGE_STATE] > 0);
			assert_int_equal(rec_run(ctx, grey, w, h, (size_t)w,
						 REC_CROP | REC_NO_STATE, &again), 0);
			assert_int_equal(again.n_plates, 1);
			assert_string_equal(again.plates[0].text, res.plates[0].text);
			assert_string_equal(again.plates[0].state, "");
			assert_true(again.stage_ms[REC_STAGE_STATE] == 0);
		}
		free(grey);
		/* a plate never gets a wrong confidence range */
		assert_true(res.plates[0].confidence >= 0 &&
			    res.plates[0].confidence <= 100);
	}
	fclose(f);
	assert_true(n >= 10);
	print_message("# rendered plates: top-1 %d/%d, in candidates %d/%d, "
		      "state %d/%d\n", top1, n, intop, n, states_right, states);
	/*
	 * Floors, not goals: the glyph classifier learns real plate glyphs,
	 * and the test font (DejaVu Sans Condensed Bold) draws A and M
	 * unlike any plate font, so the shipped model reads A as V and M as
	 * N here (11 of 16 among the candidates, 6 top-1, 12 of 14 states
	 * with the classifier of 2026-12-06).  The state guess reads
	 * ordinary words and must work.
	 */
	assert_true(intop * 2 >= n);
	assert_true(states_right * 10 >= states * 7);
}

/* Reads one rendered plate as a crop into res (the caller frees nothing). */
static void
read_rendered(const char *file, struct rec_result *res)
{
	char path[512];
	uint8_t *grey;
	int w, h;

	snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, file);
	assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
	assert_int_equal(rec_run(ctx, grey, w, h, (size_t)w, REC_CROP, res), 0);
	free(grey);
	assert_int_equal(res->n_plates, 1);
}

/*
 * Under 24 px of character height the state is not read (Tesseract named
 * none there on the development data, and each try costs 10-40 ms): the
 * same plate shrunk 4x (row ~17 px) is still read, gets no state, and
 * spends next to nothing in the state stage.  Without the limit Tesseract
 * reads the shrunk bands too, at a cost like the full plate's.
 */
static void
test_no_state_on_small_rows(void **state)
{
	char path[512];
	struct rec_result full, small;
	uint8_t *grey, *sm;
	int w, h, sw, sh;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, "7abc123.png");
	assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
	assert_int_equal(rec_run(ctx, grey, w, h, (size_t)w, REC_CROP, &full), 0);
	assert_int_equal(full.n_plates, 1);
	assert_string_equal(full.plates[0].state, "ca");
	sw = w / 4;
	sh = h / 4;
	sm = malloc((size_t)sw * sh);
	assert_non_null(sm);
	for (int y = 0; y < sh; y++)
		for (int x = 0; x < sw; x++) {
			int sum = 0;

			for (int j = 0; j < 4; j++)
				for (int i = 0; i < 4; i++)
					sum += grey[(size_t)(4 * y + j) * w + 4 * x + i];
			sm[(size_t)y * sw + x] = (uint8_t)((sum + 8) / 16);
		}
	assert_int_equal(rec_run(ctx, sm, sw, sh, (size_t)sw, REC_CROP, &small), 0);
	print_message("# full %dx%d: %s state %s, %.2f ms; 4x smaller: %s "
		      "state '%s', %.3f ms\n", w, h, full.plates[0].text,
		      full.plates[0].state, full.stage_ms[REC_STAGE_STATE],
		      small.n_plates ? small.plates[0].text : "-",
		      small.n_plates ? small.plates[0].state : "",
		      small.stage_ms[REC_STAGE_STATE]);
	assert_int_equal(small.n_plates, 1);
	assert_string_equal(small.plates[0].state, "");
	assert_true(small.stage_ms[REC_STAGE_STATE] * 5 <
		    full.stage_ms[REC_STAGE_STATE]);
	free(sm);
	free(grey);
}

/*
 * Glyphs touching a dark band (a dealer frame's lower bar): painted under
 * the rendered plate's characters, overlapping their feet, it joins them
 * all into one component too wide to be a glyph.  The row must still be
 * found (segment.cpp cuts the band's long runs): without that the read
 * is one character.
 */
static void
test_glyphs_joined_to_a_band(void **state)
{
	char path[512];
	struct rec_result res;
	uint8_t *grey;
	int w, h;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, "7abc123.png");
	assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
	/* the characters span rows 0.40-0.69 of this plate's height */
	for (int y = h * 68 / 100; y < h * 83 / 100; y++)
		memset(grey + (size_t)y * w, 30, (size_t)w);
	assert_int_equal(rec_run(ctx, grey, w, h, (size_t)w, REC_CROP, &res), 0);
	print_message("# band under the glyphs: %s\n",
		      res.n_plates ? res.plates[0].text : "-");
	assert_int_equal(res.n_plates, 1);
	assert_true(strlen(res.plates[0].text) >= 6);
	free(grey);
}

/*
 * A seal beside the characters (a ring round a dot, left of the plate's
 * own rim, on a plate widened to the left) is read as a character the
 * classifier half takes for noise ('V'), and the length and format priors
 * kept it: the glyphs at a string's ends pay for their noise probability
 * (reader.cpp, EDGE_NOISE_WEIGHT), so the read is the plate's characters
 * alone.  Without that: VK38275 and V58294.
 */
static void
test_seal_beside_the_characters(void **state)
{
	static const struct {
		const char *file, *want;
	} t[] = { { "k38275.png", "K38275" }, { "58294.png", "58294" } };
	enum { PAD = 90 };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char path[512];
		struct rec_result res;
		uint8_t *grey, *wide;
		int w, h, ww, cy;

		snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, t[i].file);
		assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
		ww = w + PAD;
		wide = malloc((size_t)ww * h);
		assert_non_null(wide);
		cy = h * 55 / 100;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < ww; x++) {
				int d2 = (x - PAD / 2) * (x - PAD / 2) +
					 (y - cy) * (y - cy);
				uint8_t v = x >= PAD ? grey[(size_t)y * w + x - PAD] : 220;

				if (d2 <= 30 * 30 && (d2 > 18 * 18 || d2 <= 8 * 8))
					v = 40;
				wide[(size_t)y * ww + x] = v;
			}
		assert_int_equal(rec_run(ctx, wide, ww, h, (size_t)ww,
					 REC_CROP | REC_NO_STATE, &res), 0);
		print_message("# seal left of %s: %s\n", t[i].file,
			      res.n_plates ? res.plates[0].text : "-");
		assert_int_equal(res.n_plates, 1);
		assert_string_equal(res.plates[0].text, t[i].want);
		free(wide);
		free(grey);
	}
}

/*
 * A plate seen from one side: its character row climbs (or falls) by a
 * fifth of the plate's width and more across the plate.  Each binarisation
 * then groups a run of neighbours only, and windows cut at the row's
 * median top and bottom miss the glyph tops at one end and the feet at
 * the other; the reader levels the plate by the row's slope first
 * (segment.cpp row_slope(), level_plate()).  Without that none of these
 * 8 reads right (5829, 429K, 0T46, 3827...).
 */
static void
test_tilted_row(void **state)
{
	static const char *const files[] = { "5829kb.png", "h0t482.png",
					     "k38275.png", "58294.png" };
	static const float slopes[] = { 0.12f, -0.12f };
	int right = 0, n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512], want[16];
		uint8_t *grey, *tilt;
		int w, h;

		snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, files[i]);
		assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
		for (size_t k = 0; k < strlen(files[i]) - 4; k++)
			want[k] = (char)(files[i][k] >= 'a' ?
					 files[i][k] - 'a' + 'A' : files[i][k]);
		want[strlen(files[i]) - 4] = '\0';
		for (size_t j = 0; j < sizeof(slopes) / sizeof(slopes[0]); j++) {
			struct rec_result res;
			float s = slopes[j];

			/* each column moved down by s x its distance from
			   the centre (edges repeated, rows interpolated) */
			tilt = malloc((size_t)w * h);
			assert_non_null(tilt);
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					float fy = y - s * (x - w / 2);
					int y0 = (int)floorf(fy), y1 = y0 + 1;
					float f = fy - y0;

					y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
					y1 = y1 < 0 ? 0 : y1 >= h ? h - 1 : y1;
					tilt[(size_t)y * w + x] = (uint8_t)lroundf(
						(1 - f) * grey[(size_t)y0 * w + x] +
						f * grey[(size_t)y1 * w + x]);
				}
			assert_int_equal(rec_run(ctx, tilt, w, h, (size_t)w,
						 REC_CROP | REC_NO_STATE, &res), 0);
			print_message("# %s tilted %.2f: %s\n", files[i], s,
				      res.n_plates ? res.plates[0].text : "-");
			right += res.n_plates == 1 &&
				 same_plate(res.plates[0].text, want);
			n++;
			free(tilt);
		}
		free(grey);
	}
	assert_int_equal(right, n);
}

/*
 * A glyph broken in two: a 2-pixel gap cut down a rendered K between its
 * stem and its arms leaves a stem the classifier reads as 1 (or K) and
 * arms it reads as K, each a component of its own.  Their centres are
 * much closer than the row's pitch, and plate fonts are monospaced: the
 * beam charges a kept glyph that close to the one before (reader.cpp
 * CROWD_PITCH), so the read has one K.  Without that: KK38275, KK38275,
 * 1K38275, 58291KB, 58291KB.
 */
static void
test_broken_glyph(void **state)
{
	static const struct {
		const char *file, *want;
		int x;		/* gap's first column (plates 320 wide) */
	} t[] = {
		{ "k38275.png", "K38275", 19 }, { "k38275.png", "K38275", 20 },
		{ "k38275.png", "K38275", 23 }, { "5829kb.png", "5829KB", 221 },
		{ "5829kb.png", "5829KB", 223 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char path[512];
		struct rec_result res;
		uint8_t *grey;
		int w, h;

		snprintf(path, sizeof(path), "%s/%s", PLATES_DIR, t[i].file);
		assert_int_equal(rec_image_load(path, &grey, &w, &h), 0);
		assert_int_equal(w, 320);
		/* the plate's background above the characters, down the gap */
		for (int y = 0; y < h; y++)
			for (int x = t[i].x; x < t[i].x + 2; x++)
				grey[(size_t)y * w + x] = grey[(size_t)(h * 30 / 100) * w + x];
		assert_int_equal(rec_run(ctx, grey, w, h, (size_t)w,
					 REC_CROP | REC_NO_STATE, &res), 0);
		print_message("# %s, gap at x %d: %s\n", t[i].file, t[i].x,
			      res.n_plates ? res.plates[0].text : "-");
		assert_int_equal(res.n_plates, 1);
		assert_string_equal(res.plates[0].text, t[i].want);
		free(grey);
	}
}

/*
 * O and 0 are one glyph class: the reader prints 0 even where the format
 * wants a letter (H0T482 is @@@###), in every candidate.
 */
static void
test_o_is_printed_as_zero(void **state)
{
	struct rec_result res;

	(void)state;
	read_rendered("h0t482.png", &res);
	print_message("# h0t482.png: got %s\n", res.plates[0].text);
	assert_int_equal(strlen(res.plates[0].text), 6);
	assert_int_equal(res.plates[0].text[1], '0');
	for (int k = 0; k < res.plates[0].n_candidates; k++)
		assert_null(strchr(res.plates[0].candidates[k].text, 'O'));
}

/*
 * Two glyphs of 6TRK305 touch a bar down to the plate border, so no
 * binarisation isolates them and the median gap between the glyphs found
 * is two pitches: the reader must still propose windows at the missing
 * places and read seven characters.
 */
static void
test_glyphs_found_by_pitch(void **state)
{
	struct rec_result res;
	int in_top = 0;

	(void)state;
	read_rendered("6trk305.png", &res);
	print_message("# 6trk305.png: got %s\n", res.plates[0].text);
	assert_int_equal(strlen(res.plates[0].text), 7);
	for (int k = 0; k < res.plates[0].n_candidates; k++)
		in_top |= strcmp(res.plates[0].candidates[k].text, "6TRK305") == 0;
	assert_true(in_top);
}

enum { SCENE_W = 1280, SCENE_H = 720, SCENE_X = 700, SCENE_Y = 420 };

/*
 * A synthetic 1280x720 frame: a smooth road-and-car backdrop with sensor
 * noise (rand() seeded with seed), the rendered TR5823 shrunk 2x (a
 * 160x78 plate) at SCENE_X, SCENE_Y.  *pw, *ph: the rendered plate's size.
 */
static uint8_t *
scene_frame(unsigned seed, int *pw, int *ph)
{
	uint8_t *plate, *frame = malloc((size_t)SCENE_W * SCENE_H);
	int W = SCENE_W, w, h;

	assert_non_null(frame);
	assert_int_equal(rec_image_load(PLATES_DIR "/tr5823.png", &plate, &w, &h), 0);
	srand(seed);
	for (int y = 0; y < SCENE_H; y++)
		for (int x = 0; x < W; x++) {
			int v = 70 + y / 8 + x / 32 + rand() % 10;
			if (x > 560 && x < 1000 && y > 330 && y < 600)
				v = 40 + rand() % 10;	/* the bumper */
			frame[y * W + x] = (uint8_t)v;
		}
	for (int y = 0; y < h / 2; y++)
		for (int x = 0; x < w / 2; x++) {
			const uint8_t *p = plate + (size_t)(2 * y) * w + 2 * x;
			frame[(SCENE_Y + y) * W + SCENE_X + x] =
				(uint8_t)((p[0] + p[1] + p[w] + p[w + 1]) / 4);
		}
	free(plate);
	*pw = w;
	*ph = h;
	return frame;
}

/* A plate pasted into a synthetic 1280x720 frame is found and read. */
static void
test_scene(void **state)
{
	struct rec_result res;
	int pw, ph, x0 = SCENE_X, y0 = SCENE_Y, found = 0;
	uint8_t *frame = scene_frame(7, &pw, &ph);

	(void)state;
	assert_int_equal(rec_run(ctx, frame, SCENE_W, SCENE_H, (size_t)SCENE_W, 0, &res), 0);
	assert_true(res.stage_ms[REC_STAGE_DETECT] > 0);
	/* found where it is, and read (among the candidates) */
	for (int i = 0; i < res.n_plates; i++) {
		const int *b = res.plates[i].box;
		if (!(b[0] < x0 + pw / 2 && b[0] + b[2] > x0 &&
		      b[1] < y0 + ph / 2 && b[1] + b[3] > y0))
			continue;
		for (int k = 0; k < res.plates[i].n_candidates; k++)
			if (same_plate(res.plates[i].candidates[k].text, "TR5823"))
				found = 1;
	}
	assert_true(found);
	free(frame);
}

/*
 * A grille above the plate: a row of 24 dark bars, each a glyph high and
 * a stroke wide, reads as a long string of 1s (a scene of the development
 * set had one read as fifteen 1s win over its plate).  A scene's read
 * longer than any US plate (10) is dropped (recognize.cpp MAX_READ): no
 * plate reported reads longer, and the plate is still found.  Without the
 * rule the grille is reported, read as 11UUUUUUUUUUUUU.
 */
static void
test_grille_is_no_plate(void **state)
{
	struct rec_result res;
	int pw, ph, W = SCENE_W, found = 0;
	uint8_t *frame = scene_frame(11, &pw, &ph);

	(void)state;
	/* the grille: light panel, dark bars every 8 px */
	for (int y = 200; y < 270; y++)
		for (int x = 560; x < 560 + 24 * 8 + 10; x++)
			frame[y * W + x] = (y >= 215 && y < 255 && x >= 570 &&
					    (x - 570) % 8 < 3) ? 35 : 200;
	assert_int_equal(rec_run(ctx, frame, W, SCENE_H, (size_t)W, REC_NO_STATE, &res), 0);
	for (int i = 0; i < res.n_plates; i++) {
		print_message("# plate %d at %d,%d: %s\n", i, res.plates[i].box[0],
			      res.plates[i].box[1], res.plates[i].text);
		assert_in_range(strlen(res.plates[i].text), 3, 10);
		for (int k = 0; k < res.plates[i].n_candidates; k++)
			if (same_plate(res.plates[i].candidates[k].text, "TR5823"))
				found = 1;
	}
	assert_true(found);
	free(frame);
}

static void
write_file(const char *name, const void *data, size_t len, char *path,
	   size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int
load(const char *path)
{
	uint8_t *grey = NULL;
	int w, h, r;

	r = rec_image_load(path, &grey, &w, &h);
	if (r >= 0) {
		struct rec_result res;
		/* whatever decodes must also run */
		r = rec_run(ctx, grey, w, h, (size_t)w, 0, &res);
		free(grey);
	}
	return r;
}

static void
test_bad_files(void **state)
{
	static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	char path[512];
	uint8_t buf[4096], *jpeg;
	long len;
	FILE *f;

	(void)state;
	/* missing, a directory, empty */
	assert_int_equal(load("/nonexistent/x.png"), -ENOENT);
	assert_int_equal(load(tmpdir), -EISDIR);
	write_file("empty.jpg", "", 0, path, sizeof(path));
	assert_int_equal(load(path), -ENODATA);

	/* random bytes */
	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	buf[0] = 0x17;
	write_file("random.bin", buf, sizeof(buf), path, sizeof(path));
	assert_int_equal(load(path), -EMEDIUMTYPE);

	/* PNG signature then garbage */
	memcpy(buf, png_sig, 8);
	write_file("garbage.png", buf, sizeof(buf), path, sizeof(path));
	assert_true(load(path) < 0);

	/* 20000x20000 PNG header: refused before decoding */
	memcpy(buf, png_sig, 8);
	memcpy(buf + 8, "\0\0\0\x0dIHDR\0\0\x4e\x20\0\0\x4e\x20\x08\0\0\0\0", 21);
	write_file("huge.png", buf, 64, path, sizeof(path));
	assert_int_equal(load(path), -E2BIG);

	/* truncated JPEG, at several lengths; and the whole file decodes */
	f = fopen(PLATES_DIR "/plate.jpg", "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	jpeg = malloc((size_t)len);
	assert_non_null(jpeg);
	assert_int_equal(fread(jpeg, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	write_file("whole.jpg", jpeg, (size_t)len, path, sizeof(path));
	assert_int_equal(load(path), 0);
	for (long cut = 1; cut < len; cut += len / 7 + 1) {
		write_file("cut.jpg", jpeg, (size_t)cut, path, sizeof(path));
		assert_true(load(path) < 0);
	}
	/* a JPEG claiming 20000x20000 in its SOF */
	{
		uint8_t hdr[] = { 0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08,
				  0x4e, 0x20, 0x4e, 0x20, 0x03, 1, 0x22, 0, 2,
				  0x11, 1, 3, 0x11, 1, 0xff, 0xd9 };
		write_file("huge.jpg", hdr, sizeof(hdr), path, sizeof(path));
		assert_int_equal(load(path), -E2BIG);
	}
	free(jpeg);
}

static void
test_bad_args(void **state)
{
	struct rec_result res;
	uint8_t px[64 * 64];
	struct rec_ctx *c2 = NULL;

	(void)state;
	memset(px, 128, sizeof(px));
	assert_int_equal(rec_run(NULL, px, 64, 64, 64, 0, &res), -EINVAL);
	assert_int_equal(rec_run(ctx, NULL, 64, 64, 64, 0, &res), -EINVAL);
	assert_int_equal(rec_run(ctx, px, 0, 64, 64, 0, &res), -EINVAL);
	assert_int_equal(rec_run(ctx, px, 64, -1, 64, 0, &res), -EINVAL);
	assert_int_equal(rec_run(ctx, px, 64, 64, 32, 0, &res), -EINVAL);
	assert_int_equal(rec_run(ctx, px, 64, 64, 64, 0x100, &res), -EINVAL);
	assert_int_equal(rec_run(ctx, px, 20000, 20000, 20000, 0, &res), -E2BIG);
	/* a flat image reads nothing, and is no error */
	assert_int_equal(rec_run(ctx, px, 64, 64, 64, 0, &res), 0);
	assert_int_equal(rec_run(ctx, px, 64, 64, 64, REC_CROP, &res), 0);
	assert_int_equal(rec_new("/nonexistent", NULL, &c2), -ENOENT);
	assert_null(c2);
	rec_free(NULL);
}

/*
 * The sample drive's plates (tools/drive/gen-drive.py, built into
 * DRIVE_DIR by make) that want() picks, read from their frames at 80-160
 * px wide (every third frame): the plate's box grown as the detector's is
 * before reading.  Counts them in *n and the right reads in *top1.
 * $ALPR_DRIVE_DIR reads another drive; skipped when the drive is not
 * built (no python3-opencv).
 */
static void
drive_plates(int (*want)(const char *text), int *n, int *top1)
{
	const char *dir = getenv("ALPR_DRIVE_DIR");
	char line[256], path[600];
	FILE *f;

	*n = *top1 = 0;
	if (!dir || !*dir)
		dir = DRIVE_DIR;
	snprintf(path, sizeof(path), "%s/truth.tsv", dir);
	f = fopen(path, "r");
	if (!f) {
		print_message("# no sample drive in %s: skipped\n", dir);
		skip();
	}
	while (fgets(line, sizeof(line), f)) {
		char file[64], text[32], st[8];
		int frame, veh, x, y, w, h, fw, fh;
		struct rec_result res;
		uint8_t *grey;

		if (line[0] == '#' ||
		    sscanf(line, "%d %63s %d %31s %7s %d %d %d %d", &frame, file,
			   &veh, text, st, &x, &y, &w, &h) != 9)
			continue;
		if (!want(text) || w < 80 || w > 160 || frame % 3)
			continue;
		snprintf(path, sizeof(path), "%s/frames/%s", dir, file);
		assert_int_equal(rec_image_load(path, &grey, &fw, &fh), 0);
		/* recognize.cpp's grow(): 12 % and 20 % more each side */
		int mx = w * 12 / 100, my = h * 20 / 100;
		int x0 = x - mx < 0 ? 0 : x - mx, y0 = y - my < 0 ? 0 : y - my;
		int x1 = x + w + mx > fw ? fw : x + w + mx;
		int y1 = y + h + my > fh ? fh : y + h + my;
		assert_int_equal(rec_run(ctx, grey + (size_t)y0 * fw + x0, x1 - x0,
					 y1 - y0, (size_t)fw, REC_CROP | REC_NO_STATE,
					 &res), 0);
		(*n)++;
		if (res.n_plates == 1 && same_plate(res.plates[0].text, text))
			(*top1)++;
		else
			print_message("# frame %d vehicle %d: misread\n", frame, veh);
		free(grey);
	}
	fclose(f);
}

static int
has_m_or_leading_0(const char *text)
{
	return strchr(text, 'M') || text[0] == '0';
}

/*
 * The drive once drew its plates in the font's own proportions (glyphs a
 * third of the plate high, M and W wider than high): none of those with
 * an M or a leading 0 read right, M was cut in two and the glyphs fell
 * below the reader's smallest row.
 */
static void
test_drive_plates(void **state)
{
	int n, top1;

	(void)state;
	drive_plates(has_m_or_leading_0, &n, &top1);
	print_message("# sample drive plates with M or a leading 0: top-1 %d/%d\n",
		      top1, n);
	assert_true(n >= 20);
	assert_true(top1 * 10 >= n * 8);
}

static int
has_w_or_j(const char *text)
{
	return strchr(text, 'W') || strchr(text, 'J');
}

/*
 * W and J of a plain sans-serif font at plate proportions (the drive's
 * DejaVu Sans Condensed Bold): the glyph classifier of 2026-12-05 had
 * seen none (real plates seldom carry them) and read W as V, J as 1
 * (4 of these 31 right); models/README.md says how fonts were added.
 */
static void
test_drive_w_and_j(void **state)
{
	int n, top1;

	(void)state;
	drive_plates(has_w_or_j, &n, &top1);
	print_message("# sample drive plates with W or J: top-1 %d/%d\n", top1, n);
	assert_true(n >= 20);
	assert_true(top1 * 10 >= n * 8);
}

/* Noise frames of odd sizes never crash the detector or the reader. */
static void
test_noise(void **state)
{
	static const int sizes[][2] = { { 16, 8 }, { 17, 9 }, { 640, 8 },
					{ 16, 480 }, { 333, 101 }, { 1920, 1080 } };
	struct rec_result res;

	(void)state;
	srand(3);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int w = sizes[i][0], h = sizes[i][1];
		uint8_t *p = malloc((size_t)w * h);

		assert_non_null(p);
		for (int k = 0; k < w * h; k++)
			p[k] = (uint8_t)rand();
		assert_int_equal(rec_run(ctx, p, w, h, (size_t)w, 0, &res), 0);
		assert_int_equal(rec_run(ctx, p, w, h, (size_t)w, REC_CROP, &res), 0);
		assert_true(res.n_plates <= REC_MAX_PLATES);
		free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rendered_plates),
		cmocka_unit_test(test_no_state_on_small_rows),
		cmocka_unit_test(test_glyphs_joined_to_a_band),
		cmocka_unit_test(test_seal_beside_the_characters),
		cmocka_unit_test(test_tilted_row),
		cmocka_unit_test(test_broken_glyph),
		cmocka_unit_test(test_o_is_printed_as_zero),
		cmocka_unit_test(test_glyphs_found_by_pitch),
		cmocka_unit_test(test_scene),
		cmocka_unit_test(test_grille_is_no_plate),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_drive_plates),
		cmocka_unit_test(test_drive_w_and_j),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
