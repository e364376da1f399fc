/*
 * The database of ALPR information: one SQLite file owned by alpr-matchd
 * (alprctl --offline opens it as root for set-up and recovery), and the
 * plate images as files in an images/ directory beside it.
 *
 * Invariants kept here:
 *  - the file and its images are never world-accessible (R13): created
 *    0600/0700, and a database whose mode admits "other" is refused;
 *  - WAL, synchronous=FULL (NORMAL only for purge steps, purge.c says
 *    why), foreign keys, a busy handler that polls every millisecond for
 *    up to 5 s, secure_delete and auto_vacuum=INCREMENTAL on every
 *    connection;
 *  - the schema only moves forward, one step per PRAGMA user_version;
 *  - a read is committed together with its image files (written and synced
 *    first) and removed together with them (through image_trash, so a
 *    crash between commit and unlink leaves nothing behind for long).
 * Statements are prepared with bound parameters only.
 */
#ifndef ALPR_STORE_H
#define ALPR_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 7
#define STORE_ID_LEN 32		/* a read id: 32 hex digits */
#define STORE_PLATE_MAX 16

struct store;

/* Returns the current time in microseconds (CLOCK_REALTIME unless a test says otherwise). */
typedef int64_t (*store_clock_fn)(void *userdata);

enum store_open_flags {
	STORE_OPEN_CREATE = 1u << 0,	/* create the file if it does not exist */
	/* synchronous=OFF: only for tests that do not test durability. */
	STORE_OPEN_TEST_NOSYNC = 1u << 1,
};

/*
 * Opens (and creates or upgrades) the database at path; images go to
 * "images" in the same directory.  -EPERM if the file or its directory is
 * world-accessible, -EPROTO if its schema is newer than this program's.
 */
int store_open(const char *path, unsigned flags, struct store **ret);
struct store *store_free(struct store *s);

sqlite3 *store_db(struct store *s);
const char *store_path(const struct store *s);
const char *store_images_dir(const struct store *s);
void store_set_clock(struct store *s, store_clock_fn fn, void *userdata);
int64_t store_now(const struct store *s);

/*
 * A full disk.  The daemon that owns the store keeps a reserve file of
 * STORE_RESERVE_BYTES beside the database (<path>.reserve).  When a write
 * finds the disk full (SQLITE_FULL, or ENOSPC writing an image), the
 * reserve is deleted so that SQLite has room to roll back and to commit
 * what is small, and the store stays "full" until store_space_check()
 * finds room for the reserve and a margin again and makes a new one.
 * store_space() is -ENOSPC while full: the caller stores reads and hits
 * without their images then (alerts must not wait for the disk).
 */
#define STORE_RESERVE_BYTES (4 * 1024 * 1024)
int store_space_reserve(struct store *s);
int store_space(const struct store *s);
/* Returns 1 if the store just left the full state, 0 if it is not full. */
int store_space_check(struct store *s);
void store_space_lost(struct store *s);

/* Maps an SQLite result code to -errno (debug log of the message). */
int store_error(struct store *s, int rc);
/* Prepares sql (bound parameters only) on the store's connection. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **ret);
/*
 * BEGIN IMMEDIATE / COMMIT / ROLLBACK.  They nest: inside a transaction
 * store_begin() opens a savepoint, and its store_commit() or
 * store_rollback() ends only that (what it kept commits with the outer
 * transaction, or not).  store_rollback() outside any is a no-op.
 */
int store_begin(struct store *s);
/*
 * Where a writer's time went, all told since store_open() (for figures
 * and tests): waiting for the write lock in store_begin(), syncing the
 * image files of reads before their commit (and how many files), in
 * store_commit() (the WAL's sync), and in automatic checkpoints run inside
 * its commits; and how many store_commit()s succeeded.
 */
struct store_times {
	int64_t lock_wait_usec;
	int64_t images_sync_usec;
	uint64_t images_synced;
	int64_t commit_usec;
	int64_t checkpoint_usec;
	uint64_t checkpoints;		/* all of them, deferred ones included */
	uint64_t checkpoints_deferred;	/* of which run by store_checkpoint_due() */
	uint64_t commits;
};
void store_times(const struct store *s, struct store_times *ret);

/*
 * The automatic checkpoint (a PASSIVE copy of the WAL into the file, with
 * its syncs) falls due when this connection has written STORE_AUTOCHECKPOINT_PAGES
 * WAL frames since its last one, and runs inside the COMMIT that makes it
 * due: that commit's caller waits for it.  Deferred (on), the COMMIT only
 * marks it due, and the caller runs it with store_checkpoint_due() once it
 * has answered for the batch (alpr-matchd: after the ACKs), in the gap
 * before the next one.  A second one falling due before the first was run
 * runs inside the COMMIT as before: a caller that never calls
 * store_checkpoint_due() does not let the WAL grow.
 */
void store_checkpoint_defer(struct store *s, bool on);
/* Runs a deferred checkpoint if one is due: 1 if it ran, 0 if none was due. */
int store_checkpoint_due(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/*
 * Schema steps, exposed for the upgrade tests: applies migrations on db
 * until its user_version is target (<= STORE_SCHEMA_VERSION).
 */
int store_migrate(sqlite3 *db, int target);

/* ---- reads ---------------------------------------------------------- */

struct store_read {
	char id[STORE_ID_LEN + 1];
	char plate[STORE_PLATE_MAX + 1];
	char state[3];			/* "" when unknown */
	double confidence, state_confidence;
	const char *candidates;		/* JSON array text, NULL for [] */
	const char *camera;
	int64_t capture_usec, first_usec, last_usec;
	int frames;
	bool gps_fix;
	double lat, lon, speed, heading;
	/* JPEG bytes, or NULL; written as files under images/. */
	const void *crop, *context;
	size_t crop_len, context_len;
};

/* True if s is 32 lowercase hex digits. */
bool store_id_valid(const char *s);
/* True if s is 1..16 of [A-Z0-9]. */
bool store_plate_valid(const char *s);

/*
 * Group commit: one transaction (and one sync) for n reads.  A read whose
 * id is already stored is a duplicate and ret_dup[i] (if given) is set:
 * a resend changes nothing; an update (more frames than stored) replaces
 * the stored text, state, confidences, candidates, last_usec and frames,
 * never the capture time, place or images.  Returns the number of new
 * reads or -errno; on failure nothing of the batch is kept.
 */
int store_reads_insert(struct store *s, const struct store_read *reads, size_t n, bool *ret_dup);
/*
 * The same, then(userdata) called inside the transaction once the reads
 * are in, before the commit: what it writes on the store's connection is
 * committed with the reads, in the same sync.  A negative return
 * fails the whole: neither the reads nor what it wrote are kept.
 */
typedef int (*store_then_fn)(void *userdata);
int store_reads_insert_then(struct store *s, const struct store_read *reads, size_t n,
    bool *ret_dup, store_then_fn then, void *userdata);
/* 1 if a read with this id is stored, 0 if not, -errno. */
int store_read_exists(struct store *s, const char *id);
/* The rowid of read id, or -ENOENT. */
int64_t store_read_rowid(struct store *s, const char *id);
int64_t store_reads_count(struct store *s);

/* Opens images/<rel> read-only (rel as stored in reads.crop_file). */
int store_image_open(struct store *s, const char *rel);

/* ---- retention purge (R8) ------------------------------------------- */

/*
 * How long one purge or vacuum step may hold the write lock: an insert
 * waits at most about this long (issue target: p99 under 50 ms, its own
 * commit included).  7 ms (was 15): beside the purge, the slowest 1 % of
 * reads inserted at 30 a second waited 1.5-7 ms for the lock instead of
 * 7-27, for about a tenth of the purge's throughput (doc/benchmarks.md).
 */
#define STORE_STEP_BUDGET_USEC (7 * 1000)

struct store_purge_stats {
	uint64_t reads;			/* removed */
	uint64_t hits;
	uint64_t images;
	uint64_t held;			/* older than the cutoff but kept by a hold */
	uint64_t batches;
	int64_t max_batch_usec;		/* longest write transaction */
};

/*
 * One bounded step: removes a batch of unheld reads captured before
 * cutoff_usec (their hits by cascade), commits, then unlinks their images.
 * The batch size adapts so that a step holds the write lock for about
 * budget_usec.  Returns 1 if more remain, 0 when done, or -errno.
 */
int store_purge_step(struct store *s, int64_t cutoff_usec, int64_t budget_usec,
    struct store_purge_stats *acc);
/*
 * The whole purge for a retention of days (1..365; more is -EINVAL): steps
 * until done, then vacuums, pausing between steps for other writers.
 * Counts held reads in ret.  Blocks until done: alprctl --offline and
 * tools use it, alpr-matchd runs the steps from its event loop.
 */
int store_purge(struct store *s, int64_t retention_days, struct store_purge_stats *ret);
/*
 * One slice of giving freed pages back: an incremental_vacuum transaction
 * sized to hold the lock about budget_usec.  When no freed page is left,
 * checkpoints the WAL into the file and truncates it (tried without
 * waiting for other connections, once a call).  Returns 1 while there is
 * more to do, 0 when done, or -errno.
 */
int store_vacuum_step(struct store *s, int64_t budget_usec);
/* store_vacuum_step() to the end, pausing between slices. */
int store_vacuum(struct store *s);
/* Unlinks images left in image_trash by a crash between commit and unlink. */
int store_trash_flush(struct store *s);

#endif
