/*
 * A hot-list version's entries packed in chunks: the form the import
 * writes and alpr-matchd's loader reads in bulk (one BLOB per 1,024
 * entries instead of one SQLite row per entry).
 *
 * Runs in alpr-matchd (import, load, a hit's entry).  A chunk read back
 * is checked before use (magic, format version, sizes, CRC-32 of each
 * part): a damaged chunk fails the load, which keeps the old index.
 *
 * A chunk is two BLOBs:
 *  records: a 32-byte header, then n fixed 40-byte records, then the
 *    chunk's source names (NUL-terminated, at most 255).  Everything the
 *    index needs, so a load never reads the texts.
 *      header: "AHLC", u8 format version, u8 record size, u16 sources,
 *              u32 n, u32 CRC-32 of the rest of records, u32 CRC-32 of
 *              texts, u32 length of texts, 12 bytes zero
 *      record: plate[16] (NUL-padded, a pattern as given), state[2],
 *              u8 category, u8 priority, u8 flags, u8 source (index into
 *              the chunk's names), u8 texts mask, 1 byte zero,
 *              i64 effective usec, i64 expiry usec
 *  texts: for each record whose mask says so, in order, its case
 *    number, reason and vehicle description, each NUL-terminated.
 * Integers are little-endian.  Category numbers are enum
 * hotlist_category's: a change to that enum needs a new format version.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hotlist/internal.h"

#define HEADER 32
#define RECORD 40
#define MAGIC "AHLC"
#define T_CASE 0x01
#define T_REASON 0x02
#define T_DESCRIPTION 0x04

_Static_assert(HOTLIST_PATTERN_MAX + 1 == 16, "a record's plate field is 16 bytes");
_Static_assert(HOTLIST_CAT_IMMIGRATION == 8 && _HOTLIST_CAT_MAX == 9,
    "chunk format 1 stores category numbers: a new category needs a new format version");

struct hotlist_chunk_writer {
	unsigned char *rec;	/* header + records, then the names at finish */
	size_t rec_len, rec_alloc;
	unsigned char *txt;
	size_t txt_len, txt_alloc;
	char *sources[HOTLIST_CHUNK_SOURCES];
	size_t n_sources;
	uint32_t n;
};

static int
reserve(unsigned char **p, size_t *alloc, size_t need)
{
	size_t n = *alloc ? *alloc : 4096;
	unsigned char *q;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, n)))
		return -ENOMEM;
	*p = q;
	*alloc = n;
	return 0;
}

int
hotlist_chunk_writer_new(struct hotlist_chunk_writer **ret)
{
	struct hotlist_chunk_writer *w = calloc(1, sizeof(*w));

	if (!w || reserve(&w->rec, &w->rec_alloc, HEADER + HOTLIST_CHUNK_RECORDS * RECORD +
	    HOTLIST_CHUNK_SOURCES * (HOTLIST_TEXT_MAX + 1)) < 0) {
		free(w);
		return -ENOMEM;
	}
	w->rec_len = HEADER;
	*ret = w;
	return 0;
}

void
hotlist_chunk_writer_reset(struct hotlist_chunk_writer *w)
{
	size_t i;

	for (i = 0; i < w->n_sources; i++)
		free(w->sources[i]);
	w->n_sources = 0;
	w->n = 0;
	w->rec_len = HEADER;
	w->txt_len = 0;
}

void
hotlist_chunk_writer_free(struct hotlist_chunk_writer *w)
{
	if (!w)
		return;
	hotlist_chunk_writer_reset(w);
	free(w->rec);
	free(w->txt);
	free(w);
}

uint32_t
hotlist_chunk_writer_count(const struct hotlist_chunk_writer *w)
{
	return w->n;
}

static void
put64(unsigned char *p, int64_t v)
{
	uint64_t le = htole64((uint64_t)v);

	memcpy(p, &le, 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	uint32_t le = htole32(v);

	memcpy(p, &le, 4);
}

static int64_t
get64(const unsigned char *p)
{
	uint64_t le;

	memcpy(&le, p, 8);
	return (int64_t)le64toh(le);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t le;

	memcpy(&le, p, 4);
	return le32toh(le);
}

static int
add_text(struct hotlist_chunk_writer *w, const char *s)
{
	size_t n = strlen(s);
	int r;

	if ((r = reserve(&w->txt, &w->txt_alloc, w->txt_len + n + 1)) < 0)
		return r;
	memcpy(w->txt + w->txt_len, s, n + 1);
	w->txt_len += n + 1;
	return 0;
}

int
hotlist_chunk_add(struct hotlist_chunk_writer *w, const struct hotlist_entry *e,
    const char *default_source)
{
	const char *src = e->source != NULL ? e->source : default_source != NULL ?
	    default_source : "";
	unsigned char *rec, mask = 0;
	size_t i, plen = strlen(e->plate), txt_len = w->txt_len;
	int r;

	if (w->n == HOTLIST_CHUNK_RECORDS)
		return -ENOSPC;
	if (plen == 0 || plen > HOTLIST_PATTERN_MAX || strlen(src) > HOTLIST_TEXT_MAX ||
	    e->category >= _HOTLIST_CAT_MAX)
		return -EINVAL;
	/* Few sources in a list: a linear search, the last one first. */
	for (i = w->n_sources; i > 0; i--)
		if (strcmp(w->sources[i - 1], src) == 0)
			break;
	if (i == 0) {
		if (w->n_sources == HOTLIST_CHUNK_SOURCES)
			return -ENOSPC;
		if (!(w->sources[w->n_sources++] = strdup(src)))
			return w->n_sources--, -ENOMEM;
		i = w->n_sources;
	}
	if ((e->case_no && (r = add_text(w, e->case_no)) < 0) ||
	    (e->reason && (r = add_text(w, e->reason)) < 0) ||
	    (e->description && (r = add_text(w, e->description)) < 0)) {
		w->txt_len = txt_len;
		return r;
	}
	mask = (unsigned char)((e->case_no ? T_CASE : 0) | (e->reason ? T_REASON : 0) |
	    (e->description ? T_DESCRIPTION : 0));
	rec = w->rec + w->rec_len;
	memset(rec, 0, RECORD);
	memcpy(rec, e->plate, plen);
	if (e->state[0])
		memcpy(rec + 16, e->state, 2);
	rec[18] = e->category;
	rec[19] = e->priority;
	rec[20] = e->flags;
	rec[21] = (unsigned char)(i - 1);
	rec[22] = mask;
	put64(rec + 24, e->effective_usec);
	put64(rec + 32, e->expiry_usec);
	w->rec_len += RECORD;
	w->n++;
	return 0;
}

int
hotlist_chunk_finish(struct hotlist_chunk_writer *w, const void **ret_records, size_t *ret_rlen,
    const void **ret_texts, size_t *ret_tlen)
{
	unsigned char *h = w->rec;
	size_t i, n;

	/* The names after the records (room reserved at new). */
	for (i = 0; i < w->n_sources; i++) {
		n = strlen(w->sources[i]) + 1;
		memcpy(w->rec + w->rec_len, w->sources[i], n);
		w->rec_len += n;
	}
	memset(h, 0, HEADER);
	memcpy(h, MAGIC, 4);
	h[4] = HOTLIST_CHUNK_FORMAT;
	h[5] = RECORD;
	h[6] = (unsigned char)(w->n_sources & 0xff);
	h[7] = (unsigned char)(w->n_sources >> 8);
	put32(h + 8, w->n);
	put32(h + 12, (uint32_t)crc32_z(0, w->rec + HEADER, w->rec_len - HEADER));
	put32(h + 16, (uint32_t)crc32_z(0, w->txt, w->txt_len));
	put32(h + 20, (uint32_t)w->txt_len);
	*ret_records = w->rec;
	*ret_rlen = w->rec_len;
	*ret_texts = w->txt != NULL ? (const void *)w->txt : (const void *)"";
	*ret_tlen = w->txt_len;
	return 0;
}

int
hotlist_chunk_open(const void *records, size_t rlen, const void *texts, size_t tlen,
    struct hotlist_chunk *ret)
{
	const unsigned char *h = records, *p, *end;
	size_t i, n_sources;

	memset(ret, 0, sizeof(*ret));
	if (h == NULL || rlen < HEADER || memcmp(h, MAGIC, 4) != 0)
		return -EBADMSG;
	if (h[4] != HOTLIST_CHUNK_FORMAT || h[5] != RECORD)
		return -EPROTO;	/* written by another format version */
	n_sources = (size_t)h[6] | (size_t)h[7] << 8;
	ret->n = get32(h + 8);
	if (ret->n > HOTLIST_CHUNK_RECORDS || n_sources > HOTLIST_CHUNK_SOURCES ||
	    rlen < HEADER + (size_t)ret->n * RECORD)
		return -EBADMSG;
	if ((uint32_t)crc32_z(0, h + HEADER, rlen - HEADER) != get32(h + 12))
		return -EBADMSG;
	if (texts != NULL && (tlen != get32(h + 20) ||
	    (uint32_t)crc32_z(0, texts, tlen) != get32(h + 16)))
		return -EBADMSG;
	/* The names: each NUL-terminated inside the BLOB. */
	p = h + HEADER + (size_t)ret->n * RECORD;
	end = h + rlen;
	for (i = 0; i < n_sources; i++) {
		const unsigned char *z = memchr(p, 0, (size_t)(end - p));

		if (z == NULL)
			return -EBADMSG;
		ret->sources[i] = (const char *)p;
		p = z + 1;
	}
	ret->n_sources = n_sources;
	ret->records = h + HEADER;
	ret->texts = texts;
	ret->texts_len = texts != NULL ? tlen : 0;
	return 0;
}

int
hotlist_chunk_entry(const struct hotlist_chunk *c, uint32_t i, struct hotlist_entry *e)
{
	const unsigned char *rec = c->records + (size_t)i * RECORD;

	if (i >= c->n || rec[21] >= c->n_sources || rec[15] != 0)
		return -EBADMSG;
	memcpy(e->plate, rec, 16);
	e->state[0] = (char)rec[16];
	e->state[1] = (char)rec[17];
	e->state[2] = '\0';
	e->category = rec[18];
	e->priority = rec[19];
	e->flags = rec[20];
	e->source = c->sources[rec[21]];
	e->effective_usec = get64(rec + 24);
	e->expiry_usec = get64(rec + 32);
	e->case_no = e->reason = e->description = NULL;
	return 0;
}

/* The next text of a record, or NULL past the end of the BLOB. */
static const char *
next_text(const struct hotlist_chunk *c, size_t *off)
{
	const unsigned char *t = c->texts, *z;

	if (*off >= c->texts_len || !(z = memchr(t + *off, 0, c->texts_len - *off)))
		return NULL;
	t += *off;
	*off = (size_t)(z - c->texts) + 1;
	return (const char *)t;
}

int
hotlist_chunk_texts(const struct hotlist_chunk *c, uint32_t i, size_t *off, struct hotlist_entry *e)
{
	unsigned char mask;

	if (i >= c->n || c->texts == NULL)
		return -EBADMSG;
	mask = c->records[(size_t)i * RECORD + 22];
	e->case_no = e->reason = e->description = NULL;
	if (((mask & T_CASE) && !(e->case_no = next_text(c, off))) ||
	    ((mask & T_REASON) && !(e->reason = next_text(c, off))) ||
	    ((mask & T_DESCRIPTION) && !(e->description = next_text(c, off))))
		return -EBADMSG;
	return 0;
}
