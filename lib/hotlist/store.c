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

/* Entries of list_id into list (for the diff). */
static int
load_entries(struct store *s, int64_t list_id, struct hotlist *list)
{
	sqlite3_stmt *st = NULL;
	int r, rc, cat;

	r = store_prepare(s, "SELECT plate, state, category, case_number, expiry_usec, priority,"
	    " wildcard, person, reason, description, effective_usec FROM hotlist_entries"
	    " WHERE list_id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, list_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_entry e = { 0 };
		const char *plate = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 1);

		if (plate == NULL || strlen(plate) > HOTLIST_PATTERN_MAX ||
		    (cat = hotlist_category_from_name((const char *)sqlite3_column_text(st, 2))) < 0)
			continue;
		strcpy(e.plate, plate);
		if (state != NULL && strlen(state) == 2)
			memcpy(e.state, state, 3);
		e.category = (uint8_t)cat;
		e.case_no = (const char *)sqlite3_column_text(st, 3);
		e.expiry_usec = sqlite3_column_int64(st, 4);
		e.priority = (uint8_t)sqlite3_column_int(st, 5);
		if (sqlite3_column_int(st, 6))
			e.flags |= HOTLIST_F_WILDCARD;
		if (sqlite3_column_int(st, 7))
			e.flags |= HOTLIST_F_PERSON;
		e.reason = (const char *)sqlite3_column_text(st, 8);
		e.description = (const char *)sqlite3_column_text(st, 9);
		e.effective_usec = sqlite3_column_int64(st, 10);
		e.source = list->source;
		if ((r = hotlist_add(list, &e)) < 0 && r != -EINVAL && r != -EPERM)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(st);
	return r;
}

static int64_t
active_id(struct store *s, const char *source, int64_t *ret_version)
{
	sqlite3_stmt *st = NULL;
	int64_t id = -ENOENT;
	int r, rc;

	if ((r = store_prepare(s, "SELECT id, version FROM hotlists WHERE name = ? AND active = 1"
	    " ORDER BY version DESC LIMIT 1", &st)) < 0)
		return r;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (ret_version != NULL)
			*ret_version = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE)
		id = store_error(s, rc);
	sqlite3_finalize(st);
	return id;
}

int
hotlist_store_load_active(struct store *s, const char *source, struct hotlist **ret)
{
	struct hotlist *list = NULL;
	int64_t id;
	int r;

	if ((id = active_id(s, source, NULL)) < 0)
		return (int)id;
	if ((r = hotlist_new(source, &list)) < 0)
		return r;
	if ((r = load_entries(s, id, list)) < 0) {
		hotlist_free(list);
		return r;
	}
	*ret = list;
	return 0;
}

static int
insert_entry(struct store *s, sqlite3_stmt *st, int64_t list_id, const struct hotlist_entry *e,
    const char *source)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_text(st, 2, e->plate, -1, SQLITE_STATIC);
	if (e->state[0] != '\0')
		sqlite3_bind_text(st, 3, e->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hotlist_category_name(e->category), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->source != NULL ? e->source : source, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, e->priority);
	sqlite3_bind_int(st, 7, (e->flags & HOTLIST_F_PERSON) != 0);
	if (e->case_no != NULL)
		sqlite3_bind_text(st, 8, e->case_no, -1, SQLITE_STATIC);
	if (e->reason != NULL)
		sqlite3_bind_text(st, 9, e->reason, -1, SQLITE_STATIC);
	if (e->description != NULL)
		sqlite3_bind_text(st, 10, e->description, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, e->effective_usec);
	sqlite3_bind_int64(st, 12, e->expiry_usec);
	sqlite3_bind_int(st, 13, (e->flags & HOTLIST_F_WILDCARD) != 0);
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : store_error(s, rc);
}

#define INSERT_ENTRY "INSERT INTO hotlist_entries (list_id, plate, state, category, source," \
	" priority, person, case_number, reason, description, effective_usec, expiry_usec," \
	" wildcard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/*
 * Runs inside the caller's transaction (lib/policy writes the access-log
 * row in the same one), so the import and its record stand or fall
 * together.
 */
int
hotlist_store_import(struct store *s, const struct hotlist *list, const char *user,
    struct hotlist_version *ret)
{
	struct hotlist *prev = NULL;
	struct hotlist_version v = { 0 };
	sqlite3_stmt *st = NULL;
	int64_t prev_id, prev_version = 0;
	size_t i;
	int r, rc;

	if ((prev_id = active_id(s, list->source, &prev_version)) < 0 && prev_id != -ENOENT)
		return (int)prev_id;
	if (prev_id > 0) {
		if ((r = hotlist_store_load_active(s, list->source, &prev)) < 0)
			return r;
	} else if ((r = hotlist_new(list->source, &prev)) < 0)
		return r;
	if ((r = hotlist_diff(prev, list, &v.added, &v.removed, &v.unchanged)) < 0)
		goto out;
	if (prev_id > 0) {
		if ((r = store_prepare(s, "UPDATE hotlists SET active = 0 WHERE name = ?", &st)) < 0)
			goto out;
		sqlite3_bind_text(st, 1, list->source, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE) {
			r = store_error(s, rc);
			goto out;
		}
	}
	v.version = prev_version + 1;
	v.imported_usec = store_now(s);
	v.source_usec = list->source_usec;
	v.n_entries = list->n_entries;
	v.skipped = list->n_skipped;
	v.excluded = list->n_excluded;
	if ((r = store_prepare(s, "INSERT INTO hotlists (name, source, version, imported_usec,"
	    " imported_by, entries, active, format, file_name, sha256, source_usec, added, removed,"
	    " unchanged, skipped, excluded) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &st)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, list->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, v.version);
	sqlite3_bind_int64(st, 4, v.imported_usec);
	sqlite3_bind_text(st, 5, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)v.n_entries);
	sqlite3_bind_text(st, 7, hotlist_format_name(list->format), -1, SQLITE_STATIC);
	if (list->file_name != NULL)
		sqlite3_bind_text(st, 8, list->file_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, list->sha256_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, v.source_usec);
	sqlite3_bind_int64(st, 11, (int64_t)v.added);
	sqlite3_bind_int64(st, 12, (int64_t)v.removed);
	sqlite3_bind_int64(st, 13, (int64_t)v.unchanged);
	sqlite3_bind_int64(st, 14, (int64_t)v.skipped);
	sqlite3_bind_int64(st, 15, (int64_t)v.excluded);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = store_error(s, rc);
		goto out;
	}
	v.id = sqlite3_last_insert_rowid(store_db(s));
	if ((r = store_prepare(s, INSERT_ENTRY, &st)) < 0)
		goto out;
	for (i = 0; i < list->n_entries; i++) {
		/* Refused a second time here: never stored (policy IV.C.4). */
		if (hotlist_category_is_prohibited(list->entries[i].category))
			continue;
		if ((r = insert_entry(s, st, v.id, &list->entries[i], list->source)) < 0)
			goto out;
	}
	if (ret != NULL)
		*ret = v;
	r = 0;
out:
	sqlite3_finalize(st);
	hotlist_free(prev);
	return r;
}

/* Inside the caller's transaction, like hotlist_store_import(). */
int
hotlist_store_add_manual(struct store *s, const struct hotlist_entry *e, const char *user,
    int64_t *ret_entry_id)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int r, rc;

	if (hotlist_category_is_prohibited(e->category))
		return -EPERM;
	if ((id = active_id(s, "manual", NULL)) == -ENOENT) {
		if ((r = store_prepare(s, "INSERT INTO hotlists (name, source, version, imported_usec,"
		    " imported_by, format) VALUES ('manual', 'manual', 1, ?, ?, 'manual')", &st)) < 0)
			return r;
		sqlite3_bind_int64(st, 1, store_now(s));
		sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			return store_error(s, rc);
		id = sqlite3_last_insert_rowid(store_db(s));
	} else if (id < 0)
		return (int)id;
	if ((r = store_prepare(s, INSERT_ENTRY, &st)) < 0)
		return r;
	if ((r = insert_entry(s, st, id, e, "manual")) == 0) {
		*ret_entry_id = sqlite3_last_insert_rowid(store_db(s));
		sqlite3_finalize(st);
		st = NULL;
		r = store_prepare(s, "UPDATE hotlists SET entries = entries + 1 WHERE id = ?", &st);
		if (r == 0) {
			sqlite3_bind_int64(st, 1, id);
			rc = sqlite3_step(st);
			r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
		}
	}
	sqlite3_finalize(st);
	return r;
}
