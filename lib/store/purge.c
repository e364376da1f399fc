/*
 * Retention purge (policy IV.F.5, R8): reads captured before the cutoff go,
 * with their hits (foreign-key cascade), their hit events and their images,
 * unless an active hold names them.  Runs in alpr-matchd from a timer and
 * in alprctl purge --offline.
 *
 * The purge shares the database with the insert path, which must never
 * wait long for the write lock (issue: ~50 ms at most).  So:
 *  - it works in bounded steps, each one write transaction whose batch
 *    adapts to the time the lock was actually held (work and commit);
 *  - a step commits with synchronous=NORMAL: no fsync under the lock.  A
 *    power loss can at worst undo the last steps, whose reads were expired
 *    and go again on the next run.  Every 250 ms and after the last step
 *    the WAL is checkpointed (PASSIVE, which syncs it first) outside the
 *    lock, and only then are the image files of the steps before unlinked
 *    (their names wait in image_trash meanwhile).  Only if a long reader
 *    kept that checkpoint from copying anything could a power loss bring
 *    back an expired read without its images, to be purged again on the
 *    next run;
 *  - the checkpoints also keep the WAL short, so that an insert's commit
 *    does not run into a large automatic checkpoint; the purge runs none
 *    in its own commits, and beside another writer it waits while the
 *    WAL is long until that writer has started it again (wal_yield());
 *  - freed pages go back in slices of the same budget (store_vacuum_step),
 *    and the WAL is truncated last, after a PASSIVE checkpoint has copied
 *    it, with a TRUNCATE that is tried without waiting (it would hold the
 *    write lock while it waits for readers) until it gets through.
 * secure_delete (store.c) zeroes what each step frees; vacuum and the WAL's
 * truncation leave no purged plate anywhere in the file's bytes.
 * store_purge() pauses between steps so that writers waiting for the lock
 * (they poll every millisecond, store.c) get it in between; alpr-matchd
 * runs the steps from its event loop with its own pauses.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "store/store-private.h"

#define BATCH_MIN 16
#define BATCH_MAX 16384
#define BATCH_START 256
#define VACUUM_MIN 16		/* pages */
#define VACUUM_MAX 1024	/* a slice's cost grows faster than its size */
#define VACUUM_START 128
#define STEP_PAUSE_USEC (5 * USEC_PER_MSEC)	/* store_purge(): writers get the lock */
#define CHECKPOINT_EVERY_USEC (250 * USEC_PER_MSEC)
#define TRUNCATE_TRIES 200
#define COPY_PASSES 4		/* before the WAL's truncation */

/*
 * Copies the WAL into the file without taking the write lock (PASSIVE),
 * syncing both: passes times at most, until a pass finds nothing new.
 * Another connection's checkpoint makes ours busy at once (SQLite does
 * not wait for that lock): retried every millisecond for up to
 * COPY_WAIT_USEC.  *synced: a pass of ours synced the WAL (a reader may
 * still have kept part of it from being copied).
 */
#define COPY_WAIT_USEC (20 * USEC_PER_MSEC)

static int
wal_copy(struct store *s, int passes, bool *synced)
{
	int64_t until = time_monotonic_usec() + COPY_WAIT_USEC;
	int rc, log = 0, done = 0, last = -1;

	*synced = false;
	while (passes > 0) {
		rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc == SQLITE_BUSY && time_monotonic_usec() < until) {
			usleep(1000);
			continue;
		}
		if (rc != SQLITE_OK)
			return rc == SQLITE_BUSY ? 0 : store_error(s, rc);
		*synced = true;
		s->wal_log = log;
		if (done != log || done == last)
			break;		/* a reader holds the rest, or nothing came in */
		last = done;
		passes--;
	}
	return 0;
}

/*
 * While another process writes too (alpr-matchd beside `alprctl --offline
 * purge`), the WAL starts again from its beginning only when a transaction
 * begins with every frame already copied, and the two writers' commits in
 * turn keep that from happening: the WAL grew for the whole purge (to
 * 0.7 GB at 50,000 reads and 1 GB at 1,000,000 on the bench), and its
 * truncation at the end held the write lock for 0.6-2 s (ftruncate).  So
 * once the WAL passes WAL_YIELD_FRAMES the purge writes nothing, only
 * copies, until the other writer, alone, has started it again: the first
 * transaction after a complete copy does.  Up to YIELD_MAX_USEC at a time,
 * in case a reader keeps the WAL from being copied.
 */
#define WAL_YIELD_FRAMES (4 * STORE_AUTOCHECKPOINT_PAGES)
#define YIELD_MAX_USEC (2 * USEC_PER_SEC)

static int
note_frames(void *userdata, sqlite3 *db, const char *name, int frames)
{
	struct store *s = userdata;

	(void)db;
	(void)name;
	s->wal_log = frames;
	return SQLITE_OK;
}

/* 1: wait (the caller comes back later), 0: go on, < 0: error. */
static int
wal_yield(struct store *s)
{
	int64_t now = time_monotonic_usec();
	bool synced;
	int r;

	if (s->wal_log < WAL_YIELD_FRAMES) {
		s->yield_since_usec = 0;
		return 0;
	}
	if (s->yield_since_usec == 0)
		s->yield_since_usec = now;
	else if (now - s->yield_since_usec >= YIELD_MAX_USEC) {
		s->yield_since_usec = 0;
		s->wal_log = 0;		/* go on; yield again after the next commit */
		return 0;
	}
	if ((r = wal_copy(s, 1, &synced)) < 0)
		return r;
	return s->wal_log >= WAL_YIELD_FRAMES ? 1 : 0;
}

/* Doubles or halves *size so that a transaction holds the lock about budget_usec. */
static void
adapt(int *size, int used, int64_t held_usec, int64_t budget_usec, int min, int max)
{
	if (held_usec < budget_usec / 2 && used == *size && *size < max)
		*size *= 2;
	else if (held_usec > budget_usec && *size > min)
		*size /= 2;
}

static void
names_free(struct store_names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Takes ownership of rel on success. */
static int
names_add(struct store_names *l, char *rel)
{
	char **p = realloc(l->v, (l->n + 1) * sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	l->v = p;
	l->v[l->n++] = rel;
	return 0;
}

/* What is left in these lists is in image_trash: store_trash_flush() finishes it. */
void
store_purge_forget(struct store *s)
{
	names_free(&s->unsynced);
	names_free(&s->pending);
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
	int64_t t0, dt;
	int batch, n = 0, i, r, rc;
	uint64_t hits = 0;

	if (s->purge_batch == 0)
		s->purge_batch = BATCH_START;
	if ((r = wal_yield(s)) != 0)
		return r;
	batch = s->purge_batch;
	if ((v = calloc((size_t)batch, sizeof(*v))) == NULL)
		return -ENOMEM;
	/*
	 * No automatic checkpoint in the purge's own commits (nor in the vacuum
	 * slices'): the steps copy the WAL every CHECKPOINT_EVERY_USEC, outside
	 * the lock.  The automatic one ran inside store_commit(), so adapt()
	 * counted it as lock time (up to 190 ms of a "step" on the bench) and
	 * halved the steps, and it took the checkpoint lock from the other
	 * writers'.
	 */
	store_autocheckpoint(s, false);
	(void)sqlite3_wal_hook(s->db, note_frames, s);
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

	if ((r = store_set_sync(s, false)) < 0)
		goto out;
	if ((r = store_begin(s)) < 0)
		goto out;
	/* From here we hold the write lock: this is what the budget limits. */
	t0 = time_monotonic_usec();
	for (i = 0; i < (int)s->pending.n; i++) {
		sqlite3_bind_text(del_trash, 1, s->pending.v[i], -1, SQLITE_STATIC);
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
	if ((r = store_commit(s)) < 0)
		goto out;
	dt = time_monotonic_usec() - t0;
	(void)store_set_sync(s, true);
	/* The trash rows deleted in this step are gone; this step's names wait for a sync. */
	names_free(&s->pending);
	for (i = 0; i < n; i++) {
		if (v[i].crop != NULL && names_add(&s->unsynced, v[i].crop) == 0)
			v[i].crop = NULL;
		if (v[i].context != NULL && names_add(&s->unsynced, v[i].context) == 0)
			v[i].context = NULL;
	}
	/*
	 * Outside the lock, now and then (each one costs two syncs) and after
	 * the last step: the checkpoint syncs the WAL, which makes the steps
	 * since the last one durable, and copies it into the file.  Then their
	 * files may go; their trash rows go in the next step's transaction (or
	 * with store_trash_flush() at the end).
	 */
	if (n < batch || time_monotonic_usec() - s->purge_ckpt_usec >= CHECKPOINT_EVERY_USEC) {
		bool synced;

		if ((r = wal_copy(s, 1, &synced)) < 0)
			goto out;
		s->purge_ckpt_usec = time_monotonic_usec();
		for (i = 0; synced && i < (int)s->unsynced.n; i++) {
			store_image_unlink(s, s->unsynced.v[i]);
			acc->images++;
		}
		if (synced) {
			s->pending = s->unsynced;
			s->unsynced = (struct store_names){ NULL, 0 };
		}
	}

	acc->reads += (uint64_t)n;
	acc->hits += hits;
	acc->batches++;
	if (dt > acc->max_batch_usec)
		acc->max_batch_usec = dt;
	/* Sized on the whole time the lock was held, commit included (no sync in it). */
	adapt(&s->purge_batch, n, dt, budget_usec, BATCH_MIN, BATCH_MAX);
	r = n == batch ? 1 : 0;
	goto out;
fail:
	store_rollback(s);
out:
	(void)store_set_sync(s, true);
	store_autocheckpoint(s, true);
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
store_vacuum_step(struct store *s, int64_t budget_usec)
{
	sqlite3_stmt *free_count = NULL, *vac = NULL;
	char sql[64];
	int64_t left = 0, t0, dt;
	int r, rc;

	if (s->vacuum_pages == 0)
		s->vacuum_pages = VACUUM_START;
	if ((r = wal_yield(s)) != 0)
		return r;
	store_autocheckpoint(s, false);
	(void)sqlite3_wal_hook(s->db, note_frames, s);
	if ((r = store_prepare(s, "PRAGMA freelist_count", &free_count)) < 0)
		goto out;
	if (sqlite3_step(free_count) == SQLITE_ROW)
		left = sqlite3_column_int64(free_count, 0);
	sqlite3_reset(free_count);
	if (left == 0) {
		/*
		 * Done: copy the WAL without blocking anyone, then truncate it.
		 * TRUNCATE takes the write lock and waits there for readers, so
		 * it is tried without waiting, once a step, and only after
		 * TRUNCATE_TRIES busy tries is it waited for.
		 */
		bool synced;

		if ((r = wal_copy(s, COPY_PASSES, &synced)) < 0)
			goto out;
		store_set_busy_wait(s, 0);
		rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		store_set_busy_wait(s, -1);
		if (rc == SQLITE_BUSY && ++s->truncate_tries < TRUNCATE_TRIES) {
			r = 1;
			goto out;
		}
		s->truncate_tries = 0;
		if (rc == SQLITE_BUSY)
			rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
			    NULL, NULL);
		r = rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : store_error(s, rc);
		goto out;
	}
	/* PRAGMA takes no parameters; the count is our own integer. */
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)", s->vacuum_pages);
	if ((r = store_prepare(s, sql, &vac)) < 0 || (r = store_set_sync(s, false)) < 0 ||
	    (r = store_begin(s)) < 0)
		goto out;
	t0 = time_monotonic_usec();
	while ((rc = sqlite3_step(vac)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		r = store_error(s, rc);
		store_rollback(s);
		goto out;
	}
	if ((r = store_commit(s)) < 0)
		goto out;
	dt = time_monotonic_usec() - t0;
	(void)store_set_sync(s, true);
	if (time_monotonic_usec() - s->purge_ckpt_usec >= CHECKPOINT_EVERY_USEC) {
		bool synced;

		if ((r = wal_copy(s, 1, &synced)) < 0)
			goto out;
		s->purge_ckpt_usec = time_monotonic_usec();
	}
	adapt(&s->vacuum_pages, left < s->vacuum_pages ? (int)left : s->vacuum_pages, dt,
	    budget_usec, VACUUM_MIN, VACUUM_MAX);
	r = 1;
out:
	(void)store_set_sync(s, true);
	store_autocheckpoint(s, true);
	sqlite3_finalize(free_count);
	sqlite3_finalize(vac);
	return r;
}

int
store_vacuum(struct store *s)
{
	int r;

	while ((r = store_vacuum_step(s, STORE_STEP_BUDGET_USEC)) > 0)
		usleep(STEP_PAUSE_USEC);
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
	while ((r = store_purge_step(s, cutoff, STORE_STEP_BUDGET_USEC, &st)) > 0)
		usleep(STEP_PAUSE_USEC);
	/* The last steps' trash rows (their files are gone already). */
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
