/*
 * lib/hotlist parsers: each format with good files of thousands of lines
 * written here, and every malformed variant with the error position
 * asserted and nothing imported.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/time.h"
#include "hotlist/hotlist-store.h"
#include "store/store.h"

#define N_GOOD 3000

/* A growing text buffer. */
struct buf {
	char *s;
	size_t len, alloc;
};

static void __attribute__((format(printf, 2, 3)))
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->alloc - b->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (b->s && b->len + (size_t)n < b->alloc) {
			b->len += (size_t)n;
			return;
		}
		b->alloc = (b->alloc + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->alloc);
		assert_non_null(b->s);
	}
}

static const char *const test_states[] = { "CA", "NV", "OR", "AZ", "WA", "TX" };

/* Deterministic plate i: 1..8 characters of A-Z0-9. */
static void
plate_of(unsigned i, char *out, size_t max)
{
	static const char al[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
	size_t n = 1 + (i * 7919u) % max, k;
	unsigned v = i * 2654435761u + 12345;

	for (k = 0; k < n; k++) {
		out[k] = al[v % 33];
		v = v / 33 + (unsigned)k * 977u + i;
	}
	out[n] = '\0';
}

static struct hotlist *
parse(int format, const char *name, const struct buf *b, bool skip_bad, char **err,
    char **report, int *ret)
{
	struct hotlist_parse_opts o = { .format = format, .skip_bad = skip_bad };
	struct hotlist *l = NULL;

	*err = NULL;
	*ret = hotlist_parse_buffer(name, b->s ? b->s : "", b->len, &o, &l, err, report);
	return l;
}

/* Asserts the parse fails with exactly this "file:line:col: what" prefix. */
static void
expect_error(int format, const struct buf *b, const char *where, const char *what)
{
	struct hotlist *l = (struct hotlist *)1;
	char *err = NULL, want[256];
	int r;

	l = parse(format, "t.lst", b, false, &err, NULL, &r);
	snprintf(want, sizeof(want), "t.lst:%s: ", where);
	if (r != -EINVAL || !err || strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		fail_msg("want \"%s%s\", got r=%d \"%s\"", want, what, r, err ? err : "(null)");
	assert_null(l);	/* nothing imported */
	free(err);
}

/* ---- California DOJ --------------------------------------------------- */

/*
 * n records; record bad_at (1-based, 0: none) replaced by bad; widths
 * vary: the plate padded to 8 (20-char rows), to 7 (19-char rows) or not
 * at all (short plates).
 */
static void
cadoj_file(struct buf *b, unsigned n, unsigned bad_at, const char *bad, const char *eol,
    long trailer)
{
	char plate[16];
	unsigned i;

	bprintf(b, "DATE11/28/2026 23:05%s", eol);
	for (i = 1; i <= n; i++) {
		if (i == bad_at) {
			bprintf(b, "%s%s", bad, eol);
			continue;
		}
		plate_of(i, plate, 8);
		switch (i % 3) {
		case 0:
			bprintf(b, "%-8s", plate);
			break;
		case 1:
			bprintf(b, "%-7s", plate);
			break;
		default:
			bprintf(b, "%s", plate);
			break;
		}
		bprintf(b, "%s%02u2026%02u%02u%s", test_states[i % 6], 1 + i % 58, 1 + i % 12,
		    1 + i % 28, eol);
	}
	bprintf(b, "TOTAL RECORD %07ld%s", trailer < 0 ? (long)n : trailer, eol);
}

static void
check_cadoj_entries(const struct hotlist *l, unsigned n, int category)
{
	char plate[16];
	struct tm tm = { 0 };
	unsigned i;

	assert_int_equal(l->n_entries, n);
	assert_int_equal(l->n_records, n);
	for (i = 1; i <= n; i++) {
		const struct hotlist_entry *e = &l->entries[i - 1];

		plate_of(i, plate, 8);
		assert_string_equal(e->plate, plate);
		assert_string_equal(e->state, test_states[i % 6]);
		assert_int_equal(e->category, category);
		assert_int_equal(e->line, i + 1);
		tm.tm_year = 126, tm.tm_mon = (int)(i % 12), tm.tm_mday = (int)(1 + i % 28);
		tm.tm_isdst = -1;
		assert_int_equal(e->effective_usec, (int64_t)mktime(&tm) * USEC_PER_SEC);
		assert_int_equal(e->flags & HOTLIST_F_PERSON, 0);
	}
}

static void
test_cadoj_good(void **state)
{
	struct buf b = { 0 }, crlf = { 0 };
	struct hotlist *l, *l2;
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 28, .tm_hour = 23,
		.tm_min = 5, .tm_isdst = -1 };
	char *err, *report = NULL, path[] = "/tmp/test-hotlist-XXXXXX", cmd[128], sum[80];
	FILE *p;
	int r, fd;

	(void)state;
	cadoj_file(&b, N_GOOD, 0, NULL, "\n", -1);
	l = parse(HOTLIST_FMT_CADOJ_SVS, "svs.txt", &b, false, &err, &report, &r);
	assert_int_equal(r, 0);
	assert_null(report);
	check_cadoj_entries(l, N_GOOD, HOTLIST_CAT_STOLEN_VEHICLE);
	assert_int_equal(l->source_usec, (int64_t)mktime(&tm) * USEC_PER_SEC);
	assert_string_equal(l->source, "cadoj-svs");
	assert_string_equal(l->entries[0].source, "cadoj-svs");

	/* The digest is of the bytes as given: check it against sha256sum(1). */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.s, b.len), (ssize_t)b.len);
	close(fd);
	hotlist_free(l);
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_CADOJ_SFR };
	assert_int_equal(hotlist_parse_file(path, &o, &l, &err, NULL), 0);
	check_cadoj_entries(l, N_GOOD, HOTLIST_CAT_FELONY_VEHICLE);
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(sum, sizeof(sum), p));
	pclose(p);
	assert_memory_equal(sum, l->sha256_hex, 64);
	assert_string_equal(l->file_name, strrchr(path, '/') + 1);
	unlink(path);

	/* CRLF: the same entries. */
	cadoj_file(&crlf, N_GOOD, 0, NULL, "\r\n", -1);
	l2 = parse(HOTLIST_FMT_CADOJ_SLR, "slr.txt", &crlf, false, &err, NULL, &r);
	assert_int_equal(r, 0);
	check_cadoj_entries(l2, N_GOOD, HOTLIST_CAT_STOLEN_PLATE);
	hotlist_free(l2);
	hotlist_free(l);
	free(b.s);
	free(crlf.s);
}

static void
test_cadoj_bad(void **state)
{
	static const struct {
		const char *line;	/* replaces record 1500, i.e. line 1501 */
		const char *where, *what;
	} cases[] = {
		{ "AB CA01", "1501:8", "short line" },
		{ "ABC123  CA0120261332", "1501:13", "date: no such day" },
		{ "ABC123  CA012026113X", "1501:13", "date: expected YYYYMMDD" },
		{ "ABC123  ZZ0120261128", "1501:9", "state: \"ZZ\"" },
		{ "ABC123  C40120261128", "1501:9", "state: \"C4\"" },
		{ "ABC123  CAX120261128", "1501:11", "county" },
		{ "AB\xc3\x87" "12  CA0120261128", "1501:3", "non-ASCII byte 0xC3" },
		{ "abc123  CA0120261128", "1501:1", "plate: 'a'" },
		{ "AB 123  CA0120261128", "1501:3", "plate: ' '" },
		{ "ABC123   CA0120261128", "1501:21", "long line" },
		{ "", "1501:1", "empty line" },
		{ "ABC\r123 CA0120261128", "1501:4", "carriage return" },
		{ "ABC\t123 CA0120261128", "1501:4", "control byte 0x09" },
		{ "        CA0120261128", "1501:1", "plate: empty" },
	};
	struct buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.len = 0;
		cadoj_file(&b, N_GOOD, 1500, cases[i].line, "\n", -1);
		expect_error(HOTLIST_FMT_CADOJ_SVS, &b, cases[i].where, cases[i].what);
		b.len = 0;
		cadoj_file(&b, N_GOOD, 1500, cases[i].line, "\r\n", -1);
		expect_error(HOTLIST_FMT_CADOJ_SVS, &b, cases[i].where, cases[i].what);
	}
	/* Trailer count off by one, either way. */
	b.len = 0;
	cadoj_file(&b, N_GOOD, 0, NULL, "\n", N_GOOD + 1);
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "3002:14", "trailer: count 3001, but 3000 records");
	b.len = 0;
	cadoj_file(&b, N_GOOD, 0, NULL, "\n", N_GOOD - 1);
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "3002:14", "count 2999");
	/* Header. */
	b.len = 0;
	bprintf(&b, "DATE13/28/2026 23:05\nTOTAL RECORD 0000000\n");
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "1:5", "no such date");
	b.len = 0;
	bprintf(&b, "HEADER\nTOTAL RECORD 0000000\n");
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "1:1", "header");
	/* Empty file, and one without a trailer. */
	b.len = 0;
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "1:1", "empty file");
	bprintf(&b, "DATE11/28/2026 23:05\nABC123  CA0120261128\n");
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "3:1", "missing trailer");
	b.len = 0;
	bprintf(&b, "DATE11/28/2026 23:05\nTOTAL RECORD 0000000\nABC123  CA0120261128\n");
	expect_error(HOTLIST_FMT_CADOJ_SVS, &b, "3:1", "after the trailer");
	free(b.s);
}

static void
test_cadoj_skip_bad(void **state)
{
	struct buf b = { 0 };
	struct hotlist *l;
	char *err = NULL, *report = NULL;
	int r;

	(void)state;
	cadoj_file(&b, N_GOOD, 700, "ABC123  ZZ0120261128", "\n", -1);
	l = parse(HOTLIST_FMT_CADOJ_SVS, "t.lst", &b, true, &err, &report, &r);
	assert_int_equal(r, 0);
	assert_int_equal(l->n_entries, N_GOOD - 1);
	assert_int_equal(l->n_skipped, 1);
	assert_int_equal(l->n_records, N_GOOD);
	assert_non_null(report);
	assert_string_equal(report, "t.lst:701:9: state: \"ZZ\" is not a state code, skipped\n");
	hotlist_free(l);
	free(report);
	/* A bad trailer still fails the file. */
	b.len = 0;
	cadoj_file(&b, 10, 3, "x", "\n", 11);
	report = NULL;
	l = parse(HOTLIST_FMT_CADOJ_SVS, "t.lst", &b, true, &err, &report, &r);
	assert_int_equal(r, -EINVAL);
	assert_null(l);
	assert_string_equal(err, "t.lst:12:14: trailer: count 11, but 10 records");
	free(err);
	free(b.s);
}

/* 100 MB: a bad record at the very end still refuses the whole file. */
static void
test_cadoj_100mb(void **state)
{
	char path[] = "/tmp/test-hotlist-big-XXXXXX", err_want[128], line[32];
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_CADOJ_SVS };
	struct hotlist *l = NULL;
	const unsigned n = 5000000;
	char *err = NULL;
	struct stat st;
	unsigned i;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("DATE11/28/2026 23:05\n", f);
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof(line), "%07u %s0120261128\n", i, i == n ? "QQ" : "CA");
		fputs(line, f);
	}
	fprintf(f, "TOTAL RECORD %07u\n", n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size >= 100 * 1000 * 1000);
	assert_int_equal(hotlist_parse_file(path, &o, &l, &err, NULL), -EINVAL);
	assert_null(l);
	snprintf(err_want, sizeof(err_want), "%s:%u:9: state: \"QQ\"", path, n + 1);
	assert_non_null(err);
	assert_memory_equal(err, err_want, strlen(err_want));
	free(err);
	/* And the good version of it loads every record. */
	f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, 21 + (long)(n - 1) * 21 + 8, SEEK_SET), 0);
	fputs("CA", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hotlist_parse_file(path, &o, &l, &err, NULL), 0);
	assert_int_equal(l->n_entries, n);
	assert_string_equal(l->entries[n - 1].plate, "5000000");
	hotlist_free(l);
	unlink(path);
}

/* ---- NCIC --------------------------------------------------------------- */

static const char ncic_codes[] = "VLWMFI";

static void
ncic_line(struct buf *b, unsigned i, const char *eol)
{
	char plate[16];

	plate_of(i, plate, 10);
	bprintf(b, "%c%09u" "CA0190000" "2026%02u%02u" "%-10s" "%s" "2027" "PC" "%04u"
	    "TOYT" "CAM" "4D" "%-7s" "%s%s",
	    ncic_codes[i % 6], i, 1 + i % 12, 1 + i % 28, plate, test_states[i % 6],
	    1990 + i % 30, i % 2 ? "BLK" : "WHI/BLU", i % 5 ? "" : "  DENTED REAR BUMPER  ", eol);
}

static void
ncic_file(struct buf *b, unsigned n, unsigned bad_at, const char *bad, const char *eol)
{
	unsigned i;

	for (i = 1; i <= n; i++)
		if (i == bad_at)
			bprintf(b, "%s%s", bad, eol);
		else
			ncic_line(b, i, eol);
}

static void
test_ncic_good(void **state)
{
	struct buf b = { 0 };
	struct hotlist *l;
	char *err, plate[16], desc[128];
	unsigned i, k = 0, excluded = 0;
	int r;

	(void)state;
	ncic_file(&b, N_GOOD, 0, NULL, "\r\n");
	l = parse(HOTLIST_FMT_NCIC, "ncic.txt", &b, false, &err, NULL, &r);
	assert_int_equal(r, 0);
	assert_int_equal(l->n_records, N_GOOD);
	for (i = 1; i <= N_GOOD; i++) {
		const struct hotlist_entry *e;

		if (ncic_codes[i % 6] == 'I') {
			excluded++;	/* immigration: never loaded (R4) */
			continue;
		}
		e = &l->entries[k++];
		plate_of(i, plate, 10);
		assert_string_equal(e->plate, plate);
		assert_string_equal(e->state, test_states[i % 6]);
		assert_int_equal(e->line, i);
		switch (ncic_codes[i % 6]) {
		case 'V':
			assert_int_equal(e->category, HOTLIST_CAT_STOLEN_VEHICLE);
			break;
		case 'L':
			assert_int_equal(e->category, HOTLIST_CAT_STOLEN_PLATE);
			break;
		case 'W':
			assert_int_equal(e->category, HOTLIST_CAT_WANTED);
			break;
		case 'M':
			assert_int_equal(e->category, HOTLIST_CAT_MISSING);
			break;
		case 'F':
			assert_int_equal(e->category, HOTLIST_CAT_FELONY_VEHICLE);
			break;
		}
		assert_int_equal(!!(e->flags & HOTLIST_F_PERSON),
		    ncic_codes[i % 6] == 'W' || ncic_codes[i % 6] == 'M');
		snprintf(desc, sizeof(desc), "%u TOYT CAM 4D %s%s", 1990 + i % 30,
		    i % 2 ? "BLK" : "WHI/BLU", i % 5 ? "" : " DENTED REAR BUMPER");
		assert_string_equal(e->description, desc);
		assert_string_equal(e->source, "ncic");
	}
	assert_int_equal(l->n_entries, k);
	assert_int_equal(l->n_excluded, excluded);
	assert_true(excluded > 0);
	for (i = 0; i < l->n_entries; i++)
		assert_int_not_equal(l->entries[i].category, HOTLIST_CAT_IMMIGRATION);
	hotlist_free(l);
	free(b.s);
}

static void
test_ncic_bad(void **state)
{
	static const struct {
		const char *line;
		const char *where, *what;
	} cases[] = {
		{ "V000000001CA019000020260101ABC123    CA2027PC2015TOYTCAM4DBLK", "1200:62",
		  "short line" },
		{ "V000000001CA019000020260231ABC123    CA2027PC2015TOYTCAM4DBLK    ", "1200:20",
		  "date: no such day" },
		{ "V000000001CA01900002026013XABC123    CA2027PC2015TOYTCAM4DBLK    ", "1200:20",
		  "date: expected" },
		{ "V000000001CA019000020260101ABC123    XY2027PC2015TOYTCAM4DBLK    ", "1200:38",
		  "LIS: \"XY\"" },
		{ "Q000000001CA019000020260101ABC123    CA2027PC2015TOYTCAM4DBLK    ", "1200:1",
		  "list code 'Q' is not configured" },
		{ "V00000000XCA019000020260101ABC123    CA2027PC2015TOYTCAM4DBLK    ", "1200:2",
		  "NIC" },
		{ "V000000001CA019000020260101AB-123    CA2027PC2015TOYTCAM4DBLK    ", "1200:30",
		  "LIC: '-'" },
		{ "V000000001CA019000020260101          CA2027PC2015TOYTCAM4DBLK    ", "1200:28",
		  "LIC: empty" },
		{ "V000000001CA019000020260101ABC123    CA2027PC2015TOYTCAM4DBLK    ROT \xe9", "1200:70",
		  "non-ASCII byte 0xE9" },
		{ "V000000001CA019000020260101ABC123    CA20X7PC2015TOYTCAM4DBLK    ", "1200:40",
		  "LIY" },
		{ "V000000001C 019000020260101ABC123    CA2027PC2015TOYTCAM4DBLK    ", "1200:11",
		  "ORI" },
		{ "", "1200:1", "empty line" },
	};
	struct buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.len = 0;
		ncic_file(&b, N_GOOD, 1200, cases[i].line, "\n");
		expect_error(HOTLIST_FMT_NCIC, &b, cases[i].where, cases[i].what);
	}
	b.len = 0;
	expect_error(HOTLIST_FMT_NCIC, &b, "1:1", "empty file");
	free(b.s);
}

static void
test_ncic_codes(void **state)
{
	struct hotlist_codes codes;
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_NCIC, .codes = &codes };
	struct hotlist *l = NULL;
	struct buf b = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(hotlist_codes_parse("V=bolo,K=stolen-plate,X=ice", &codes), 0);
	assert_int_equal(codes.category['K'], HOTLIST_CAT_STOLEN_PLATE);
	assert_int_equal(codes.category['X'], HOTLIST_CAT_IMMIGRATION);
	assert_int_equal(codes.category['L'], HOTLIST_CAT_NONE);
	assert_int_equal(hotlist_codes_parse("V=nonsense", &codes), -EINVAL);
	assert_int_equal(hotlist_codes_parse("vV=bolo", &codes), -EINVAL);
	assert_int_equal(hotlist_codes_parse("V=bolo,K=stolen-plate,X=ice", &codes), 0);
	ncic_line(&b, 6, "\n");	/* code V */
	bprintf(&b, "X000000002CA019000020260101ABC123    CA2027PC2015TOYTCAM4DBLK    \n");
	assert_int_equal(hotlist_parse_buffer("n", b.s, b.len, &o, &l, &err, NULL), 0);
	assert_int_equal(l->n_entries, 1);
	assert_int_equal(l->entries[0].category, HOTLIST_CAT_BOLO);
	assert_int_equal(l->n_excluded, 1);
	hotlist_free(l);
	free(b.s);
}

/* ---- delimited ---------------------------------------------------------- */

static const char *const cats[] = { "stolen vehicle", "BOLO", "felony", "Stolen-Plate",
	"wanted", "investigation" };

static void
delimited_file(struct buf *b, char d, unsigned n, unsigned bad_at, const char *bad)
{
	char plate[16];
	unsigned i;

	bprintf(b, "Plate%cState%cCategory%cExpiry%cCase Number%cReason%cDescription%cName%cUnit\n",
	    d, d, d, d, d, d, d, d);
	for (i = 1; i <= n; i++) {
		if (i == bad_at) {
			bprintf(b, "%s\n", bad);
			continue;
		}
		plate_of(i, plate, 8);
		if (i % 100 == 0 && strlen(plate) >= 3)	/* a partial plate */
			plate[1] = '*';
		bprintf(b, "%s%c%s%c%s%c2027-%02u-%02u%c24-%06u%c\"theft; %c \"\"report\"\"\"%c"
		    "GRY HOND CIV%cJOHN DOE%cB%u\n",
		    i % 7 ? plate : "ab-12 3", d, i % 11 ? test_states[i % 6] : "", d, cats[i % 6],
		    d, 1 + i % 12, 1 + i % 28, d, i, d, d, d, d, d, i % 9);
	}
}

static void
test_delimited_good(void **state)
{
	static const char delims[] = { ';', ',', '\t' };
	struct buf b = { 0 };
	struct hotlist *l;
	char *err, plate[16], want[64];
	struct tm tm = { 0 };
	unsigned i, d;
	size_t k;
	int r;

	(void)state;
	for (d = 0; d < 3; d++) {
		b.len = 0;
		delimited_file(&b, delims[d], N_GOOD, 0, NULL);
		l = parse(HOTLIST_FMT_DELIMITED, "bolo.csv", &b, false, &err, NULL, &r);
		assert_int_equal(r, 0);
		assert_int_equal(l->n_entries, N_GOOD);
		assert_int_equal(l->n_person_fields, 1);
		for (i = 1; i <= N_GOOD; i++) {
			const struct hotlist_entry *e = &l->entries[i - 1];

			plate_of(i, plate, 8);
			if (i % 100 == 0 && strlen(plate) >= 3)
				plate[1] = '*';
			assert_string_equal(e->plate, i % 7 ? plate : "AB123");
			assert_int_equal(!!(e->flags & HOTLIST_F_WILDCARD),
			    i % 7 && strchr(plate, '*'));
			assert_string_equal(e->state, i % 11 ? test_states[i % 6] : "");
			assert_int_equal(e->category, hotlist_category_from_name(cats[i % 6]));
			snprintf(want, sizeof(want), "24-%06u", i);
			assert_string_equal(e->case_no, want);
			snprintf(want, sizeof(want), "theft; %c \"report\"", delims[d]);
			assert_string_equal(e->reason, want);
			snprintf(want, sizeof(want), "GRY HOND CIV Unit=B%u", i % 9);
			assert_string_equal(e->description, want);
			tm.tm_year = 127, tm.tm_mon = (int)(i % 12), tm.tm_mday = (int)(2 + i % 28);
			tm.tm_isdst = -1;	/* through the end of the day */
			assert_int_equal(e->expiry_usec, (int64_t)mktime(&tm) * USEC_PER_SEC);
			assert_string_equal(e->source, "local");
		}
		/* The name column is dropped unread: no entry carries it. */
		for (k = 0; k < l->n_entries; k++)
			assert_null(strstr(l->entries[k].description, "DOE"));
		hotlist_free(l);
	}
	free(b.s);
}

static void
test_delimited_wildcard_literals(void **state)
{
	struct buf b = { 0 };
	char *err = NULL;

	(void)state;
	/* A pattern needs two literal characters: "A*" would alert on a fleet. */
	bprintf(&b, "plate,category\nA*,bolo\n");
	expect_error(HOTLIST_FMT_DELIMITED, &b, "2:1", "plate: \"A*\"");
	b.len = 0;
	bprintf(&b, "plate,category\n*?*,bolo\n");
	expect_error(HOTLIST_FMT_DELIMITED, &b, "2:1", "plate");
	b.len = 0;
	bprintf(&b, "plate,category\nAB*,bolo\n");
	struct hotlist *l;
	int r;
	l = parse(HOTLIST_FMT_DELIMITED, "w", &b, false, &err, NULL, &r);
	assert_int_equal(r, 0);
	assert_string_equal(l->entries[0].plate, "AB*");
	assert_true(l->entries[0].flags & HOTLIST_F_WILDCARD);
	hotlist_free(l);
	free(b.s);
}

static void
test_delimited_bad(void **state)
{
	static const struct {
		const char *line;
		const char *where, *what;
	} cases[] = {
		{ "ABC123;CA;bolo;2027-01-01;1;r;d;x", "2001:34", "8 fields, expected 9" },
		{ "ABC123;CA;bolo;2027-01-01;1;r;d;x;y;z", "2001:37", "10 fields, expected 9" },
		{ "ABC123;CA;bolo;2027-02-30;1;r;d;x;y", "2001:16", "date: \"2027-02-30\"" },
		{ "ABC123;CA;bolo;27-01-01;1;r;d;x;y", "2001:16", "date" },
		{ "ABC123;QQ;bolo;2027-01-01;1;r;d;x;y", "2001:8", "state: \"QQ\"" },
		{ "ABC123;CA;parking;2027-01-01;1;r;d;x;y", "2001:11", "category: \"parking\"" },
		{ "ABC\xc3\xa9;CA;bolo;2027-01-01;1;r;d;x;y", "2001:4", "non-ASCII byte 0xC3" },
		{ "ABC123;CA;bolo;2027-01-01;1;\"r;d;x;y", "2001:29", "unbalanced quote" },
		{ "AB%123;CA;bolo;2027-01-01;1;r;d;x;y", "2001:1", "plate" },
		{ "ABCDEFGHIJK;CA;bolo;2027-01-01;1;r;d;x;y", "2001:1", "plate" },
		{ ";CA;bolo;2027-01-01;1;r;d;x;y", "2001:1", "plate" },
		{ "", "2001:1", "1 fields, expected 9" },
	};
	struct buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.len = 0;
		delimited_file(&b, ';', N_GOOD, 2000, cases[i].line);
		expect_error(HOTLIST_FMT_DELIMITED, &b, cases[i].where, cases[i].what);
	}
	b.len = 0;
	expect_error(HOTLIST_FMT_DELIMITED, &b, "1:1", "empty file");
	bprintf(&b, "State;Category\nCA;bolo\n");
	expect_error(HOTLIST_FMT_DELIMITED, &b, "1:1", "no plate column");
	free(b.s);
}

static void
test_delimited_immigration(void **state)
{
	struct buf b = { 0 };
	struct hotlist *l;
	char *err;
	int r;

	(void)state;
	bprintf(&b, "plate\tstate\tcategory\n"
	    "ABC123\tCA\tstolen vehicle\n"
	    "ABC124\tCA\tImmigration Enforcement\n"
	    "ABC125\tCA\tICE detainer\n"
	    "ABC126\tCA\tERO\n"
	    "ABC127\tCA\tbolo\n");
	l = parse(HOTLIST_FMT_DELIMITED, "t", &b, false, &err, NULL, &r);
	assert_int_equal(r, 0);
	assert_int_equal(l->n_entries, 2);
	assert_int_equal(l->n_excluded, 3);
	assert_string_equal(l->entries[0].plate, "ABC123");
	assert_string_equal(l->entries[1].plate, "ABC127");
	hotlist_free(l);
	/* "ice" is a word: "police" and "device" are not it. */
	assert_false(hotlist_text_is_prohibited("police bolo"));
	assert_false(hotlist_text_is_prohibited("tracking device"));
	assert_true(hotlist_text_is_prohibited("ICE"));
	assert_true(hotlist_text_is_prohibited("deportation order"));
	free(b.s);
}

static void
test_delimited_column_map(void **state)
{
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_DELIMITED,
		.columns = "plate,-,state,expiry", .default_category = HOTLIST_CAT_BOLO,
		.source = "flyer" };
	struct hotlist *l = NULL;
	struct buf b = { 0 };
	char *err = NULL;

	(void)state;
	bprintf(&b, "7ABC123,x,CA,2027-01-01 12:30\n8XYZ999,y,NV,\n");
	assert_int_equal(hotlist_parse_buffer("m", b.s, b.len, &o, &l, &err, NULL), 0);
	assert_int_equal(l->n_entries, 2);
	assert_string_equal(l->entries[0].plate, "7ABC123");
	assert_string_equal(l->entries[1].state, "NV");
	assert_int_equal(l->entries[1].expiry_usec, 0);
	assert_int_equal(l->entries[0].category, HOTLIST_CAT_BOLO);
	assert_string_equal(l->entries[0].source, "flyer");
	assert_int_equal(l->entries[0].line, 1);
	hotlist_free(l);
	o.columns = "plate,colour";
	assert_int_equal(hotlist_parse_buffer("m", b.s, b.len, &o, &l, &err, NULL), -EINVAL);
	assert_string_equal(err, "column map:1:7: column 2: \"colour\" is not a column name");
	free(err);
	free(b.s);
}

static int
on_entry(const struct hotlist_entry *e, void *userdata)
{
	size_t *n = userdata;

	if (strcmp(e->plate, "STOP1") == 0)
		return -ENOSPC;	/* as a full disk would */
	(*n)++;
	return 0;
}

/* Streaming to the importer: every entry once, and its error stops the parse. */
static void
test_on_entry(void **state)
{
	size_t n = 0;
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_CADOJ_SVS, .on_entry = on_entry,
		.userdata = &n };
	struct hotlist *l = NULL;
	struct buf b = { 0 };
	char *err = NULL;

	(void)state;
	cadoj_file(&b, N_GOOD, 0, NULL, "\n", -1);
	assert_int_equal(hotlist_parse_buffer("s", b.s, b.len, &o, &l, &err, NULL), 0);
	assert_int_equal(n, N_GOOD);
	assert_int_equal(l->n_entries, N_GOOD);
	assert_null(l->entries);	/* nothing held */
	hotlist_free(l);
	b.len = 0;
	n = 0;
	cadoj_file(&b, N_GOOD, 10, "STOP1   CA0120261128", "\n", -1);
	assert_int_equal(hotlist_parse_buffer("s", b.s, b.len, &o, &l, &err, NULL), -ENOSPC);
	assert_int_equal(n, 9);
	free(b.s);
}

static void
test_diff(void **state)
{
	struct hotlist *a, *b;
	struct hotlist_entry e = { .category = HOTLIST_CAT_BOLO };
	size_t added, removed, unchanged;

	(void)state;
	assert_int_equal(hotlist_new("bolo", &a), 0);
	assert_int_equal(hotlist_new("bolo", &b), 0);
	strcpy(e.plate, "ABC123");
	strcpy(e.state, "CA");
	assert_int_equal(hotlist_add(a, &e), 0);
	assert_int_equal(hotlist_add(b, &e), 0);
	strcpy(e.state, "NV");	/* same plate, other state: another entry */
	assert_int_equal(hotlist_add(b, &e), 0);
	strcpy(e.plate, "XYZ1");
	assert_int_equal(hotlist_add(a, &e), 0);
	assert_int_equal(hotlist_diff(a, b, &added, &removed, &unchanged), 0);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 1);
	assert_int_equal(unchanged, 1);
	e.category = HOTLIST_CAT_IMMIGRATION;
	assert_int_equal(hotlist_add(a, &e), -EPERM);
	hotlist_free(a);
	hotlist_free(b);
}

static void
exec_ok(struct store *s, const char *sql)
{
	assert_int_equal(sqlite3_exec(store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t
count_rows(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(store_prepare(s, sql, &st), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A store in a directory of its own, removed with it after the test. */
struct store_fixture {
	char dir[32];
	struct store *s;
};

static int
store_setup(void **state)
{
	struct store_fixture *f = calloc(1, sizeof(*f));
	char path[64];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-hotlist-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/alpr.db", f->dir);
	assert_int_equal(store_open(path, STORE_OPEN_CREATE | STORE_OPEN_TEST_NOSYNC, &f->s), 0);
	*state = f;
	return 0;
}

static int
store_teardown(void **state)
{
	struct store_fixture *f = *state;
	char cmd[64];

	store_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/*
 * The importer alpr-matchd runs: a file parsed straight into the store,
 * counted against the previous version; a bad record stores nothing.
 */
static void
test_store_import(void **state)
{
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_DELIMITED, .source = "bolo" };
	struct hotlist_version v;
	struct hotlist *l = NULL;
	struct store *s = NULL;
	struct buf b = { 0 };
	char sql[256], *err = NULL;
	struct hotlist_stored_entry se;
	int64_t first1, first2;
	size_t i;

	s = ((struct store_fixture *)*state)->s;
	bprintf(&b, "plate;state;category;case\n");
	for (i = 0; i < N_GOOD; i++)
		bprintf(&b, "P%05zu;CA;stolen-vehicle;C%zu\n", i, i);
	bprintf(&b, "AB*12;;bolo;\n");
	assert_int_equal(hotlist_store_import_buffer(s, "v1.csv", b.s, b.len, &o, "tester", &v, &l,
	    &err, NULL), 0);
	assert_int_equal(v.version, 1);
	assert_int_equal(v.n_entries, N_GOOD + 1);
	assert_int_equal(v.added, N_GOOD + 1);
	assert_string_equal(l->file_name, "v1.csv");
	assert_int_equal(l->n_entries, N_GOOD + 1);
	assert_null(l->entries);	/* streamed, not held */
	hotlist_free(l);
	/* Packed in chunks of 1,024, not rows; entry n has the id first_entry + n. */
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlist_entries"), 0);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlist_chunks"), (N_GOOD + 1024) / 1024);
	first1 = count_rows(s, "SELECT first_entry FROM hotlists WHERE version = 1");
	assert_int_equal(first1, 1);
	assert_int_equal(hotlist_store_next_entry_id(s), first1 + N_GOOD + 1);
	assert_int_equal(hotlist_store_entry(s, first1 + 17, &se), 0);
	assert_string_equal(se.e.plate, "P00017");
	assert_string_equal(se.e.state, "CA");
	assert_string_equal(se.e.case_no, "C17");
	assert_string_equal(se.e.source, "bolo");
	assert_string_equal(se.list_name, "bolo");
	assert_int_equal(se.e.category, HOTLIST_CAT_STOLEN_VEHICLE);
	assert_int_equal(hotlist_store_entry(s, first1 + 1500, &se), 0);	/* second chunk */
	assert_string_equal(se.e.plate, "P01500");
	assert_string_equal(se.e.case_no, "C1500");
	assert_int_equal(hotlist_store_entry(s, first1 + N_GOOD, &se), 0);
	assert_string_equal(se.e.plate, "AB*12");
	assert_true(se.e.flags & HOTLIST_F_WILDCARD);
	assert_null(se.e.case_no);
	assert_string_equal(se.e.state, "");
	assert_int_equal(hotlist_store_entry(s, first1 + N_GOOD + 1, &se), -ENOENT);

	/* v2: entry 0 gets another state (removed + added), one new, same plate twice. */
	b.len = 0;
	bprintf(&b, "plate;state;category;case\n");
	bprintf(&b, "P00000;NV;stolen-vehicle;C0\n");
	for (i = 1; i < N_GOOD; i++)
		bprintf(&b, "P%05zu;CA;stolen-vehicle;C%zu\n", i, i);
	bprintf(&b, "AB*12;;bolo;\nNEW1;CA;bolo;\nNEW1;OR;bolo;\n");
	assert_int_equal(hotlist_store_import_buffer(s, "v2.csv", b.s, b.len, &o, "tester", &v, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(v.version, 2);
	assert_int_equal(v.n_entries, N_GOOD + 3);
	assert_int_equal(v.added, 3);
	assert_int_equal(v.removed, 1);
	assert_int_equal(v.unchanged, N_GOOD);
	assert_int_equal(count_rows(s, "SELECT added * 1000000 + removed * 1000 + unchanged"
	    " FROM hotlists WHERE active = 1"), 3 * 1000000 + 1000 + N_GOOD);
	/* v2's ids follow v1's, whose entries stay found for their hits. */
	first2 = count_rows(s, "SELECT first_entry FROM hotlists WHERE version = 2");
	assert_int_equal(first2, first1 + N_GOOD + 1);
	assert_int_equal(hotlist_store_entry(s, first2, &se), 0);
	assert_string_equal(se.e.state, "NV");
	assert_int_equal(hotlist_store_entry(s, first1, &se), 0);
	assert_string_equal(se.e.state, "CA");
	assert_int_equal(hotlist_store_entry(s, first2 + N_GOOD + 2, &se), 0);
	assert_string_equal(se.e.plate, "NEW1");
	assert_string_equal(se.e.state, "OR");
	/* The load reads the active version only, ids as stored. */
	{
		struct hotlist_index *idx;
		struct hotlist_index_stats is;
		struct hotlist_hit h[4];
		struct hotlist_read rd = { .plates = { "P00017" }, .n_plates = 1, .now_usec = 1 };

		assert_int_equal(hotlist_index_new(NULL, &idx), 0);
		assert_int_equal(hotlist_store_fill_index(s, 1, idx), 0);
		assert_int_equal(hotlist_index_finish(idx), 0);
		hotlist_index_get_stats(idx, &is);
		assert_int_equal(is.n_entries, N_GOOD + 3);
		assert_int_equal(is.n_wildcards, 1);
		assert_int_equal(hotlist_index_match(idx, &rd, h, 4), 1);
		assert_int_equal(h[0].entry_id, first2 + 17);
		hotlist_index_free(idx);
	}

	/* v3 with a bad record at its end: an error naming it, nothing of v3 kept. */
	bprintf(&b, "BAD!!;CA;bolo;\n");
	assert_int_equal(hotlist_store_import_buffer(s, "v3.csv", b.s, b.len, &o, "tester", &v, &l,
	    &err, NULL), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "v3.csv:3005:1:"));
	free(err);
	assert_int_equal(count_rows(s, "SELECT max(version) FROM hotlists WHERE active = 1"), 2);
	assert_int_equal(count_rows(s, "SELECT sum(entries) FROM hotlists"), 2 * N_GOOD + 4);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlist_chunks"), 2 * ((N_GOOD + 1024) / 1024));
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists"), 2);

	/*
	 * Older versions go at the next import unless a hit names one of
	 * their entries: v3 keeps v1 (a hit) and v2 (the previous one); v4,
	 * the hit gone, keeps v3 only besides itself.
	 */
	exec_ok(s, "INSERT INTO reads (id, plate, confidence, camera, capture_usec, stored_usec)"
	    " VALUES ('00000000000000000000000000000001', 'P00005', 0.9, 'front', 1, 1)");
	snprintf(sql, sizeof(sql), "INSERT INTO hits (read_rowid, entry_id, entry_plate,"
	    " category, created_usec) VALUES (1, %lld, 'P00005', 'stolen-vehicle', 1)",
	    (long long)(first1 + 5));
	exec_ok(s, sql);
	b.len -= strlen("BAD!!;CA;bolo;\n");
	for (i = 3; i <= 4; i++) {
		if (i == 4)
			exec_ok(s, "DELETE FROM hits");
		assert_int_equal(hotlist_store_import_buffer(s, "v.csv", b.s, b.len, &o, "tester", &v,
		    &l, &err, NULL), 0);
		hotlist_free(l);
		assert_int_equal(v.version, i);
		assert_int_equal(v.unchanged, N_GOOD + 3);
		assert_int_equal(count_rows(s, "SELECT group_concat(version, '') FROM (SELECT version"
		    " FROM hotlists ORDER BY version)"), i == 3 ? 123 : 34);
	}
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlist_chunks"), 2 * ((N_GOOD + 1024) / 1024));
	assert_int_equal(hotlist_store_entry(s, first1 + 5, &se), -ENOENT);
	first2 = count_rows(s, "SELECT first_entry FROM hotlists WHERE version = 4");

	/* A damaged chunk: the load fails (matchd keeps its index), the entry is not made up. */
	{
		sqlite3_stmt *st;
		struct hotlist_index *idx;

		/* One byte of the first record's plate field, the length kept. */
		assert_int_equal(store_prepare(s, "UPDATE hotlist_chunks SET records = substr(records,"
		    " 1, 40) || X'41' || substr(records, 42) WHERE first = 0 AND list_id ="
		    " (SELECT id FROM hotlists WHERE version = 4)", &st), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		assert_int_equal(hotlist_index_new(NULL, &idx), 0);
		assert_int_equal(hotlist_store_fill_index(s, 1, idx), -EBADMSG);
		hotlist_index_free(idx);
		assert_int_equal(hotlist_store_entry(s, first2 + 17, &se), -EBADMSG);
		assert_int_equal(hotlist_store_entry(s, first2 - (N_GOOD + 3) + 17, &se), 0);
		/* A chunk of another format version is refused as such. */
		assert_int_equal(store_prepare(s, "UPDATE hotlist_chunks SET records = substr(records,"
		    " 1, 4) || X'02' || substr(records, 6) WHERE first = 1024 AND list_id ="
		    " (SELECT id FROM hotlists WHERE version = 4)", &st), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		assert_int_equal(hotlist_store_entry(s, first2 + 1500, &se), -EPROTO);
		assert_int_equal(hotlist_store_entry(s, first2 + 2500, &se), 0);
	}
	free(b.s);
}


/*
 * An import killed before its activation (a crash, kill -9) leaves a
 * pending version: never matched, not counted, its ids not taken; it is
 * removed by the prune of a start (with HOTLIST_PRUNE_PENDING) or by the
 * next import.  A version staged against an active version that was
 * replaced meanwhile is not activated (its counts would be wrong).
 */
static void
test_store_pending(void **state)
{
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_DELIMITED, .source = "bolo" };
	struct hotlist_version v;
	struct hotlist_staged sv, sv2;
	struct hotlist *l = NULL;
	struct hotlist_index *idx;
	struct hotlist_index_stats is;
	struct store *s = NULL;
	struct buf b = { 0 };
	char *err = NULL;
	int64_t next;
	size_t i;

	s = ((struct store_fixture *)*state)->s;
	bprintf(&b, "plate;state;category;case\n");
	for (i = 0; i < 3000; i++)
		bprintf(&b, "Q%05zu;CA;stolen-vehicle;C%zu\n", i, i);
	assert_int_equal(hotlist_store_import_buffer(s, "v1.csv", b.s, b.len, &o, "tester", &v, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	next = hotlist_store_next_entry_id(s);

	/* v2 staged, its importer "killed" before the activation. */
	bprintf(&b, "NEW2;CA;bolo;\n");
	assert_int_equal(hotlist_store_stage_buffer(s, "v2.csv", b.s, b.len, &o, "tester", NULL, &sv, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2"), 1);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlist_chunks WHERE list_id ="
	    " (SELECT id FROM hotlists WHERE active = 2)"), 3);
	assert_int_equal(count_rows(s, "SELECT version FROM hotlists WHERE active = 1"), 1);
	assert_int_equal(hotlist_store_next_entry_id(s), next);
	assert_int_equal(hotlist_index_new(NULL, &idx), 0);
	assert_int_equal(hotlist_store_fill_index(s, 1, idx), 0);
	assert_int_equal(hotlist_index_finish(idx), 0);
	hotlist_index_get_stats(idx, &is);
	assert_int_equal(is.n_entries, 3000);	/* v1 only */
	hotlist_index_free(idx);

	/* A prune while an import may run leaves it; the start's prune removes it. */
	while (hotlist_store_prune_step(s, HOTLIST_PRUNE_REPLACED) > 0)
		;
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2"), 1);
	while (hotlist_store_prune_step(s, HOTLIST_PRUNE_PENDING) > 0)
		;
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2"), 0);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlist_chunks"), 3);
	assert_int_equal(hotlist_store_activate(s, &sv, &v), -ENOENT);

	/* Left again, then the next import removes it before its own. */
	assert_int_equal(hotlist_store_stage_buffer(s, "v2.csv", b.s, b.len, &o, "tester", NULL, &sv, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(hotlist_store_stage_buffer(s, "v2.csv", b.s, b.len, &o, "tester", NULL, &sv2, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2"), 1);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2 AND id ="
	    " (SELECT max(id) FROM hotlists)"), 1);

	/* Another version came meanwhile: the staged one is refused, the newer one stays. */
	assert_int_equal(hotlist_store_import_buffer(s, "v3.csv", b.s, b.len, &o, "tester", &v, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2"), 0);
	assert_int_equal(v.version, 2);
	assert_int_equal(v.added, 1);
	assert_int_equal(v.first_entry, next);
	assert_int_equal(hotlist_store_stage_buffer(s, "v4.csv", b.s, b.len, &o, "tester", NULL, &sv, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(hotlist_store_import_buffer(s, "v5.csv", b.s, b.len, &o, "tester", &v, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(hotlist_store_activate(s, &sv, &v), -ENOENT);	/* v5's start removed it */
	store_rollback(s);
	assert_int_equal(hotlist_store_stage_buffer(s, "v6.csv", b.s, b.len, &o, "tester", NULL, &sv, &l,
	    &err, NULL), 0);
	hotlist_free(l);
	assert_int_equal(store_begin(s), 0);
	exec_ok(s, "UPDATE hotlists SET active = 0 WHERE active = 1");
	assert_int_equal(hotlist_store_activate(s, &sv, &v), -ESTALE);
	store_rollback(s);
	assert_int_equal(count_rows(s, "SELECT version FROM hotlists WHERE active = 1"), 3);

	/* A daemon that stops cancels a running import: nothing of it stays. */
	{
		atomic_bool cancel = true;

		assert_int_equal(hotlist_store_stage_buffer(s, "v7.csv", b.s, b.len, &o, "tester",
		    &cancel, &sv, &l, &err, NULL), -ECANCELED);
		assert_int_equal(count_rows(s, "SELECT count(*) FROM hotlists WHERE active = 2"), 0);
		assert_int_equal(count_rows(s, "SELECT version FROM hotlists WHERE active = 1"), 3);
	}

	free(b.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cadoj_good),
		cmocka_unit_test(test_cadoj_bad),
		cmocka_unit_test(test_cadoj_skip_bad),
		cmocka_unit_test(test_cadoj_100mb),
		cmocka_unit_test(test_ncic_good),
		cmocka_unit_test(test_ncic_bad),
		cmocka_unit_test(test_ncic_codes),
		cmocka_unit_test(test_delimited_good),
		cmocka_unit_test(test_delimited_wildcard_literals),
		cmocka_unit_test(test_delimited_bad),
		cmocka_unit_test(test_delimited_immigration),
		cmocka_unit_test(test_delimited_column_map),
		cmocka_unit_test(test_on_entry),
		cmocka_unit_test_setup_teardown(test_store_import, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_store_pending, store_setup, store_teardown),
		cmocka_unit_test(test_diff),
	};

	/* List dates are local calendar days; pin the zone the test computes in. */
	setenv("TZ", "America/Los_Angeles", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
