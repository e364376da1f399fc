/*
 * lib/policy through its one entry point, policy_control(), on a real
 * SQLite file with an injected clock.  Every test tries to break a rule:
 * wrong passwords and lockout, missing or stale training, forged and
 * expired sessions, missing case numbers, prohibited purposes (plain and
 * disguised), roles without the permission, illegal hit transitions,
 * out-of-state and federal recipients, a tampered access log (edit, delete,
 * reorder), tampered exports, mutual aid without an approver.
 */
#include "config.h"

#include <errno.h>
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
#include "policy/policy.h"
#include "store/store.h"

#define DAY USEC_PER_DAY
#define NOW (INT64_C(1795000000) * USEC_PER_SEC)
#define PW "correct horse battery"

struct fx {
	char dir[64];
	char db[128];
	int64_t now;
	struct store *s;
	struct alpr_conf *conf;
	struct policy *p;
	/* last answer */
	json_t *final;
	json_t *rows;
	json_t *files;		/* name -> content (string) */
	char deputy[65], analyst[65], admin[65], auditor[65], it[65], volunteer[65];
};

static int64_t
fake_clock(void *u)
{
	return ((struct fx *)u)->now;
}

static int
collect(void *u, json_t *body, bool more, int fd)
{
	struct fx *f = u;
	json_t *v;
	size_t i;

	if ((v = json_object_get(body, "rows")) != NULL) {
		json_t *row;

		json_array_foreach(v, i, row)
			json_array_append(f->rows, row);
	}
	if ((v = json_object_get(body, "file")) != NULL) {
		char buf[1 << 16];
		ssize_t n;
		json_t *name = json_object_get(v, "name");

		assert_true(fd >= 0);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n >= 0);
		buf[n] = '\0';
		{
			char path[256];
			FILE *fp;

			snprintf(path, sizeof(path), "%s/out/%s", f->dir, json_string_value(name));
			assert_non_null(fp = fopen(path, "w"));
			fwrite(buf, 1, (size_t)n, fp);
			fclose(fp);
		}
		v = json_stringn(buf, (size_t)n);
		/* Images are not UTF-8: keep their size only. */
		json_object_set_new(f->files, json_string_value(name),
		    v != NULL ? v : json_integer(n));
	}
	if (!more) {
		json_decref(f->final);
		f->final = json_incref(body);
	}
	return 0;
}

/* Runs one request; returns the final body (owned by f). */
static json_t *
call(struct fx *f, const char *session, const char *op, const char *casenum,
    const char *reason, const char *note, const char *args)
{
	struct policy_peer peer = { .uid = 1000, .pid = 1 };
	json_t *req = json_pack("{s:s}", "op", op);

	if (session != NULL && strcmp(session, "ROOT") == 0)
		peer.offline = true;
	else if (session != NULL)
		json_object_set_new(req, "session", json_string(session));
	if (casenum != NULL)
		json_object_set_new(req, "case", json_string(casenum));
	if (reason != NULL)
		json_object_set_new(req, "reason", json_string(reason));
	if (note != NULL)
		json_object_set_new(req, "note", json_string(note));
	json_object_set_new(req, "args", json_loads(args != NULL ? args : "{}", 0, NULL));
	json_decref(f->rows);
	json_decref(f->files);
	f->rows = json_array();
	f->files = json_object();
	assert_int_equal(policy_control(f->p, req, &peer, collect, f), 0);
	json_decref(req);
	assert_non_null(f->final);
	return f->final;
}

static bool
ok(json_t *b)
{
	return json_is_true(json_object_get(b, "ok"));
}

static const char *
code(json_t *b)
{
	json_t *c = json_object_get(b, "code");

	return json_is_string(c) ? json_string_value(c) : "";
}

#define assert_refused(b, c) do { json_t *b_ = (b); \
	if (ok(b_) || strcmp(code(b_), (c)) != 0) \
		fail_msg("expected refusal %s, got %s", (c), json_dumps(b_, 0)); } while (0)
#define assert_ok(b) do { json_t *b_ = (b); \
	if (!ok(b_)) fail_msg("expected ok, got %s", json_dumps(b_, 0)); } while (0)

static int64_t
qint(struct fx *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(store_prepare(f->s, sql, &st), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
sql(struct fx *f, const char *text)
{
	char *err = NULL;

	if (sqlite3_exec(store_db(f->s), text, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sql: %s", err);
}

static void
add_user(struct fx *f, const char *name, const char *role)
{
	char args[256];

	snprintf(args, sizeof(args), "{\"name\":\"%s\",\"role\":\"%s\",\"password\":\"%s\"}",
	    name, role, PW);
	assert_ok(call(f, "ROOT", "user_add", NULL, NULL, NULL, args));
}

static void
login(struct fx *f, const char *name, char out[65])
{
	char args[256];
	json_t *b;

	snprintf(args, sizeof(args), "{\"user\":\"%s\",\"password\":\"%s\"}", name, PW);
	b = call(f, NULL, "login", NULL, NULL, NULL, args);
	assert_ok(b);
	snprintf(out, 65, "%s", json_string_value(json_object_get(json_object_get(b, "result"),
	    "session")));
}

static void
train(struct fx *f, const char *session)
{
	assert_ok(call(f, session, "training_ack", NULL, NULL, NULL,
	    "{\"policy_version\":\"CCCSO-1.07.38\"}"));
}

/* Reads: three near a point, one far, one old, with images on the first. */
static void
add_reads(struct fx *f)
{
	static const char jpeg[] = "\xff\xd8 crop \xff\xd9";
	struct store_read rd[6];
	int i;

	memset(rd, 0, sizeof(rd));
	for (i = 0; i < 6; i++) {
		snprintf(rd[i].id, sizeof(rd[i].id), "%032x", i + 1);
		rd[i].camera = i == 3 ? "rear" : "front";
		rd[i].confidence = 0.9;
		rd[i].capture_usec = NOW - 3600 * USEC_PER_SEC + i;
		rd[i].gps_fix = true;
		rd[i].lat = 37.9780;
		rd[i].lon = -122.0311;
	}
	snprintf(rd[0].plate, 17, "7ABC123");
	rd[0].crop = jpeg;
	rd[0].crop_len = sizeof(jpeg) - 1;
	snprintf(rd[1].plate, 17, "7ABC128");
	rd[1].lat += 0.0008;			/* ~90 m north */
	snprintf(rd[2].plate, 17, "8XYZ999");
	rd[2].lat += 0.0081;			/* ~900 m */
	snprintf(rd[3].plate, 17, "5DEF456");
	rd[3].lat += 0.045;			/* ~5 km */
	snprintf(rd[4].plate, 17, "OLD0001");
	rd[4].capture_usec = NOW - 400 * DAY;
	rd[4].crop = jpeg;
	rd[4].crop_len = sizeof(jpeg) - 1;
	snprintf(rd[5].plate, 17, "OLD0002");
	rd[5].capture_usec = NOW - 400 * DAY;
	rd[5].gps_fix = false;
	assert_int_equal(store_reads_insert(f->s, rd, 6, NULL), 6);
	/* Hits: 1 stolen vehicle on read 1, 2 wanted person on read 3. */
	sql(f, "INSERT INTO hits (read_rowid, list_name, entry_plate, category, source, person,"
	    " description, created_usec) VALUES"
	    " (1, 'NCIC', '7ABC123', 'stolen-vehicle', 'NCIC', 0, 'grey sedan', 1795000000000000),"
	    " (3, 'CLETS', '8XYZ999', 'wanted-person', 'CLETS', 1, 'M, 30s', 1795000000000000);");
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-policy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/alpr.db", f->dir);
	/* Answers' files land in out/ (the manifest test reads them back). */
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/out", f->dir);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/out/images", f->dir);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	f->now = NOW;
	assert_int_equal(store_open(f->db, STORE_OPEN_CREATE | STORE_OPEN_TEST_NOSYNC, &f->s), 0);
	store_set_clock(f->s, fake_clock, f);
	assert_int_equal(conf_defaults(&f->conf), 0);
	/* Argon2id at its cheapest: the tests log in a few hundred times. */
	policy_set_password_cost(1, 8192);
	assert_int_equal(policy_new(f->s, f->conf, &f->p), 0);
	add_user(f, "deputy", "sworn");
	add_user(f, "analyst", "analyst");
	add_user(f, "admin", "administrator");
	add_user(f, "auditor", "auditor");
	add_user(f, "tech", "it");
	add_user(f, "vol", "volunteer");
	login(f, "deputy", f->deputy);
	login(f, "analyst", f->analyst);
	login(f, "admin", f->admin);
	login(f, "auditor", f->auditor);
	login(f, "tech", f->it);
	login(f, "vol", f->volunteer);
	train(f, f->deputy);
	train(f, f->analyst);
	train(f, f->admin);
	train(f, f->auditor);
	train(f, f->it);
	train(f, f->volunteer);
	add_reads(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	json_decref(f->final);
	json_decref(f->rows);
	json_decref(f->files);
	policy_free(f->p);
	store_free(f->s);
	conf_free(f->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static json_t *
query(struct fx *f, const char *session, const char *args)
{
	return call(f, session, "query", "24-001234", "investigation", NULL, args);
}

static void
test_passwords_and_lockout(void **state)
{
	struct fx *f = *state;
	json_t *b;
	int i;

	/* Argon2id, not the password. */
	assert_int_equal(qint(f, "SELECT count(*) FROM users WHERE password LIKE '$argon2id$%'"), 6);
	assert_int_equal(qint(f, "SELECT count(*) FROM users WHERE password LIKE '%horse%'"), 0);
	assert_refused(call(f, NULL, "login", NULL, NULL, NULL,
	    "{\"user\":\"nobody\",\"password\":\"whatever12345\"}"), "auth");
	for (i = 1; i < 5; i++)
		assert_refused(call(f, NULL, "login", NULL, NULL, NULL,
		    "{\"user\":\"deputy\",\"password\":\"wrong password\"}"), "auth");
	/* The fifth failure locks; then even the right password is refused. */
	assert_refused(call(f, NULL, "login", NULL, NULL, NULL,
	    "{\"user\":\"deputy\",\"password\":\"wrong password\"}"), "locked");
	b = call(f, NULL, "login", NULL, NULL, NULL,
	    "{\"user\":\"deputy\",\"password\":\"" PW "\"}");
	assert_refused(b, "locked");
	/* A live session of a locked account stops working too. */
	assert_refused(query(f, f->deputy, "{\"plate\":\"7ABC123\"}"), "locked");
	/* Only an administrator unlocks. */
	assert_refused(call(f, f->analyst, "user_unlock", NULL, NULL, NULL,
	    "{\"name\":\"deputy\"}"), "permission");
	assert_ok(call(f, f->admin, "user_unlock", NULL, NULL, NULL, "{\"name\":\"deputy\"}"));
	login(f, "deputy", f->deputy);
	assert_ok(query(f, f->deputy, "{\"plate\":\"7ABC123\"}"));
	/* Failed logins are in the access log. */
	assert_true(qint(f, "SELECT count(*) FROM access_log WHERE op = 'login' AND"
	    " outcome LIKE 'refused%'") >= 7);
	/* Disabled: refused, sessions gone. */
	assert_ok(call(f, f->admin, "user_disable", NULL, NULL, NULL, "{\"name\":\"analyst\"}"));
	assert_refused(query(f, f->analyst, "{\"plate\":\"7ABC123\"}"), "no-session");
	/* Short passwords are refused. */
	assert_refused(call(f, f->admin, "user_add", NULL, NULL, NULL,
	    "{\"name\":\"x\",\"role\":\"sworn\",\"password\":\"short\"}"), "invalid");
	assert_refused(call(f, f->admin, "user_add", NULL, NULL, NULL,
	    "{\"name\":\"y\",\"role\":\"sheriff\",\"password\":\"long enough pw\"}"), "invalid");
}

static void
test_sessions(void **state)
{
	struct fx *f = *state;
	char forged[65];

	/* No session, a forged one, an expired one. */
	assert_refused(query(f, NULL, "{\"plate\":\"7ABC123\"}"), "no-session");
	memset(forged, 'a', 64);
	forged[64] = '\0';
	assert_refused(query(f, forged, "{\"plate\":\"7ABC123\"}"), "no-session");
	assert_true(qint(f, "SELECT count(*) FROM access_log WHERE op = 'query' AND user IS NULL"
	    " AND outcome = 'refused: no-session'") == 2);
	/* Sessions store only a hash of the token. */
	assert_int_equal(qint(f, "SELECT count(*) FROM sessions WHERE token_hash = (SELECT 1)"), 0);
	f->now += (f->conf->policy.session_timeout_min + 1) * 60 * USEC_PER_SEC;
	assert_refused(query(f, f->deputy, "{\"plate\":\"7ABC123\"}"), "no-session");
	/* Root offline may manage users but never see data. */
	assert_refused(call(f, "ROOT", "query", "24-001234", "investigation", NULL,
	    "{\"plate\":\"7ABC123\"}"), "no-session");
	assert_ok(call(f, "ROOT", "audit_verify", NULL, NULL, NULL, NULL));
}

static void
test_training(void **state)
{
	struct fx *f = *state;
	char s[65];
	json_t *b;

	add_user(f, "rookie", "sworn");
	login(f, "rookie", s);
	b = query(f, s, "{\"plate\":\"7ABC123\"}");
	assert_refused(b, "training");
	assert_non_null(strstr(json_string_value(json_object_get(b, "error")), "training ack"));
	assert_refused(call(f, s, "training_ack", NULL, NULL, NULL,
	    "{\"policy_version\":\"OLD-1\"}"), "invalid");
	train(f, s);
	assert_ok(query(f, s, "{\"plate\":\"7ABC123\"}"));
	/* A year on: the acknowledgement has lapsed. */
	f->now += 366 * DAY;
	login(f, "rookie", s);
	assert_refused(query(f, s, "{\"plate\":\"7ABC123\"}"), "training");
	train(f, s);
	assert_ok(query(f, s, "{\"plate\":\"7ABC123\"}"));
	/* A new policy version needs a new acknowledgement. */
	free(f->conf->policy.policy_version);
	f->conf->policy.policy_version = strdup("CCCSO-1.07.39");
	assert_refused(query(f, s, "{\"plate\":\"7ABC123\"}"), "training");
	assert_true(qint(f, "SELECT count(*) FROM access_log WHERE outcome = 'refused: training'")
	    == 3);
}

static void
test_gate(void **state)
{
	struct fx *f = *state;
	static const char *const disguised[] = {
		"assist ICE with a removal",
		"Per I.C.E. request",
		"deportation follow-up",
		"check 1mmigration status",
		"help the border patrol",
		"USCIS inquiry",
		"i c e agents asked",
		"d-e-p-o-r-t target",
		"Undocumented driver",
		"ero detainer",
		NULL,
	};
	static const char *const innocent[] = {
		"police notice of stolen car", "office of justice services", "alice's car was stolen",
		"price of evidence", "device recovered", NULL,
	};
	int i, refusals;

	/* Missing case number, bad case number, missing and unknown purposes. */
	assert_refused(call(f, f->deputy, "query", NULL, "investigation", NULL,
	    "{\"plate\":\"7ABC123\"}"), "case");
	assert_refused(call(f, f->deputy, "query", "x", "investigation", NULL,
	    "{\"plate\":\"7ABC123\"}"), "case");
	assert_refused(call(f, f->deputy, "query", "24-001234", NULL, NULL,
	    "{\"plate\":\"7ABC123\"}"), "purpose");
	assert_refused(call(f, f->deputy, "query", "24-001234", "curiosity", NULL,
	    "{\"plate\":\"7ABC123\"}"), "purpose");
	/* Prohibited purposes, named plainly. */
	assert_refused(call(f, f->deputy, "query", "24-001234", "immigration", NULL,
	    "{\"plate\":\"7ABC123\"}"), "prohibited");
	assert_refused(call(f, f->deputy, "query", "24-001234", "personal", NULL,
	    "{\"plate\":\"7ABC123\"}"), "prohibited");
	assert_refused(call(f, f->deputy, "query", "24-001234", "harassment", NULL,
	    "{\"plate\":\"7ABC123\"}"), "prohibited");
	/* Disguised behind an allowed purpose. */
	for (i = 0; disguised[i] != NULL; i++) {
		json_t *b = call(f, f->deputy, "query", "24-001234", "investigation", disguised[i],
		    "{\"plate\":\"7ABC123\"}");

		if (ok(b) || strcmp(code(b), "prohibited") != 0)
			fail_msg("not refused: \"%s\"", disguised[i]);
	}
	for (i = 0; innocent[i] != NULL; i++) {
		json_t *b = call(f, f->deputy, "query", "24-001234", "investigation", innocent[i],
		    "{\"plate\":\"7ABC123\"}");

		if (!ok(b))
			fail_msg("refused: \"%s\"", innocent[i]);
	}
	/* Each refusal is recorded with who and why. */
	refusals = (int)qint(f, "SELECT count(*) FROM access_log WHERE outcome ="
	    " 'refused: prohibited' AND user = 'deputy' AND op = 'query'");
	assert_int_equal(refusals, 3 + 10);
	assert_int_equal(qint(f, "SELECT count(*) FROM access_log WHERE outcome ="
	    " 'refused: prohibited' AND note = 'USCIS inquiry'"), 1);
	/* Roles: a volunteer or an administrator sees no reads. */
	assert_refused(query(f, f->volunteer, "{\"plate\":\"7ABC123\"}"), "permission");
	assert_refused(query(f, f->admin, "{\"plate\":\"7ABC123\"}"), "permission");
	assert_refused(call(f, f->deputy, "user_add", NULL, NULL, NULL,
	    "{\"name\":\"z\",\"role\":\"sworn\",\"password\":\"long enough pw\"}"), "permission");
}

static void
test_queries(void **state)
{
	struct fx *f = *state;
	json_t *b;
	char args[256];

	b = query(f, f->deputy, "{\"plate\":\"7ABC123\"}");
	assert_ok(b);
	assert_int_equal(json_array_size(f->rows), 1);
	b = query(f, f->deputy, "{\"pattern\":\"7ABC12?\"}");
	assert_int_equal(json_array_size(f->rows), 2);
	b = query(f, f->deputy, "{\"pattern\":\"*XYZ*\"}");
	assert_int_equal(json_array_size(f->rows), 1);
	assert_refused(query(f, f->deputy, "{\"pattern\":\"*\"}"), "invalid");
	assert_refused(query(f, f->deputy, "{}"), "invalid");
	assert_refused(query(f, f->deputy, "{\"plate\":\"7abc'--\"}"), "invalid");
	b = query(f, f->deputy, "{\"camera\":\"rear\"}");
	assert_int_equal(json_array_size(f->rows), 1);
	snprintf(args, sizeof(args), "{\"camera\":\"front\",\"from_usec\":%lld,\"to_usec\":%lld}",
	    (long long)(NOW - 2 * 3600 * USEC_PER_SEC), (long long)NOW);
	b = query(f, f->deputy, args);
	assert_int_equal(json_array_size(f->rows), 3);
	/* Canvass: 1 km around the point, in the last two hours. */
	snprintf(args, sizeof(args), "{\"lat\":37.978,\"lon\":-122.0311,\"radius_m\":1000,"
	    "\"from_usec\":%lld,\"to_usec\":%lld}", (long long)(NOW - 2 * 3600 * USEC_PER_SEC),
	    (long long)NOW);
	b = call(f, f->deputy, "query", "24-009999", "canvass", NULL, args);
	assert_ok(b);
	assert_int_equal(json_array_size(f->rows), 3);
	snprintf(args, sizeof(args), "{\"lat\":37.978,\"lon\":-122.0311,\"radius_m\":200,"
	    "\"from_usec\":%lld,\"to_usec\":%lld}", (long long)(NOW - 2 * 3600 * USEC_PER_SEC),
	    (long long)NOW);
	b = call(f, f->deputy, "query", "24-009999", "canvass", NULL, args);
	assert_int_equal(json_array_size(f->rows), 2);
	/* Not a way to track: a canvass needs a window of at most 7 days. */
	assert_refused(call(f, f->deputy, "query", "24-009999", "canvass", NULL,
	    "{\"lat\":37.978,\"lon\":-122.0311,\"radius_m\":200}"), "invalid");
	/* Many rows stream in several messages, all of them arriving. */
	{
		struct store_read many[250];
		int i;

		memset(many, 0, sizeof(many));
		for (i = 0; i < 250; i++) {
			snprintf(many[i].id, sizeof(many[i].id), "%032x", 0x1000 + i);
			snprintf(many[i].plate, sizeof(many[i].plate), "QQ%05d", i);
			many[i].camera = "front";
			many[i].capture_usec = NOW - 60 * USEC_PER_SEC;
		}
		assert_int_equal(store_reads_insert(f->s, many, 250, NULL), 250);
		b = query(f, f->deputy, "{\"pattern\":\"QQ*\"}");
		assert_ok(b);
		assert_int_equal(json_array_size(f->rows), 250);
		b = query(f, f->deputy, "{\"pattern\":\"QQ*\",\"limit\":100}");
		assert_int_equal(json_array_size(f->rows), 100);
		assert_true(json_is_true(json_object_get(json_object_get(b, "result"),
		    "truncated")));
	}
	/* The log has who, terms, count, ids, case and purpose. */
	assert_int_equal(qint(f, "SELECT count(*) FROM access_log WHERE op = 'query' AND"
	    " user = 'deputy' AND case_number = '24-009999' AND purpose = 'canvass' AND"
	    " result_count = 2 AND terms LIKE '%radius_m%' AND result_ids LIKE"
	    " '%00000000000000000000000000000001%' AND outcome = 'ok'"), 1);
}

static void
test_hit_workflow(void **state)
{
	struct fx *f = *state;
	json_t *b;

	b = call(f, f->deputy, "hit_get", NULL, NULL, NULL, "{\"id\":2}");
	assert_ok(b);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(b, "result"),
	    "reminder")), "vehicle"));
	/* Disposition before any confirmation, before CLETS. */
	assert_refused(call(f, f->deputy, "hit_transition", "24-000100", NULL, NULL,
	    "{\"id\":1,\"to\":\"DISPOSED\",\"disposition\":\"arrest\"}"), "state");
	assert_refused(call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":1,\"to\":\"CLETS_CONFIRMED\"}"), "state");
	assert_ok(call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":1,\"to\":\"VISUALLY_CONFIRMED\"}"));
	assert_refused(call(f, f->deputy, "hit_transition", "24-000100", NULL, NULL,
	    "{\"id\":1,\"to\":\"DISPOSED\",\"disposition\":\"arrest\"}"), "state");
	/* A volunteer cannot work hits. */
	assert_refused(call(f, f->volunteer, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":1,\"to\":\"CLETS_CONFIRMED\"}"), "permission");
	assert_ok(call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":1,\"to\":\"CLETS_CONFIRMED\"}"));
	/* An action needs a case number; no-action does not. */
	assert_refused(call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":1,\"to\":\"DISPOSED\",\"disposition\":\"arrest\"}"), "case");
	assert_refused(call(f, f->deputy, "hit_transition", "24-000100", NULL, NULL,
	    "{\"id\":1,\"to\":\"DISPOSED\",\"disposition\":\"shoot\"}"), "invalid");
	assert_ok(call(f, f->deputy, "hit_transition", "24-000100", NULL, NULL,
	    "{\"id\":1,\"to\":\"DISPOSED\",\"disposition\":\"vehicle-recovered\"}"));
	/* Final states stay final. */
	assert_refused(call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":1,\"to\":\"NEW\"}"), "state");
	/* The person hit: confirmation carries the reminder; a misread ends it. */
	b = call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":2,\"to\":\"MISREAD\"}");
	assert_ok(b);
	assert_refused(call(f, f->deputy, "hit_transition", NULL, NULL, NULL,
	    "{\"id\":2,\"to\":\"VISUALLY_CONFIRMED\"}"), "state");
	/* Each step names the user and the time. */
	assert_int_equal(qint(f, "SELECT count(*) FROM hit_events WHERE user = 'deputy' AND"
	    " at_usec > 0"), 4);
	assert_int_equal(qint(f, "SELECT count(*) FROM hits WHERE id = 1 AND state = 'DISPOSED'"
	    " AND disposition_case = '24-000100'"), 1);

	/* The report attachment: JSON, HTML with the crop, manifest. */
	b = call(f, f->deputy, "hit_export", "24-000100", "evidence", NULL, "{\"id\":1}");
	assert_ok(b);
	assert_non_null(json_object_get(f->files, "hit.json"));
	assert_non_null(strstr(json_string_value(json_object_get(f->files, "hit.html")),
	    "images/00000000000000000000000000000001-crop.jpg"));
	assert_non_null(json_object_get(f->files,
	    "images/00000000000000000000000000000001-crop.jpg"));
	assert_non_null(json_object_get(f->files, "MANIFEST.sha256"));
	assert_int_equal(qint(f, "SELECT count(*) FROM exports WHERE kind = 'hit'"), 1);
}

static void
test_holds_purge_evidence(void **state)
{
	struct fx *f = *state;
	char args[256], dir[128], *bad = NULL;
	json_t *b;
	FILE *fp;

	snprintf(args, sizeof(args), "{\"kind\":\"evidence\",\"justification\":\"burglary series,"
	    " partial plate\",\"review_usec\":%lld,\"reads\":[\"%032x\"]}",
	    (long long)(NOW + 30 * DAY), 5);
	/* A hold without a case number is refused; with one it is kept. */
	assert_refused(call(f, f->deputy, "hold_create", NULL, "evidence", NULL, args), "case");
	b = call(f, f->deputy, "hold_create", "24-000777", "evidence", NULL, args);
	assert_ok(b);
	/* Purge: the IT role may, a deputy may not. */
	assert_refused(call(f, f->deputy, "purge", NULL, NULL, NULL, NULL), "permission");
	b = call(f, f->it, "purge", NULL, NULL, NULL, NULL);
	assert_ok(b);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "result"),
	    "reads")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "result"),
	    "held")), 1);
	assert_int_equal(qint(f, "SELECT count(*) FROM reads WHERE plate = 'OLD0001'"), 1);
	assert_int_equal(qint(f, "SELECT count(*) FROM reads WHERE plate = 'OLD0002'"), 0);

	/* Evidence export: files with a manifest that verifies, and not once tampered. */
	snprintf(args, sizeof(args), "{\"hold\":1}");
	b = call(f, f->deputy, "evidence_export", "24-000777", "evidence", NULL, args);
	assert_ok(b);
	assert_non_null(strstr(json_string_value(json_object_get(f->files, "reads.jsonl")),
	    "OLD0001"));
	assert_non_null(json_object_get(f->files,
	    "images/00000000000000000000000000000005-crop.jpg"));
	snprintf(dir, sizeof(dir), "%s/out", f->dir);
	assert_int_equal(policy_manifest_verify(dir, NULL), 0);
	snprintf(args, sizeof(args), "%s/reads.jsonl", dir);
	assert_non_null(fp = fopen(args, "a"));
	fputs("{\"plate\":\"FAKE1\"}\n", fp);
	fclose(fp);
	assert_int_equal(policy_manifest_verify(dir, &bad), -EBADMSG);
	assert_string_equal(bad, "reads.jsonl");
	free(bad);
	assert_int_equal(qint(f, "SELECT count(*) FROM exports WHERE kind = 'evidence' AND"
	    " hold_id = 1 AND user = 'deputy'"), 1);
	assert_false(policy_export_name_valid("../etc/passwd"));
	assert_false(policy_export_name_valid("images/../../x"));
	assert_false(policy_export_name_valid("/abs"));
	assert_true(policy_export_name_valid("images/abc-crop.jpg"));

	/* Released, the hold keeps nothing. */
	assert_ok(call(f, f->deputy, "hold_release", "24-000777", "evidence", NULL, "{\"id\":1}"));
	assert_ok(call(f, f->it, "purge", NULL, NULL, NULL, NULL));
	assert_int_equal(qint(f, "SELECT count(*) FROM reads WHERE plate = 'OLD0001'"), 0);
}

static void
test_sharing(void **state)
{
	struct fx *f = *state;
	char args[256];
	json_t *b;

	/* The registry refuses out-of-state and federal recipients. */
	assert_refused(call(f, f->admin, "recipient_add", NULL, NULL, NULL,
	    "{\"ori\":\"NV0020000\",\"name\":\"Las Vegas Metro\",\"type\":\"county\"}"),
	    "recipient");
	assert_refused(call(f, f->admin, "recipient_add", NULL, NULL, NULL,
	    "{\"ori\":\"CA0349999\",\"name\":\"FBI Sacramento\",\"type\":\"federal\"}"),
	    "recipient");
	assert_refused(call(f, f->admin, "recipient_add", NULL, NULL, NULL,
	    "{\"ori\":\"CA0349998\",\"name\":\"Out of state\",\"type\":\"out-of-state\"}"),
	    "recipient");
	assert_ok(call(f, f->admin, "recipient_add", NULL, NULL, NULL,
	    "{\"ori\":\"CA0019900\",\"name\":\"Oakland PD\",\"type\":\"city\"}"));
	/* Someone edits the table by hand: the share still refuses. */
	sql(f, "INSERT INTO recipients (ori, name, type) VALUES ('AZ0070000', 'Maricopa SO',"
	    " 'county'), ('CA0070001', 'ICE field office', 'federal')");
	snprintf(args, sizeof(args), "{\"kind\":\"ongoing\",\"justification\":\"auto theft"
	    " ring, ongoing\",\"review_usec\":%lld,\"reads\":[\"%032x\",\"%032x\"]}",
	    (long long)(NOW + 30 * DAY), 1, 2);
	assert_ok(call(f, f->analyst, "hold_create", "24-000888", "investigation", NULL, args));
	assert_refused(call(f, f->analyst, "share", "24-000888", "investigation", NULL,
	    "{\"ori\":\"AZ0070000\",\"hold\":1}"), "recipient");
	assert_refused(call(f, f->analyst, "share", "24-000888", "investigation", NULL,
	    "{\"ori\":\"CA0070001\",\"hold\":1}"), "recipient");
	assert_refused(call(f, f->analyst, "share", "24-000888", "investigation", NULL,
	    "{\"ori\":\"CA9999999\",\"hold\":1}"), "recipient");
	/* A sworn deputy has no share permission. */
	assert_refused(call(f, f->deputy, "share", "24-000888", "investigation", NULL,
	    "{\"ori\":\"CA0010000\",\"hold\":1}"), "permission");
	b = call(f, f->analyst, "share", "24-000888", "investigation", NULL,
	    "{\"ori\":\"CA0010000\",\"hold\":1}");
	assert_ok(b);
	assert_non_null(json_object_get(f->files, "share.json"));
	assert_non_null(json_object_get(f->files, "MANIFEST.sha256"));
	assert_int_equal(qint(f, "SELECT count(*) FROM shares"), 1);
	assert_int_equal(qint(f, "SELECT count(*) FROM access_log WHERE op = 'share' AND"
	    " outcome = 'refused: recipient'"), 3);
}

static void
test_access_log_tamper(void **state)
{
	struct fx *f = *state;
	struct policy_verify v;
	sqlite3 *db = store_db(f->s);
	int64_t rows;

	assert_int_equal(policy_log_verify(f->s, &v), 0);
	assert_int_equal(v.first_bad, 0);
	rows = v.rows;
	assert_true(rows > 10);
	/* The triggers refuse edits and deletes. */
	assert_int_not_equal(sqlite3_exec(db, "UPDATE access_log SET user = 'x' WHERE id = 3",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM access_log WHERE id = 3", NULL, NULL,
	    NULL), SQLITE_OK);
	/* Someone with the file drops them: each kind of tampering is named. */
	sql(f, "DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete;"
	    "CREATE TABLE saved AS SELECT * FROM access_log");
	sql(f, "UPDATE access_log SET user = 'someone-else' WHERE id = 7");
	assert_int_equal(policy_log_verify(f->s, &v), 0);
	assert_int_equal(v.first_bad, 7);
	assert_non_null(strstr(v.why, "edited"));

	sql(f, "DELETE FROM access_log; INSERT INTO access_log SELECT * FROM saved;"
	    "DELETE FROM access_log WHERE id = 5");
	assert_int_equal(policy_log_verify(f->s, &v), 0);
	assert_int_equal(v.first_bad, 6);
	assert_non_null(strstr(v.why, "row 5 missing"));

	/* Reorder: rows 3 and 4 swap places (their contents trade ids). */
	sql(f, "DELETE FROM access_log; INSERT INTO access_log SELECT * FROM saved;"
	    "UPDATE access_log SET id = -3 WHERE id = 3; UPDATE access_log SET id = 3 WHERE id = 4;"
	    "UPDATE access_log SET id = 4 WHERE id = -3");
	assert_int_equal(policy_log_verify(f->s, &v), 0);
	assert_int_equal(v.first_bad, 3);

	/* Restored, it verifies again; and the audit op reports it. */
	sql(f, "DELETE FROM access_log; INSERT INTO access_log SELECT * FROM saved");
	assert_int_equal(policy_log_verify(f->s, &v), 0);
	assert_int_equal(v.first_bad, 0);
	assert_refused(call(f, f->deputy, "audit_verify", NULL, NULL, NULL, NULL), "permission");
	assert_ok(call(f, f->auditor, "audit_verify", NULL, NULL, NULL, NULL));
}

static void
test_inspections_deployments_report(void **state)
{
	struct fx *f = *state;
	const char *md, *html;
	json_t *b;

	assert_refused(call(f, f->volunteer, "inspect_record", NULL, NULL, NULL,
	    "{\"camera\":\"front\",\"result\":\"damaged\"}"), "invalid");
	b = call(f, f->volunteer, "inspect_record", NULL, NULL, NULL,
	    "{\"camera\":\"front\",\"result\":\"damaged\",\"notes\":\"cracked lens\"}");
	assert_ok(b);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(b, "result"),
	    "action")), "supervisor"));
	assert_ok(call(f, f->deputy, "inspect_record", NULL, NULL, NULL,
	    "{\"camera\":\"rear\",\"result\":\"pass\"}"));
	assert_refused(call(f, f->deputy, "deploy_record", NULL, NULL, NULL,
	    "{\"mode\":\"mobile\",\"mutual_aid\":true}"), "approval");
	assert_refused(call(f, f->deputy, "deploy_record", NULL, NULL, NULL,
	    "{\"mode\":\"mobile\",\"mutual_aid\":true,\"approver\":\"Lt. Diaz\","
	    "\"approver_role\":\"sergeant\"}"), "approval");
	assert_ok(call(f, f->deputy, "deploy_record", NULL, NULL, NULL,
	    "{\"mode\":\"mobile\",\"mutual_aid\":true,\"approver\":\"Lt. Diaz\","
	    "\"approver_role\":\"watch-commander\",\"location\":\"Antioch\"}"));
	assert_refused(call(f, f->deputy, "deploy_record", NULL, NULL, NULL,
	    "{\"mode\":\"drone\"}"), "invalid");

	/* Some refusals for the memorandum to count. */
	call(f, f->deputy, "query", "24-001234", "immigration", NULL, "{\"plate\":\"7ABC123\"}");
	assert_ok(query(f, f->deputy, "{\"plate\":\"7ABC123\"}"));
	b = call(f, f->auditor, "audit_report", NULL, NULL, NULL, "{\"year\":2026}");
	assert_ok(b);
	md = json_string_value(json_object_get(f->files, "audit-2026.md"));
	html = json_string_value(json_object_get(f->files, "audit-2026.html"));
	assert_non_null(md);
	assert_non_null(html);
	assert_non_null(strstr(md, "hash chain was verified"));
	assert_non_null(strstr(md, "1 of them for a prohibited purpose"));
	assert_non_null(strstr(md, "| deputy | investigation |"));
	assert_non_null(strstr(md, "Lt. Diaz"));
	assert_non_null(strstr(md, "| rookie") == NULL ? md : NULL);
	assert_non_null(strstr(html, "<h2>1. Integrity of the access log</h2>"));
	assert_non_null(strstr(md, "Oldest unheld read: 400 days old"));
	assert_non_null(strstr(md, "NOT COMPLIANT"));
}

/*
 * Every operation policy_control() knows goes through the gate: the test
 * pins which ops are open (no session), which skip training, which are
 * ALPR data (case and purpose) or the hit workflow, so that a new op or a
 * weakened flag fails here; then it tries each op without credentials,
 * with a forged session, as root offline, untrained, without the role's
 * permission, and (data ops) without a case, without or with a wrong
 * purpose, with a prohibited one in the code or the note.  Each attempt
 * must be refused with the right code and leave its refusal in the log.
 */
static bool
in_list(const char *const *list, const char *name)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static int64_t
refusals_logged(struct fx *f, const char *op, const char *want)
{
	char outcome[64];
	sqlite3_stmt *st;
	int64_t n;

	snprintf(outcome, sizeof(outcome), "refused: %s", want);
	assert_int_equal(store_prepare(f->s, "SELECT count(*) FROM access_log WHERE op = ?"
	    " AND outcome = ?", &st), 0);
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Calls op and checks that it is refused with code, and that the refusal is logged. */
static void
refused_and_logged(struct fx *f, const char *session, const char *op, const char *casenum,
    const char *reason, const char *note, const char *want)
{
	int64_t before = refusals_logged(f, op, want);
	json_t *b = call(f, session, op, casenum, reason, note, "{}");

	if (ok(b) || strcmp(code(b), want) != 0)
		fail_msg("%s (case %s, reason %s, note %s): expected refusal %s, got %s", op,
		    casenum != NULL ? casenum : "-", reason != NULL ? reason : "-",
		    note != NULL ? note : "-", want, json_dumps(b, 0));
	if (refusals_logged(f, op, want) != before + 1)
		fail_msg("%s: refusal %s not in the access log", op, want);
}

static void
test_gate_every_op(void **state)
{
	static const char *const all_ops[] = { "status", "login", "logout", "whoami",
		"training_ack", "user_add", "user_disable", "user_enable", "user_unlock",
		"user_passwd", "user_list", "query", "hold_create", "hold_release", "hold_list",
		"evidence_export", "share", "recipient_add", "recipient_list", "hit_get", "hit_list",
		"hit_transition", "hit_export", "inspect_record", "inspect_list", "deploy_record",
		"deploy_list", "audit_verify", "audit_report", "purge", "hotlist.import",
		"hotlist.status", "hotlist.add", "hit_shown", "hit_resend", "hotlist_age", NULL };
	static const char *const open_ops[] = { "status", "login", "hit_shown", "hit_resend",
		"hotlist_age", NULL };
	static const char *const untrained_ops[] = { "logout", "whoami", "training_ack",
		"user_passwd", NULL };
	static const char *const data_ops[] = { "query", "hold_create", "hold_release",
		"evidence_export", "share", "hit_list", "hit_export", "hotlist.import",
		"hotlist.add", NULL };
	static const char *const hit_ops[] = { "hit_get", "hit_transition", NULL };
	static const char forged[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct fx *f = *state;
	const char *roles[] = { "sworn", "analyst", "administrator", "auditor", "it",
		"volunteer" };
	const char *sessions[] = { f->deputy, f->analyst, f->admin, f->auditor, f->it,
		f->volunteer };
	struct policy_op_info info;
	struct policy_verify v;
	char rookie[65];
	size_t i, j, n_all = 0;

	add_user(f, "rookie", "sworn");
	login(f, "rookie", rookie);		/* never trained */
	while (all_ops[n_all] != NULL)
		n_all++;
	for (i = 0; policy_op_info(i, &info); i++) {
		const char *op = info.name, *allowed = NULL, *denied = NULL;

		/* The classification, pinned. */
		if (!in_list(all_ops, op))
			fail_msg("op %s is new: classify it in this test", op);
		assert_int_equal(info.session, !in_list(open_ops, op));
		assert_int_equal(info.training, info.session && !in_list(untrained_ops, op));
		assert_int_equal(info.gate, in_list(data_ops, op));
		assert_int_equal(info.soft_gate, in_list(hit_ops, op));
		if (info.gate || info.soft_gate) {
			assert_false(info.root);	/* root offline never sees ALPR data */
			assert_true(info.perms != 0);
			assert_true(info.logged);
		}
		if (!info.session) {
			if (strcmp(op, "hit_shown") == 0 || strcmp(op, "hit_resend") == 0)
				/* alpr-alertd's, and only its (peer role checked by matchd). */
				refused_and_logged(f, NULL, op, NULL, NULL, NULL, "permission");
			/* the lists' ages for alertd's banner: no ALPR data, so not logged */
			if (strcmp(op, "hotlist_age") == 0)
				assert_false(info.logged || info.gate || info.perms != 0);
			continue;
		}
		assert_true(info.logged);

		/* Who: no session, a forged one, root offline (unless a set-up op). */
		refused_and_logged(f, NULL, op, "24-001234", "investigation", NULL, "no-session");
		refused_and_logged(f, forged, op, "24-001234", "investigation", NULL, "no-session");
		if (!info.root)
			refused_and_logged(f, "ROOT", op, "24-001234", "investigation", NULL,
			    "no-session");
		/* Training (R2). */
		if (info.training)
			refused_and_logged(f, rookie, op, "24-001234", "investigation", NULL,
			    "training");
		/* The role: someone without the permission, and someone with it. */
		for (j = 0; j < sizeof(roles) / sizeof(roles[0]); j++) {
			bool may = info.perms == 0 || (policy_role_perms(roles[j]) & info.perms);

			if (may && allowed == NULL)
				allowed = sessions[j];
			if (!may && denied == NULL)
				denied = sessions[j];
		}
		assert_non_null(allowed);
		if (info.perms != 0) {
			assert_non_null(denied);
			refused_and_logged(f, denied, op, "24-001234", "investigation", NULL,
			    "permission");
		}
		/* A prohibited purpose in the free text is refused by every op (R4). */
		refused_and_logged(f, allowed, op, "24-001234", "investigation",
		    "as ICE asked", "prohibited");
		if (info.gate) {
			/* R3: case number and an allowed purpose. */
			refused_and_logged(f, allowed, op, NULL, "investigation", NULL, "case");
			refused_and_logged(f, allowed, op, "x", "investigation", NULL, "case");
			refused_and_logged(f, allowed, op, "24-001234", NULL, NULL, "purpose");
			refused_and_logged(f, allowed, op, "24-001234", "curiosity", NULL, "purpose");
		}
		if (info.gate || info.soft_gate) {
			refused_and_logged(f, allowed, op, "24-001234", "immigration", NULL,
			    "prohibited");
			refused_and_logged(f, allowed, op, "24-001234", "personal", NULL,
			    "prohibited");
			refused_and_logged(f, allowed, op, "x", "investigation", NULL, "case");
			refused_and_logged(f, allowed, op, "24-001234", "curiosity", NULL,
			    "purpose");
		}
	}
	assert_int_equal(i, n_all);
	/* All those refusals kept the chain whole. */
	assert_int_equal(policy_log_verify(f->s, &v), 0);
	assert_int_equal(v.first_bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passwords_and_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_training, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_every_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hit_workflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holds_purge_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sharing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_log_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspections_deployments_report, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
