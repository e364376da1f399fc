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
	int purge_batch;	/* adapted to the time budget */
	char **pending;		/* unlinked images whose trash rows remain */
	size_t n_pending;
	char *reserve;		/* <path>.reserve, NULL unless store_space_reserve() */
	bool full;		/* the disk filled up: see store_space() */
};

void store_image_unlink(struct store *s, const char *rel);
void store_purge_forget(struct store *s);

#endif
