/* lib/hotlist internals shared by its files; not installed. */
#ifndef ALPR_HOTLIST_INTERNAL_H
#define ALPR_HOTLIST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotlist/hotlist.h"

struct hotlist_pool;

uint64_t hotlist_hash_bytes(const void *p, size_t n);
struct hotlist_pool *hotlist_pool_new(void);
void hotlist_pool_free(struct hotlist_pool *p);
const char *hotlist_pool_intern(struct hotlist_pool *p, const char *s, size_t n);
/* Room for n entries in all, so a parse allocates once. */
int hotlist_reserve(struct hotlist *l, size_t n);
/* Appends an entry whose strings are already in l's pool. */
int hotlist_append(struct hotlist *l, const struct hotlist_entry *e);

/* MADV_HUGEPAGE on the whole pages of a large array (advice only). */
void hotlist_advise_huge(void *p, size_t bytes);

/* Entry keys for the diff (entry.c): see hotlist_diff(). */
struct hotlist_keyset;
uint64_t hotlist_entry_key(const struct hotlist_entry *e);
int hotlist_keyset_new(size_t n, struct hotlist_keyset **ret);
void hotlist_keyset_free(struct hotlist_keyset *k);
int hotlist_keyset_add(struct hotlist_keyset *k, uint64_t key);
/* True (and the key marked) if key is in k. */
bool hotlist_keyset_mark(struct hotlist_keyset *k, uint64_t key);
size_t hotlist_keyset_unmarked(const struct hotlist_keyset *k);
/* The same for n keys at once (faster on a large set); mark returns how many were in k. */
int hotlist_keyset_add_many(struct hotlist_keyset *k, const uint64_t *keys, size_t n);
size_t hotlist_keyset_mark_many(struct hotlist_keyset *k, const uint64_t *keys, size_t n);

/*
 * A list version's entries packed in chunks (chunk.c has the format).
 * The writer takes entries until a chunk is full (-ENOSPC: write it,
 * reset, add again); finish gives its two BLOBs, valid until the next
 * reset.  A chunk read back is opened (checked) before use; its entries'
 * strings point into the BLOBs.
 */
#define HOTLIST_CHUNK_FORMAT 1
#define HOTLIST_CHUNK_RECORDS 1024
#define HOTLIST_CHUNK_SOURCES 255
struct hotlist_chunk_writer;
int hotlist_chunk_writer_new(struct hotlist_chunk_writer **ret);
void hotlist_chunk_writer_free(struct hotlist_chunk_writer *w);
void hotlist_chunk_writer_reset(struct hotlist_chunk_writer *w);
uint32_t hotlist_chunk_writer_count(const struct hotlist_chunk_writer *w);
/* e->source, else default_source; -ENOSPC when the chunk is full. */
int hotlist_chunk_add(struct hotlist_chunk_writer *w, const struct hotlist_entry *e,
    const char *default_source);
int hotlist_chunk_finish(struct hotlist_chunk_writer *w, const void **ret_records,
    size_t *ret_rlen, const void **ret_texts, size_t *ret_tlen);

struct hotlist_chunk {
	const unsigned char *records;
	const unsigned char *texts;	/* NULL when opened without them */
	size_t texts_len;
	uint32_t n;
	size_t n_sources;
	const char *sources[HOTLIST_CHUNK_SOURCES];
};
/*
 * Checks a chunk's BLOBs (texts may be NULL: not read); -EBADMSG if
 * damaged, -EPROTO if of another format version.
 */
int hotlist_chunk_open(const void *records, size_t rlen, const void *texts, size_t tlen,
    struct hotlist_chunk *ret);
/* Entry i without its texts (id unset). */
int hotlist_chunk_entry(const struct hotlist_chunk *c, uint32_t i, struct hotlist_entry *e);
/*
 * Entry i's case number, reason and description; *off is where its texts
 * start (0 for the first record; each call moves it past the record's).
 */
int hotlist_chunk_texts(const struct hotlist_chunk *c, uint32_t i, size_t *off,
    struct hotlist_entry *e);

#endif
