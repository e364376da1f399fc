/* Internals of lib/store shared between its files; not installed. */
#ifndef ALPR_STORE_PRIVATE_H
#define ALPR_STORE_PRIVATE_H

#include "store/store.h"

struct store {
	sqlite3 *db;
	char *path;
	char *images;		/* <dir of path>/images */
	store_clock_fn clock;
	void *clock_data;
	sqlite3_stmt *ins_read;	/* kept: matchd inserts all day */
	sqlite3_stmt *find_read;
	bool nosync;		/* STORE_OPEN_TEST_NOSYNC */
	int64_t busy_since_usec;	/* busy_poll(): when this wait began */
	int64_t busy_timeout_usec;	/* and how long it may last */
	struct store_times times;	/* store_times() */
	int depth;		/* store_begin()s not yet committed or rolled back */
	int purge_batch;	/* adapted to the time budget */
	int vacuum_pages;	/* likewise, for store_vacuum_step() */
	int truncate_tries;	/* store_vacuum_step(): WAL truncations found busy */
	/* Image names of purged reads (see purge.c), each in image_trash: */
	struct store_names {
		char **v;
		size_t n;
	} unsynced,		/* committed, kept until a checkpoint has synced the WAL */
	    pending;		/* unlinked; their trash rows go in the next step */
	int64_t purge_ckpt_usec;	/* the purge's last checkpoint */
	int wal_log;		/* WAL frames after the purge's last commit or copy */
	int64_t yield_since_usec;	/* purge.c wal_yield(): waiting since */
	int autockpt_mark;	/* WAL frames we had written at our last automatic checkpoint */
	bool ckpt_defer;	/* store_checkpoint_defer() */
	bool ckpt_due;		/* a deferred one is due */
	char *reserve;		/* <path>.reserve, NULL unless store_space_reserve() */
	bool full;		/* the disk filled up: see store_space() */
};

/* SQLite's default: a commit that leaves this many WAL frames checkpoints. */
#define STORE_AUTOCHECKPOINT_PAGES 1000

/* Our automatic checkpoint (store.c) on, or off (another wal hook may take its place). */
void store_autocheckpoint(struct store *s, bool on);
void store_image_unlink(struct store *s, const char *rel);
void store_purge_forget(struct store *s);
/*
 * synchronous=FULL (true) or NORMAL for the next transactions of this
 * connection (a no-op on a STORE_OPEN_TEST_NOSYNC store).
 */
int store_set_sync(struct store *s, bool full);
/*
 * How long a busy lock is waited for: usec, 0 to fail at once (SQLITE_BUSY),
 * -1 for the default (5 s).
 */
void store_set_busy_wait(struct store *s, int64_t usec);

#endif
