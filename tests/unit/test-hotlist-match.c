/*
 * lib/hotlist index: the matching truth table (exact, each OCR class,
 * two substitutions refused by default, wildcards, state checks, expiry,
 * immigration refused, priorities), and the wildcard index checked
 * against fnmatch(3) over thousands of patterns and reads.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/time.h"
#include "hotlist/hotlist.h"

#define NOW (INT64_C(1795000000) * USEC_PER_SEC)	/* Nov 2026 */

static struct hotlist_index *
index_of(int max_subs, const char *classes)
{
	struct hotlist_index_opts o = { .classes = classes, .max_substitutions = max_subs };
	struct hotlist_index *x = NULL;

	assert_int_equal(hotlist_index_new(&o, &x), 0);
	return x;
}

static void
add(struct hotlist_index *x, int64_t id, const char *plate, const char *state, int category)
{
	struct hotlist_entry e = { .id = id, .category = (uint8_t)category, .source = "test" };

	strcpy(e.plate, plate);
	strcpy(e.state, state);
	assert_int_equal(hotlist_index_add(x, &e, 7), 0);
}

static int
match1(const struct hotlist_index *x, const char *plate, const char *state,
    struct hotlist_hit *hits, size_t max)
{
	struct hotlist_read r = { .plates = { plate }, .n_plates = 1, .state = state,
		.now_usec = NOW };

	return hotlist_index_match(x, &r, hits, max);
}

static void
test_exact(void **state)
{
	struct hotlist_index *x = index_of(1, NULL);
	struct hotlist_hit h[8];
	char plate[16], st[3];
	const char *src;

	(void)state;
	add(x, 1, "7ABC123", "CA", HOTLIST_CAT_STOLEN_VEHICLE);
	add(x, 2, "XYZ9", "NV", HOTLIST_CAT_BOLO);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(match1(x, "7ABC123", "CA", h, 8), 1);
	assert_int_equal(h[0].entry_id, 1);
	assert_int_equal(h[0].tag, 7);
	assert_int_equal(h[0].type, HOTLIST_MATCH_EXACT);
	assert_int_equal(h[0].n_differs, 0);
	assert_int_equal(h[0].state_check, HOTLIST_STATE_MATCH);
	assert_int_equal(hotlist_index_entry(x, h[0].entry, plate, st, &src), 0);
	assert_string_equal(plate, "7ABC123");
	assert_string_equal(st, "CA");
	assert_string_equal(src, "test");
	/* Reads are normalised like entries. */
	assert_int_equal(match1(x, "7abc 123", "CA", h, 8), 1);
	/* A different plate, a prefix, a longer plate: nothing. */
	assert_int_equal(match1(x, "7ABC124", "CA", h, 8), 0);
	assert_int_equal(match1(x, "7ABC12", "CA", h, 8), 0);
	assert_int_equal(match1(x, "7ABC1234", "CA", h, 8), 0);
	assert_int_equal(match1(x, "XYZ9", NULL, h, 8), 1);
	assert_int_equal(h[0].state_check, HOTLIST_STATE_UNVERIFIED);
	hotlist_index_free(x);
}

static void
test_ocr_classes(void **state)
{
	/* Every pair within each default class, both ways, at every position. */
	static const char *const classes[] = { "0ODQ", "8B", "5S", "2Z", "1I", "6G" };
	struct hotlist_index *x;
	struct hotlist_hit h[8];
	char entry[8], read[8];
	size_t c, i, j, pos;
	int n;

	(void)state;
	for (c = 0; c < 6; c++)
		for (i = 0; classes[c][i]; i++)
			for (j = 0; classes[c][j]; j++) {
				if (i == j)
					continue;
				for (pos = 0; pos < 7; pos += 3) {
					strcpy(entry, "KMN4W7X");
					entry[pos] = classes[c][i];
					strcpy(read, entry);
					read[pos] = classes[c][j];
					x = index_of(1, NULL);
					add(x, 5, entry, "CA", HOTLIST_CAT_STOLEN_PLATE);
					assert_int_equal(hotlist_index_finish(x), 0);
					n = match1(x, read, "CA", h, 8);
					if (n != 1)
						fail_msg("entry %s read %s: %d hits", entry, read, n);
					assert_int_equal(h[0].type, HOTLIST_MATCH_OCR);
					assert_int_equal(h[0].n_differs, 1);
					assert_int_equal(h[0].differs[0], pos);
					/* With substitutions off, nothing. */
					hotlist_index_free(x);
					x = index_of(0, NULL);
					add(x, 5, entry, "CA", HOTLIST_CAT_STOLEN_PLATE);
					assert_int_equal(hotlist_index_finish(x), 0);
					assert_int_equal(match1(x, read, "CA", h, 8), 0);
					hotlist_index_free(x);
				}
			}
}

static void
test_substitutions(void **state)
{
	struct hotlist_index *x = index_of(1, NULL), *x2 = index_of(2, NULL);
	struct hotlist_hit h[8];

	(void)state;
	add(x, 1, "8OS1234", "CA", HOTLIST_CAT_STOLEN_VEHICLE);
	add(x2, 1, "8OS1234", "CA", HOTLIST_CAT_STOLEN_VEHICLE);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(hotlist_index_finish(x2), 0);
	/* Two substitutions: refused by default, found with MaxSubstitutions=2. */
	assert_int_equal(match1(x, "BQS1234", "CA", h, 8), 0);
	assert_int_equal(match1(x2, "BQS1234", "CA", h, 8), 1);
	assert_int_equal(h[0].type, HOTLIST_MATCH_OCR);
	assert_int_equal(h[0].n_differs, 2);
	assert_int_equal(h[0].differs[0], 0);
	assert_int_equal(h[0].differs[1], 1);
	/* Three: never, MaxSubstitutions stops at 2. */
	assert_int_equal(match1(x2, "BQ51234", "CA", h, 8), 0);
	/* A substitution outside the classes is no match. */
	assert_int_equal(match1(x, "8OS1235", "CA", h, 8), 0);
	assert_int_equal(match1(x2, "8OX1234", "CA", h, 8), 0);
	/* No insertions or deletions. */
	assert_int_equal(match1(x2, "8OS123", "CA", h, 8), 0);
	assert_int_equal(match1(x2, "8OS12344", "CA", h, 8), 0);
	hotlist_index_free(x);
	hotlist_index_free(x2);
	/* Configured classes replace the defaults. */
	struct hotlist_index_opts o = { .classes = "1IT,0O", .max_substitutions = 1 };
	assert_int_equal(hotlist_index_new(&o, &x), 0);
	add(x, 1, "TAX100", "", HOTLIST_CAT_BOLO);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(match1(x, "1AX100", NULL, h, 8), 1);
	assert_int_equal(match1(x, "TAX1OO", NULL, h, 8), 0);	/* two */
	assert_int_equal(match1(x, "TAX10D", NULL, h, 8), 0);	/* D not with 0 here */
	hotlist_index_free(x);
	o.classes = "0O,O8";	/* a character in two classes */
	assert_int_equal(hotlist_index_new(&o, &x), -EINVAL);
	o.classes = "0o";
	assert_int_equal(hotlist_index_new(&o, &x), -EINVAL);
	o.classes = NULL;
	o.max_substitutions = 3;
	assert_int_equal(hotlist_index_new(&o, &x), -EINVAL);
}

static void
test_wildcards(void **state)
{
	static const struct {
		const char *pattern, *read;
		int hit, n_differs;
	} t[] = {
		{ "AB*12", "AB12", 1, 0 },
		{ "AB*12", "ABX912", 1, 0 },
		{ "AB*12", "XAB912", 0, 0 },	/* anchored at both ends */
		{ "AB*12", "AB9121", 0, 0 },
		{ "12*AB", "AB12", 0, 0 },	/* order-preserving */
		{ "*7K*", "47KW9", 1, 0 },
		{ "AB?123", "ABC123", 1, 0 },
		{ "AB?123", "AB123", 0, 0 },	/* '?' is exactly one */
		{ "AB?123", "ABCD123", 0, 0 },
		{ "?XY?", "AXYB", 1, 0 },
		{ "8AD*", "BAD123", 1, 1 },	/* an OCR substitution on a literal */
		{ "8AD*", "BA0123", 0, 0 },	/* two (0/D): refused */
		{ "8AD*", "CAD123", 0, 0 },	/* C is in no class with 8 */
	};
	struct hotlist_hit h[8];
	struct hotlist_index *x;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		x = index_of(1, NULL);
		add(x, 9, t[i].pattern, "", HOTLIST_CAT_BOLO);
		assert_int_equal(hotlist_index_finish(x), 0);
		n = match1(x, t[i].read, "CA", h, 8);
		if (n != t[i].hit)
			fail_msg("pattern %s read %s: %d hits, want %d", t[i].pattern, t[i].read, n,
			    t[i].hit);
		if (n) {
			assert_int_equal(h[0].type, HOTLIST_MATCH_WILDCARD);
			assert_int_equal(h[0].n_differs, t[i].n_differs);
			assert_int_equal(h[0].state_check, HOTLIST_STATE_UNVERIFIED);
		}
		hotlist_index_free(x);
	}
	/* "BAD123" against "8AD*": position 0 differs. */
	x = index_of(1, NULL);
	add(x, 9, "8AD*", "", HOTLIST_CAT_BOLO);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(match1(x, "BAD123", NULL, h, 8), 1);
	assert_int_equal(h[0].differs[0], 0);
	hotlist_index_free(x);
}

static void
test_state(void **state)
{
	struct hotlist_index *x = index_of(1, NULL);
	struct hotlist_hit h[8];

	(void)state;
	/* Same plate, two states: two entries, both hit, flagged apart. */
	add(x, 1, "4GHJ221", "CA", HOTLIST_CAT_STOLEN_VEHICLE);
	add(x, 2, "4GHJ221", "NV", HOTLIST_CAT_STOLEN_VEHICLE);
	add(x, 3, "4GHJ221", "", HOTLIST_CAT_STOLEN_VEHICLE);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(match1(x, "4GHJ221", "CA", h, 8), 3);
	assert_int_equal(h[0].entry_id, 1);
	assert_int_equal(h[0].state_check, HOTLIST_STATE_MATCH);
	assert_int_equal(h[1].entry_id, 2);
	assert_int_equal(h[1].state_check, HOTLIST_STATE_MISMATCH);
	assert_int_equal(h[2].entry_id, 3);
	assert_int_equal(h[2].state_check, HOTLIST_STATE_UNVERIFIED);
	/* Unknown state on the read: all unverified, none dropped. */
	assert_int_equal(match1(x, "4GHJ221", NULL, h, 8), 3);
	assert_int_equal(h[0].state_check, HOTLIST_STATE_UNVERIFIED);
	assert_int_equal(h[1].state_check, HOTLIST_STATE_UNVERIFIED);
	assert_int_equal(match1(x, "4GHJ221", "??", h, 8), 3);
	assert_int_equal(h[0].state_check, HOTLIST_STATE_UNVERIFIED);
	hotlist_index_free(x);
}

static void
test_expiry(void **state)
{
	struct hotlist_entry e = { .id = 1, .category = HOTLIST_CAT_BOLO, .plate = "EXP1",
		.expiry_usec = NOW - 1 };
	struct hotlist_index *x = index_of(1, NULL);
	struct hotlist_hit h[8];

	(void)state;
	assert_int_equal(hotlist_index_add(x, &e, 0), 0);
	/* Expires exactly at the read: no hit either. */
	e = (struct hotlist_entry){ .id = 2, .category = HOTLIST_CAT_BOLO, .plate = "EXP2",
		.expiry_usec = NOW };
	assert_int_equal(hotlist_index_add(x, &e, 0), 0);
	e = (struct hotlist_entry){ .id = 3, .category = HOTLIST_CAT_BOLO, .plate = "EXP3",
		.expiry_usec = NOW + USEC_PER_SEC };
	assert_int_equal(hotlist_index_add(x, &e, 0), 0);
	e = (struct hotlist_entry){ .id = 4, .category = HOTLIST_CAT_BOLO, .plate = "EXP4",
		.effective_usec = NOW + 3600 * USEC_PER_SEC };
	assert_int_equal(hotlist_index_add(x, &e, 0), 0);
	e = (struct hotlist_entry){ .id = 5, .category = HOTLIST_CAT_BOLO, .plate = "EX*9",
		.expiry_usec = NOW - USEC_PER_DAY };
	assert_int_equal(hotlist_index_add(x, &e, 0), 0);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(match1(x, "EXP1", NULL, h, 8), 0);
	assert_int_equal(match1(x, "EXP2", NULL, h, 8), 0);
	assert_int_equal(match1(x, "EXP3", NULL, h, 8), 1);
	assert_int_equal(match1(x, "EXP4", NULL, h, 8), 0);	/* not yet effective */
	assert_int_equal(match1(x, "EXP9", NULL, h, 8), 0);	/* expired pattern */
	hotlist_index_free(x);
}

static void
test_immigration_refused(void **state)
{
	struct hotlist_entry e = { .id = 1, .category = HOTLIST_CAT_IMMIGRATION, .plate = "IMM1" };
	struct hotlist_index *x = index_of(1, NULL);
	struct hotlist_index_stats st;
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_NCIC };
	struct hotlist_hit h[8];
	struct hotlist *l = NULL;
	char *err = NULL;
	/* NCIC record with list code I (immigration by default) and one with V. */
	const char *text =
	    "I000000001CA019000020260101IMM2      CA2027PC2015TOYTCAM4DBLK    \n"
	    "V000000002CA019000020260101IMM3      CA2027PC2015TOYTCAM4DBLK    \n";

	(void)state;
	assert_int_equal(hotlist_index_add(x, &e, 0), -EPERM);
	assert_int_equal(hotlist_parse_buffer("n", text, strlen(text), &o, &l, &err, NULL), 0);
	assert_int_equal(l->n_excluded, 1);
	/* Smuggle the excluded one back in: the index still refuses it. */
	e.category = HOTLIST_CAT_IMMIGRATION;
	strcpy(e.plate, "IMM2");
	assert_int_equal(hotlist_index_add(x, &e, 0), -EPERM);
	assert_int_equal(hotlist_index_add_list(x, l, 0), 0);
	assert_int_equal(hotlist_index_finish(x), 0);
	hotlist_index_get_stats(x, &st);
	assert_int_equal(st.n_entries, 1);
	assert_int_equal(st.n_refused, 2);
	assert_int_equal(match1(x, "IMM1", NULL, h, 8), 0);
	assert_int_equal(match1(x, "IMM2", NULL, h, 8), 0);
	assert_int_equal(match1(x, "IMM3", NULL, h, 8), 1);
	hotlist_free(l);
	hotlist_index_free(x);
}

static void
test_priority_and_candidates(void **state)
{
	struct hotlist_index *x = index_of(1, NULL);
	struct hotlist_read r = { .plates = { "NOPE1", "PRI1", "PRI2", "PRI3", "PRI4" },
		.n_plates = 5, .state = "CA", .now_usec = NOW };
	struct hotlist_hit h[8];

	(void)state;
	add(x, 1, "PRI1", "CA", HOTLIST_CAT_BOLO);
	add(x, 2, "PRI2", "CA", HOTLIST_CAT_STOLEN_PLATE);
	add(x, 3, "PRI3", "CA", HOTLIST_CAT_STOLEN_VEHICLE);
	add(x, 4, "PRI4", "CA", HOTLIST_CAT_FELONY_VEHICLE);
	assert_int_equal(hotlist_index_finish(x), 0);
	assert_int_equal(hotlist_index_match(x, &r, h, 8), 4);
	/* felony > stolen vehicle > stolen plate > local BOLO */
	assert_int_equal(h[0].entry_id, 4);
	assert_int_equal(h[0].candidate, 4);
	assert_int_equal(h[1].entry_id, 3);
	assert_int_equal(h[2].entry_id, 2);
	assert_int_equal(h[3].entry_id, 1);
	assert_int_equal(h[3].candidate, 1);
	/* max_hits keeps the most urgent. */
	assert_int_equal(hotlist_index_match(x, &r, h, 2), 2);
	assert_int_equal(h[0].entry_id, 4);
	assert_int_equal(h[1].entry_id, 3);
	/* One hit per entry: the best way any candidate matched it. */
	r.plates[0] = "PR11";	/* OCR match of PRI1 ... */
	r.plates[1] = "PRI1";	/* ... and the exact one */
	r.n_plates = 2;
	assert_int_equal(hotlist_index_match(x, &r, h, 8), 1);
	assert_int_equal(h[0].type, HOTLIST_MATCH_EXACT);
	assert_int_equal(h[0].candidate, 1);
	assert_true(hotlist_default_priority(HOTLIST_CAT_WANTED, "local") >
	    hotlist_default_priority(HOTLIST_CAT_STOLEN_VEHICLE, "ncic"));
	r.n_plates = HOTLIST_CANDIDATES_MAX + 1;
	assert_int_equal(hotlist_index_match(x, &r, h, 8), -EINVAL);
	hotlist_index_free(x);
}

/* Random patterns and reads: the index finds exactly what fnmatch(3) does. */
static void
test_wildcard_oracle(void **state)
{
	static const char al[] = "ACEFHJKLMNPRTUVWXY34679";	/* no OCR classes */
	enum { N_PAT = 10000, N_READ = 2000 };
	struct hotlist_index *x = index_of(0, NULL);
	struct hotlist_hit h[64];
	char (*pat)[16] = calloc(N_PAT, 16), read[16];
	unsigned seed = 12345, i, j, k, len, want, found = 0;
	int n;

	(void)state;
	assert_non_null(pat);
	for (i = 0; i < N_PAT; i++) {
		len = 3 + rand_r(&seed) % 5;
		for (k = 0; k < len; k++)
			pat[i][k] = al[rand_r(&seed) % 4];	/* few letters: many hits */
		pat[i][rand_r(&seed) % len] = rand_r(&seed) % 2 ? '*' : '?';
		if (len > 4 && rand_r(&seed) % 3 == 0)
			pat[i][rand_r(&seed) % len] = '*';
		char norm[16];
		if (hotlist_plate_normalize(pat[i], true, norm) != 1) {
			strcpy(pat[i], "AC*E");
			strcpy(norm, "AC*E");
		}
		strcpy(pat[i], norm);
		add(x, i, pat[i], "", HOTLIST_CAT_BOLO);
	}
	assert_int_equal(hotlist_index_finish(x), 0);
	for (j = 0; j < N_READ; j++) {
		len = 2 + rand_r(&seed) % 7;
		for (k = 0; k < len; k++)
			read[k] = al[rand_r(&seed) % 5];
		read[len] = '\0';
		for (i = 0, want = 0; i < N_PAT; i++)
			want += fnmatch(pat[i], read, FNM_NOESCAPE) == 0;
		n = match1(x, read, NULL, h, 64);
		assert_true(n >= 0);
		if (want <= 64 && (unsigned)n != want)
			fail_msg("read %s: %d hits, fnmatch finds %u", read, n, want);
		for (k = 0; k < (unsigned)n; k++)
			assert_int_equal(fnmatch(pat[h[k].entry_id], read, FNM_NOESCAPE), 0);
		found += (unsigned)n;
	}
	assert_true(found > 1000);	/* the test exercised something */
	free(pat);
	hotlist_index_free(x);
}

/* Plain plates: the index agrees with a brute-force scan under the classes. */
static void
test_ocr_oracle(void **state)
{
	static const char al[] = "0OD8B5S1IAX";
	enum { N_ENT = 5000, N_READ = 4000 };
	struct hotlist_index *x = index_of(2, NULL);
	struct hotlist_hit h[64];
	char (*ent)[8] = calloc(N_ENT, 8), read[8];
	unsigned seed = 777, i, j, k, want, found = 0;
	int n;

	(void)state;
	assert_non_null(ent);
	for (i = 0; i < N_ENT; i++) {
		for (k = 0; k < 4; k++)
			ent[i][k] = al[rand_r(&seed) % 11];
		add(x, i, ent[i], "", HOTLIST_CAT_BOLO);
	}
	assert_int_equal(hotlist_index_finish(x), 0);
	for (j = 0; j < N_READ; j++) {
		for (k = 0; k < 4; k++)
			read[k] = al[rand_r(&seed) % 11];
		read[4] = '\0';
		for (i = 0, want = 0; i < N_ENT; i++) {
			unsigned diff = 0, ok = 1;

			for (k = 0; k < 4; k++) {
				char a = ent[i][k], b = read[k];
				if (a == b)
					continue;
				diff++;
				ok &= (strchr("0OD", a) && strchr("0OD", b)) ||
				    (strchr("8B", a) && strchr("8B", b)) ||
				    (strchr("5S", a) && strchr("5S", b)) ||
				    (strchr("1I", a) && strchr("1I", b));
			}
			want += ok && diff <= 2;
		}
		n = match1(x, read, NULL, h, 64);
		if (want <= 64 && (unsigned)n != want)
			fail_msg("read %s: %d hits, brute force finds %u", read, n, want);
		found += (unsigned)n;
	}
	assert_true(found > 1000);
	free(ent);
	hotlist_index_free(x);
}

static void
test_cooldown(void **state)
{
	struct hotlist_cooldown *c = NULL;
	const int64_t cd = 300 * USEC_PER_SEC;
	char plate[16];
	int i, alerts;

	(void)state;
	assert_int_equal(hotlist_cooldown_new(16, cd, &c), 0);
	assert_true(hotlist_cooldown_check(c, "7ABC123", 1, NOW));
	/* The same read checked again (its batch's commit failed): alerts. */
	assert_true(hotlist_cooldown_check(c, "7ABC123", 1, NOW));
	/* Same plate and entry within the cool-down: no second alert. */
	assert_false(hotlist_cooldown_check(c, "7ABC123", 1, NOW + cd - 1));
	/* Another entry, or another plate on the same entry: alerts. */
	assert_true(hotlist_cooldown_check(c, "7ABC123", 2, NOW + 1));
	assert_true(hotlist_cooldown_check(c, "7ABC124", 1, NOW + 1));
	/* After the cool-down: alerts again, and starts a new one. */
	assert_true(hotlist_cooldown_check(c, "7ABC123", 1, NOW + cd));
	assert_false(hotlist_cooldown_check(c, "7ABC123", 1, NOW + cd + 10));
	/* A table overfilled with live pairs never swallows a first alert. */
	for (i = 0, alerts = 0; i < 1000; i++) {
		snprintf(plate, sizeof(plate), "P%d", i);
		alerts += hotlist_cooldown_check(c, plate, 9, NOW + 20);
	}
	assert_int_equal(alerts, 1000);
	hotlist_cooldown_set(c, 0);	/* AlertCooldownSec=0: every hit alerts */
	assert_true(hotlist_cooldown_check(c, "P999", 9, NOW + 20));
	assert_true(hotlist_cooldown_check(c, "P999", 9, NOW + 20));
	hotlist_cooldown_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_ocr_classes),
		cmocka_unit_test(test_substitutions),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_immigration_refused),
		cmocka_unit_test(test_priority_and_candidates),
		cmocka_unit_test(test_wildcard_oracle),
		cmocka_unit_test(test_ocr_oracle),
		cmocka_unit_test(test_cooldown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
