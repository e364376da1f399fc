/*
 * lib/store on real SQLite files in a temporary directory: permissions
 * (R13), pragmas, upgrades from every earlier schema version, batched
 * inserts with duplicates, and the retention purge (R8) with an injected
 * clock, held reads, images and the file's bytes afterwards.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/time.h"
#include "conf/conf.h"
#include "hotlist/hotlist-store.h"
#include "store/store.h"

#define DAY USEC_PER_DAY
#define NOW (INT64_C(1795000000) * USEC_PER_SEC)	/* fixed "now" for every test */

struct fixture {
	char dir[64];
	char db[128];
	int64_t now;
	struct store *s;
};

static int64_t
fake_clock(void *userdata)
{
	return ((struct fixture *)userdata)->now;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/alpr.db", f->dir);
	f->now = NOW;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	store_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
open_store(struct fixture *f)
{
	assert_int_equal(store_open(f->db, STORE_OPEN_CREATE, &f->s), 0);
	store_set_clock(f->s, fake_clock, f);
}

static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
make_read(struct store_read *rd, unsigned n, const char *plate, int64_t when)
{
	memset(rd, 0, sizeof(*rd));
	snprintf(rd->id, sizeof(rd->id), "%032x", n);
	snprintf(rd->plate, sizeof(rd->plate), "%s", plate);
	snprintf(rd->state, sizeof(rd->state), "CA");
	rd->confidence = 0.9;
	rd->camera = "front";
	rd->capture_usec = rd->first_usec = rd->last_usec = when;
	rd->frames = 3;
	rd->candidates = "[{\"plate\":\"X\",\"confidence\":0.1}]";
}

/*
 * n reads of plate with ids from *id on, each with about a page of
 * candidates: 1,500 of them write over 1,000 WAL frames, enough for an
 * automatic checkpoint.
 */
static void
bulk_reads(struct store_read *rd, unsigned n, unsigned *id, const char *plate)
{
	static char bulk[3001];
	unsigned i;

	memset(bulk, 'x', sizeof(bulk) - 1);
	for (i = 0; i < n; i++) {
		make_read(&rd[i], (*id)++, plate, NOW);
		rd[i].candidates = bulk;
	}
}

static void
test_permissions(void **state)
{
	struct fixture *f = *state;
	char images[160];
	struct stat st;

	open_store(f);
	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(images, sizeof(images), "%s/images", f->dir);
	assert_int_equal(stat(images, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	f->s = store_free(f->s);

	/* R13: a world-readable database is refused, not repaired. */
	assert_int_equal(chmod(f->db, 0644), 0);
	assert_int_equal(store_open(f->db, 0, &f->s), -EPERM);
	assert_null(f->s);
	assert_int_equal(chmod(f->db, 0600), 0);
	assert_int_equal(chmod(images, 0705), 0);
	assert_int_equal(store_open(f->db, 0, &f->s), -EPERM);
	assert_int_equal(chmod(images, 0700), 0);
	open_store(f);
}

static void
test_pragmas(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *st;

	open_store(f);
	db = store_db(f->s);
	assert_int_equal(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(db, "PRAGMA auto_vacuum"), 2);	/* incremental */
	assert_int_equal(query_int(db, "PRAGMA secure_delete"), 1);
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 2);	/* full */
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
}

/* Data a database at version v can hold, so each upgrade runs over rows. */
static void
fill_version(sqlite3 *db, int v)
{
	static const char *const fill[] = {
		"",
		"INSERT INTO reads (id, plate, confidence, camera, capture_usec, stored_usec)"
		" VALUES ('00000000000000000000000000000001', 'OLD1', 0.5, 'front', 1, 1);"
		"INSERT INTO hits (read_rowid, entry_plate, category, created_usec)"
		" VALUES (1, 'OLD1', 'stolen', 1);",
		"INSERT INTO users (name, role, password, created_usec)"
		" VALUES ('old', 'sworn', 'x', 1);",
		"",
		"INSERT INTO hotlists (name, source, version, imported_usec, format)"
		" VALUES ('old', 'NCIC', 1, 1, 'csv');"
		"INSERT INTO hotlist_entries (list_id, plate, category, source)"
		" VALUES (1, 'OLD1', 'bolo', 'l');",
		"",
		"INSERT INTO hits (read_rowid, entry_id, entry_plate, category, created_usec,"
		" match_candidate, match_differs) VALUES (1, 1, 'OLD1', 'bolo', 2, '0LD1', '[0]');",
	};

	_Static_assert(sizeof(fill) / sizeof(fill[0]) == STORE_SCHEMA_VERSION,
	    "fill[]: data for each schema version before the current one");
	char *err = NULL;

	if (sqlite3_exec(db, fill[v], NULL, NULL, &err) != SQLITE_OK)
		fail_msg("fill v%d: %s", v, err);
}

static void
test_upgrade_from_every_version(void **state)
{
	struct fixture *f = *state;
	char path[160];
	sqlite3 *db;
	int from, v, fd;

	for (from = 0; from < STORE_SCHEMA_VERSION; from++) {
		snprintf(path, sizeof(path), "%s/v%d.db", f->dir, from);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA auto_vacuum=INCREMENTAL;"
		    "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
		for (v = 1; v <= from; v++) {
			assert_int_equal(store_migrate(db, v), 0);
			fill_version(db, v);
		}
		assert_int_equal(query_int(db, "PRAGMA user_version"), from);
		sqlite3_close(db);

		assert_int_equal(store_open(path, 0, &f->s), 0);
		db = store_db(f->s);
		assert_int_equal(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		assert_int_equal(query_int(db, "SELECT count(*) FROM reads"), from >= 1 ? 1 : 0);
		assert_int_equal(query_int(db, "SELECT count(*) FROM hits"), from >= 6 ? 2 :
		    from >= 1 ? 1 : 0);
		assert_int_equal(query_int(db, "SELECT count(*) FROM users"), from >= 2 ? 1 : 0);
		assert_int_equal(query_int(db, "SELECT count(*) FROM recipients"), 5);
		assert_int_equal(query_int(db, "SELECT count(*) FROM hotlists"), from >= 4 ? 1 : 0);
		/* 5: the query indexes, reads_plate replaced. */
		assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type ="
		    " 'index' AND name IN ('reads_plate_time', 'reads_time_place')"), 2);
		assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name ="
		    " 'reads_plate'"), 0);
		assert_int_equal(query_int(db, "SELECT count(*) FROM hotlist_entries"), from >= 4 ? 1 : 0);
		/* 6: hits say what they matched; an older hit says nothing. */
		assert_int_equal(query_int(db, "SELECT count(*) FROM hits WHERE match_candidate IS NULL"
		    " AND match_differs IS NULL"), from >= 1 ? 1 : 0);
		/*
		 * 7: a version from before is still rows: its entry keeps its id,
		 * is found for a hit and loaded; new ids come after it.
		 */
		assert_int_equal(query_int(db, "SELECT count(*) FROM hotlist_chunks"), 0);
		assert_int_equal(query_int(db, "SELECT count(*) FROM hotlists WHERE first_entry"
		    " IS NULL"), from >= 4 ? 1 : 0);
		assert_int_equal(hotlist_store_next_entry_id(f->s), from >= 4 ? 2 : 1);
		if (from >= 4) {
			struct hotlist_stored_entry se;
			struct hotlist_index *idx;
			struct hotlist_index_stats is;

			assert_int_equal(hotlist_store_entry(f->s, 1, &se), 0);
			assert_string_equal(se.e.plate, "OLD1");
			assert_string_equal(se.list_name, "old");
			assert_int_equal(se.e.category, HOTLIST_CAT_BOLO);
			assert_int_equal(hotlist_index_new(NULL, &idx), 0);
			assert_int_equal(hotlist_store_fill_index(f->s, 10, idx), 0);
			assert_int_equal(hotlist_index_finish(idx), 0);
			hotlist_index_get_stats(idx, &is);
			assert_int_equal(is.n_entries, 1);
			hotlist_index_free(idx);
		}
		assert_int_equal(query_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
		assert_int_equal(query_int(db, "SELECT integrity_check = 'ok' FROM"
		    " pragma_integrity_check"), 1);
		f->s = store_free(f->s);
	}
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;

	open_store(f);
	f->s = store_free(f->s);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->db, 0, &f->s), -EPROTO);
}

static void
test_insert_batch_and_duplicates(void **state)
{
	struct fixture *f = *state;
	struct store_read rd[4];
	static const char jpeg[] = "\xff\xd8 fake jpeg \xff\xd9";
	bool dup[4];
	char path[256];
	struct stat st;
	int fd;

	open_store(f);
	make_read(&rd[0], 1, "7ABC123", NOW);
	make_read(&rd[1], 2, "8XYZ999", NOW);
	rd[1].gps_fix = true;
	rd[1].lat = 37.9;
	rd[1].lon = -122.0;
	rd[1].crop = jpeg;
	rd[1].crop_len = sizeof(jpeg);
	rd[1].context = jpeg;
	rd[1].context_len = sizeof(jpeg);
	make_read(&rd[2], 1, "7ABC123", NOW);	/* same id twice in one batch */
	make_read(&rd[3], 3, "5DEF456", NOW);
	assert_int_equal(store_reads_insert(f->s, rd, 4, dup), 3);
	assert_false(dup[0]);
	assert_false(dup[1]);
	assert_true(dup[2]);
	assert_false(dup[3]);
	assert_int_equal(store_reads_count(f->s), 3);

	/* A resend after a restart: every id known, nothing changes. */
	assert_int_equal(store_reads_insert(f->s, rd, 2, dup), 0);
	assert_true(dup[0] && dup[1]);
	assert_int_equal(store_read_exists(f->s, rd[1].id), 1);
	assert_int_equal(store_read_exists(f->s, "ffffffffffffffffffffffffffffffff"), 0);

	/*
	 * An update (alpr-ocrd's early read, then its track's close): the same
	 * id with more frames replaces the text and counts, once; the same id
	 * with no more frames (a late resend) changes nothing.
	 */
	make_read(&rd[0], 1, "7ABC128", NOW);
	rd[0].frames = 9;
	rd[0].last_usec = NOW + 900000;
	make_read(&rd[2], 1, "7ABC999", NOW);
	rd[2].frames = 9;
	assert_int_equal(store_reads_insert(f->s, rd, 1, dup), 0);
	assert_true(dup[0]);
	assert_int_equal(store_reads_insert(f->s, &rd[2], 1, dup), 0);
	assert_int_equal(store_reads_count(f->s), 3);
	assert_int_equal(query_int(store_db(f->s), "SELECT count(*) FROM reads WHERE"
	    " id = '00000000000000000000000000000001' AND plate = '7ABC128' AND frames = 9"
	    " AND last_usec = 1795000000900000"), 1);
	/* Early read and update in one batch (a replay): one row, the update's. */
	make_read(&rd[0], 4, "6AAA111", NOW);
	make_read(&rd[2], 4, "6AAA117", NOW);
	rd[2].frames = rd[0].frames + 3;
	assert_int_equal(store_reads_insert(f->s, (struct store_read[]){ rd[0], rd[2] }, 2, dup), 1);
	assert_int_equal(query_int(store_db(f->s), "SELECT count(*) FROM reads WHERE"
	    " id = '00000000000000000000000000000004' AND plate = '6AAA117'"), 1);
	make_read(&rd[0], 1, "7ABC123", NOW);
	make_read(&rd[2], 1, "7ABC123", NOW);

	/* Images: 0600 files in 0700 directories, readable back. */
	snprintf(path, sizeof(path), "%s/images/00/%s-crop.jpg", f->dir, rd[1].id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((size_t)st.st_size, sizeof(jpeg));
	snprintf(path, sizeof(path), "%s/images/00", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	fd = store_image_open(f->s, "00/00000000000000000000000000000002-context.jpg");
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(store_image_open(f->s, "../alpr.db"), -EINVAL);

	/* Bad input rejects the whole batch. */
	make_read(&rd[0], 9, "bad plate", NOW);
	assert_int_equal(store_reads_insert(f->s, rd, 1, NULL), -EINVAL);
	make_read(&rd[0], 9, "OK1", NOW);
	snprintf(rd[0].id, sizeof(rd[0].id), "XYZ");
	assert_int_equal(store_reads_insert(f->s, rd, 1, NULL), -EINVAL);
	assert_int_equal(store_reads_count(f->s), 4);
	/* A read without a fix keeps no coordinates. */
	assert_int_equal(query_int(store_db(f->s), "SELECT count(*) FROM reads WHERE"
	    " gps_fix = 0 AND lat IS NULL AND lon IS NULL"), 3);
}

/* store_times()'s count of successful commits. */
static uint64_t
commits_of(struct store *s)
{
	struct store_times t;

	store_times(s, &t);
	return t.commits;
}

/* then(): writes inside the batch's transaction (alpr-matchd's hits). */
static int
then_mark(void *userdata)
{
	sqlite3 *db = userdata;

	return sqlite3_exec(db, "UPDATE reads SET confidence = 0.25", NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : -EIO;
}

static int
then_fail(void *userdata)
{
	assert_int_equal(then_mark(userdata), 0);
	return -EIO;
}

static void
test_insert_then(void **state)
{
	struct fixture *f = *state;
	struct store_read rd[2];
	static const char jpeg[] = "\xff\xd8 fake jpeg \xff\xd9";
	char path[256];
	struct stat st;
	uint64_t commits;

	open_store(f);
	make_read(&rd[0], 1, "7ABC123", NOW);
	make_read(&rd[1], 2, "8XYZ999", NOW);
	rd[1].crop = jpeg;
	rd[1].crop_len = sizeof(jpeg);
	/* A failing then(): neither the reads, nor its writes, nor the images. */
	commits = commits_of(f->s);
	assert_int_equal(store_reads_insert_then(f->s, rd, 2, NULL, then_fail, store_db(f->s)),
	    -EIO);
	assert_int_equal(store_reads_count(f->s), 0);
	assert_int_equal(commits_of(f->s), commits);
	snprintf(path, sizeof(path), "%s/images/00/%s-crop.jpg", f->dir, rd[1].id);
	assert_int_equal(stat(path, &st), -1);
	/* Then both, in one commit. */
	assert_int_equal(store_reads_insert_then(f->s, rd, 2, NULL, then_mark, store_db(f->s)),
	    2);
	assert_int_equal(commits_of(f->s), commits + 1);
	assert_int_equal(query_int(store_db(f->s),
	    "SELECT count(*) FROM reads WHERE confidence = 0.25"), 2);
	assert_int_equal(stat(path, &st), 0);
}

/*
 * Transactions nest: an inner store_begin() is a savepoint, its rollback
 * undoes only what came after it, nothing is on disk (seen by another
 * connection) before the outer commit, and a rollback of the outer one
 * undoes what an inner one committed.
 */
static void
test_nested_transactions(void **state)
{
	struct fixture *f = *state;
	struct store_times t0, t1;
	sqlite3 *other;

	open_store(f);
	assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
	store_times(f->s, &t0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "CREATE TABLE t (v INTEGER)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "INSERT INTO t VALUES (1)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_commit(f->s), 0);
	assert_false(sqlite3_get_autocommit(store_db(f->s)));
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "INSERT INTO t VALUES (2)", NULL, NULL,
	    NULL), SQLITE_OK);
	store_rollback(f->s);
	assert_false(sqlite3_get_autocommit(store_db(f->s)));
	assert_int_equal(query_int(other, "SELECT count(*) FROM sqlite_schema WHERE name = 't'"),
	    0);
	assert_int_equal(store_commit(f->s), 0);
	assert_true(sqlite3_get_autocommit(store_db(f->s)));
	assert_int_equal(query_int(other, "SELECT count(*) FROM t"), 1);
	assert_int_equal(query_int(other, "SELECT sum(v) FROM t"), 1);
	store_times(f->s, &t1);
	assert_int_equal(t1.commits, t0.commits + 1);	/* the outer one only */

	/* An inner commit is undone by the outer rollback. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "INSERT INTO t VALUES (3)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_commit(f->s), 0);
	store_rollback(f->s);
	assert_true(sqlite3_get_autocommit(store_db(f->s)));
	assert_int_equal(query_int(other, "SELECT count(*) FROM t"), 1);
	/* Outside any transaction a rollback is a no-op, and begin starts afresh. */
	store_rollback(f->s);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s), "INSERT INTO t VALUES (4)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(query_int(other, "SELECT sum(v) FROM t"), 5);
	sqlite3_close(other);
}

static void
test_retention_config_ceiling(void **state)
{
	struct fixture *f = *state;
	struct alpr_conf *conf = NULL;
	char path[160], *err = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/alpr.conf", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "[storage]\nRetentionDays=400\n");
	fclose(fp);
	/* An error, not a silent clamp to 365. */
	assert_true(conf_load(path, &conf, &err) < 0);
	assert_null(conf);
	assert_non_null(err);
	assert_non_null(strstr(err, "RetentionDays"));
	free(err);
	err = NULL;

	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "[storage]\nRetentionDays=365\n");
	fclose(fp);
	assert_int_equal(conf_load(path, &conf, &err), 0);
	assert_int_equal(conf->storage.retention_days, 365);
	conf_free(conf);

	open_store(f);
	assert_int_equal(store_purge(f->s, 400, NULL), -EINVAL);
	assert_int_equal(store_purge(f->s, 366, NULL), -EINVAL);
	assert_int_equal(store_purge(f->s, 0, NULL), -EINVAL);
}

static bool
file_contains(const char *path, const char *needle)
{
	size_t n = strlen(needle), len = 0, cap = 0, i;
	char *buf = NULL, chunk[65536];
	bool found = false;
	size_t got;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return false;
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (len + got > cap) {
			cap = (len + got) * 2;
			assert_non_null(buf = realloc(buf, cap));
		}
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(fp);
	for (i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

static void
test_purge(void **state)
{
	struct fixture *f = *state;
	struct store_purge_stats st;
	static const char jpeg[] = "\xff\xd8 OLDIMAGE \xff\xd9";
	struct store_read *rd;
	char path[256], wal[160], sql[256];
	unsigned i, n = 3000;
	sqlite3 *db;

	open_store(f);
	db = store_db(f->s);
	assert_non_null(rd = calloc(n, sizeof(*rd)));
	/*
	 * 2000 reads 400 days old (plates PURGE0000..), 1000 from yesterday
	 * (KEEP0000..).  Two old ones are held; one old one has a hit.
	 */
	for (i = 0; i < n; i++) {
		char plate[16];

		if (i < 2000)
			snprintf(plate, sizeof(plate), "PURGE%04u", i);
		else
			snprintf(plate, sizeof(plate), "KEEP%04u", i);
		make_read(&rd[i], i + 1, plate, i < 2000 ? NOW - 400 * DAY : NOW - DAY);
		if (i < 10) {
			rd[i].crop = jpeg;
			rd[i].crop_len = sizeof(jpeg);
		}
	}
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO hits (read_rowid, entry_plate, category, created_usec)"
	    " SELECT rowid, plate, 'stolen', 1 FROM reads WHERE plate = 'PURGE0005';"
	    "INSERT INTO hit_events (hit_id, at_usec, user, from_state, to_state)"
	    " VALUES (1, 1, 'u', 'NEW', 'MISREAD');"
	    "INSERT INTO holds (kind, case_number, justification, created_by, created_usec,"
	    " review_usec) VALUES ('evidence', 'CASE-1', 'partial plate, ongoing', 'u', 1, 2);"
	    "INSERT INTO hold_reads SELECT 1, rowid FROM reads WHERE plate IN"
	    " ('PURGE0001', 'PURGE0002');"
	    /* A released hold keeps nothing. */
	    "INSERT INTO holds (kind, case_number, justification, created_by, created_usec,"
	    " review_usec, released_usec) VALUES ('ongoing', 'CASE-2', 'x', 'u', 1, 2, 3);"
	    "INSERT INTO hold_reads SELECT 2, rowid FROM reads WHERE plate = 'PURGE0003';",
	    NULL, NULL, NULL), SQLITE_OK);
	/* Make sure the purged plates are in the main file before the purge. */
	assert_int_equal(store_vacuum(f->s), 0);
	assert_true(file_contains(f->db, "PURGE0777"));

	assert_int_equal(store_purge(f->s, 365, &st), 0);
	assert_int_equal(st.reads, 1998);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.images, 8);	/* 10 crops, 2 of them held */
	assert_int_equal(st.held, 2);
	assert_true(st.batches >= 2);	/* incremental, not one transaction */
	assert_int_equal(store_reads_count(f->s), 1002);
	assert_int_equal(query_int(db, "SELECT count(*) FROM reads WHERE plate IN"
	    " ('PURGE0001', 'PURGE0002')"), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM hits"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM hit_events"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM image_trash"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM hold_reads"), 2);

	/* Images: held ones stay, the rest are gone. */
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/images/%.2s/%s-crop.jpg", f->dir, rd[i].id,
		    rd[i].id);
		if (i == 1 || i == 2)
			assert_int_equal(access(path, F_OK), 0);
		else
			assert_int_equal(access(path, F_OK), -1);
	}

	/* Not in the file's bytes, nor in the WAL. */
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	for (i = 0; i < 2000; i += 111) {
		if (i == 1 || i == 2)
			continue;
		snprintf(sql, sizeof(sql), "PURGE%04u", i);
		assert_false(file_contains(f->db, sql));
		assert_false(file_contains(wal, sql));
	}
	assert_true(file_contains(f->db, "PURGE0001"));	/* held */
	assert_true(file_contains(f->db, "KEEP2500"));
	assert_int_equal(query_int(db, "PRAGMA freelist_count"), 0);

	/* Time passes: yesterday's reads go once they are older than the period. */
	f->now += 365 * DAY;
	assert_int_equal(store_purge(f->s, 365, &st), 0);
	assert_int_equal(st.reads, 1000);
	assert_int_equal(store_reads_count(f->s), 2);
	free(rd);
}

static void
test_purge_respects_shorter_retention(void **state)
{
	struct fixture *f = *state;
	struct store_purge_stats st;
	struct store_read rd[3];

	open_store(f);
	make_read(&rd[0], 1, "A1", NOW - 31 * DAY);
	make_read(&rd[1], 2, "A2", NOW - 29 * DAY);
	make_read(&rd[2], 3, "A3", NOW);
	assert_int_equal(store_reads_insert(f->s, rd, 3, NULL), 3);
	assert_int_equal(store_purge(f->s, 30, &st), 0);
	assert_int_equal(st.reads, 1);
	assert_int_equal(store_read_exists(f->s, rd[0].id), 0);
	assert_int_equal(store_read_exists(f->s, rd[1].id), 1);
}

/*
 * The purge as `alprctl --offline purge` runs it beside alpr-matchd: a
 * second connection stores reads between the purge's steps and vacuum
 * slices (each connection runs its own checkpoints, the purge's none in
 * its commits).  Held reads and the new ones stay, the expired ones go
 * with their images, and the WAL ends truncated with no purged plate in it.
 */
static void
test_purge_beside_a_writer(void **state)
{
	struct fixture *f = *state;
	struct store_purge_stats st = { 0 };
	static const char jpeg[] = "\xff\xd8 OLDIMAGE \xff\xd9";
	struct store_read *rd, batch[16];
	struct store *w;
	char path[256], wal[160], plate[16];
	unsigned i, n = 4000, added = 0;
	struct stat sb;
	int r, k;

	open_store(f);
	assert_int_equal(store_open(f->db, 0, &w), 0);
	store_set_clock(w, fake_clock, f);
	assert_non_null(rd = calloc(n, sizeof(*rd)));
	for (i = 0; i < n; i++) {
		snprintf(plate, sizeof(plate), i < 3000 ? "PURGE%04u" : "KEEP%04u", i);
		make_read(&rd[i], i + 1, plate, i < 3000 ? NOW - 400 * DAY : NOW - DAY);
		if (i < 10) {
			rd[i].crop = jpeg;
			rd[i].crop_len = sizeof(jpeg);
		}
	}
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	assert_int_equal(sqlite3_exec(store_db(f->s),
	    "INSERT INTO holds (kind, case_number, justification, created_by, created_usec,"
	    " review_usec) VALUES ('evidence', 'CASE-1', 'evidence', 'u', 1, 2);"
	    "INSERT INTO hold_reads SELECT 1, rowid FROM reads WHERE plate = 'PURGE0004';",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_vacuum(f->s), 0);

	do {
		r = store_purge_step(f->s, NOW - 365 * DAY, STORE_STEP_BUDGET_USEC, &st);
		assert_true(r >= 0);
		for (k = 0; k < 16; k++)
			make_read(&batch[k], 100000 + added + (unsigned)k, "NEW1", NOW);
		assert_int_equal(store_reads_insert(w, batch, 16, NULL), 16);
		added += 16;
	} while (r > 0);
	assert_true(store_trash_flush(f->s) >= 0);
	while ((r = store_vacuum_step(f->s, STORE_STEP_BUDGET_USEC)) > 0) {
		for (k = 0; k < 16; k++)
			make_read(&batch[k], 100000 + added + (unsigned)k, "NEW1", NOW);
		assert_int_equal(store_reads_insert(w, batch, 16, NULL), 16);
		added += 16;
	}
	assert_int_equal(r, 0);

	assert_int_equal(st.reads, 2999);
	assert_true(st.batches >= 2);
	assert_int_equal(store_reads_count(w), 1000 + 1 + (int64_t)added);
	assert_int_equal(store_read_exists(w, rd[4].id), 1);	/* held */
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/images/%.2s/%s-crop.jpg", f->dir, rd[i].id,
		    rd[i].id);
		assert_int_equal(access(path, F_OK), i == 4 ? 0 : -1);
	}
	assert_int_equal(query_int(store_db(w), "SELECT count(*) FROM image_trash"), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	for (i = 0; i < 3000; i += 97) {
		if (i == 4)
			continue;
		snprintf(plate, sizeof(plate), "PURGE%04u", i);
		assert_false(file_contains(f->db, plate));
	}
	assert_true(file_contains(f->db, "PURGE0004"));
	store_free(w);
	free(rd);
}

/*
 * Beside another writer, the purge waits while the WAL is long (a reader
 * here keeps it from starting again), without writing, and goes on once
 * the other writer has started the WAL again.
 */
static void
test_purge_yields_to_a_long_wal(void **state)
{
	struct fixture *f = *state;
	struct store_purge_stats st = { 0 };
	struct store_read rd[200], one;
	struct store *w;
	sqlite3 *reader;
	sqlite3_stmt *q;
	uint64_t batches;
	unsigned i;

	open_store(f);
	for (i = 0; i < 1000; i++) {	/* more than a first step takes */
		make_read(&rd[i % 200], i + 1, "OLD1", NOW - 400 * DAY);
		if (i % 200 == 199)
			assert_int_equal(store_reads_insert(f->s, rd, 200, NULL), 200);
	}
	assert_int_equal(store_open(f->db, 0, &w), 0);
	/* A reader holds a snapshot: the WAL can neither be all copied nor start again. */
	assert_int_equal(sqlite3_open_v2(f->db, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM reads", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	/* The other writer makes the WAL long: 6,000 pages. */
	assert_int_equal(sqlite3_exec(store_db(w), "CREATE TABLE filler (b BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)"
	    " INSERT INTO filler SELECT randomblob(3000) FROM n;", NULL, NULL, NULL), SQLITE_OK);

	/* The first step learns the WAL's length from its own commit. */
	assert_int_equal(store_purge_step(f->s, NOW - 365 * DAY, 1000000, &st), 1);
	batches = st.batches;
	assert_true(batches >= 1);
	assert_int_equal(store_purge_step(f->s, NOW - 365 * DAY, 1000000, &st), 1);
	assert_int_equal(st.batches, batches);	/* waited, wrote nothing */

	/* The reader goes; the other writer's next transaction starts the WAL again. */
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(reader);
	assert_int_equal(store_purge_step(f->s, NOW - 365 * DAY, 1000000, &st), 1);
	assert_int_equal(st.batches, batches);	/* all copied now, but not started again */
	make_read(&one, 5000, "NEW1", NOW);
	assert_int_equal(store_reads_insert(w, &one, 1, NULL), 1);
	while (store_purge_step(f->s, NOW - 365 * DAY, 1000000, &st) > 0)
		;
	assert_true(st.batches > batches);
	assert_int_equal(st.reads, 1000);
	store_free(w);
}

/*
 * store_times() says where a writer's time went: a commit that leaves the
 * WAL 1,000 frames longer runs one automatic checkpoint, counted apart
 * from the commit; a small one after it runs none.
 */
static void
test_store_times(void **state)
{
	struct fixture *f = *state;
	struct store_times a, b, c;
	struct store_read *rd;
	unsigned n = 1500, id = 1;

	open_store(f);
	store_times(f->s, &a);
	assert_non_null(rd = calloc(n, sizeof(*rd)));
	bulk_reads(rd, n, &id, "TIME1");
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	store_times(f->s, &b);
	assert_int_equal(b.checkpoints - a.checkpoints, 1);
	assert_true(b.checkpoint_usec > a.checkpoint_usec);
	assert_true(b.commit_usec > a.commit_usec);
	assert_true(b.lock_wait_usec >= a.lock_wait_usec);
	make_read(&rd[0], id, "TIME2", NOW);
	rd[0].candidates = NULL;
	assert_int_equal(store_reads_insert(f->s, rd, 1, NULL), 1);
	store_times(f->s, &c);
	assert_int_equal(c.checkpoints, b.checkpoints);
	assert_int_equal(c.checkpoint_usec, b.checkpoint_usec);
	free(rd);
}

/*
 * Deferred, the checkpoint a commit makes due runs in store_checkpoint_due()
 * (once), not in the commit; a second one due before it ran runs inside
 * the commit, so the WAL cannot grow for want of a caller.
 */
static void
test_checkpoint_deferred(void **state)
{
	struct fixture *f = *state;
	struct store_times a, b, c;
	struct store_read *rd;
	unsigned n = 1500, id = 1;

	open_store(f);
	store_checkpoint_defer(f->s, true);
	assert_int_equal(store_checkpoint_due(f->s), 0);
	assert_non_null(rd = calloc(n, sizeof(*rd)));
	bulk_reads(rd, n, &id, "DEFER1");
	store_times(f->s, &a);
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	store_times(f->s, &b);
	assert_int_equal(b.checkpoints, a.checkpoints);
	assert_int_equal(b.checkpoint_usec, a.checkpoint_usec);
	assert_int_equal(store_checkpoint_due(f->s), 1);
	assert_int_equal(store_checkpoint_due(f->s), 0);
	store_times(f->s, &c);
	assert_int_equal(c.checkpoints, b.checkpoints + 1);
	assert_int_equal(c.checkpoints_deferred, b.checkpoints_deferred + 1);
	assert_true(c.checkpoint_usec > b.checkpoint_usec);

	/* Two due and none run: the second commit runs one inside. */
	bulk_reads(rd, n, &id, "DEFER2");
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	bulk_reads(rd, n, &id, "DEFER3");
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	store_times(f->s, &a);
	assert_int_equal(a.checkpoints, c.checkpoints + 1);
	assert_int_equal(a.checkpoints_deferred, c.checkpoints_deferred);
	/* Switching deferral off runs the one still due. */
	bulk_reads(rd, n, &id, "DEFER4");
	assert_int_equal(store_reads_insert(f->s, rd, n, NULL), (int)n);
	store_times(f->s, &b);
	assert_int_equal(b.checkpoints, a.checkpoints);
	store_checkpoint_defer(f->s, false);
	store_times(f->s, &b);
	assert_int_equal(b.checkpoints, a.checkpoints + 1);
	assert_int_equal(store_checkpoint_due(f->s), 0);
	free(rd);
}

/*
 * The automatic checkpoint counts the frames this connection wrote, not
 * the WAL's length: another writer's frames (a purge's, which copies them
 * itself) do not make an insert's commit checkpoint.
 */
static void
test_checkpoint_counts_own_frames(void **state)
{
	struct fixture *f = *state;
	struct store_times a, b;
	struct store_read *rd;
	struct store *other;
	unsigned n = 1500, id = 1;

	open_store(f);
	assert_int_equal(store_open(f->db, 0, &other), 0);
	store_checkpoint_defer(other, true);	/* it writes, and copies nothing */
	assert_non_null(rd = calloc(n, sizeof(*rd)));
	bulk_reads(rd, n, &id, "OTHER");
	assert_int_equal(store_reads_insert(other, rd, n, NULL), (int)n);
	store_times(f->s, &a);
	make_read(&rd[0], id, "MINE", NOW);
	rd[0].candidates = NULL;
	assert_int_equal(store_reads_insert(f->s, rd, 1, NULL), 1);
	store_times(f->s, &b);
	assert_int_equal(b.checkpoints, a.checkpoints);
	store_free(other);
	free(rd);
}

static void
test_trash_after_crash(void **state)
{
	struct fixture *f = *state;
	char path[256], dir[200];
	FILE *fp;

	open_store(f);
	/* As if a purge committed, then died before unlinking. */
	snprintf(dir, sizeof(dir), "%s/images/ab", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/abcd-crop.jpg", dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(sqlite3_exec(store_db(f->s), "INSERT INTO image_trash VALUES"
	    " ('ab/abcd-crop.jpg')", NULL, NULL, NULL), SQLITE_OK);
	f->s = store_free(f->s);
	open_store(f);	/* opening empties the trash */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(query_int(store_db(f->s), "SELECT count(*) FROM image_trash"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_every_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_batch_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_then, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_config_ceiling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_respects_shorter_retention, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_purge_beside_a_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_yields_to_a_long_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_counts_own_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trash_after_crash, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
