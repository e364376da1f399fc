/*
 * The schema, as forward-only steps.  Step N takes a database at
 * user_version N-1 to N inside one transaction; a published step is never
 * edited, a change is a new step.  tests/unit/test-store.c upgrades a
 * database from every earlier version with data in it.
 *
 * Runs in alpr-matchd and alprctl --offline on the database they own.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "base/log.h"
#include "store/store.h"

/*
 * 1: reads, hot lists, hits and the hit workflow's events.
 * Images are files (see store.c); a read names them relative to images/.
 */
static const char step1[] =
	"CREATE TABLE reads ("
	" rowid INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE CHECK (length(id) = 32),"
	" plate TEXT NOT NULL,"
	" state TEXT,"
	" confidence REAL NOT NULL,"
	" state_confidence REAL,"
	" candidates TEXT NOT NULL DEFAULT '[]',"
	" camera TEXT NOT NULL,"
	" capture_usec INTEGER NOT NULL,"
	" first_usec INTEGER,"
	" last_usec INTEGER,"
	" frames INTEGER,"
	" gps_fix INTEGER NOT NULL DEFAULT 0 CHECK (gps_fix IN (0, 1)),"
	" lat REAL, lon REAL, speed REAL, heading REAL,"
	" crop_file TEXT,"
	" context_file TEXT,"
	" stored_usec INTEGER NOT NULL,"
	" CHECK (gps_fix = 1 OR (lat IS NULL AND lon IS NULL)));"
	"CREATE INDEX reads_plate ON reads(plate);"
	"CREATE INDEX reads_time ON reads(capture_usec);"
	"CREATE INDEX reads_camera ON reads(camera, capture_usec);"
	"CREATE TABLE hotlists ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" imported_usec INTEGER NOT NULL,"
	" imported_by TEXT,"
	" entries INTEGER NOT NULL DEFAULT 0,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" UNIQUE (name, version));"
	"CREATE TABLE hotlist_entries ("
	" id INTEGER PRIMARY KEY,"
	" list_id INTEGER NOT NULL REFERENCES hotlists(id) ON DELETE CASCADE,"
	" plate TEXT NOT NULL,"
	" state TEXT,"
	" category TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" person INTEGER NOT NULL DEFAULT 0,"
	" case_number TEXT,"
	" reason TEXT,"
	" description TEXT,"
	" effective_usec INTEGER,"
	" expiry_usec INTEGER,"
	" wildcard INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX hotlist_entries_list ON hotlist_entries(list_id);"
	/* A hit keeps a copy of the entry: lists are replaced, the hit stays as it was. */
	"CREATE TABLE hits ("
	" id INTEGER PRIMARY KEY,"
	" read_rowid INTEGER NOT NULL REFERENCES reads(rowid) ON DELETE CASCADE,"
	" entry_id INTEGER,"
	" list_name TEXT,"
	" entry_plate TEXT NOT NULL,"
	" entry_state TEXT,"
	" category TEXT NOT NULL,"
	" source TEXT,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" person INTEGER NOT NULL DEFAULT 0,"
	" description TEXT,"
	" match_type TEXT,"
	" state_check TEXT,"
	" retro INTEGER NOT NULL DEFAULT 0,"
	" created_usec INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'NEW',"
	" disposition TEXT,"
	" disposition_case TEXT,"
	" updated_usec INTEGER);"
	"CREATE INDEX hits_read ON hits(read_rowid);"
	"CREATE TABLE hit_events ("
	" id INTEGER PRIMARY KEY,"
	" hit_id INTEGER NOT NULL REFERENCES hits(id) ON DELETE CASCADE,"
	" at_usec INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" from_state TEXT NOT NULL,"
	" to_state TEXT NOT NULL,"
	" disposition TEXT,"
	" case_number TEXT,"
	" note TEXT);"
	"CREATE INDEX hit_events_hit ON hit_events(hit_id);"
	/* Images whose read is gone but which may not be unlinked yet. */
	"CREATE TABLE image_trash (path TEXT PRIMARY KEY);";

/*
 * 2: people.  Roles are rows so that users.role is checked by a foreign
 * key; what each role may do is one table in lib/policy/roles.c.
 * The access log is append-only (triggers) and hash-chained (policy/audit.c).
 */
static const char step2[] =
	"CREATE TABLE roles (name TEXT PRIMARY KEY, description TEXT NOT NULL);"
	"INSERT INTO roles VALUES"
	" ('sworn', 'sworn personnel'),"
	" ('analyst', 'crime analyst'),"
	" ('dispatcher', 'dispatcher'),"
	" ('it', 'information and technology staff'),"
	" ('records', 'records staff'),"
	" ('contract', 'contract staff'),"
	" ('volunteer', 'volunteer'),"
	" ('administrator', 'ALPR system administrator'),"
	" ('auditor', 'ALPR auditor');"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" full_name TEXT,"
	" role TEXT NOT NULL REFERENCES roles(name),"
	" badge TEXT,"
	" password TEXT NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" failed_logins INTEGER NOT NULL DEFAULT 0,"
	" locked_usec INTEGER,"
	" created_usec INTEGER NOT NULL,"
	" created_by TEXT);"
	/* Only a hash of the session token is stored. */
	"CREATE TABLE sessions ("
	" token_hash TEXT PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" created_usec INTEGER NOT NULL,"
	" expires_usec INTEGER NOT NULL,"
	" peer_uid INTEGER);"
	"CREATE TABLE training ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id),"
	" policy_version TEXT NOT NULL,"
	" acked_usec INTEGER NOT NULL);"
	"CREATE INDEX training_user ON training(user_id, acked_usec);"
	"CREATE TABLE access_log ("
	" id INTEGER PRIMARY KEY,"
	" at_usec INTEGER NOT NULL,"
	" user TEXT,"
	" peer_uid INTEGER,"
	" op TEXT NOT NULL,"
	" terms TEXT,"
	" result_count INTEGER,"
	" result_ids TEXT,"
	" case_number TEXT,"
	" purpose TEXT,"
	" note TEXT,"
	" outcome TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log"
	" BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;"
	"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log"
	" BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;";

/*
 * 3: holds, sharing, exports, inspections and deployments.  Recipients are
 * seeded with a few California agencies; an administrator edits the list
 * (and the ORIs must be checked against CLETS before the first share).
 */
static const char step3[] =
	"CREATE TABLE holds ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL CHECK (kind IN ('ongoing', 'evidence')),"
	" case_number TEXT NOT NULL,"
	" justification TEXT NOT NULL,"
	" created_by TEXT NOT NULL,"
	" created_usec INTEGER NOT NULL,"
	" review_usec INTEGER NOT NULL,"
	" released_usec INTEGER,"
	" released_by TEXT);"
	"CREATE TABLE hold_reads ("
	" hold_id INTEGER NOT NULL REFERENCES holds(id),"
	" read_rowid INTEGER NOT NULL REFERENCES reads(rowid) ON DELETE CASCADE,"
	" PRIMARY KEY (hold_id, read_rowid));"
	"CREATE INDEX hold_reads_read ON hold_reads(read_rowid);"
	"CREATE TABLE recipients ("
	" ori TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" added_by TEXT,"
	" added_usec INTEGER);"
	"INSERT INTO recipients (ori, name, type, added_by) VALUES"
	" ('CA0070000', 'Contra Costa County Sheriff''s Office', 'county', 'seed'),"
	" ('CA0010000', 'Alameda County Sheriff''s Office', 'county', 'seed'),"
	" ('CA0070200', 'Concord Police Department', 'city', 'seed'),"
	" ('CA0070900', 'Richmond Police Department', 'city', 'seed'),"
	" ('CA0349400', 'California Highway Patrol', 'state', 'seed');"
	"CREATE TABLE shares ("
	" id INTEGER PRIMARY KEY,"
	" ori TEXT NOT NULL REFERENCES recipients(ori),"
	" at_usec INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" case_number TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" reads INTEGER NOT NULL,"
	" files INTEGER NOT NULL,"
	" manifest_sha256 TEXT NOT NULL);"
	"CREATE TABLE exports ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" hold_id INTEGER,"
	" hit_id INTEGER,"
	" at_usec INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" case_number TEXT,"
	" destination TEXT,"
	" files INTEGER NOT NULL,"
	" manifest_sha256 TEXT NOT NULL);"
	"CREATE TABLE inspections ("
	" id INTEGER PRIMARY KEY,"
	" at_usec INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" camera TEXT NOT NULL,"
	" result TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'damaged')),"
	" notes TEXT);"
	"CREATE TABLE deployments ("
	" id INTEGER PRIMARY KEY,"
	" at_usec INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" camera TEXT,"
	" mode TEXT NOT NULL CHECK (mode IN ('mobile', 'fixed', 'hand-held')),"
	" location TEXT,"
	" mutual_aid INTEGER NOT NULL DEFAULT 0,"
	" approver TEXT,"
	" approver_role TEXT,"
	" ended_usec INTEGER,"
	" CHECK (mutual_aid = 0 OR (approver IS NOT NULL AND approver_role IS NOT NULL)));";

/*
 * 4: when alpr-alertd acknowledged a hit, so that alpr-matchd resends after
 * a restart the hits it stored but could not deliver; a hot-list version's
 * provenance and counts (lib/hotlist/hotlist-store.h).
 */
static const char step4[] =
	"ALTER TABLE hits ADD COLUMN delivered_usec INTEGER;"
	"ALTER TABLE hotlists ADD COLUMN format TEXT;"
	"ALTER TABLE hotlists ADD COLUMN file_name TEXT;"
	"ALTER TABLE hotlists ADD COLUMN sha256 TEXT;"
	"ALTER TABLE hotlists ADD COLUMN source_usec INTEGER;"
	"ALTER TABLE hotlists ADD COLUMN added INTEGER;"
	"ALTER TABLE hotlists ADD COLUMN removed INTEGER;"
	"ALTER TABLE hotlists ADD COLUMN unchanged INTEGER;"
	"ALTER TABLE hotlists ADD COLUMN skipped INTEGER;"
	"ALTER TABLE hotlists ADD COLUMN excluded INTEGER;"
	"CREATE INDEX hotlist_entries_active ON hotlist_entries(list_id, expiry_usec);"
	"CREATE INDEX hits_undelivered ON hits(created_usec) WHERE delivered_usec IS NULL;";

/*
 * 5: indexes shaped on the two queries that must stay fast over millions
 * of reads (make bench: tests/bench/store.sh).
 *  - A plate lookup (plate = ? AND capture_usec BETWEEN ... ORDER BY
 *    capture_usec): (plate, capture_usec) finds the rows and their order in
 *    one range of the index, with no sort.  It replaces reads_plate, whose
 *    every use (exact plate, GLOB prefix) it serves as well.
 *  - An area canvass (capture_usec BETWEEN ... AND gps_fix = 1 AND lat and
 *    lon BETWEEN ...): the time range of a partial index that carries lat
 *    and lon, so the bounding box is tested in the index and only the reads
 *    inside it are fetched from the table.
 */
static const char step5[] =
	"CREATE INDEX reads_plate_time ON reads(plate, capture_usec);"
	"DROP INDEX reads_plate;"
	"CREATE INDEX reads_time_place ON reads(capture_usec, lat, lon) WHERE gps_fix = 1;";

/*
 * 6: what a hit matched: the read's plate or candidate that met the entry
 * (match_candidate) and its positions that differ from the entry
 * (match_differs, a JSON array), so the alert shows them.  The index on
 * (list_id, expiry_usec) goes: loading and diffing read a list's entries
 * by list_id, and through it they came in expiry order, a random walk
 * over a table whose entries of one list lie in rowid order;
 * hotlist_entries_list serves the foreign key and those reads.
 */
static const char step6[] =
	"ALTER TABLE hits ADD COLUMN match_candidate TEXT;"
	"ALTER TABLE hits ADD COLUMN match_differs TEXT;"
	"DROP INDEX hotlist_entries_active;";

/*
 * 7: an imported hot-list version's entries packed in chunks of 1,024
 * (lib/hotlist/chunk.c) instead of one row each: the import writes a
 * BLOB per chunk, alpr-matchd's load reads them in bulk.  Entry n of a
 * version has the id first_entry + n; manual entries and the versions
 * imported before this step stay rows of hotlist_entries, their ids from
 * the same sequence.
 */
static const char step7[] =
	"ALTER TABLE hotlists ADD COLUMN first_entry INTEGER;"
	"CREATE INDEX hotlists_first_entry ON hotlists(first_entry) WHERE first_entry IS NOT NULL;"
	"CREATE TABLE hotlist_chunks ("
	" id INTEGER PRIMARY KEY,"
	" list_id INTEGER NOT NULL REFERENCES hotlists(id) ON DELETE CASCADE,"
	" first INTEGER NOT NULL,"
	" records BLOB NOT NULL,"
	" texts BLOB NOT NULL,"
	" UNIQUE (list_id, first));";

static const char *const steps[STORE_SCHEMA_VERSION] = { step1, step2, step3, step4, step5,
	step6, step7 };

static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
store_migrate(sqlite3 *db, int target)
{
	char *err = NULL, pragma[64];
	int v, rc;

	if (target > STORE_SCHEMA_VERSION)
		return -EINVAL;
	if ((v = user_version(db)) < 0)
		return v;
	if (v > STORE_SCHEMA_VERSION)
		return -EPROTO;	/* written by a newer program: never touch it */
	for (; v < target; v++) {
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
			goto fail;
		if (sqlite3_exec(db, steps[v], NULL, NULL, &err) != SQLITE_OK) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		/* PRAGMA takes no parameters; v is our own integer. */
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, pragma, NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		log_debug("database schema upgraded to version %d", v + 1);
	}
	return 0;
fail:
	rc = sqlite3_errcode(db);
	log_debug("schema step %d: %s", v + 1, err != NULL ? err : "?");
	sqlite3_free(err);
	return rc == SQLITE_BUSY ? -EBUSY : rc == SQLITE_FULL ? -ENOSPC : -EIO;
}
