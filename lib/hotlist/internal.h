/* lib/hotlist internals shared by its files; not installed. */
#ifndef ALPR_HOTLIST_INTERNAL_H
#define ALPR_HOTLIST_INTERNAL_H

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

#endif
