/*
 * Alert suppression: the same plate and entry alert once within a
 * cool-down (AlertCooldownSec).  Every read is still stored; a repeat
 * within the cool-down makes no new hit (alpr-matchd skips it), so the
 * deputy is not handed the same car again.  alpr-alertd keeps a cool-down
 * of its own for what reaches it anyway (after a matchd restart, which
 * empties this table): listed, not announced.
 *
 * Runs in alpr-matchd.  A fixed-size open-addressing table of (key,
 * last alert time); keys are a hash of the plate read and the entry id,
 * so no plate text is kept here.  When the table is full, slots whose
 * cool-down has passed are reused, and if none has, the oldest is: at
 * worst a car alerts twice, never not at all.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hotlist/hotlist.h"
#include "hotlist/internal.h"

#define PROBE_MAX 16

struct slot {
	uint64_t key;		/* 0: free */
	int64_t last_usec;
};

struct hotlist_cooldown {
	struct slot *slots;
	size_t mask;
	int64_t cooldown_usec;
};

int
hotlist_cooldown_new(size_t capacity, int64_t cooldown_usec, struct hotlist_cooldown **ret)
{
	struct hotlist_cooldown *c;
	size_t n = 64;

	if (cooldown_usec < 0)
		return -EINVAL;
	while (n < capacity * 2 && n < (SIZE_MAX >> 2))
		n *= 2;
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	if (!(c->slots = calloc(n, sizeof(*c->slots)))) {
		free(c);
		return -ENOMEM;
	}
	c->mask = n - 1;
	c->cooldown_usec = cooldown_usec;
	*ret = c;
	return 0;
}

void
hotlist_cooldown_free(struct hotlist_cooldown *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

void
hotlist_cooldown_set(struct hotlist_cooldown *c, int64_t cooldown_usec)
{
	if (cooldown_usec >= 0)
		c->cooldown_usec = cooldown_usec;
}

static uint64_t
key_of(const char *plate, int64_t entry_id)
{
	uint64_t k = hotlist_hash_bytes(plate, strlen(plate)) ^
	    ((uint64_t)entry_id * UINT64_C(0x9e3779b97f4a7c15));

	return k ? k : 1;
}

bool
hotlist_cooldown_check(struct hotlist_cooldown *c, const char *plate, int64_t entry_id,
    int64_t now_usec)
{
	uint64_t key = key_of(plate, entry_id);
	struct slot *s, *victim = NULL;
	size_t i, j;

	for (i = 0; i < PROBE_MAX; i++) {
		s = &c->slots[(key + i) & c->mask];
		if (s->key == key) {
			/*
			 * The same capture time is the same read checked again
			 * (alpr-matchd matches a batch again when its commit
			 * failed): it alerts, or the failure would have eaten
			 * its hit.  A clock stepped back (a time before the last
			 * alert) alerts too: how long ago that was is unknown.
			 */
			if (now_usec == s->last_usec)
				return true;
			if (now_usec - s->last_usec < c->cooldown_usec && now_usec > s->last_usec)
				return false;
			s->last_usec = now_usec;
			return true;
		}
		/* The first free or cooled-down slot takes the key if it is not found. */
		if (!victim && (!s->key || now_usec - s->last_usec >= c->cooldown_usec))
			victim = s;
		if (!s->key)
			break;	/* slots are never emptied: the key is not further on */
	}
	if (!victim) {
		/* Every slot in reach is cooling down: take the oldest. */
		victim = &c->slots[key & c->mask];
		for (j = 1; j < PROBE_MAX; j++) {
			s = &c->slots[(key + j) & c->mask];
			if (s->last_usec < victim->last_usec)
				victim = s;
		}
	}
	victim->key = key;
	victim->last_usec = now_usec;
	return true;
}
