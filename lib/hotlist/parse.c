/*
 * Hot-list file parsers: California DOJ SVS/SLR/SFR extracts, NCIC-style
 * fixed-width extracts, and delimited text (BOLOs, flyers, local lists).
 *
 * Runs in alprctl (and alpr-matchd when it imports on alprctl's behalf).
 * Trusts no byte of the file: every line is checked against its format
 * and the first bad one fails the whole file ("file:line:column: what"),
 * unless the caller asked to skip bad records, in which case each
 * skipped line is listed.  A bad header or trailer always fails.  Lines
 * end in LF or CRLF; any other control byte or a byte >= 0x80 is an
 * error at its column.  Immigration-enforcement entries are counted and
 * dropped here (policy IV.C.4) and never reach a list.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/time.h"
#include "hotlist/hotlist.h"
#include "hotlist/internal.h"

#define REPORT_MAX_LINES 10000	/* beyond this, skipped lines are only counted */

struct ctx {
	const char *name;	/* in messages: the file, or "column map" */
	const char *label;	/* the file's name */
	const struct hotlist_parse_opts *opts;
	struct hotlist_codes codes;
	struct hotlist *list;
	const char *source;	/* pooled */
	char *error;		/* first fatal error */
	char *report;		/* skipped lines, one a line */
	size_t report_len, report_lines;
	uint32_t line;
	/* date cache: lines of one extract share few dates */
	struct {
		uint32_t ymd;
		int64_t usec;
	} dates[64];
	/* delimited */
	char delim;
	int columns[64];
	char *column_names[64];
	size_t n_columns;
	/* Lists repeat a few category texts millions of times. */
	struct {
		char text[32];
		size_t len;
		int category;
	} cats[8];
	size_t n_cats;
	/*
	 * Streaming (opts->on_entry): a record's strings live here until its
	 * entry was handed over, not in the pool, which would otherwise hold
	 * every case number of a five-million-entry list.
	 */
	char rec_text[4 * (HOTLIST_TEXT_MAX + 1)];
	size_t rec_used;
};

enum { REC_OK = 0, REC_SKIP = 1 };

/* Adds one line to the skipped-lines report. */
static int
report_add(struct ctx *c, const char *text)
{
	size_t k = strlen(text);
	char *n;

	if (!(n = realloc(c->report, c->report_len + k + 2)))
		return -ENOMEM;
	memcpy(n + c->report_len, text, k);
	n[c->report_len + k] = '\n';
	n[c->report_len + k + 1] = '\0';
	c->report_len += k + 1;
	c->report = n;
	return 0;
}

/*
 * A bad record at column col: skipped and listed under skip_bad (REC_SKIP),
 * otherwise the file's error (-EINVAL).
 */
static int __attribute__((format(printf, 3, 4)))
bad_record(struct ctx *c, size_t col, const char *fmt, ...)
{
	char what[512], line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->opts->skip_bad) {
		c->list->n_skipped++;
		if (c->report_lines++ >= REPORT_MAX_LINES)
			return REC_SKIP;
		snprintf(line, sizeof(line), "%s:%u:%zu: %s, skipped", c->name, c->line, col, what);
		return report_add(c, line) < 0 ? -ENOMEM : REC_SKIP;
	}
	if (!c->error && asprintf(&c->error, "%s:%u:%zu: %s", c->name, c->line, col, what) < 0)
		c->error = NULL;
	return -EINVAL;
}

/* A fault of the file as a whole (header, trailer, empty): never skipped. */
static int __attribute__((format(printf, 3, 4)))
bad_file(struct ctx *c, size_t col, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	free(c->error);
	if (asprintf(&c->error, "%s:%u:%zu: %s", c->name, c->line, col, what) < 0)
		c->error = NULL;
	return -EINVAL;
}

/* ---- lines ---------------------------------------------------------- */

struct line {
	const char *s;
	size_t len;
};

/* Next line of buf from *pos (LF or CRLF stripped); false at the end. */
static bool
next_line(const char *buf, size_t len, size_t *pos, struct line *ret)
{
	const char *nl;
	size_t n;

	if (*pos >= len)
		return false;
	nl = memchr(buf + *pos, '\n', len - *pos);
	n = nl ? (size_t)(nl - (buf + *pos)) : len - *pos;
	ret->s = buf + *pos;
	ret->len = n;
	if (n > 0 && ret->s[n - 1] == '\r')
		ret->len--;
	*pos += n + (nl ? 1 : 0);
	return true;
}

/* 0, or the 1-based column of the first byte a line may not hold. */
static size_t
first_bad_byte(const struct line *l, bool allow_tab)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < l->len; i++) {
		ch = (unsigned char)l->s[i];
		if (ch >= 0x20 && ch < 0x7f)
			continue;
		if (ch == '\t' && allow_tab)
			continue;
		return i + 1;
	}
	return 0;
}

static int
bad_byte(struct ctx *c, size_t col, const struct line *l)
{
	unsigned char ch = (unsigned char)l->s[col - 1];

	if (ch >= 0x80)
		return bad_record(c, col, "non-ASCII byte 0x%02X", ch);
	if (ch == '\r')
		return bad_record(c, col, "carriage return inside a line");
	return bad_record(c, col, "control byte 0x%02X", ch);
}

/* ---- fields --------------------------------------------------------- */

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static unsigned
num(const char *s, size_t n)
{
	unsigned v = 0;

	while (n--)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

static bool
valid_ymd(unsigned y, unsigned m, unsigned d)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned max;

	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

/*
 * Local midnight of y-m-d in µs: list dates are the agency's calendar
 * days.  Cached, since mktime() is slow and extracts repeat dates.
 */
static int64_t
day_usec(struct ctx *c, unsigned y, unsigned m, unsigned d)
{
	uint32_t key = y * 10000 + m * 100 + d;
	unsigned slot = (key * 2654435761u) >> 26;
	struct tm tm = { 0 };
	time_t t;

	if (c->dates[slot].ymd == key)
		return c->dates[slot].usec;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	c->dates[slot].ymd = key;
	c->dates[slot].usec = (int64_t)t * USEC_PER_SEC;
	return c->dates[slot].usec;
}

/* YYYYMMDD at s; -1 if not a date. */
static int64_t
parse_ymd8(struct ctx *c, const char *s)
{
	unsigned y, m, d;

	if (!all_digits(s, 8))
		return -1;
	y = num(s, 4);
	m = num(s + 4, 2);
	d = num(s + 6, 2);
	if (!valid_ymd(y, m, d))
		return -1;
	return day_usec(c, y, m, d);
}

/*
 * Delimited dates: YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY, optionally followed
 * by " HH:MM[:SS]" or "THH:MM[:SS]".  A date alone is the start of that
 * day, or with end_of_day its end (the next local midnight: a list that
 * says "expires 2027-03-14" means through that day, DST or not).
 */
static int
parse_date_text(struct ctx *c, const char *s, size_t n, bool end_of_day, int64_t *ret)
{
	unsigned y, m, d, hh = 0, mm = 0, ss = 0;
	size_t k;
	bool has_time = false;

	if (n >= 10 && s[4] == '-' && s[7] == '-' && all_digits(s, 4) && all_digits(s + 5, 2) &&
	    all_digits(s + 8, 2)) {
		y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
		k = 10;
	} else if (n >= 10 && s[2] == '/' && s[5] == '/' && all_digits(s, 2) &&
	    all_digits(s + 3, 2) && all_digits(s + 6, 4)) {
		m = num(s, 2), d = num(s + 3, 2), y = num(s + 6, 4);
		k = 10;
	} else if (n >= 8 && all_digits(s, 8)) {
		y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
		k = 8;
	} else
		return -EINVAL;
	if (!valid_ymd(y, m, d))
		return -EINVAL;
	if (k < n) {
		if ((s[k] != ' ' && s[k] != 'T') || n - k - 1 < 5 || !all_digits(s + k + 1, 2) ||
		    s[k + 3] != ':' || !all_digits(s + k + 4, 2))
			return -EINVAL;
		hh = num(s + k + 1, 2), mm = num(s + k + 4, 2);
		k += 6;
		if (k < n) {
			if (n - k != 3 || s[k] != ':' || !all_digits(s + k + 1, 2))
				return -EINVAL;
			ss = num(s + k + 1, 2);
			k += 3;
		}
		if (hh > 23 || mm > 59 || ss > 59)
			return -EINVAL;
		has_time = true;
	}
	if (k != n)
		return -EINVAL;
	if (!has_time && end_of_day)
		*ret = day_usec(c, y, m, d + 1);	/* mktime() carries the day over */
	else
		*ret = day_usec(c, y, m, d) + ((int64_t)hh * 3600 + mm * 60 + ss) * USEC_PER_SEC;
	return 0;
}

static const char *
intern(struct ctx *c, const char *s, size_t n)
{
	char *copy;

	if (n == 0)
		return NULL;
	if (!c->opts->on_entry || c->rec_used + n + 1 > sizeof(c->rec_text))
		return hotlist_pool_intern(c->list->pool, s, n);
	copy = c->rec_text + c->rec_used;
	memcpy(copy, s, n);
	copy[n] = '\0';
	c->rec_used += n + 1;
	return copy;
}

static void
trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/*
 * A record's entry is complete: refuse prohibited categories (counted),
 * fill priority and person flag, append.
 */
static int
emit(struct ctx *c, struct hotlist_entry *e)
{
	if (hotlist_category_is_prohibited(e->category)) {
		c->list->n_excluded++;
		return REC_OK;
	}
	if (!e->source)
		e->source = c->source;
	if (!e->priority)
		e->priority = (uint8_t)hotlist_default_priority(e->category, e->source);
	if (e->category == HOTLIST_CAT_WANTED || e->category == HOTLIST_CAT_MISSING)
		e->flags |= HOTLIST_F_PERSON;
	e->line = c->line;
	if (c->opts->on_entry) {
		int r = c->opts->on_entry(e, c->opts->userdata);

		c->rec_used = 0;
		if (r < 0)
			return r == -EINVAL ? -EIO : r;	/* -EINVAL means a bad file here */
		c->list->n_entries++;
		return REC_OK;
	}
	return hotlist_append(c->list, e) < 0 ? -ENOMEM : REC_OK;
}

/* ---- California DOJ ------------------------------------------------- */

/* "DATEMM/DD/YYYY HH:MM" */
static int
cadoj_header(struct ctx *c, const struct line *l)
{
	const char *s = l->s;
	unsigned m, d, y, hh, mm;
	size_t col;

	if ((col = first_bad_byte(l, false)))
		return bad_file(c, col, "header: byte 0x%02X not allowed",
		    (unsigned char)l->s[col - 1]);
	if (l->len < 4 || memcmp(s, "DATE", 4) != 0)
		return bad_file(c, 1, "header: expected \"DATEMM/DD/YYYY HH:MM\"");
	if (l->len != 20 || s[6] != '/' || s[9] != '/' || s[14] != ' ' || s[17] != ':' ||
	    !all_digits(s + 4, 2) || !all_digits(s + 7, 2) || !all_digits(s + 10, 4) ||
	    !all_digits(s + 15, 2) || !all_digits(s + 18, 2))
		return bad_file(c, 5, "header: date is not \"MM/DD/YYYY HH:MM\"");
	m = num(s + 4, 2), d = num(s + 7, 2), y = num(s + 10, 4);
	hh = num(s + 15, 2), mm = num(s + 18, 2);
	if (!valid_ymd(y, m, d))
		return bad_file(c, 5, "header: no such date");
	if (hh > 23 || mm > 59)
		return bad_file(c, 16, "header: no such time");
	c->list->source_usec = day_usec(c, y, m, d) + ((int64_t)hh * 3600 + mm * 60) * USEC_PER_SEC;
	return 0;
}

/*
 * A record, by pattern from the end: YYYYMMDD date (8), county (2 digits),
 * state (2 letters), and before them the plate, left-justified and space
 * padded to at most 8 (exports pad short plates to 7 or not at all).
 */
static int
cadoj_record(struct ctx *c, const struct line *l, int category)
{
	struct hotlist_entry e = { 0 };
	const char *s = l->s;
	size_t n = l->len, col, p, plen;
	int64_t date;

	if ((col = first_bad_byte(l, false)))
		return bad_byte(c, col, l);
	if (n == 0)
		return bad_record(c, 1, "empty line");
	if (n < 13)
		return bad_record(c, n + 1, "short line: %zu characters, a record needs 13 to 20", n);
	if (n > 20)
		return bad_record(c, 21, "long line: %zu characters, a record has at most 20", n);
	if (!all_digits(s + n - 8, 8))
		return bad_record(c, n - 7, "date: expected YYYYMMDD");
	if ((date = parse_ymd8(c, s + n - 8)) < 0)
		return bad_record(c, n - 7, "date: no such day");
	if (!all_digits(s + n - 10, 2))
		return bad_record(c, n - 9, "county: expected 2 digits");
	e.state[0] = s[n - 12];
	e.state[1] = s[n - 11];
	if (!hotlist_state_valid(e.state))
		return bad_record(c, n - 11, "state: \"%.2s\" is not a state code", s + n - 12);
	plen = n - 12;
	while (plen && s[plen - 1] == ' ')
		plen--;
	if (plen == 0)
		return bad_record(c, 1, "plate: empty");
	if (plen > HOTLIST_PLATE_MAX - 2)
		return bad_record(c, 9, "plate: longer than 8 characters");
	for (p = 0; p < plen; p++) {
		if (!isupper((unsigned char)s[p]) && !isdigit((unsigned char)s[p]))
			return bad_record(c, p + 1, "plate: '%c' is not A-Z or 0-9", s[p]);
		e.plate[p] = s[p];
	}
	e.category = (uint8_t)category;
	e.effective_usec = date;
	return emit(c, &e);
}

static int
parse_cadoj(struct ctx *c, const char *buf, size_t len, int category)
{
	struct line l;
	size_t pos = 0, col, count;
	bool trailer = false;
	int r;

	c->line = 1;
	if (!next_line(buf, len, &pos, &l))
		return bad_file(c, 1, "empty file");
	if ((r = cadoj_header(c, &l)) < 0)
		return r;
	while (next_line(buf, len, &pos, &l)) {
		c->line++;
		if (trailer)
			return bad_file(c, 1, "data after the trailer");
		if (l.len >= 12 && memcmp(l.s, "TOTAL RECORD", 12) == 0) {
			if ((col = first_bad_byte(&l, false)))
				return bad_file(c, col, "trailer: byte 0x%02X not allowed",
				    (unsigned char)l.s[col - 1]);
			if (l.len != 20 || l.s[12] != ' ' || !all_digits(l.s + 13, 7))
				return bad_file(c, 13, "trailer: expected \"TOTAL RECORD NNNNNNN\"");
			count = num(l.s + 13, 7);
			if (count != c->list->n_records)
				return bad_file(c, 14, "trailer: count %zu, but %zu records", count,
				    c->list->n_records);
			trailer = true;
			continue;
		}
		c->list->n_records++;
		if ((r = cadoj_record(c, &l, category)) < 0)
			return r;
	}
	if (!trailer) {
		c->line++;
		return bad_file(c, 1, "missing trailer \"TOTAL RECORD NNNNNNN\"");
	}
	return 0;
}

/* ---- NCIC-style fixed width ----------------------------------------- */

/* Field layout: name, offset, width; 65 columns, then a description. */
enum { NIC = 0, ORI = 10, DATE = 19, LIC = 27, LIS = 37, LIY = 39, LIT = 43, VYR = 45,
	VMA = 49, VMO = 53, VST = 56, VCO = 58, NCIC_FIXED = 65 };

static bool
field_is(const char *s, size_t n, int (*pred)(int), bool blank_ok)
{
	size_t i;
	bool blank = true;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ')
			continue;
		blank = false;
		if (!pred((unsigned char)s[i]))
			return false;
	}
	return blank_ok || !blank;
}

static int
is_upper_or_digit(int ch)
{
	return isupper(ch) || isdigit(ch);
}

static int
is_color(int ch)
{
	return isupper(ch) || ch == '/';
}

/* Appends s[0..n) trimmed, with a space before it if *len > 0. */
static void
desc_add(char *d, size_t *len, size_t size, const char *s, size_t n)
{
	trim(&s, &n);
	if (!n || *len + n + 2 > size)
		return;
	if (*len)
		d[(*len)++] = ' ';
	memcpy(d + *len, s, n);
	*len += n;
}

static int
ncic_record(struct ctx *c, const struct line *l)
{
	struct hotlist_entry e = { 0 };
	const char *s = l->s;
	char desc[HOTLIST_TEXT_MAX + 1];
	size_t col, n, p, dlen = 0;
	int64_t date;
	int cat;

	if ((col = first_bad_byte(l, false)))
		return bad_byte(c, col, l);
	if (l->len == 0)
		return bad_record(c, 1, "empty line");
	if (l->len < NCIC_FIXED)
		return bad_record(c, l->len + 1, "short line: %zu characters, a record needs %d",
		    l->len, NCIC_FIXED);
	if (!isupper((unsigned char)s[NIC]))
		return bad_record(c, NIC + 1, "NIC: list code '%c' is not a letter", s[NIC]);
	if (!all_digits(s + NIC + 1, 9))
		return bad_record(c, NIC + 2, "NIC: expected a letter and 9 digits");
	cat = c->codes.category[(unsigned char)s[NIC]];
	if (cat == HOTLIST_CAT_NONE)
		return bad_record(c, NIC + 1, "NIC: list code '%c' is not configured", s[NIC]);
	if (!isupper((unsigned char)s[ORI]) || !isupper((unsigned char)s[ORI + 1]) ||
	    !field_is(s + ORI + 2, 7, is_upper_or_digit, false))
		return bad_record(c, ORI + 1, "ORI: expected 2 letters and 7 letters or digits");
	for (p = ORI; p < ORI + 9; p++)
		if (s[p] == ' ')
			return bad_record(c, p + 1, "ORI: space inside");
	if (!all_digits(s + DATE, 8))
		return bad_record(c, DATE + 1, "date: expected YYYYMMDD");
	if ((date = parse_ymd8(c, s + DATE)) < 0)
		return bad_record(c, DATE + 1, "date: no such day");
	/* LIC: left-justified, space padded. */
	for (n = 10; n && s[LIC + n - 1] == ' '; n--)
		;
	if (n == 0)
		return bad_record(c, LIC + 1, "LIC: empty");
	for (p = 0; p < n; p++) {
		if (!is_upper_or_digit((unsigned char)s[LIC + p]))
			return bad_record(c, LIC + p + 1, "LIC: '%c' is not A-Z or 0-9", s[LIC + p]);
		e.plate[p] = s[LIC + p];
	}
	e.state[0] = s[LIS];
	e.state[1] = s[LIS + 1];
	if (!hotlist_state_valid(e.state))
		return bad_record(c, LIS + 1, "LIS: \"%.2s\" is not a state code", s + LIS);
	if (!field_is(s + LIY, 4, isdigit, true) || (s[LIY] != ' ' && !all_digits(s + LIY, 4)))
		return bad_record(c, LIY + 1, "LIY: expected a year or blanks");
	if (!field_is(s + LIT, 2, isupper, true))
		return bad_record(c, LIT + 1, "LIT: expected a plate type code or blanks");
	if (!field_is(s + VYR, 4, isdigit, true) || (s[VYR] != ' ' && !all_digits(s + VYR, 4)))
		return bad_record(c, VYR + 1, "VYR: expected a year or blanks");
	if (!field_is(s + VMA, 4, is_upper_or_digit, true))
		return bad_record(c, VMA + 1, "VMA: expected a make code or blanks");
	if (!field_is(s + VMO, 3, is_upper_or_digit, true))
		return bad_record(c, VMO + 1, "VMO: expected a model code or blanks");
	if (!field_is(s + VST, 2, is_upper_or_digit, true))
		return bad_record(c, VST + 1, "VST: expected a style code or blanks");
	if (!field_is(s + VCO, 7, is_color, true))
		return bad_record(c, VCO + 1, "VCO: expected a color code or blanks");
	if (l->len - NCIC_FIXED > HOTLIST_TEXT_MAX - 32)
		return bad_record(c, NCIC_FIXED + 1, "description longer than %d characters",
		    HOTLIST_TEXT_MAX - 32);
	/* The vehicle, as the alert shows it: "2015 TOYT CAM 4D BLK/WHI". */
	desc_add(desc, &dlen, sizeof(desc), s + VYR, 4);
	desc_add(desc, &dlen, sizeof(desc), s + VMA, 4);
	desc_add(desc, &dlen, sizeof(desc), s + VMO, 3);
	desc_add(desc, &dlen, sizeof(desc), s + VST, 2);
	desc_add(desc, &dlen, sizeof(desc), s + VCO, 7);
	desc_add(desc, &dlen, sizeof(desc), s + NCIC_FIXED, l->len - NCIC_FIXED);
	e.category = (uint8_t)cat;
	e.effective_usec = date;
	if (dlen && !(e.description = intern(c, desc, dlen)))
		return -ENOMEM;
	return emit(c, &e);
}

static int
parse_ncic(struct ctx *c, const char *buf, size_t len)
{
	struct line l;
	size_t pos = 0;
	int r;

	if (len == 0) {
		c->line = 1;
		return bad_file(c, 1, "empty file");
	}
	while (next_line(buf, len, &pos, &l)) {
		c->line++;
		c->list->n_records++;
		if ((r = ncic_record(c, &l)) < 0)
			return r;
	}
	return 0;
}

/* ---- delimited ------------------------------------------------------ */

static const struct {
	const char *name;
	int column;
} column_names[] = {
	{ "plate", HOTLIST_COL_PLATE }, { "lic", HOTLIST_COL_PLATE },
	{ "license", HOTLIST_COL_PLATE }, { "licence", HOTLIST_COL_PLATE },
	{ "plate-number", HOTLIST_COL_PLATE }, { "tag", HOTLIST_COL_PLATE },
	{ "state", HOTLIST_COL_STATE }, { "lis", HOTLIST_COL_STATE },
	{ "plate-state", HOTLIST_COL_STATE },
	{ "category", HOTLIST_COL_CATEGORY }, { "type", HOTLIST_COL_CATEGORY },
	{ "list", HOTLIST_COL_CATEGORY },
	{ "priority", HOTLIST_COL_PRIORITY },
	{ "effective", HOTLIST_COL_EFFECTIVE }, { "start", HOTLIST_COL_EFFECTIVE },
	{ "from", HOTLIST_COL_EFFECTIVE }, { "entered", HOTLIST_COL_EFFECTIVE },
	{ "expiry", HOTLIST_COL_EXPIRY }, { "expires", HOTLIST_COL_EXPIRY },
	{ "expiration", HOTLIST_COL_EXPIRY }, { "until", HOTLIST_COL_EXPIRY },
	{ "case", HOTLIST_COL_CASE }, { "case-number", HOTLIST_COL_CASE },
	{ "case-no", HOTLIST_COL_CASE }, { "cad", HOTLIST_COL_CASE },
	{ "reason", HOTLIST_COL_REASON },
	{ "description", HOTLIST_COL_DESCRIPTION }, { "vehicle", HOTLIST_COL_DESCRIPTION },
	{ "desc", HOTLIST_COL_DESCRIPTION }, { "remarks", HOTLIST_COL_DESCRIPTION },
	{ "source", HOTLIST_COL_SOURCE },
	{ "person", HOTLIST_COL_PERSON }, { "person-associated", HOTLIST_COL_PERSON },
	{ "-", HOTLIST_COL_IGNORE }, { "ignore", HOTLIST_COL_IGNORE },
	/* Person data: policy keeps alerts about vehicles; such columns are
	 * dropped without being read. */
	{ "name", HOTLIST_COL_PERSON_DATA }, { "first-name", HOTLIST_COL_PERSON_DATA },
	{ "last-name", HOTLIST_COL_PERSON_DATA }, { "middle-name", HOTLIST_COL_PERSON_DATA },
	{ "owner", HOTLIST_COL_PERSON_DATA }, { "registered-owner", HOTLIST_COL_PERSON_DATA },
	{ "dob", HOTLIST_COL_PERSON_DATA }, { "date-of-birth", HOTLIST_COL_PERSON_DATA },
	{ "birth-date", HOTLIST_COL_PERSON_DATA }, { "birthdate", HOTLIST_COL_PERSON_DATA },
	{ "ssn", HOTLIST_COL_PERSON_DATA }, { "address", HOTLIST_COL_PERSON_DATA },
	{ "dl", HOTLIST_COL_PERSON_DATA }, { "oln", HOTLIST_COL_PERSON_DATA },
	{ "driver-license", HOTLIST_COL_PERSON_DATA }, { "phone", HOTLIST_COL_PERSON_DATA },
};

/* Column kind for a header name; free fields when unknown and allowed. */
static int
column_kind(const char *s, size_t n, bool allow_free)
{
	char folded[64];
	size_t i;

	if (n == 0 || n >= sizeof(folded))
		return -EINVAL;
	for (i = 0; i < n; i++)
		folded[i] = (s[i] == ' ' || s[i] == '_') ? '-' : (char)tolower((unsigned char)s[i]);
	folded[n] = '\0';
	for (i = 0; i < sizeof(column_names) / sizeof(column_names[0]); i++)
		if (strcmp(folded, column_names[i].name) == 0)
			return column_names[i].column;
	return allow_free ? HOTLIST_COL_FREE : -EINVAL;
}

struct field {
	const char *s;		/* unquoted text; may point into c's scratch */
	size_t n;
	size_t col;		/* 1-based column of the field's first byte */
};

/*
 * Split one line at the delimiter; double quotes protect delimiters and
 * "" stands for a quote.  Unquoted text of quoted fields goes to scratch.
 * Returns the number of fields, or -EINVAL with *ret_col the bad column.
 */
static int
split(const struct line *l, char delim, struct field *f, size_t max, char *scratch,
    size_t *ret_col)
{
	size_t i = 0, n = 0, out = 0;

	for (;;) {
		if (n == max) {
			*ret_col = i + 1;
			return -E2BIG;
		}
		f[n].col = i + 1;
		if (i < l->len && l->s[i] == '"') {
			f[n].s = scratch + out;
			for (i++;; i++) {
				if (i >= l->len) {
					*ret_col = f[n].col;
					return -EINVAL;
				}
				if (l->s[i] == '"') {
					if (i + 1 < l->len && l->s[i + 1] == '"') {
						scratch[out++] = '"';
						i++;
						continue;
					}
					break;
				}
				scratch[out++] = l->s[i];
			}
			f[n].n = (size_t)(scratch + out - f[n].s);
			i++;
			if (i < l->len && l->s[i] != delim) {
				*ret_col = i + 1;
				return -EINVAL;
			}
		} else {
			f[n].s = l->s + i;
			while (i < l->len && l->s[i] != delim)
				i++;
			f[n].n = (size_t)(l->s + i - f[n].s);
		}
		n++;
		if (i >= l->len)
			return (int)n;
		i++;	/* the delimiter */
	}
}

static char
detect_delimiter(const struct line *l)
{
	size_t i, semi = 0, comma = 0, tab = 0;

	for (i = 0; i < l->len; i++) {
		semi += l->s[i] == ';';
		comma += l->s[i] == ',';
		tab += l->s[i] == '\t';
	}
	if (tab >= semi && tab >= comma && tab)
		return '\t';
	if (semi >= comma && semi)
		return ';';
	return ',';
}

static int
set_columns(struct ctx *c, const struct field *f, size_t n, bool from_header)
{
	bool have_plate = false, have_category = false;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		const char *s = f[i].s;
		size_t len = f[i].n;

		trim(&s, &len);
		if ((k = column_kind(s, len, from_header)) < 0)
			return bad_file(c, f[i].col, "column %zu: \"%.*s\" is not a column name", i + 1,
			    (int)(len > 40 ? 40 : len), s);
		c->columns[i] = k;
		have_plate |= k == HOTLIST_COL_PLATE;
		have_category |= k == HOTLIST_COL_CATEGORY;
		if (k == HOTLIST_COL_PERSON_DATA)
			c->list->n_person_fields++;
		if (k == HOTLIST_COL_FREE && !(c->column_names[i] = strndup(s, len)))
			return -ENOMEM;
	}
	c->n_columns = n;
	if (!have_plate)
		return bad_file(c, 1, "no plate column");
	if (!have_category && c->opts->default_category <= HOTLIST_CAT_NONE)
		return bad_file(c, 1, "no category column and no default category");
	return 0;
}

static int
parse_bool(const char *s, size_t n)
{
	static const char *const yes[] = { "1", "y", "yes", "true", NULL };
	static const char *const no[] = { "0", "n", "no", "false", "", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
			return 1;
	for (i = 0; no[i]; i++)
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
			return 0;
	return -EINVAL;
}

/* Category for a text (immigration ones included: the caller refuses them). */
static int
category_cached(struct ctx *c, const char *text, size_t len)
{
	size_t i;
	int k;

	for (i = 0; i < c->n_cats; i++)
		if (c->cats[i].len == len && memcmp(c->cats[i].text, text, len) == 0)
			return c->cats[i].category;
	if (hotlist_text_is_prohibited(text))
		k = HOTLIST_CAT_IMMIGRATION;
	else if ((k = hotlist_category_from_name(text)) < 0)
		return k;
	if (len < sizeof(c->cats[0].text)) {
		i = c->n_cats < 8 ? c->n_cats++ : len % 8;
		memcpy(c->cats[i].text, text, len);
		c->cats[i].len = len;
		c->cats[i].category = k;
	}
	return k;
}

static int
delimited_record(struct ctx *c, const struct line *l, char *scratch)
{
	struct hotlist_entry e = { 0 };
	struct field f[64];
	char tmp[HOTLIST_TEXT_MAX + 1], desc[HOTLIST_TEXT_MAX + 1];
	size_t col, i, dlen = 0, free_len = 0;
	char free_text[HOTLIST_TEXT_MAX + 1];
	bool excluded = false;
	int n, k, r;

	if ((col = first_bad_byte(l, true)))
		return bad_byte(c, col, l);
	if ((n = split(l, c->delim, f, 64, scratch, &col)) < 0)
		return bad_record(c, col, n == -E2BIG ? "too many fields" : "unbalanced quote");
	if ((size_t)n != c->n_columns)
		return bad_record(c, (size_t)n < c->n_columns ? l->len + 1 : f[c->n_columns].col,
		    "%d fields, expected %zu", n, c->n_columns);
	e.category = (uint8_t)(c->opts->default_category > 0 ? c->opts->default_category : 0);
	for (i = 0; i < (size_t)n; i++) {
		const char *s = f[i].s;
		size_t len = f[i].n;
		int64_t t;

		trim(&s, &len);
		col = f[i].col;
		if (c->columns[i] == HOTLIST_COL_IGNORE || c->columns[i] == HOTLIST_COL_PERSON_DATA)
			continue;
		if (len > HOTLIST_TEXT_MAX)
			return bad_record(c, col, "field longer than %d characters", HOTLIST_TEXT_MAX);
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		switch (c->columns[i]) {
		case HOTLIST_COL_PLATE:
			if ((r = hotlist_plate_normalize(tmp, true, e.plate)) < 0)
				return bad_record(c, col, "plate: \"%s\" is not a plate or a pattern "
				    "with at least %d letters or digits", tmp, HOTLIST_PATTERN_MIN_LITERALS);
			if (r == 1)
				e.flags |= HOTLIST_F_WILDCARD;
			break;
		case HOTLIST_COL_STATE:
			for (k = 0; k < 2 && tmp[k]; k++)
				tmp[k] = (char)toupper((unsigned char)tmp[k]);
			if (len && !hotlist_state_valid(tmp))
				return bad_record(c, col, "state: \"%s\" is not a state code", tmp);
			memcpy(e.state, tmp, len ? 3 : 1);
			break;
		case HOTLIST_COL_CATEGORY:
			if (len == 0 && c->opts->default_category > 0)
				break;
			if ((k = category_cached(c, tmp, len)) < 0)
				return bad_record(c, col, "category: \"%s\" is not a category", tmp);
			if (hotlist_category_is_prohibited(k)) {
				excluded = true;
				break;
			}
			e.category = (uint8_t)k;
			break;
		case HOTLIST_COL_PRIORITY:
			if (!len)
				break;
			if (len > 3 || !all_digits(s, len) || num(s, len) < 1 || num(s, len) > 100)
				return bad_record(c, col, "priority: expected 1 to 100");
			e.priority = (uint8_t)num(s, len);
			break;
		case HOTLIST_COL_EFFECTIVE:
		case HOTLIST_COL_EXPIRY:
			if (!len)
				break;
			if (parse_date_text(c, s, len, c->columns[i] == HOTLIST_COL_EXPIRY, &t) < 0)
				return bad_record(c, col, "date: \"%s\" is not YYYY-MM-DD[ HH:MM[:SS]]",
				    tmp);
			if (c->columns[i] == HOTLIST_COL_EFFECTIVE)
				e.effective_usec = t;
			else
				e.expiry_usec = t;
			break;
		case HOTLIST_COL_CASE:
			if (len && !(e.case_no = intern(c, s, len)))
				return -ENOMEM;
			break;
		case HOTLIST_COL_REASON:
			if (len && !(e.reason = intern(c, s, len)))
				return -ENOMEM;
			break;
		case HOTLIST_COL_SOURCE:
			if (len && !(e.source = intern(c, s, len)))
				return -ENOMEM;
			break;
		case HOTLIST_COL_DESCRIPTION:
			desc_add(desc, &dlen, sizeof(desc), s, len);
			break;
		case HOTLIST_COL_PERSON:
			if ((r = parse_bool(s, len)) < 0)
				return bad_record(c, col, "person: expected yes or no");
			if (r)
				e.flags |= HOTLIST_F_PERSON;
			break;
		case HOTLIST_COL_FREE:
			if (!len)
				break;
			r = snprintf(tmp, sizeof(tmp), "%s=%.*s", c->column_names[i], (int)len, s);
			if (r > 0 && free_len + (size_t)r + 2 < sizeof(free_text)) {
				if (free_len)
					free_text[free_len++] = ';', free_text[free_len++] = ' ';
				memcpy(free_text + free_len, tmp, (size_t)r);
				free_len += (size_t)r;
			}
			break;
		}
	}
	if (!e.plate[0])
		return bad_record(c, 1, "plate: empty");
	if (excluded) {
		c->list->n_excluded++;
		return REC_OK;
	}
	if (e.category == HOTLIST_CAT_NONE)
		return bad_record(c, 1, "category: empty");
	if (e.expiry_usec && e.effective_usec && e.expiry_usec <= e.effective_usec)
		return bad_record(c, 1, "expiry is not after the effective date");
	if (free_len)
		desc_add(desc, &dlen, sizeof(desc), free_text, free_len);
	if (dlen && !(e.description = intern(c, desc, dlen)))
		return -ENOMEM;
	return emit(c, &e);
}

static int
parse_delimited(struct ctx *c, const char *buf, size_t len)
{
	struct field f[64];
	struct line l;
	size_t pos = 0, col;
	char *scratch = NULL;
	int n, r = 0;

	c->line = 1;
	if (!next_line(buf, len, &pos, &l))
		return bad_file(c, 1, "empty file");
	/* Longest line bounds the unquoted text of any field. */
	if (!(scratch = malloc(len + 1)))
		return -ENOMEM;
	c->delim = c->opts->delimiter ? c->opts->delimiter : detect_delimiter(&l);
	if (c->opts->columns) {
		struct line map = { c->opts->columns, strlen(c->opts->columns) };

		/* Errors in the map are the caller's, not the file's. */
		c->name = "column map";
		if ((n = split(&map, ',', f, 64, scratch, &col)) < 0) {
			r = bad_file(c, col, "bad quoting");
			goto out;
		}
		if ((r = set_columns(c, f, (size_t)n, false)) < 0)
			goto out;
		c->name = c->label;
		pos = 0;
		c->line = 0;
	} else {
		if ((col = first_bad_byte(&l, true))) {
			r = bad_file(c, col, "header: byte 0x%02X not allowed",
			    (unsigned char)l.s[col - 1]);
			goto out;
		}
		if ((n = split(&l, c->delim, f, 64, scratch, &col)) < 0) {
			r = bad_file(c, col, "header: bad");
			goto out;
		}
		if ((r = set_columns(c, f, (size_t)n, true)) < 0)
			goto out;
	}
	while (next_line(buf, len, &pos, &l)) {
		c->line++;
		c->list->n_records++;
		if ((r = delimited_record(c, &l, scratch)) < 0)
			goto out;
	}
	r = 0;
out:
	free(scratch);
	return r;
}

/* ---- entry points --------------------------------------------------- */

static size_t
count_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t n = 1;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

int
hotlist_parse_buffer(const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, struct hotlist **ret, char **ret_error,
    char **ret_report)
{
	struct ctx c = { .name = name, .label = name, .opts = opts };
	const char *slash;
	size_t i;
	int r;

	if (opts->format < 0 || opts->format >= _HOTLIST_FMT_MAX)
		return -EINVAL;
	if ((r = hotlist_codes_parse(HOTLIST_CODES_DEFAULT, &c.codes)) < 0)
		return r;
	if (opts->codes)
		c.codes = *opts->codes;
	if ((r = hotlist_new(opts->source ? opts->source : hotlist_format_source(opts->format),
	    &c.list)) < 0)
		return r;
	c.list->format = opts->format;
	slash = strrchr(name, '/');
	if (!(c.list->file_name = strdup(slash ? slash + 1 : name)) ||
	    !(c.source = hotlist_pool_intern(c.list->pool, c.list->source,
	    strlen(c.list->source)))) {
		r = -ENOMEM;
		goto out;
	}
	if (sodium_init() < 0 || crypto_hash_sha256(c.list->sha256, (const unsigned char *)buf,
	    len) != 0) {
		r = -EIO;
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(c.list->sha256_hex + 2 * i, 3, "%02x", c.list->sha256[i]);
	/* One allocation for the entries: a line is at most one entry. */
	if (!opts->on_entry && (r = hotlist_reserve(c.list, count_lines(buf, len))) < 0)
		goto out;
	switch (opts->format) {
	case HOTLIST_FMT_CADOJ_SVS:
		r = parse_cadoj(&c, buf, len, HOTLIST_CAT_STOLEN_VEHICLE);
		break;
	case HOTLIST_FMT_CADOJ_SLR:
		r = parse_cadoj(&c, buf, len, HOTLIST_CAT_STOLEN_PLATE);
		break;
	case HOTLIST_FMT_CADOJ_SFR:
		r = parse_cadoj(&c, buf, len, HOTLIST_CAT_FELONY_VEHICLE);
		break;
	case HOTLIST_FMT_NCIC:
		r = parse_ncic(&c, buf, len);
		break;
	default:
		r = parse_delimited(&c, buf, len);
		break;
	}
out:
	for (i = 0; i < 64; i++)
		free(c.column_names[i]);
	if (r < 0) {
		hotlist_free(c.list);
		if (ret_error && r == -EINVAL && c.error) {
			*ret_error = c.error;
			c.error = NULL;
		}
		free(c.error);
		free(c.report);
		return r;
	}
	free(c.error);
	if (c.report_lines > REPORT_MAX_LINES) {
		char more[96];

		snprintf(more, sizeof(more), "%s: %zu more skipped records not listed", name,
		    c.report_lines - REPORT_MAX_LINES);
		if (report_add(&c, more) < 0) {
			hotlist_free(c.list);
			free(c.report);
			return -ENOMEM;
		}
	}
	if (ret_report)
		*ret_report = c.report;
	else
		free(c.report);
	*ret = c.list;
	return 0;
}

int
hotlist_parse_file(const char *path, const struct hotlist_parse_opts *opts,
    struct hotlist **ret, char **ret_error, char **ret_report)
{
	const char *name = opts->display_name ? opts->display_name : path;
	struct stat st;
	void *map = NULL;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		if (ret_error && asprintf(ret_error, "%s: not a regular file", name) < 0)
			*ret_error = NULL;
		goto out;
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			r = -errno;
			goto out;
		}
		(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	}
	r = hotlist_parse_buffer(name, map ? map : "", (size_t)st.st_size, opts, ret, ret_error,
	    ret_report);
out:
	if (map)
		munmap(map, (size_t)st.st_size);
	close(fd);
	return r;
}
