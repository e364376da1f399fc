/*
 * Opening the database and storing reads with their images.  Runs in
 * alpr-matchd (reads arrive from alpr-ocrd, already decoded and checked
 * by the caller) and in alprctl --offline.
 *
 * Images are files under images/ rather than BLOBs in the database: a
 * read's crop and context frame are tens to hundreds of KiB, and as BLOBs
 * they would go through the WAL twice, multiply the page churn of every
 * purge (secure_delete zeroes each page it frees), and push the indexes
 * the queries need out of the page cache.  As files they are written once,
 * streamed to exports as they are, and removed with one unlink.  The cost
 * is a second thing to keep consistent; image_trash and the write order
 * (files synced before the commit that names them) carry that.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "store/store-private.h"

static int64_t
realtime_clock(void *userdata)
{
	(void)userdata;
	return time_realtime_usec();
}

int
store_error(struct store *s, int rc)
{
	log_debug("sqlite: %s (%d)", sqlite3_errmsg(s->db), rc);
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		store_space_lost(s);
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EPERM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

/* ---- a full disk: the reserve file (store.h) ---- */

static int
reserve_make(struct store *s)
{
	int fd, r;

	fd = open(s->reserve, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = posix_fallocate(fd, 0, STORE_RESERVE_BYTES);
	if (r == 0 && fsync(fd) < 0)
		r = errno;
	close(fd);
	if (r != 0) {
		(void)unlink(s->reserve);
		return -r;
	}
	return 0;
}

int
store_space_reserve(struct store *s)
{
	int r;

	if (s->reserve == NULL && asprintf(&s->reserve, "%s.reserve", s->path) < 0) {
		s->reserve = NULL;
		return -ENOMEM;
	}
	if ((r = reserve_make(s)) < 0 && r == -ENOSPC)
		s->full = true;
	return r;
}

int
store_space(const struct store *s)
{
	return s->full ? -ENOSPC : 0;
}

void
store_space_lost(struct store *s)
{
	if (s->full)
		return;
	s->full = true;
	if (s->reserve != NULL)
		(void)unlink(s->reserve);
	log_debug("store: disk full, reserve released");
}

int
store_space_check(struct store *s)
{
	struct statvfs st;

	if (!s->full)
		return 0;
	if (statvfs(s->path, &st) < 0)
		return -errno;
	/* The reserve and as much again, so that we do not flap at the edge. */
	if ((uint64_t)st.f_bavail * st.f_frsize < 2 * (uint64_t)STORE_RESERVE_BYTES)
		return -ENOSPC;
	if (s->reserve != NULL && reserve_make(s) < 0)
		return -ENOSPC;
	s->full = false;
	return 1;
}

int
store_prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
	if (rc != SQLITE_OK) {
		*ret = NULL;
		return store_error(s, rc);
	}
	return 0;
}

static int
exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_error(s, rc);
}

/*
 * BEGIN IMMEDIATE takes the write lock (waiting for it in busy_poll());
 * what it waited is added up for store_times().  Inside a transaction, a
 * savepoint.  A transaction SQLite ended itself (it rolls back on some
 * errors, a full disk among them) leaves no depth behind.
 */
int
store_begin(struct store *s)
{
	int64_t t0;
	int r;

	if (sqlite3_get_autocommit(s->db))
		s->depth = 0;
	if (s->depth > 0) {
		if ((r = exec(s, "SAVEPOINT nested")) == 0)
			s->depth++;
		return r;
	}
	t0 = time_monotonic_usec();
	r = exec(s, "BEGIN IMMEDIATE");
	s->times.lock_wait_usec += time_monotonic_usec() - t0;
	if (r == 0)
		s->depth = 1;
	return r;
}

void
store_times(const struct store *s, struct store_times *ret)
{
	*ret = s->times;
}

/*
 * Waiting for another connection's lock: SQLite's own busy timeout sleeps
 * up to 100 ms between tries, so a writer could sleep on long after a
 * 10 ms purge step let go of the lock.  Polling every millisecond takes
 * the lock within a millisecond of its release, up to BUSY_TIMEOUT_USEC.
 */
#define BUSY_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define BUSY_POLL_USEC 1000

static int
busy_poll(void *userdata, int tries)
{
	struct store *s = userdata;
	int64_t now = time_monotonic_usec();

	if (tries == 0)
		s->busy_since_usec = now;
	else if (now - s->busy_since_usec >= s->busy_timeout_usec)
		return 0;
	usleep(BUSY_POLL_USEC);
	return 1;
}

void
store_set_busy_wait(struct store *s, int64_t usec)
{
	s->busy_timeout_usec = usec < 0 ? BUSY_TIMEOUT_USEC : usec;
	sqlite3_busy_handler(s->db, usec != 0 ? busy_poll : NULL, s);
}

int
store_set_sync(struct store *s, bool full)
{
	if (s->nosync)
		return 0;
	return exec(s, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

/* The commit's time, less an automatic checkpoint run in it (autocheckpoint_hook()). */
int
store_commit(struct store *s)
{
	int64_t t0, ck0 = s->times.checkpoint_usec;
	int r;

	if (s->depth > 1) {
		if ((r = exec(s, "RELEASE nested")) < 0)
			store_rollback(s);
		else
			s->depth--;
		return r;
	}
	t0 = time_monotonic_usec();
	r = exec(s, "COMMIT");
	s->times.commit_usec += time_monotonic_usec() - t0 - (s->times.checkpoint_usec - ck0);
	if (r < 0)
		store_rollback(s);
	else {
		s->depth = 0;
		s->times.commits++;
	}
	return r;
}

void
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db)) {
		s->depth = 0;
		return;
	}
	if (s->depth > 1) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO nested; RELEASE nested", NULL, NULL, NULL);
		s->depth--;
		return;
	}
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->depth = 0;
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

const char *
store_images_dir(const struct store *s)
{
	return s->images;
}

void
store_set_clock(struct store *s, store_clock_fn fn, void *userdata)
{
	s->clock = fn != NULL ? fn : realtime_clock;
	s->clock_data = userdata;
}

int64_t
store_now(const struct store *s)
{
	return s->clock(s->clock_data);
}

/* A directory's entries, made durable. */
static int
fsync_dir(const char *path)
{
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* R13: nothing of ours may be readable, writable or searchable by others. */
static int
check_private(const char *path, bool must_exist)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT && !must_exist ? 0 : -errno;
	if (st.st_mode & S_IRWXO) {
		log_debug("%s: mode %04o is world-accessible", path, st.st_mode & 07777);
		return -EPERM;
	}
	return 0;
}

static int
pragmas(struct store *s)
{
	static const char *const list[] = {
		/* Must precede the first table; a no-op on an existing file. */
		"PRAGMA auto_vacuum = INCREMENTAL",
		"PRAGMA journal_mode = WAL",
		/* FULL: a commit (and so an acknowledgement) survives power loss. */
		"PRAGMA synchronous = FULL",
		"PRAGMA foreign_keys = ON",
		"PRAGMA secure_delete = ON",
		"PRAGMA trusted_schema = OFF",
		/*
		 * 32 MiB of page cache (the default is 2): the indexes that every
		 * insert, lookup and purge step walks stay in memory.
		 */
		"PRAGMA cache_size = -32768",
		NULL,
	};
	sqlite3_stmt *st;
	int r, i;

	for (i = 0; list[i] != NULL; i++)
		if ((r = exec(s, list[i])) < 0)
			return r;
	if ((r = store_prepare(s, "PRAGMA journal_mode", &st)) < 0)
		return r;
	r = sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0 ? 0 : -EIO;
	sqlite3_finalize(st);
	return r;
}

/*
 * SQLite's automatic checkpoint runs in a commit that leaves the WAL at
 * STORE_AUTOCHECKPOINT_PAGES frames or more.  That counts from the WAL's
 * start, and while two processes write in turn (alpr-matchd's inserts and
 * `alprctl --offline purge`) the WAL seldom starts again: every commit
 * would then checkpoint, two more syncs each.  This one checkpoints when
 * this connection has written that many frames since it last did
 * (SQLITE_DBSTATUS_CACHE_WRITE counts the pages it wrote to the WAL),
 * which is the same as SQLite's when it writes alone.  Beside a purge
 * that copies the WAL itself (purge.c), an inserter at a car's rate then
 * checkpoints as seldom as its own writes call for, not whenever the
 * purge's frames made the WAL long; a writer that never pauses still
 * checkpoints about every 1,000 frames of its own, so its next
 * transaction begins with everything copied and starts the WAL again
 * (doc/benchmarks.md, storage: without that the WAL grew).
 *
 * It runs inside the COMMIT (after the write lock is released, before
 * COMMIT returns), so the writer whose batch made it due waits for the
 * copy, unless it is deferred (store_checkpoint_defer()); store_times()
 * counts it apart from the commit either way.
 */
static int
frames_written(struct store *s)
{
	int cur = 0, hi = 0;

	(void)sqlite3_db_status(s->db, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 0);
	return cur;
}

static void
checkpoint_run(struct store *s)
{
	int64_t t0 = time_monotonic_usec();

	(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	s->times.checkpoint_usec += time_monotonic_usec() - t0;
	s->times.checkpoints++;
	s->ckpt_due = false;
}

static int
autocheckpoint_hook(void *userdata, sqlite3 *db, const char *name, int frames)
{
	struct store *s = userdata;
	int written = frames_written(s);

	(void)db;
	(void)name;
	(void)frames;
	if (written < s->autockpt_mark)
		s->autockpt_mark = 0;	/* the counter wrapped */
	if (written - s->autockpt_mark < STORE_AUTOCHECKPOINT_PAGES)
		return SQLITE_OK;
	s->autockpt_mark = written;
	if (s->ckpt_defer && !s->ckpt_due) {
		s->ckpt_due = true;
		return SQLITE_OK;
	}
	checkpoint_run(s);
	return SQLITE_OK;
}

void
store_autocheckpoint(struct store *s, bool on)
{
	s->autockpt_mark = frames_written(s);
	sqlite3_wal_hook(s->db, on ? autocheckpoint_hook : NULL, s);
}

void
store_checkpoint_defer(struct store *s, bool on)
{
	s->ckpt_defer = on;
	if (!on && s->ckpt_due)
		(void)store_checkpoint_due(s);
}

int
store_checkpoint_due(struct store *s)
{
	if (!s->ckpt_due)
		return 0;
	checkpoint_run(s);
	s->times.checkpoints_deferred++;
	return 1;
}

int
store_open(const char *path, unsigned flags, struct store **ret)
{
	char dir[PATH_MAX], *slash;
	struct store *s;
	int r, rc, fd;

	if (strlen(path) >= sizeof(dir) - 16)
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';

	if ((r = check_private(path, false)) < 0)
		return r;
	if (access(path, F_OK) < 0) {
		if (!(flags & STORE_OPEN_CREATE))
			return -ENOENT;
		/* Create it 0600 ourselves: SQLite would take the umask's 0644. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
		if (fd >= 0)
			close(fd);
	}

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->clock = realtime_clock;
	s->path = strdup(path);
	if (asprintf(&s->images, "%s/images", dir) < 0)
		s->images = NULL;
	if (s->path == NULL || s->images == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (mkdir(s->images, 0700) == 0) {
		/* Its entry, before any commit names a file in it. */
		if (!(flags & STORE_OPEN_TEST_NOSYNC) && (r = fsync_dir(dir)) < 0)
			goto fail;
	} else if (errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	if ((r = check_private(s->images, true)) < 0)
		goto fail;

	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = s->db != NULL ? store_error(s, rc) : -ENOMEM;
		goto fail;
	}
	store_set_busy_wait(s, -1);
	store_autocheckpoint(s, true);
	sqlite3_extended_result_codes(s->db, 1);
	if ((r = pragmas(s)) < 0)
		goto fail;
	s->nosync = flags & STORE_OPEN_TEST_NOSYNC;
	if (s->nosync && (r = exec(s, "PRAGMA synchronous = OFF")) < 0)
		goto fail;
	if ((r = store_migrate(s->db, STORE_SCHEMA_VERSION)) < 0)
		goto fail;
	/* The WAL and shared-memory files follow the database's mode; check anyway. */
	if ((r = check_private(path, true)) < 0)
		goto fail;
	(void)store_trash_flush(s);
	*ret = s;
	return 0;
fail:
	store_free(s);
	return r;
}

struct store *
store_free(struct store *s)
{
	if (s == NULL)
		return NULL;
	store_purge_forget(s);
	sqlite3_finalize(s->ins_read);
	sqlite3_finalize(s->find_read);
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s->images);
	free(s->reserve);
	free(s);
	return NULL;
}

bool
store_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == STORE_ID_LEN;
}

bool
store_plate_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return i >= 1 && i <= STORE_PLATE_MAX;
}

/* images/<first two hex digits of id>/<id>-<kind>.jpg, relative to images/. */
static void
image_rel(const char *id, const char *kind, char *buf, size_t size)
{
	snprintf(buf, size, "%.2s/%s-%s.jpg", id, id, kind);
}

/*
 * The image files a batch wrote, kept open until they are synced: each
 * file's data (fdatasync) and the directory entries that name them (fsync
 * of each directory a file was renamed into, and of images/ when one of
 * those was made).  Only what the batch wrote is waited for; a syncfs()
 * of the whole file system would wait for everyone else's dirty pages too.
 */
struct image_batch {
	int *fds;
	size_t n, alloc;
	char dirs[256];		/* subdirectory (first hex byte of the id) written to */
	bool made;		/* a subdirectory was made: images/ changed */
};

static void
image_batch_close(struct image_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		close(b->fds[i]);
	free(b->fds);
	memset(b, 0, sizeof(*b));
}

/* One sync of a file's data (fdatasync) or of a directory's entries (fsync). */
struct sync_job {
	pthread_t thread;
	int fd;
	bool dir;
	int r;
};

static void *
sync_job_run(void *userdata)
{
	struct sync_job *j = userdata;

	j->r = (j->dir ? fsync(j->fd) : fdatasync(j->fd)) < 0 ? -errno : 0;
	return NULL;
}

#define SYNC_THREADS_MAX 64

/*
 * The syncs run side by side, one thread each: every fdatasync or fsync
 * ends in a flush of the disk's cache, and flushes in flight together are
 * merged by the block layer into one or two, where in turn each would wait
 * for its own (on the test machine's disk 4 ms each, doc/benchmarks.md).
 * Past SYNC_THREADS_MAX, or when a thread cannot be made, the rest run here.
 */
static int
image_batch_sync(struct store *s, struct image_batch *b)
{
	struct sync_job jobs[SYNC_THREADS_MAX];
	char dir[PATH_MAX];
	int dfd[257];
	size_t i, nd = 0, nj = 0;
	int64_t t0 = time_monotonic_usec();
	int r = 0;

	if (s->nosync || b->n == 0)
		return 0;
	for (i = 0; i < sizeof(b->dirs) && r == 0; i++)
		if (b->dirs[i]) {
			snprintf(dir, sizeof(dir), "%s/%02zx", s->images, i);
			if ((dfd[nd] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				r = -errno;
			else
				nd++;
		}
	if (r == 0 && b->made) {
		if ((dfd[nd] = open(s->images, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = -errno;
		else
			nd++;
	}
	for (i = 0; r == 0 && i < b->n + nd; i++) {
		struct sync_job here, *j = nj < SYNC_THREADS_MAX ? &jobs[nj] : &here;

		j->fd = i < b->n ? b->fds[i] : dfd[i - b->n];
		j->dir = i >= b->n;
		if (j != &here && pthread_create(&j->thread, NULL, sync_job_run, j) == 0) {
			nj++;
			continue;
		}
		sync_job_run(j);
		r = j->r;
	}
	for (i = 0; i < nj; i++) {
		pthread_join(jobs[i].thread, NULL);
		if (r == 0)
			r = jobs[i].r;
	}
	for (i = 0; i < nd; i++)
		close(dfd[i]);
	s->times.images_sync_usec += time_monotonic_usec() - t0;
	if (r == 0)
		s->times.images_synced += b->n;
	return r;
}

/*
 * Writes one image through a temporary name and renames it into place.
 * Nothing is synced here: the file stays open in b, and
 * store_reads_insert() syncs the batch's files (image_batch_sync()) before
 * the commit that names them, so a committed read never names an image
 * that a power loss took away.
 */
static int
image_write(struct store *s, struct image_batch *b, const char *rel, const void *data,
    size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX];
	const char *p = data;
	unsigned sub;
	ssize_t n;
	int fd, r = 0;

	if (sscanf(rel, "%2x/", &sub) != 1)
		return -EINVAL;
	if (b->n == b->alloc) {
		size_t na = b->alloc ? b->alloc * 2 : 16;
		int *nf = reallocarray(b->fds, na, sizeof(*nf));

		if (nf == NULL)
			return -ENOMEM;
		b->fds = nf;
		b->alloc = na;
	}
	snprintf(dir, sizeof(dir), "%s/%.2s", s->images, rel);
	if (mkdir(dir, 0700) == 0)
		b->made = true;
	else if (errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", s->images, rel);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		(void)unlink(tmp);
		return r;
	}
	b->fds[b->n++] = fd;
	b->dirs[sub] = 1;
	return 0;
}

static void
image_unlink(struct store *s, const char *rel)
{
	char path[PATH_MAX];

	if (rel == NULL || strstr(rel, "..") != NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", s->images, rel);
	(void)unlink(path);
}

int
store_image_open(struct store *s, const char *rel)
{
	char path[PATH_MAX];
	int fd;

	if (rel == NULL || rel[0] == '/' || strstr(rel, "..") != NULL)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", s->images, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

static int
bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static int
find_read(struct store *s, const char *id, int64_t *ret_rowid)
{
	int r, rc;

	if (s->find_read == NULL &&
	    (r = store_prepare(s, "SELECT rowid FROM reads WHERE id = ?", &s->find_read)) < 0)
		return r;
	sqlite3_reset(s->find_read);
	sqlite3_bind_text(s->find_read, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s->find_read);
	if (rc == SQLITE_ROW) {
		if (ret_rowid != NULL)
			*ret_rowid = sqlite3_column_int64(s->find_read, 0);
		r = 1;
	} else
		r = rc == SQLITE_DONE ? 0 : store_error(s, rc);
	sqlite3_reset(s->find_read);
	return r;
}

int
store_read_exists(struct store *s, const char *id)
{
	return find_read(s, id, NULL);
}

int64_t
store_read_rowid(struct store *s, const char *id)
{
	int64_t rowid = 0;
	int r;

	if ((r = find_read(s, id, &rowid)) < 0)
		return r;
	return r == 0 ? -ENOENT : rowid;
}

int64_t
store_reads_count(struct store *s)
{
	sqlite3_stmt *st;
	int64_t n;
	int r;

	if ((r = store_prepare(s, "SELECT count(*) FROM reads", &st)) < 0)
		return r;
	n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
	sqlite3_finalize(st);
	return n;
}

/* ?1-?6, the same in the INSERT and the UPDATE: id, plate, state, confidences, candidates. */
static void
bind_read_text(sqlite3_stmt *st, const struct store_read *rd)
{
	sqlite3_bind_text(st, 1, rd->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rd->plate, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, rd->state);
	sqlite3_bind_double(st, 4, rd->confidence);
	sqlite3_bind_double(st, 5, rd->state_confidence);
	sqlite3_bind_text(st, 6, rd->candidates != NULL ? rd->candidates : "[]", -1,
	    SQLITE_STATIC);
}

static int
insert_one(struct store *s, const struct store_read *rd, const char *crop, const char *ctx)
{
	sqlite3_stmt *st = s->ins_read;
	int rc;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	bind_read_text(st, rd);
	sqlite3_bind_text(st, 7, rd->camera, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, rd->capture_usec);
	sqlite3_bind_int64(st, 9, rd->first_usec);
	sqlite3_bind_int64(st, 10, rd->last_usec);
	sqlite3_bind_int(st, 11, rd->frames);
	sqlite3_bind_int(st, 12, rd->gps_fix);
	if (rd->gps_fix) {
		sqlite3_bind_double(st, 13, rd->lat);
		sqlite3_bind_double(st, 14, rd->lon);
		sqlite3_bind_double(st, 15, rd->speed);
		sqlite3_bind_double(st, 16, rd->heading);
	}
	bind_text_or_null(st, 17, crop);
	bind_text_or_null(st, 18, ctx);
	sqlite3_bind_int64(st, 19, store_now(s));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_error(s, rc);
	return sqlite3_changes(s->db);
}

/*
 * An update of a stored read (alpr-ocrd sends a read early and again with
 * more frames when its track closes): the text, state, candidates and
 * counts are replaced if it has more frames than the stored one; the
 * capture time, place and images stay the first READ's (those an alert
 * showed).  A plain resend changes nothing.
 */
static int
update_one(struct store *s, const struct store_read *rd)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = store_prepare(s, "UPDATE reads SET plate = ?2, state = ?3, confidence = ?4,"
	    " state_confidence = ?5, candidates = ?6, last_usec = max(last_usec, ?7),"
	    " frames = ?8 WHERE id = ?1 AND frames < ?8", &st)) < 0)
		return r;
	bind_read_text(st, rd);
	sqlite3_bind_int64(st, 7, rd->last_usec);
	sqlite3_bind_int(st, 8, rd->frames);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_error(s, rc);
	return sqlite3_changes(s->db);
}

int
store_reads_insert(struct store *s, const struct store_read *reads, size_t n, bool *ret_dup)
{
	return store_reads_insert_then(s, reads, n, ret_dup, NULL, NULL);
}

int
store_reads_insert_then(struct store *s, const struct store_read *reads, size_t n,
    bool *ret_dup, store_then_fn then, void *userdata)
{
	char crop[64], ctx[64];
	struct image_batch ib = { 0 };
	bool *dup;
	size_t i;
	int r, added = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!store_id_valid(reads[i].id) || !store_plate_valid(reads[i].plate) ||
		    reads[i].camera == NULL)
			return -EINVAL;
	if (s->ins_read == NULL &&
	    (r = store_prepare(s, "INSERT OR IGNORE INTO reads (id, plate, state, confidence,"
	    " state_confidence, candidates, camera, capture_usec, first_usec, last_usec, frames,"
	    " gps_fix, lat, lon, speed, heading, crop_file, context_file, stored_usec)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &s->ins_read)) < 0)
		return r;
	if ((dup = calloc(n, sizeof(*dup))) == NULL)
		return -ENOMEM;
	if ((r = store_begin(s)) < 0)
		goto out;
	/* Duplicates first, so that their images are not rewritten. */
	for (i = 0; i < n; i++) {
		if ((r = find_read(s, reads[i].id, NULL)) < 0)
			goto fail;
		dup[i] = r > 0;
		if (dup[i] && (r = update_one(s, &reads[i])) < 0)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		const struct store_read *rd = &reads[i];

		if (dup[i])
			continue;
		crop[0] = ctx[0] = '\0';
		if (rd->crop != NULL && rd->crop_len > 0) {
			image_rel(rd->id, "crop", crop, sizeof(crop));
			if ((r = image_write(s, &ib, crop, rd->crop, rd->crop_len)) < 0)
				goto fail;
		}
		if (rd->context != NULL && rd->context_len > 0) {
			image_rel(rd->id, "context", ctx, sizeof(ctx));
			if ((r = image_write(s, &ib, ctx, rd->context, rd->context_len)) < 0)
				goto fail;
		}
		if ((r = insert_one(s, rd, crop, ctx)) < 0)
			goto fail;
		if (r == 0) {
			dup[i] = true;	/* the same id twice in one batch */
			if ((r = update_one(s, rd)) < 0)
				goto fail;
		} else
			added++;
	}
	if ((r = image_batch_sync(s, &ib)) < 0)
		goto fail;
	if (then != NULL && (r = then(userdata)) < 0)
		goto fail;
	if ((r = store_commit(s)) < 0)
		goto fail_files;
	if (ret_dup != NULL)
		memcpy(ret_dup, dup, n * sizeof(*dup));
	r = added;
	goto out;
fail:
	store_rollback(s);
fail_files:
	if (r == -ENOSPC)
		store_space_lost(s);
	for (i = 0; i < n; i++) {
		if (dup[i])
			continue;
		image_rel(reads[i].id, "crop", crop, sizeof(crop));
		image_rel(reads[i].id, "context", ctx, sizeof(ctx));
		image_unlink(s, crop);
		image_unlink(s, ctx);
	}
out:
	image_batch_close(&ib);
	free(dup);
	return r;
}

/* ---- image trash: filled by the purge, emptied after its commit ---- */

int
store_trash_flush(struct store *s)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	char *paths[256];
	int r = 0, rc, n = 0, got, i;

	/* Everything the purge still holds in its lists is in the trash too. */
	store_purge_forget(s);
	if ((r = store_prepare(s, "SELECT path FROM image_trash LIMIT 256", &sel)) < 0)
		return r;
	if ((r = store_prepare(s, "DELETE FROM image_trash WHERE path = ?", &del)) < 0)
		goto out;
	do {
		got = 0;
		sqlite3_reset(sel);
		while (got < 256 && (rc = sqlite3_step(sel)) == SQLITE_ROW)
			if ((paths[got] = strdup((const char *)sqlite3_column_text(sel, 0))) != NULL)
				got++;
		sqlite3_reset(sel);
		/* Unlink before the rows go: a crash here repeats an unlink, no more. */
		for (i = 0; i < got; i++)
			image_unlink(s, paths[i]);
		if (got > 0 && (r = store_begin(s)) == 0) {
			for (i = 0; i < got && r == 0; i++) {
				sqlite3_reset(del);
				sqlite3_bind_text(del, 1, paths[i], -1, SQLITE_STATIC);
				if ((rc = sqlite3_step(del)) != SQLITE_DONE)
					r = store_error(s, rc);
				sqlite3_reset(del);
			}
			r = r == 0 ? store_commit(s) : (store_rollback(s), r);
		}
		for (i = 0; i < got; i++)
			free(paths[i]);
		n += got;
	} while (r == 0 && got == 256);
	if (r == 0)
		r = n;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	return r;
}

/* Used by purge.c. */
void
store_image_unlink(struct store *s, const char *rel)
{
	image_unlink(s, rel);
}

