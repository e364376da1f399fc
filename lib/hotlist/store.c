/*
 * The part of hotlist-store.h alpr-matchd uses so far: loading the active
 * entries of the store's hotlists/hotlist_entries tables into an index.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "hotlist/hotlist-store.h"
#include "store/store.h"

int
hotlist_store_fill_index(struct store *s, int64_t now_usec, struct hotlist_index *idx)
{
	sqlite3_stmt *st = NULL;
	int r, rc, cat;

	r = store_prepare(s, "SELECT e.id, e.plate, e.state, e.category, e.source, e.priority,"
	    " e.person, e.effective_usec, e.expiry_usec, e.wildcard, h.id"
	    " FROM hotlist_entries e JOIN hotlists h ON h.id = e.list_id"
	    " WHERE h.active = 1 AND (e.expiry_usec IS NULL OR e.expiry_usec = 0"
	    " OR e.expiry_usec > ?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now_usec);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_entry e = { 0 };
		const char *plate = (const char *)sqlite3_column_text(st, 1);
		const char *state = (const char *)sqlite3_column_text(st, 2);
		const char *category = (const char *)sqlite3_column_text(st, 3);
		int priority = sqlite3_column_int(st, 5);

		if (plate == NULL || strlen(plate) > HOTLIST_PATTERN_MAX || category == NULL)
			continue;
		/* An unknown or prohibited category never reaches the index. */
		if ((cat = hotlist_category_from_name(category)) < 0)
			continue;
		e.id = sqlite3_column_int64(st, 0);
		strcpy(e.plate, plate);
		if (state != NULL && strlen(state) == 2)
			memcpy(e.state, state, 3);
		e.category = (uint8_t)cat;
		e.source = (const char *)sqlite3_column_text(st, 4);
		e.priority = (uint8_t)(priority < 1 ? 1 : priority > 100 ? 100 : priority);
		if (sqlite3_column_int(st, 6))
			e.flags |= HOTLIST_F_PERSON;
		if (sqlite3_column_int(st, 9))
			e.flags |= HOTLIST_F_WILDCARD;
		e.effective_usec = sqlite3_column_int64(st, 7);
		e.expiry_usec = sqlite3_column_int64(st, 8);
		r = hotlist_index_add(idx, &e, (uint32_t)sqlite3_column_int64(st, 10));
		if (r < 0 && r != -EPERM && r != -EINVAL)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(st);
	return r;
}
