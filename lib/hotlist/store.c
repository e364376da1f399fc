/*
 * Hot lists in the store (hotlist-store.h): imports staged as pending
 * versions in short transactions and activated in the caller's, the
 * active entries loaded into an index, entries found for hits, versions
 * nothing needs removed in steps.  Runs in alpr-matchd (its loop, and its
 * import and index threads, each on a connection of its own), alprctl
 * --offline and the tests; trusts the database's bytes only after a
 * chunk's checks.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
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
 * The walk over a chunked version's chunks in entry order, one place for
 * the index load, the diff's key set and the entry lookup: each chunk's
 * BLOBs are read whole through incremental BLOB I/O into buffers reused
 * from chunk to chunk (no allocation per chunk), then checked
 * (hotlist_chunk_open(): -EBADMSG damaged, -EPROTO another format).  The
 * texts BLOB is read only when asked for.
 */
struct chunk_walk {
	struct store *s;
	sqlite3_stmt *st;
	sqlite3_blob *blob[2];		/* records, texts */
	unsigned char *buf[2];
	size_t alloc[2];
	bool texts;
	int64_t first;			/* the current chunk's first ordinal */
	struct hotlist_chunk c;
};

/* at < 0: every chunk of the version; else only the one holding ordinal at. */
static int
walk_open(struct chunk_walk *w, struct store *s, int64_t list_id, int64_t at, bool texts)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->s = s;
	w->texts = texts;
	r = store_prepare(s, at < 0 ?
	    "SELECT id, first FROM hotlist_chunks WHERE list_id = ?1 ORDER BY first" :
	    "SELECT id, first FROM hotlist_chunks WHERE list_id = ?1 AND first <= ?2"
	    " ORDER BY first DESC LIMIT 1", &w->st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(w->st, 1, list_id);
	if (at >= 0)
		sqlite3_bind_int64(w->st, 2, at);
	return 0;
}

static int
walk_blob(struct chunk_walk *w, int k, const char *column, int64_t rowid, size_t *ret_len)
{
	size_t len;
	int rc;

	rc = w->blob[k] == NULL ? sqlite3_blob_open(store_db(w->s), "main", "hotlist_chunks", column,
	    rowid, 0, &w->blob[k]) : sqlite3_blob_reopen(w->blob[k], rowid);
	if (rc != SQLITE_OK)
		return store_error(w->s, rc);
	len = (size_t)sqlite3_blob_bytes(w->blob[k]);
	/* One byte more: an empty texts BLOB is "" (no texts), never "not read". */
	if (len + 1 > w->alloc[k]) {
		unsigned char *p = realloc(w->buf[k], len + 1);

		if (p == NULL)
			return -ENOMEM;
		w->buf[k] = p;
		w->alloc[k] = len + 1;
	}
	if (len > 0 && (rc = sqlite3_blob_read(w->blob[k], w->buf[k], (int)len, 0)) != SQLITE_OK)
		return store_error(w->s, rc);
	*ret_len = len;
	return 0;
}

/* 1 with the next chunk checked in w->c (w->first its first ordinal), 0 at the end, -errno. */
static int
walk_next(struct chunk_walk *w)
{
	size_t rlen, tlen = 0;
	int64_t id;
	int r, rc;

	if ((rc = sqlite3_step(w->st)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : store_error(w->s, rc);
	id = sqlite3_column_int64(w->st, 0);
	w->first = sqlite3_column_int64(w->st, 1);
	if ((r = walk_blob(w, 0, "records", id, &rlen)) < 0 ||
	    (w->texts && (r = walk_blob(w, 1, "texts", id, &tlen)) < 0))
		return r;
	if ((r = hotlist_chunk_open(w->buf[0], rlen, w->texts ? w->buf[1] : NULL, tlen, &w->c)) < 0)
		return r;
	return 1;
}

static void
walk_close(struct chunk_walk *w)
{
	sqlite3_blob_close(w->blob[0]);
	sqlite3_blob_close(w->blob[1]);
	sqlite3_finalize(w->st);
	free(w->buf[0]);
	free(w->buf[1]);
}

/* One version's entries from its chunks (records only), fed to the index. */
static int
fill_chunks(struct store *s, int64_t list_id, int64_t first_entry, int64_t now_usec,
    struct hotlist_index *idx)
{
	struct chunk_walk w;
	int r;

	if ((r = walk_open(&w, s, list_id, -1, false)) < 0)
		goto out;
	while ((r = walk_next(&w)) > 0) {
		uint32_t i;

		for (i = 0; i < w.c.n; i++) {
			struct hotlist_entry e;

			if ((r = hotlist_chunk_entry(&w.c, i, &e)) < 0)
				goto out;
			if (e.expiry_usec != 0 && e.expiry_usec <= now_usec)
				continue;	/* expired: never hits */
			e.id = first_entry + w.first + i;
			r = hotlist_index_add(idx, &e, (uint32_t)list_id);
			if (r < 0 && r != -EPERM && r != -EINVAL)
				goto out;
		}
	}
out:
	walk_close(&w);
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
 * An import in progress (hotlist_store_stage_buffer): a pending version's
 * row (hotlists.active = HOTLIST_PENDING: nothing reads it), then its
 * entries as they come from the parser, each counted against the keys of
 * the previous active version and packed into chunks of
 * HOTLIST_CHUNK_RECORDS.  Finished chunks wait in memory and are written
 * STAGE_BATCH_CHUNKS at a time, or after STAGE_BATCH_USEC of parsing, in
 * a short transaction of their own: the write lock is held for the
 * inserts only, never while parsing, so that alpr-matchd's reads are
 * stored in between.  Entry n (from 0) of the version gets the id
 * first_entry + n, first_entry being set when it is activated.
 */
#define STAGE_BATCH_CHUNKS 32
#define STAGE_BATCH_USEC (50 * 1000)

struct staged_chunk {
	int64_t first;			/* ordinal of its first entry */
	size_t rlen, tlen;		/* its BLOBs, back to back in batch */
};

struct importer {
	struct store *s;
	const char *source;
	sqlite3_stmt *ins_chunk;
	struct hotlist_chunk_writer *cw;
	struct hotlist_keyset *prev;	/* NULL: no previous version */
	struct hotlist_version v;
	int64_t prev_id;		/* 0: no previous version */
	uint64_t keys[HOTLIST_CHUNK_RECORDS];	/* of the chunk being filled */
	int error;			/* first error of a streamed entry */
	const atomic_bool *cancel;	/* NULL, or true once the import must stop */
	struct staged_chunk parts[STAGE_BATCH_CHUNKS];
	size_t n_parts;
	unsigned char *batch;
	size_t batch_len, batch_alloc;
	int64_t batch_usec;		/* when the first waiting chunk was finished */
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

/* The keys of a version in chunks: records and texts, no index built. */
static int
load_chunk_keys(struct store *s, int64_t list_id, struct hotlist_keyset *k)
{
	uint64_t keys[HOTLIST_CHUNK_RECORDS];
	struct chunk_walk w;
	int r;

	if ((r = walk_open(&w, s, list_id, -1, true)) < 0)
		goto out;
	while ((r = walk_next(&w)) > 0) {
		size_t off = 0;
		uint32_t i;

		for (i = 0; i < w.c.n; i++) {
			struct hotlist_entry e;

			if ((r = hotlist_chunk_entry(&w.c, i, &e)) < 0 ||
			    (r = hotlist_chunk_texts(&w.c, i, &off, &e)) < 0)
				goto out;
			keys[i] = hotlist_entry_key(&e);
		}
		if ((r = hotlist_keyset_add_many(k, keys, w.c.n)) < 0)
			goto out;
	}
out:
	walk_close(&w);
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

/* One step of dropping a version: up to DROP_STEP_CHUNKS chunks, then the row. */
#define DROP_STEP_CHUNKS 16

static int
drop_step(struct store *s, int64_t list_id)
{
	sqlite3_stmt *st = NULL;
	int r, rc, n;

	if ((r = store_begin(s)) < 0)
		return r;
	if ((r = store_prepare(s, "DELETE FROM hotlist_chunks WHERE id IN (SELECT id FROM"
	    " hotlist_chunks WHERE list_id = ? LIMIT ?)", &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int(st, 2, DROP_STEP_CHUNKS);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		r = store_error(s, rc);
		goto fail;
	}
	if ((n = sqlite3_changes(store_db(s))) < DROP_STEP_CHUNKS) {
		/* Rows of a version from before schema step 7 go by cascade. */
		if ((r = store_prepare(s, "DELETE FROM hotlists WHERE id = ?", &st)) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, list_id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			r = store_error(s, rc);
			goto fail;
		}
	}
	if ((r = store_commit(s)) < 0)
		return r;
	return n < DROP_STEP_CHUNKS ? 0 : 1;
fail:
	store_rollback(s);
	return r;
}

int
hotlist_store_drop(struct store *s, int64_t list_id)
{
	int r;

	while ((r = drop_step(s, list_id)) > 0)
		;
	return r;
}

/*
 * Versions nothing needs (hotlist-store.h): pending ones left by an import
 * that did not end, replaced ones older than the newest replaced version
 * of their list that no hit names.
 */
int
hotlist_store_prune_step(struct store *s, unsigned flags)
{
	sqlite3_stmt *st = NULL;
	int64_t victim = 0;
	int r, rc;

	if ((r = store_prepare(s, "SELECT id FROM hotlists h WHERE (h.active = 2 AND ?1) OR"
	    " (?2 AND h.active = 0 AND h.id < (SELECT max(p.id) FROM hotlists p WHERE p.name = h.name"
	    " AND p.active = 0) AND NOT EXISTS (SELECT 1 FROM hits x WHERE CASE WHEN"
	    " h.first_entry IS NULL THEN x.entry_id IN (SELECT e.id FROM hotlist_entries e"
	    " WHERE e.list_id = h.id) ELSE x.entry_id >= h.first_entry AND"
	    " x.entry_id < h.first_entry + h.entries END)) ORDER BY h.id LIMIT 1", &st)) < 0)
		return r;
	sqlite3_bind_int(st, 1, (flags & HOTLIST_PRUNE_PENDING) != 0);
	sqlite3_bind_int(st, 2, (flags & HOTLIST_PRUNE_REPLACED) != 0);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		victim = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : store_error(s, rc);
	return (r = drop_step(s, victim)) < 0 ? r : 1;
}

/* Short transactions of their own: leftovers first, then the pending row. */
static int
stage_begin(struct store *s, const char *source, const char *user, struct importer *im)
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
	/* Imports run one at a time: a pending version now is a crashed import's. */
	while ((r = store_prepare(s, "SELECT id FROM hotlists WHERE active = 2 LIMIT 1", &st)) == 0) {
		int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;

		sqlite3_finalize(st);
		st = NULL;
		if (id == 0)
			break;
		if ((r = hotlist_store_drop(s, id)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	if ((im->prev_id = active_id(s, source, &prev_version)) == -ENOENT)
		im->prev_id = 0;
	else if (im->prev_id < 0)
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
	}
	im->v.version = prev_version + 1;
	im->v.imported_usec = store_now(s);
	if ((r = store_prepare(s, "INSERT INTO hotlists (name, source, version, imported_usec,"
	    " imported_by, active) VALUES (?1, ?1, ?2, ?3, ?4, 2)", &st)) < 0)
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
	return store_prepare(s, "INSERT INTO hotlist_chunks (list_id, first, records, texts)"
	    " VALUES (?, ?, ?, ?)", &im->ins_chunk);
}

/* The waiting chunks in one short transaction. */
static int
stage_write(struct importer *im)
{
	const unsigned char *p = im->batch;
	size_t i;
	int r, rc;

	if (im->n_parts == 0)
		return 0;
	if ((r = store_begin(im->s)) < 0)
		return r;
	for (i = 0; i < im->n_parts; i++) {
		const struct staged_chunk *c = &im->parts[i];

		sqlite3_reset(im->ins_chunk);
		sqlite3_bind_int64(im->ins_chunk, 1, im->v.id);
		sqlite3_bind_int64(im->ins_chunk, 2, c->first);
		sqlite3_bind_blob(im->ins_chunk, 3, p, (int)c->rlen, SQLITE_STATIC);
		sqlite3_bind_blob(im->ins_chunk, 4, p + c->rlen, (int)c->tlen, SQLITE_STATIC);
		p += c->rlen + c->tlen;
		if ((rc = sqlite3_step(im->ins_chunk)) != SQLITE_DONE) {
			r = store_error(im->s, rc);
			sqlite3_reset(im->ins_chunk);
			store_rollback(im->s);
			return r;
		}
	}
	sqlite3_reset(im->ins_chunk);
	if ((r = store_commit(im->s)) < 0)
		return r;
	im->n_parts = 0;
	im->batch_len = 0;
	return 0;
}

/* The chunk filled so far joins the batch; its first entry is number n_entries - count. */
static int
import_flush(struct importer *im)
{
	const void *rec, *txt;
	size_t rlen, tlen, m;
	uint32_t n = hotlist_chunk_writer_count(im->cw);
	int64_t now;
	int r;

	if (n == 0)
		return 0;
	if (im->cancel != NULL && atomic_load(im->cancel))
		return -ECANCELED;
	/* The chunk's entries against the previous version, all at once. */
	m = im->prev != NULL ? hotlist_keyset_mark_many(im->prev, im->keys, n) : 0;
	im->v.unchanged += m;
	im->v.added += n - m;
	if ((r = hotlist_chunk_finish(im->cw, &rec, &rlen, &txt, &tlen)) < 0)
		return r;
	if (im->batch_len + rlen + tlen > im->batch_alloc) {
		size_t na = (im->batch_len + rlen + tlen) * 2;
		unsigned char *p = realloc(im->batch, na);

		if (p == NULL)
			return -ENOMEM;
		im->batch = p;
		im->batch_alloc = na;
	}
	memcpy(im->batch + im->batch_len, rec, rlen);
	memcpy(im->batch + im->batch_len + rlen, txt, tlen);
	im->batch_len += rlen + tlen;
	im->parts[im->n_parts++] = (struct staged_chunk){ (int64_t)(im->v.n_entries - n), rlen,
		tlen };
	hotlist_chunk_writer_reset(im->cw);
	now = time_monotonic_usec();
	if (im->n_parts == 1)
		im->batch_usec = now;
	if (im->n_parts == STAGE_BATCH_CHUNKS || now - im->batch_usec >= STAGE_BATCH_USEC)
		return stage_write(im);
	return 0;
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

/* The last chunks, then the version's provenance and counts (still pending). */
static int
stage_end(struct importer *im, const struct hotlist *list)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = import_flush(im)) < 0 || (r = stage_write(im)) < 0)
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
	return rc == SQLITE_DONE ? 0 : store_error(im->s, rc);
}

static void
import_free(struct importer *im)
{
	sqlite3_finalize(im->ins_chunk);
	hotlist_chunk_writer_free(im->cw);
	hotlist_keyset_free(im->prev);
	free(im->batch);
}

int
hotlist_store_stage_buffer(struct store *s, const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, const char *user, const atomic_bool *cancel,
    struct hotlist_staged *ret, struct hotlist **ret_list, char **ret_error, char **ret_report)
{
	struct hotlist_parse_opts o = *opts;
	struct hotlist *list = NULL;
	struct importer im;
	sqlite3_stmt *st = NULL;
	int r, k, sync = -1;

	/*
	 * A pending version's chunks need no sync of their own (a crash
	 * removes them anyway): the activation's commit, synchronous=FULL,
	 * makes them durable with it.  The connection's setting comes back.
	 */
	if (store_prepare(s, "PRAGMA synchronous", &st) == 0 && sqlite3_step(st) == SQLITE_ROW)
		sync = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (sync > 1)
		(void)sqlite3_exec(store_db(s), "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if ((r = stage_begin(s, opts->source != NULL ? opts->source :
	    hotlist_format_source(opts->format), user, &im)) < 0)
		goto out;
	im.cancel = cancel;
	o.on_entry = import_entry_cb;
	o.userdata = &im;
	if ((r = hotlist_parse_buffer(name, buf, len, &o, &list, ret_error, ret_report)) < 0) {
		/* The store's error, not the file's, when an insert stopped the parse. */
		if (im.error < 0)
			r = im.error;
		goto out;
	}
	if ((r = stage_end(&im, list)) < 0)
		goto out;
	ret->id = im.v.id;
	ret->prev_id = im.prev_id;
	ret->v = im.v;
	*ret_list = list;
	list = NULL;
out:
	/* All or nothing: what a failed import wrote goes (or the next import's start removes it). */
	if (r < 0 && im.v.id > 0 && (k = hotlist_store_drop(s, im.v.id)) < 0)
		r = r == -EINVAL ? r : k;
	hotlist_free(list);
	import_free(&im);
	if (sync > 1) {
		char sql[32];

		snprintf(sql, sizeof(sql), "PRAGMA synchronous = %d", sync);
		(void)sqlite3_exec(store_db(s), sql, NULL, NULL, NULL);
	}
	return r;
}

int
hotlist_store_activate(struct store *s, const struct hotlist_staged *sv,
    struct hotlist_version *ret)
{
	sqlite3_stmt *st = NULL;
	char name[HOTLIST_TEXT_MAX + 1];
	int64_t cur, first, now = store_now(s);
	int r, rc;

	if ((r = store_prepare(s, "SELECT name FROM hotlists WHERE id = ? AND active = 2", &st)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, sv->id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : store_error(s, rc);
	if ((cur = active_id(s, name, NULL)) == -ENOENT)
		cur = 0;
	else if (cur < 0)
		return (int)cur;
	if (cur != sv->prev_id)
		return -ESTALE;	/* another version came meanwhile: its counts would be wrong */
	if ((first = hotlist_store_next_entry_id(s)) < 0)
		return (int)first;
	if ((r = store_prepare(s, "UPDATE hotlists SET active = CASE id WHEN ?2 THEN 1 ELSE 0 END,"
	    " first_entry = CASE id WHEN ?2 THEN ?3 ELSE first_entry END,"
	    " imported_usec = CASE id WHEN ?2 THEN ?4 ELSE imported_usec END"
	    " WHERE id = ?2 OR (name = ?1 AND active = 1)", &st)) < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sv->id);
	sqlite3_bind_int64(st, 3, first);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_error(s, rc);
	if (ret != NULL) {
		*ret = sv->v;
		ret->id = sv->id;
		ret->first_entry = first;
		ret->imported_usec = now;
	}
	return 0;
}

int
hotlist_store_import_buffer(struct store *s, const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, const char *user, struct hotlist_version *ret,
    struct hotlist **ret_list, char **ret_error, char **ret_report)
{
	struct hotlist_staged sv;
	struct hotlist *list = NULL;
	int r;

	if ((r = hotlist_store_stage_buffer(s, name, buf, len, opts, user, NULL, &sv, &list,
	    ret_error, ret_report)) < 0)
		return r;
	if ((r = store_begin(s)) < 0)
		goto fail;
	if ((r = hotlist_store_activate(s, &sv, ret)) < 0 || (r = store_commit(s)) < 0) {
		store_rollback(s);
		goto fail;
	}
	while ((r = hotlist_store_prune_step(s, HOTLIST_PRUNE_REPLACED)) > 0)
		;
	*ret_list = list;
	return r;
fail:
	(void)hotlist_store_drop(s, sv.id);
	hotlist_free(list);
	return r;
}

/* Inside the caller's transaction (lib/policy's, with its access-log row). */
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

/*
 * Entry ordinal n of a chunked version: its whole chunk is read and
 * checked, texts too (about 100 KB, 0.25-0.3 ms of CPU), because the
 * CRC covers the chunk and the texts are found by walking past the ones
 * before.  Paid once per stored hit, which is rare next to reads; a hit
 * needing it faster would keep an offset per record in the chunk.
 */
static int
entry_chunk(struct store *s, int64_t list_id, int64_t n, const char *list_name,
    struct hotlist_stored_entry *ret)
{
	struct chunk_walk w;
	struct hotlist_entry e;
	size_t off = 0;
	int64_t i;
	uint32_t j;
	int r;

	if ((r = walk_open(&w, s, list_id, n, true)) < 0 || (r = walk_next(&w)) < 0)
		goto out;
	i = n - w.first;
	if (r == 0 || i < 0 || i >= w.c.n) {
		r = -ENOENT;
		goto out;
	}
	if ((r = hotlist_chunk_entry(&w.c, (uint32_t)i, &e)) < 0)
		goto out;
	/* Texts are in record order: walk past the ones before; the last is i's. */
	for (j = 0; j <= (uint32_t)i; j++)
		if ((r = hotlist_chunk_texts(&w.c, j, &off, &e)) < 0)
			goto out;
	ret->list_id = list_id;
	stored_copy(ret, &e, list_name);
	r = 0;
out:
	walk_close(&w);
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
