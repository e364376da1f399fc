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

#endif
