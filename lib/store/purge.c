/*
 * Retention purge (policy IV.F.5, R8): reads captured before the cutoff go,
 * with their hits (foreign-key cascade), their hit events and their images,
 * unless an active hold names them.  Runs in alpr-matchd from a timer and
 * in alprctl purge --offline.
 *
 * The purge shares the database with the insert path, so it works in
 * bounded steps: each step is one write transaction sized to hold the lock
 * for about budget_usec, and the batch size adapts to what the last step
 * cost.  secure_delete (store.c) zeroes what each step frees, and
 * store_vacuum() gives the pages back and truncates the WAL, so that a
 * purged plate is not left anywhere in the file's bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/time.h"
#include "store/store-private.h"

#define BATCH_MIN 16
#define BATCH_MAX 16384
#define BATCH_START 256

static void
free_pending(struct store *s)
{
	size_t i;

	for (i = 0; i < s->n_pending; i++)
		free(s->pending[i]);
	free(s->pending);
	s->pending = NULL;
	s->n_pending = 0;
}

/* Takes ownership of rel on success. */
static int
pending_add(struct store *s, char *rel)
{
	char **p = realloc(s->pending, (s->n_pending + 1) * sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	s->pending = p;
	s->pending[s->n_pending++] = rel;
	return 0;
}

void
store_purge_forget(struct store *s)
{
	free_pending(s);
}

struct victim {
	int64_t rowid;
	char *crop, *context;
};

static char *
dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

static int
trash(sqlite3_stmt *ins, const char *rel)
{
	int rc;

	if (rel == NULL)
		return 0;
	sqlite3_reset(ins);
	sqlite3_bind_text(ins, 1, rel, -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_purge_step(struct store *s, int64_t cutoff_usec, int64_t budget_usec,
    struct store_purge_stats *acc)
{
	sqlite3_stmt *sel = NULL, *del_hits = NULL, *del_read = NULL, *ins_trash = NULL,
	    *del_trash = NULL;
	struct victim *v = NULL;
	int64_t t0, dt, work;
	int batch, n = 0, i, r, rc;
	uint64_t hits = 0;

	if (s->purge_batch == 0)
		s->purge_batch = BATCH_START;
	batch = s->purge_batch;
	if ((v = calloc((size_t)batch, sizeof(*v))) == NULL)
		return -ENOMEM;
	if ((r = store_prepare(s, "SELECT rowid, crop_file, context_file FROM reads r"
	    " WHERE capture_usec < ?1 AND NOT EXISTS (SELECT 1 FROM hold_reads hr"
	    "  JOIN holds h ON h.id = hr.hold_id"
	    "  WHERE hr.read_rowid = r.rowid AND h.released_usec IS NULL)"
	    " ORDER BY capture_usec LIMIT ?2", &sel)) < 0 ||
	    (r = store_prepare(s, "DELETE FROM hits WHERE read_rowid = ?", &del_hits)) < 0 ||
	    (r = store_prepare(s, "DELETE FROM reads WHERE rowid = ?", &del_read)) < 0 ||
	    (r = store_prepare(s, "INSERT OR IGNORE INTO image_trash (path) VALUES (?)",
	    &ins_trash)) < 0 ||
	    (r = store_prepare(s, "DELETE FROM image_trash WHERE path = ?", &del_trash)) < 0)
		goto out;

	if ((r = store_begin(s)) < 0)
		goto out;
	/* From here we hold the write lock: this is what the budget limits. */
	t0 = time_monotonic_usec();
	for (i = 0; i < (int)s->n_pending; i++) {
		sqlite3_bind_text(del_trash, 1, s->pending[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(del_trash);
		sqlite3_reset(del_trash);
		if (rc != SQLITE_DONE) {
			r = store_error(s, rc);
			goto fail;
		}
	}
	sqlite3_bind_int64(sel, 1, cutoff_usec);
	sqlite3_bind_int(sel, 2, batch);
	while (n < batch && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		v[n].rowid = sqlite3_column_int64(sel, 0);
		v[n].crop = dup_col(sel, 1);
		v[n].context = dup_col(sel, 2);
		n++;
	}
	sqlite3_reset(sel);
	for (i = 0; i < n; i++) {
		/* Image names go to the trash in the same transaction as their read. */
		if (trash(ins_trash, v[i].crop) < 0 || trash(ins_trash, v[i].context) < 0) {
			r = -EIO;
			goto fail;
		}
		sqlite3_bind_int64(del_hits, 1, v[i].rowid);
		rc = sqlite3_step(del_hits);
		sqlite3_reset(del_hits);
		if (rc != SQLITE_DONE) {
			r = store_error(s, rc);
			goto fail;
		}
		hits += (uint64_t)sqlite3_changes(s->db);
		sqlite3_bind_int64(del_read, 1, v[i].rowid);
		rc = sqlite3_step(del_read);
		sqlite3_reset(del_read);
		if (rc != SQLITE_DONE) {
			r = store_error(s, rc);
			goto fail;
		}
	}
	work = time_monotonic_usec() - t0;
	if ((r = store_commit(s)) < 0)
		goto out;
	dt = time_monotonic_usec() - t0;

	/* Committed: the files may go now, then their trash rows. */
	for (i = 0; i < n; i++) {
		if (v[i].crop != NULL) {
			store_image_unlink(s, v[i].crop);
			acc->images++;
		}
		if (v[i].context != NULL) {
			store_image_unlink(s, v[i].context);
			acc->images++;
		}
	}
	/*
	 * Their trash rows go in the next step's transaction (or with
	 * store_trash_flush() at the end), saving a commit per step.
	 */
	free_pending(s);
	for (i = 0; i < n; i++) {
		if (v[i].crop != NULL && pending_add(s, v[i].crop) == 0)
			v[i].crop = NULL;
		if (v[i].context != NULL && pending_add(s, v[i].context) == 0)
			v[i].context = NULL;
	}

	acc->reads += (uint64_t)n;
	acc->hits += hits;
	acc->batches++;
	if (dt > acc->max_batch_usec)
		acc->max_batch_usec = dt;
	/*
	 * Size the batch on the work done under the lock; the commit's sync
	 * costs the same for 16 rows or 16000 and is no reason to shrink.
	 */
	if (work < budget_usec / 2 && n == batch && batch < BATCH_MAX)
		s->purge_batch = batch * 2;
	else if (work > budget_usec && batch > BATCH_MIN)
		s->purge_batch = batch / 2;
	r = n == batch ? 1 : 0;
	goto out;
fail:
	store_rollback(s);
out:
	for (i = 0; i < n; i++) {
		free(v[i].crop);
		free(v[i].context);
	}
	free(v);
	sqlite3_finalize(sel);
	sqlite3_finalize(del_hits);
	sqlite3_finalize(del_read);
	sqlite3_finalize(ins_trash);
	sqlite3_finalize(del_trash);
	return r;
}

int
store_vacuum(struct store *s)
{
	sqlite3_stmt *free_count = NULL, *vac = NULL, *ckpt = NULL;
	int64_t left;
	int r, rc;

	if ((r = store_prepare(s, "PRAGMA freelist_count", &free_count)) < 0 ||
	    (r = store_prepare(s, "PRAGMA incremental_vacuum(2000)", &vac)) < 0 ||
	    (r = store_prepare(s, "PRAGMA wal_checkpoint(TRUNCATE)", &ckpt)) < 0)
		goto out;
	/* In slices of 2000 pages, each its own short transaction. */
	for (;;) {
		sqlite3_reset(free_count);
		if (sqlite3_step(free_count) != SQLITE_ROW) {
			r = -EIO;
			goto out;
		}
		left = sqlite3_column_int64(free_count, 0);
		sqlite3_reset(free_count);
		if (left == 0)
			break;
		sqlite3_reset(vac);
		while ((rc = sqlite3_step(vac)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			r = store_error(s, rc);
			goto out;
		}
	}
	while ((rc = sqlite3_step(ckpt)) == SQLITE_ROW)
		;
	r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
out:
	sqlite3_finalize(free_count);
	sqlite3_finalize(vac);
	sqlite3_finalize(ckpt);
	return r;
}

int
store_purge(struct store *s, int64_t retention_days, struct store_purge_stats *ret)
{
	struct store_purge_stats st = { 0 };
	sqlite3_stmt *held = NULL;
	int64_t cutoff;
	int r;

	/* The ceiling is policy (IV.F.5); lib/conf refuses more, and so do we. */
	if (retention_days < 1 || retention_days > 365)
		return -EINVAL;
	cutoff = store_now(s) - retention_days * USEC_PER_DAY;
	(void)store_trash_flush(s);
	do
		r = store_purge_step(s, cutoff, 25 * USEC_PER_MSEC, &st);
	while (r > 0);
	/* The last step's trash rows: their files are gone already. */
	free_pending(s);
	(void)store_trash_flush(s);
	if (r < 0)
		return r;
	if ((r = store_vacuum(s)) < 0)
		return r;
	if ((r = store_prepare(s, "SELECT count(*) FROM reads WHERE capture_usec < ?", &held)) < 0)
		return r;
	sqlite3_bind_int64(held, 1, cutoff);
	if (sqlite3_step(held) == SQLITE_ROW)
		st.held = (uint64_t)sqlite3_column_int64(held, 0);
	sqlite3_finalize(held);
	if (ret != NULL)
		*ret = st;
	return 0;
}
