/*
 * The part of hotlist-store.h alpr-matchd uses so far: loading the active
 * entries of the store's hotlists/hotlist_entries tables into an index.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
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

/*
 * One version's entries from its chunks: each chunk's records BLOB read
 * whole into one reused buffer (incremental BLOB I/O: no allocation per
 * chunk) and checked, its entries fed to the index; the texts are not read.
 */
static int
fill_chunks(struct store *s, int64_t list_id, int64_t first_entry, int64_t now_usec,
    struct hotlist_index *idx)
{
	sqlite3_stmt *st = NULL;
	sqlite3_blob *blob = NULL;
	unsigned char *buf = NULL;
	size_t alloc = 0;
	int r, rc;

	r = store_prepare(s, "SELECT id, first FROM hotlist_chunks WHERE list_id = ? ORDER BY first",
	    &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, list_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_chunk c;
		int64_t first = sqlite3_column_int64(st, 1);
		size_t len;
		uint32_t i;

		rc = blob == NULL ? sqlite3_blob_open(store_db(s), "main", "hotlist_chunks", "records",
		    sqlite3_column_int64(st, 0), 0, &blob) :
		    sqlite3_blob_reopen(blob, sqlite3_column_int64(st, 0));
		if (rc != SQLITE_OK) {
			r = store_error(s, rc);
			goto out;
		}
		len = (size_t)sqlite3_blob_bytes(blob);
		if (len > alloc) {
			unsigned char *p = realloc(buf, len);

			if (p == NULL) {
				r = -ENOMEM;
				goto out;
			}
			buf = p;
			alloc = len;
		}
		if ((rc = sqlite3_blob_read(blob, buf, (int)len, 0)) != SQLITE_OK) {
			r = store_error(s, rc);
			goto out;
		}
		if ((r = hotlist_chunk_open(buf, len, NULL, 0, &c)) < 0)
			goto out;
		daemon_progress();
		for (i = 0; i < c.n; i++) {
			struct hotlist_entry e;

			if ((r = hotlist_chunk_entry(&c, i, &e)) < 0)
				goto out;
			if (e.expiry_usec != 0 && e.expiry_usec <= now_usec)
				continue;	/* expired: never hits */
			e.id = first_entry + first + i;
			r = hotlist_index_add(idx, &e, (uint32_t)list_id);
			if (r < 0 && r != -EPERM && r != -EINVAL)
				goto out;
		}
	}
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_blob_close(blob);
	sqlite3_finalize(st);
	free(buf);
	return r;
}

int
hotlist_store_fill_index(struct store *s, int64_t now_usec, struct hotlist_index *idx)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[256], firsts[256], total = 0;
	size_t n = 0, i;
	int r, rc;

	/*
	 * Active versions only: old versions stay for their hits.  A version
	 * with first_entry is in chunks; others (manual entries, versions
	 * imported before schema step 7) are rows.
	 */
	if ((r = store_prepare(s, "SELECT id, entries, first_entry FROM hotlists WHERE active = 1"
	    " ORDER BY id", &st)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0])) {
		ids[n] = sqlite3_column_int64(st, 0);
		firsts[n++] = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 :
		    sqlite3_column_int64(st, 2);
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
		if ((r = firsts[i] > 0 ? fill_chunks(s, ids[i], firsts[i], now_usec, idx) :
		    fill_list(s, ids[i], now_usec, idx)) < 0)
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
    const char *source, int64_t id)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 14, id);
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
	" wildcard, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

int64_t
hotlist_store_next_entry_id(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t id = -EIO;
	int r;

	/* Rows and chunked versions draw their ids from one sequence. */
	if ((r = store_prepare(s, "SELECT max(ifnull((SELECT max(id) FROM hotlist_entries), 0),"
	    " ifnull((SELECT first_entry + entries - 1 FROM hotlists WHERE first_entry IS NOT NULL"
	    " ORDER BY first_entry DESC LIMIT 1), 0)) + 1", &st)) < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/*
 * An import in progress: the new version's row, then its entries as they
 * come (from a list in memory or straight from the parser), each counted
 * against the keys of the previous active version and packed into chunks
 * of HOTLIST_CHUNK_RECORDS written as they fill, then the counts.  All
 * inside the caller's transaction.  Entry n (from 0) of the version has
 * the id first_entry + n.
 */
struct importer {
	struct store *s;
	const char *source;
	sqlite3_stmt *ins_chunk;
	struct hotlist_chunk_writer *cw;
	struct hotlist_keyset *prev;	/* NULL: no previous version */
	struct hotlist_version v;
	int64_t prev_id;
	int64_t first_entry;
	uint64_t keys[HOTLIST_CHUNK_RECORDS];	/* of the chunk being filled */
	int error;			/* first error of a streamed entry */
};

static int
add_key(struct hotlist_keyset *k, struct cat_cache *cats, const char *plate, const char *state,
    const char *category, int64_t expiry_usec, const char *case_no)
{
	struct hotlist_entry e = { 0 };
	int cat;

	if (plate == NULL || category == NULL || strlen(plate) > HOTLIST_PATTERN_MAX)
		return 0;
	if ((cat = cat_lookup(cats, category)) < 0)
		return 0;
	strcpy(e.plate, plate);
	if (state != NULL && strlen(state) == 2)
		memcpy(e.state, state, 3);
	e.category = (uint8_t)cat;
	e.expiry_usec = expiry_usec;
	e.case_no = case_no;
	return hotlist_keyset_add(k, hotlist_entry_key(&e));
}

/* A chunk's texts: SQLite gives NULL for an empty BLOB, which would mean "not read". */
static const void *
texts_blob(sqlite3_stmt *st, int col)
{
	const void *p = sqlite3_column_blob(st, col);

	return p != NULL ? p : "";
}

/* The keys of a version in chunks: records and texts, no index built. */
static int
load_chunk_keys(struct store *s, int64_t list_id, struct hotlist_keyset *k)
{
	uint64_t keys[HOTLIST_CHUNK_RECORDS];
	sqlite3_stmt *st = NULL;
	int r, rc;

	r = store_prepare(s, "SELECT records, texts FROM hotlist_chunks WHERE list_id = ?"
	    " ORDER BY first", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, list_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_chunk c;
		size_t off = 0;
		uint32_t i;

		if ((r = hotlist_chunk_open(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), texts_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), &c)) < 0)
			goto out;
		for (i = 0; i < c.n; i++) {
			struct hotlist_entry e;

			if ((r = hotlist_chunk_entry(&c, i, &e)) < 0 ||
			    (r = hotlist_chunk_texts(&c, i, &off, &e)) < 0)
				goto out;
			keys[i] = hotlist_entry_key(&e);
		}
		if ((r = hotlist_keyset_add_many(k, keys, c.n)) < 0)
			goto out;
		daemon_progress();
	}
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(st);
	return r;
}

/* The previous version's keys, read from its chunks or rows without building entries. */
static int
load_keys(struct store *s, int64_t list_id, bool chunked, size_t n_hint,
    struct hotlist_keyset **ret)
{
	struct hotlist_keyset *k = NULL;
	sqlite3_stmt *st = NULL;
	struct cat_cache cats = { .n = 0 };
	int r, rc;

	if ((r = hotlist_keyset_new(n_hint, &k)) < 0)
		return r;
	if (chunked) {
		r = load_chunk_keys(s, list_id, k);
		goto out;
	}
	r = store_prepare(s, "SELECT plate, state, category, expiry_usec, case_number"
	    " FROM hotlist_entries WHERE list_id = ?", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, list_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = add_key(k, &cats, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
		    (const char *)sqlite3_column_text(st, 4))) < 0)
			goto out;
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(st);
	if (r < 0)
		hotlist_keyset_free(k);
	else
		*ret = k;
	return r;
}

/*
 * Older versions of source than the one being replaced (prev_id) go when
 * no hit refers to one of their entries: the new version and the
 * previous one stay, and any version a hit names.  Their chunks or rows
 * go with them (ON DELETE CASCADE), in the import's transaction.
 */
static int
prune_versions(struct store *s, const char *source, int64_t prev_id)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, "DELETE FROM hotlists WHERE name = ?1 AND active = 0 AND id <> ?2"
	    " AND NOT EXISTS (SELECT 1 FROM hits x WHERE CASE WHEN hotlists.first_entry IS NULL"
	    " THEN x.entry_id IN (SELECT e.id FROM hotlist_entries e WHERE e.list_id = hotlists.id)"
	    " ELSE x.entry_id >= hotlists.first_entry AND"
	    " x.entry_id < hotlists.first_entry + hotlists.entries END)", &st)) < 0)
		return r;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, prev_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_error(s, rc);
}

static int
import_begin(struct store *s, const char *source, const char *user, struct importer *im)
{
	sqlite3_stmt *st = NULL;
	int64_t prev_version = 0, prev_entries = 0;
	bool prev_chunked = false;
	int r, rc;

	memset(im, 0, sizeof(*im));
	im->s = s;
	im->source = source;
	if ((r = hotlist_chunk_writer_new(&im->cw)) < 0)
		return r;
	if ((im->prev_id = active_id(s, source, &prev_version)) < 0 && im->prev_id != -ENOENT)
		return (int)im->prev_id;
	if (im->prev_id > 0) {
		if ((r = store_prepare(s, "SELECT entries, first_entry IS NOT NULL FROM hotlists"
		    " WHERE id = ?", &st)) < 0)
			return r;
		sqlite3_bind_int64(st, 1, im->prev_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			prev_entries = sqlite3_column_int64(st, 0);
			prev_chunked = sqlite3_column_int(st, 1) != 0;
		}
		sqlite3_finalize(st);
		st = NULL;
		if ((r = load_keys(s, im->prev_id, prev_chunked,
		    (size_t)(prev_entries > 0 ? prev_entries : 0), &im->prev)) < 0)
			return r;
		if ((r = store_prepare(s, "UPDATE hotlists SET active = 0 WHERE name = ?", &st)) < 0)
			return r;
		sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			return store_error(s, rc);
		if ((r = prune_versions(s, source, im->prev_id)) < 0)
			return r;
	}
	if ((im->first_entry = hotlist_store_next_entry_id(s)) < 0)
		return (int)im->first_entry;
	im->v.version = prev_version + 1;
	im->v.imported_usec = store_now(s);
	if ((r = store_prepare(s, "INSERT INTO hotlists (name, source, version, imported_usec,"
	    " imported_by, active, first_entry) VALUES (?1, ?1, ?2, ?3, ?4, 1, ?5)", &st)) < 0)
		return r;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, im->v.version);
	sqlite3_bind_int64(st, 3, im->v.imported_usec);
	sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, im->first_entry);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_error(s, rc);
	im->v.id = sqlite3_last_insert_rowid(store_db(s));
	return store_prepare(s, "INSERT INTO hotlist_chunks (list_id, first, records, texts)"
	    " VALUES (?, ?, ?, ?)", &im->ins_chunk);
}

/* The chunk filled so far, as one row; its first entry is number n_entries - count. */
static int
import_flush(struct importer *im)
{
	const void *rec, *txt;
	size_t rlen, tlen, m;
	uint32_t n = hotlist_chunk_writer_count(im->cw);
	int r, rc;

	if (n == 0)
		return 0;
	/* The chunk's entries against the previous version, all at once. */
	m = im->prev != NULL ? hotlist_keyset_mark_many(im->prev, im->keys, n) : 0;
	im->v.unchanged += m;
	im->v.added += n - m;
	if ((r = hotlist_chunk_finish(im->cw, &rec, &rlen, &txt, &tlen)) < 0)
		return r;
	sqlite3_reset(im->ins_chunk);
	sqlite3_bind_int64(im->ins_chunk, 1, im->v.id);
	sqlite3_bind_int64(im->ins_chunk, 2, (int64_t)(im->v.n_entries - n));
	sqlite3_bind_blob(im->ins_chunk, 3, rec, (int)rlen, SQLITE_STATIC);
	sqlite3_bind_blob(im->ins_chunk, 4, txt, (int)tlen, SQLITE_STATIC);
	rc = sqlite3_step(im->ins_chunk);
	hotlist_chunk_writer_reset(im->cw);
	daemon_progress();
	return rc == SQLITE_DONE ? 0 : store_error(im->s, rc);
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
	if ((r = hotlist_chunk_add(im->cw, e, im->source)) == -ENOSPC) {
		if ((r = import_flush(im)) < 0)
			return r;
		r = hotlist_chunk_add(im->cw, e, im->source);
	}
	if (r < 0)
		return r;
	if (im->prev != NULL)
		im->keys[hotlist_chunk_writer_count(im->cw) - 1] = hotlist_entry_key(e);
	im->v.n_entries++;
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

	if ((r = import_flush(im)) < 0)
		return r;
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
	sqlite3_finalize(im->ins_chunk);
	hotlist_chunk_writer_free(im->cw);
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
	int64_t id, entry_id;
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
	/* From the sequence chunked versions draw from: ids only grow (retro-match). */
	if ((entry_id = hotlist_store_next_entry_id(s)) < 0)
		return (int)entry_id;
	if ((r = store_prepare(s, INSERT_ENTRY, &st)) < 0)
		return r;
	if ((r = insert_entry(s, st, id, e, "manual", entry_id)) == 0) {
		*ret_entry_id = entry_id;
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

static void
copy_text(char *dst, size_t size, const char *src, const char **ret)
{
	if (src == NULL) {
		*ret = NULL;
		return;
	}
	snprintf(dst, size, "%s", src);
	*ret = dst;
}

/* The entry's strings into ret's own buffers. */
static void
stored_copy(struct hotlist_stored_entry *ret, const struct hotlist_entry *e, const char *list_name)
{
	const char *dummy;

	snprintf(ret->e.plate, sizeof(ret->e.plate), "%s", e->plate);
	memcpy(ret->e.state, e->state, sizeof(ret->e.state));
	ret->e.category = e->category;
	ret->e.priority = e->priority;
	ret->e.flags = e->flags;
	ret->e.effective_usec = e->effective_usec;
	ret->e.expiry_usec = e->expiry_usec;
	copy_text(ret->source, sizeof(ret->source), e->source, &ret->e.source);
	copy_text(ret->case_no, sizeof(ret->case_no), e->case_no, &ret->e.case_no);
	copy_text(ret->reason, sizeof(ret->reason), e->reason, &ret->e.reason);
	copy_text(ret->description, sizeof(ret->description), e->description,
	    &ret->e.description);
	copy_text(ret->list_name, sizeof(ret->list_name), list_name, &dummy);
}

static int
entry_row(struct store *s, int64_t id, struct hotlist_stored_entry *ret)
{
	sqlite3_stmt *st = NULL;
	int r, rc, cat;

	r = store_prepare(s, "SELECT e.list_id, h.name, e.plate, e.state, e.category, e.source,"
	    " e.priority, e.person, e.case_number, e.reason, e.description, e.effective_usec,"
	    " e.expiry_usec, e.wildcard FROM hotlist_entries e JOIN hotlists h ON h.id = e.list_id"
	    " WHERE e.id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_entry e = { 0 };
		const char *plate = (const char *)sqlite3_column_text(st, 2);
		const char *state = (const char *)sqlite3_column_text(st, 3);
		const char *category = (const char *)sqlite3_column_text(st, 4);

		if (plate == NULL || strlen(plate) > HOTLIST_PATTERN_MAX || category == NULL ||
		    (cat = hotlist_category_from_name(category)) < 0) {
			r = -EBADMSG;
			goto out;
		}
		strcpy(e.plate, plate);
		if (state != NULL && strlen(state) == 2)
			memcpy(e.state, state, 3);
		e.category = (uint8_t)cat;
		e.source = (const char *)sqlite3_column_text(st, 5);
		e.priority = (uint8_t)sqlite3_column_int(st, 6);
		e.flags = (uint8_t)((sqlite3_column_int(st, 7) ? HOTLIST_F_PERSON : 0) |
		    (sqlite3_column_int(st, 13) ? HOTLIST_F_WILDCARD : 0));
		e.case_no = (const char *)sqlite3_column_text(st, 8);
		e.reason = (const char *)sqlite3_column_text(st, 9);
		e.description = (const char *)sqlite3_column_text(st, 10);
		e.effective_usec = sqlite3_column_int64(st, 11);
		e.expiry_usec = sqlite3_column_int64(st, 12);
		ret->list_id = sqlite3_column_int64(st, 0);
		stored_copy(ret, &e, (const char *)sqlite3_column_text(st, 1));
		r = 0;
	} else
		r = rc == SQLITE_DONE ? -ENOENT : store_error(s, rc);
out:
	sqlite3_finalize(st);
	return r;
}

/* Entry ordinal n of a chunked version: its chunk read and checked, texts too. */
static int
entry_chunk(struct store *s, int64_t list_id, int64_t n, const char *list_name,
    struct hotlist_stored_entry *ret)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	r = store_prepare(s, "SELECT first, records, texts FROM hotlist_chunks WHERE list_id = ?"
	    " AND first <= ? ORDER BY first DESC LIMIT 1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, n);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hotlist_chunk c;
		struct hotlist_entry e;
		int64_t i = n - sqlite3_column_int64(st, 0);
		size_t off = 0;
		uint32_t j;

		if ((r = hotlist_chunk_open(sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), texts_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), &c)) < 0)
			goto out;
		if (i < 0 || i >= c.n) {
			r = -ENOENT;
			goto out;
		}
		if ((r = hotlist_chunk_entry(&c, (uint32_t)i, &e)) < 0)
			goto out;
		/* Texts are in record order: walk past the ones before; the last is i's. */
		for (j = 0; j <= (uint32_t)i; j++)
			if ((r = hotlist_chunk_texts(&c, j, &off, &e)) < 0)
				goto out;
		ret->list_id = list_id;
		stored_copy(ret, &e, list_name);
		r = 0;
	} else
		r = rc == SQLITE_DONE ? -ENOENT : store_error(s, rc);
out:
	sqlite3_finalize(st);
	return r;
}

int
hotlist_store_entry(struct store *s, int64_t id, struct hotlist_stored_entry *ret)
{
	sqlite3_stmt *st = NULL;
	char name[HOTLIST_TEXT_MAX + 1];
	int64_t list_id, first;
	int r, rc;

	memset(ret, 0, sizeof(*ret));
	ret->e.id = id;
	if ((r = entry_row(s, id, ret)) != -ENOENT)
		return r;
	r = store_prepare(s, "SELECT id, first_entry, name FROM hotlists WHERE first_entry <= ?1"
	    " AND first_entry + entries > ?1 ORDER BY first_entry DESC LIMIT 1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -ENOENT : store_error(s, rc);
	}
	list_id = sqlite3_column_int64(st, 0);
	first = sqlite3_column_int64(st, 1);
	snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	r = entry_chunk(s, list_id, id - first, name, ret);
	ret->e.id = id;
	return r;
}
