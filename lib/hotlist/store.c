/*
 * The part of hotlist-store.h alpr-matchd uses so far: loading the active
 * entries of the store's hotlists/hotlist_entries tables into an index.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hotlist/hotlist-store.h"
#include "hotlist/internal.h"
#include "store/store.h"

/*
 * Category names as stored -> enum hotlist_category.  Lists have a
 * handful of them, repeated millions of times: each is looked up once.
 */
struct cat_cache {
	struct {
		char name[32];
		int category;
	} names[16];
	size_t n;
};

static int
cat_lookup(struct cat_cache *c, const char *name)
{
	size_t i;
	int cat;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->names[i].name, name) == 0)
			return c->names[i].category;
	cat = hotlist_category_from_name(name);
	if (c->n < sizeof(c->names) / sizeof(c->names[0]) && strlen(name) < sizeof(c->names[0].name)) {
		snprintf(c->names[c->n].name, sizeof(c->names[0].name), "%s", name);
		c->names[c->n++].category = cat;
	}
	return cat;
}

/* One active version's entries, in rowid order through hotlist_entries_list. */
static int
fill_list(struct store *s, int64_t list_id, int64_t now_usec, struct hotlist_index *idx)
{
	sqlite3_stmt *st = NULL;
	struct cat_cache cats = { .n = 0 };
	int r, rc, cat;

	r = store_prepare(s, "SELECT id, plate, state, category, source, priority, person,"
	    " effective_usec, expiry_usec FROM hotlist_entries WHERE list_id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, list_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_entry e = { 0 };
		const char *plate = (const char *)sqlite3_column_text(st, 1);
		const char *category = (const char *)sqlite3_column_text(st, 3);
		int n = sqlite3_column_bytes(st, 1), priority;

		e.expiry_usec = sqlite3_column_int64(st, 8);
		if (e.expiry_usec != 0 && e.expiry_usec <= now_usec)
			continue;	/* expired: never hits */
		if (plate == NULL || n > HOTLIST_PATTERN_MAX || category == NULL)
			continue;
		/* An unknown or prohibited category never reaches the index. */
		if ((cat = cat_lookup(&cats, category)) < 0)
			continue;
		e.id = sqlite3_column_int64(st, 0);
		memcpy(e.plate, plate, (size_t)n + 1);
		if (sqlite3_column_bytes(st, 2) == 2)
			memcpy(e.state, sqlite3_column_text(st, 2), 3);
		e.category = (uint8_t)cat;
		e.source = (const char *)sqlite3_column_text(st, 4);
		priority = sqlite3_column_int(st, 5);
		e.priority = (uint8_t)(priority < 1 ? 1 : priority > 100 ? 100 : priority);
		if (sqlite3_column_int(st, 6))
			e.flags |= HOTLIST_F_PERSON;
		e.effective_usec = sqlite3_column_int64(st, 7);
		/* The index tells a pattern from its text (hotlist_plate_normalize). */
		r = hotlist_index_add(idx, &e, (uint32_t)list_id);
		if (r < 0 && r != -EPERM && r != -EINVAL)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(st);
	return r;
}

int
hotlist_store_fill_index(struct store *s, int64_t now_usec, struct hotlist_index *idx)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[256], total = 0;
	size_t n = 0, i;
	int r, rc;

	/* Active versions only: old versions' rows stay in the table for their hits. */
	if ((r = store_prepare(s, "SELECT id, entries FROM hotlists WHERE active = 1 ORDER BY id",
	    &st)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0])) {
		ids[n++] = sqlite3_column_int64(st, 0);
		total += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(s, rc);
	if (rc == SQLITE_ROW)
		return -E2BIG;	/* more active lists than sources the index names */
	/* One allocation for the records: the versions say how many entries they hold. */
	if (total > 0 && (r = hotlist_index_reserve(idx, (size_t)total)) < 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = fill_list(s, ids[i], now_usec, idx)) < 0)
			return r;
	return 0;
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

static int
insert_entry(struct store *s, sqlite3_stmt *st, int64_t list_id, const struct hotlist_entry *e,
    const char *source)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_text(st, 2, e->plate, -1, SQLITE_STATIC);
	if (e->state[0] != '\0')
		sqlite3_bind_text(st, 3, e->state, 2, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, hotlist_category_name(e->category), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->source != NULL ? e->source : source, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, e->priority);
	sqlite3_bind_int(st, 7, (e->flags & HOTLIST_F_PERSON) != 0);
	if (e->case_no != NULL)
		sqlite3_bind_text(st, 8, e->case_no, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	if (e->reason != NULL)
		sqlite3_bind_text(st, 9, e->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	if (e->description != NULL)
		sqlite3_bind_text(st, 10, e->description, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
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
 * An import in progress: the new version's row, then its entries as they
 * come (from a list in memory or straight from the parser), each counted
 * against the keys of the previous active version, then the counts.  One
 * prepared statement for every entry, all inside the caller's
 * transaction.
 */
struct importer {
	struct store *s;
	const char *source;
	sqlite3_stmt *ins;
	struct hotlist_keyset *prev;	/* NULL: no previous version */
	struct hotlist_version v;
	int64_t prev_id;
	int error;			/* first error of a streamed entry */
};

/* The previous version's keys, read from its rows without building entries. */
static int
load_keys(struct store *s, int64_t list_id, size_t n_hint, struct hotlist_keyset **ret)
{
	struct hotlist_keyset *k = NULL;
	sqlite3_stmt *st = NULL;
	struct cat_cache cats = { .n = 0 };
	int r, rc, cat;

	if ((r = hotlist_keyset_new(n_hint, &k)) < 0)
		return r;
	r = store_prepare(s, "SELECT plate, state, category, expiry_usec, case_number"
	    " FROM hotlist_entries WHERE list_id = ?", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, list_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_entry e = { 0 };
		const char *plate = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 1);
		const char *category = (const char *)sqlite3_column_text(st, 2);

		if (plate == NULL || category == NULL || strlen(plate) > HOTLIST_PATTERN_MAX)
			continue;
		if ((cat = cat_lookup(&cats, category)) < 0)
			continue;
		strcpy(e.plate, plate);
		if (state != NULL && strlen(state) == 2)
			memcpy(e.state, state, 3);
		e.category = (uint8_t)cat;
		e.expiry_usec = sqlite3_column_int64(st, 3);
		e.case_no = (const char *)sqlite3_column_text(st, 4);
		if ((r = hotlist_keyset_add(k, hotlist_entry_key(&e))) < 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(st);
	if (r < 0)
		hotlist_keyset_free(k);
	else
		*ret = k;
	return r;
}

static int
import_begin(struct store *s, const char *source, const char *user, struct importer *im)
{
	sqlite3_stmt *st = NULL;
	int64_t prev_version = 0, prev_entries = 0;
	int r, rc;

	memset(im, 0, sizeof(*im));
	im->s = s;
	im->source = source;
	if ((im->prev_id = active_id(s, source, &prev_version)) < 0 && im->prev_id != -ENOENT)
		return (int)im->prev_id;
	if (im->prev_id > 0) {
		if ((r = store_prepare(s, "SELECT entries FROM hotlists WHERE id = ?", &st)) < 0)
			return r;
		sqlite3_bind_int64(st, 1, im->prev_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			prev_entries = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		if ((r = load_keys(s, im->prev_id, (size_t)(prev_entries > 0 ? prev_entries : 0),
		    &im->prev)) < 0)
			return r;
		if ((r = store_prepare(s, "UPDATE hotlists SET active = 0 WHERE name = ?", &st)) < 0)
			return r;
		sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			return store_error(s, rc);
	}
	im->v.version = prev_version + 1;
	im->v.imported_usec = store_now(s);
	if ((r = store_prepare(s, "INSERT INTO hotlists (name, source, version, imported_usec,"
	    " imported_by, active) VALUES (?1, ?1, ?2, ?3, ?4, 1)", &st)) < 0)
		return r;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, im->v.version);
	sqlite3_bind_int64(st, 3, im->v.imported_usec);
	sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_error(s, rc);
	im->v.id = sqlite3_last_insert_rowid(store_db(s));
	return store_prepare(s, INSERT_ENTRY, &im->ins);
}

static int
import_entry(struct importer *im, const struct hotlist_entry *e)
{
	int r;

	/* Refused a second time here: never stored (policy IV.C.4). */
	if (hotlist_category_is_prohibited(e->category)) {
		im->v.excluded++;
		return 0;
	}
	if ((r = insert_entry(im->s, im->ins, im->v.id, e, im->source)) < 0)
		return r;
	im->v.n_entries++;
	if (im->prev != NULL && hotlist_keyset_mark(im->prev, hotlist_entry_key(e)))
		im->v.unchanged++;
	else
		im->v.added++;
	return 0;
}

static int
import_entry_cb(const struct hotlist_entry *e, void *userdata)
{
	struct importer *im = userdata;
	int r = import_entry(im, e);

	if (r < 0)
		im->error = r;
	return r;
}

/* The version's provenance and counts, once its entries are in. */
static int
import_end(struct importer *im, const struct hotlist *list, struct hotlist_version *ret)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	im->v.removed = im->prev != NULL ? hotlist_keyset_unmarked(im->prev) : 0;
	im->v.source_usec = list->source_usec;
	im->v.skipped = list->n_skipped;
	im->v.excluded += list->n_excluded;
	if ((r = store_prepare(im->s, "UPDATE hotlists SET entries = ?, format = ?, file_name = ?,"
	    " sha256 = ?, source_usec = ?, added = ?, removed = ?, unchanged = ?, skipped = ?,"
	    " excluded = ? WHERE id = ?", &st)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, (int64_t)im->v.n_entries);
	sqlite3_bind_text(st, 2, hotlist_format_name(list->format), -1, SQLITE_STATIC);
	if (list->file_name != NULL)
		sqlite3_bind_text(st, 3, list->file_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, list->sha256_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, im->v.source_usec);
	sqlite3_bind_int64(st, 6, (int64_t)im->v.added);
	sqlite3_bind_int64(st, 7, (int64_t)im->v.removed);
	sqlite3_bind_int64(st, 8, (int64_t)im->v.unchanged);
	sqlite3_bind_int64(st, 9, (int64_t)im->v.skipped);
	sqlite3_bind_int64(st, 10, (int64_t)im->v.excluded);
	sqlite3_bind_int64(st, 11, im->v.id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_error(im->s, rc);
	if (ret != NULL)
		*ret = im->v;
	return 0;
}

static void
import_free(struct importer *im)
{
	sqlite3_finalize(im->ins);
	hotlist_keyset_free(im->prev);
}

/*
 * Runs inside the caller's transaction (lib/policy writes the access-log
 * row in the same one), so the import and its record stand or fall
 * together.
 */
int
hotlist_store_import(struct store *s, const struct hotlist *list, const char *user,
    struct hotlist_version *ret)
{
	struct importer im;
	size_t i;
	int r;

	if ((r = import_begin(s, list->source, user, &im)) < 0)
		goto out;
	for (i = 0; i < list->n_entries; i++)
		if ((r = import_entry(&im, &list->entries[i])) < 0)
			goto out;
	r = import_end(&im, list, ret);
out:
	import_free(&im);
	return r;
}

int
hotlist_store_import_buffer(struct store *s, const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, const char *user, struct hotlist_version *ret,
    struct hotlist **ret_list, char **ret_error, char **ret_report)
{
	struct hotlist_parse_opts o = *opts;
	struct hotlist *list = NULL;
	struct importer im;
	int r;

	if ((r = import_begin(s, opts->source != NULL ? opts->source :
	    hotlist_format_source(opts->format), user, &im)) < 0)
		goto out;
	o.on_entry = import_entry_cb;
	o.userdata = &im;
	if ((r = hotlist_parse_buffer(name, buf, len, &o, &list, ret_error, ret_report)) < 0) {
		/* The store's error, not the file's, when an insert stopped the parse. */
		if (im.error < 0)
			r = im.error;
		goto out;
	}
	if ((r = import_end(&im, list, ret)) < 0)
		goto out;
	*ret_list = list;
	list = NULL;
out:
	hotlist_free(list);
	import_free(&im);
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
