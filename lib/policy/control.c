/*
 * The control requests (doc/protocol.md, REQUEST/REPLY): one table of
 * operations, each with the checks it needs, and the access gate every
 * use of ALPR data goes through.  Runs in alpr-matchd for each REQUEST on
 * control.sock and in alprctl --offline; it trusts nothing in the request
 * (every field is type-checked, the session is looked up, the peer's uid
 * comes from SO_PEERCRED).
 *
 * Order of checks for a request (each refusal is logged, then answered):
 *  1. the op exists and its arguments have the right types;
 *  2. the actor: a valid session, or root running alprctl --offline for
 *     the few set-up and recovery ops that allow it;
 *  3. training on the current policy version within TrainingValidDays
 *     (R2), except to log in, out, and acknowledge training;
 *  4. the actor's role has the op's permission;
 *  5. for ALPR data (R3): a case/CAD number and an allowed purpose; a
 *     prohibited purpose, in the code or hidden in the free text, is
 *     refused (R4);
 *  6. the op itself; its log row (who, when, what, terms, result count and
 *     ids, case, purpose, outcome) is written before any data leaves,
 *     and for ops that change the database in the same transaction.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "ipc/ipc.h"
#include "policy/policy-private.h"

enum op_flags {
	OP_NO_SESSION = 1u << 0,	/* login, status */
	OP_NO_TRAINING = 1u << 1,	/* logout, whoami, training ack, own password */
	OP_GATE = 1u << 2,		/* ALPR data: case number and purpose required */
	OP_SOFT_GATE = 1u << 3,		/* the hit workflow: purpose defaults, case optional */
	OP_WRITE = 1u << 4,		/* changes the database: one transaction with the log */
	OP_ROOT = 1u << 5,		/* alprctl --offline as root may run it without a session */
	OP_NO_LOG = 1u << 6,		/* status only */
};

/* What root may do offline: set up and recover, never see ALPR data. */
#define ROOT_PERMS (PERM_USERS | PERM_RECIPIENTS | PERM_PURGE | PERM_AUDIT)

static int op_status(struct req *r, json_t **ret);
static int op_login(struct req *r, json_t **ret);
static int op_purge(struct req *r, json_t **ret);

static const struct op {
	const char *name;
	unsigned flags;
	uint32_t perms;		/* any of these; 0: any authenticated user */
	int (*fn)(struct req *r, json_t **ret);
} ops[] = {
	{ "status", OP_NO_SESSION | OP_NO_TRAINING | OP_NO_LOG, 0, op_status },
	{ "login", OP_NO_SESSION | OP_NO_TRAINING | OP_WRITE, 0, op_login },
	{ "logout", OP_NO_TRAINING | OP_WRITE, 0, op_logout },
	{ "whoami", OP_NO_TRAINING | OP_ROOT, 0, op_whoami },
	{ "training_ack", OP_NO_TRAINING | OP_WRITE, 0, op_training_ack },
	{ "user_add", OP_WRITE | OP_ROOT, PERM_USERS, op_user_add },
	{ "user_disable", OP_WRITE | OP_ROOT, PERM_USERS, op_user_disable },
	{ "user_enable", OP_WRITE | OP_ROOT, PERM_USERS, op_user_enable },
	{ "user_unlock", OP_WRITE | OP_ROOT, PERM_USERS, op_user_unlock },
	{ "user_passwd", OP_NO_TRAINING | OP_WRITE | OP_ROOT, 0, op_user_passwd },
	{ "user_list", OP_ROOT, PERM_USERS | PERM_AUDIT, op_user_list },
	{ "query", OP_GATE, PERM_QUERY, op_query },
	{ "hold_create", OP_GATE | OP_WRITE, PERM_HOLD, op_hold_create },
	{ "hold_release", OP_GATE | OP_WRITE, PERM_HOLD, op_hold_release },
	{ "hold_list", OP_ROOT, PERM_HOLD | PERM_AUDIT, op_hold_list },
	{ "evidence_export", OP_GATE | OP_WRITE, PERM_EXPORT, op_evidence_export },
	{ "share", OP_GATE | OP_WRITE, PERM_SHARE, op_share },
	{ "recipient_add", OP_WRITE | OP_ROOT, PERM_RECIPIENTS, op_recipient_add },
	{ "recipient_list", OP_ROOT, 0, op_recipient_list },
	{ "hit_get", OP_SOFT_GATE, PERM_HIT_VIEW, op_hit_get },
	{ "hit_list", OP_GATE, PERM_HIT_VIEW, op_hit_list },
	{ "hit_transition", OP_SOFT_GATE | OP_WRITE, PERM_HIT_WORK, op_hit_transition },
	{ "hit_export", OP_GATE | OP_WRITE, PERM_EXPORT, op_hit_export },
	{ "inspect_record", OP_WRITE, PERM_INSPECT, op_inspect_record },
	{ "inspect_list", 0, PERM_INSPECT | PERM_AUDIT, op_inspect_list },
	{ "deploy_record", OP_WRITE, PERM_DEPLOY, op_deploy_record },
	{ "deploy_list", 0, PERM_DEPLOY | PERM_AUDIT, op_deploy_list },
	{ "audit_verify", OP_ROOT, PERM_AUDIT, op_audit_verify },
	{ "audit_report", OP_ROOT, PERM_AUDIT, op_audit_report },
	{ "purge", OP_ROOT, PERM_PURGE, op_purge },
	{ "hotlist.import", OP_GATE | OP_WRITE, PERM_HOTLIST, op_hotlist_import },
	{ "hotlist.status", 0, PERM_HOTLIST | PERM_AUDIT, op_hotlist_status },
	{ "hotlist.add", OP_GATE | OP_WRITE, PERM_HOTLIST, op_hotlist_add },
	/* alpr-alertd (peer role alert, checked by SO_PEERCRED in matchd) */
	{ "hit_shown", OP_NO_SESSION | OP_NO_TRAINING | OP_WRITE, 0, op_hit_shown },
	{ "hit_resend", OP_NO_SESSION | OP_NO_TRAINING, 0, op_hit_resend },
	{ "hotlist_age", OP_NO_SESSION | OP_NO_TRAINING | OP_NO_LOG, 0, op_hotlist_age },
};

/* Ops with a long part, made into a job after the gate (policy.h, "policy_job"). */
static int
(*op_stage(const struct op *op))(struct req *r, struct policy_job **ret)
{
	return op->fn == op_hotlist_import ? stage_hotlist_import : NULL;
}

bool
policy_op_info(size_t i, struct policy_op_info *ret)
{
	const struct op *op;

	if (i >= sizeof(ops) / sizeof(ops[0]))
		return false;
	op = &ops[i];
	*ret = (struct policy_op_info){
		.name = op->name,
		.session = !(op->flags & OP_NO_SESSION),
		.training = !(op->flags & (OP_NO_SESSION | OP_NO_TRAINING)),
		.gate = op->flags & OP_GATE,
		.soft_gate = op->flags & OP_SOFT_GATE,
		.write = op->flags & OP_WRITE,
		.root = op->flags & OP_ROOT,
		.logged = !(op->flags & OP_NO_LOG),
		.perms = op->perms,
	};
	return true;
}

int
policy_new(struct store *store, const struct alpr_conf *conf, struct policy **ret)
{
	struct policy *p;

	if (sodium_init() < 0)
		return -EIO;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->store = store;
	p->conf = conf;
	*ret = p;
	return 0;
}

struct policy *
policy_free(struct policy *p)
{
	free(p);
	return NULL;
}

void
policy_set_conf(struct policy *p, const struct alpr_conf *conf)
{
	p->conf = conf;
}

struct store *
policy_store(struct policy *p)
{
	return p->store;
}

int
req_refuse(struct req *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return -EPERM;
}

int
req_fail(struct req *r, int err, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EINVAL;
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, data, len);
	sodium_bin2hex(out, 65, d, sizeof(d));
}

int
req_add_file(struct req *r, const char *name, unsigned char *data, size_t len)
{
	struct out_file *f;

	f = realloc(r->files, (r->n_files + 1) * sizeof(*f));
	if (f == NULL) {
		free(data);
		return -ENOMEM;
	}
	r->files = f;
	f = &r->files[r->n_files];
	if ((f->name = strdup(name)) == NULL) {
		free(data);
		return -ENOMEM;
	}
	f->data = data;
	f->len = len;
	sha256_hex(data != NULL ? data : (unsigned char *)"", len, f->sha256);
	r->n_files++;
	return 0;
}

int
req_add_file_copy(struct req *r, const char *name, const void *data, size_t len)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, data, len);
	return req_add_file(r, name, copy, len);
}

int
req_add_manifest(struct req *r, char ret[65])
{
	char *text = NULL;
	size_t size = 0, i;
	FILE *f;
	int k;

	if ((f = open_memstream(&text, &size)) == NULL)
		return -ENOMEM;
	/* sha256sum's format, so that `sha256sum -c` checks it too. */
	for (i = 0; i < r->n_files; i++)
		fprintf(f, "%s  %s\n", r->files[i].sha256, r->files[i].name);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	sha256_hex(text, size, ret);
	k = req_add_file(r, "MANIFEST.sha256", (unsigned char *)text, size);
	return k;
}

int
req_step(struct req *r, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : req_fail(r, -EIO, "internal", "database error");
}

static const char *
get_str(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
arg_str(struct req *r, const char *key, bool required, const char **ret)
{
	json_t *v = json_object_get(r->args, key);

	*ret = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return req_fail(r, -EINVAL, "invalid", "missing argument \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return req_fail(r, -EINVAL, "invalid", "argument \"%s\" must be a string", key);
	*ret = json_string_value(v);
	return 0;
}

int
arg_int(struct req *r, const char *key, bool required, int64_t *ret)
{
	json_t *v = json_object_get(r->args, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return req_fail(r, -EINVAL, "invalid", "missing argument \"%s\"", key);
		return 0;
	}
	if (!json_is_integer(v))
		return req_fail(r, -EINVAL, "invalid", "argument \"%s\" must be an integer", key);
	*ret = json_integer_value(v);
	return 0;
}

int
arg_real(struct req *r, const char *key, bool required, double *ret, bool *ret_set)
{
	json_t *v = json_object_get(r->args, key);

	if (ret_set != NULL)
		*ret_set = false;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return req_fail(r, -EINVAL, "invalid", "missing argument \"%s\"", key);
		return 0;
	}
	if (!json_is_number(v))
		return req_fail(r, -EINVAL, "invalid", "argument \"%s\" must be a number", key);
	*ret = json_number_value(v);
	if (ret_set != NULL)
		*ret_set = true;
	return 0;
}

json_t *
row_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? json_string((const char *)t) : json_null();
}

json_t *
read_row_json(sqlite3_stmt *st, int c)
{
	json_t *o, *cand;
	const char *ctext = (const char *)sqlite3_column_text(st, c + 4);

	cand = ctext != NULL ? json_loads(ctext, 0, NULL) : NULL;
	o = json_pack("{s:o, s:o, s:o, s:f, s:o, s:o, s:I}",
	    "id", row_text(st, c), "plate", row_text(st, c + 1), "state", row_text(st, c + 2),
	    "confidence", sqlite3_column_double(st, c + 3),
	    "candidates", cand != NULL ? cand : json_array(),
	    "camera", row_text(st, c + 5),
	    "capture_usec", (json_int_t)sqlite3_column_int64(st, c + 6));
	if (o == NULL)
		return NULL;
	if (sqlite3_column_int(st, c + 7))
		json_object_set_new(o, "gps", json_pack("{s:b, s:f, s:f, s:f, s:f}", "fix", 1,
		    "lat", sqlite3_column_double(st, c + 8), "lon", sqlite3_column_double(st, c + 9),
		    "speed", sqlite3_column_double(st, c + 10),
		    "heading", sqlite3_column_double(st, c + 11)));
	else
		json_object_set_new(o, "gps", json_pack("{s:b}", "fix", 0));
	json_object_set_new(o, "images", json_pack("{s:o, s:o}", "crop", row_text(st, c + 12),
	    "context", row_text(st, c + 13)));
	return o;
}

/* ---- status, login, purge: the ops that live here ------------------- */

static int64_t
count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (store_prepare(s, sql, &st) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Counts only: no plate, no person. */
const char *
policy_storage_state(struct store *s)
{
	return store_space(s) < 0 ? "failing: disk full, reads and hits stored without images" :
	    "ok";
}

static int
op_status(struct req *r, json_t **ret)
{
	struct store *s = r->p->store;

	*ret = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:s}",
	    "reads", (json_int_t)count(s, "SELECT count(*) FROM reads"),
	    "hits", (json_int_t)count(s, "SELECT count(*) FROM hits"),
	    "users", (json_int_t)count(s, "SELECT count(*) FROM users"),
	    "holds", (json_int_t)count(s, "SELECT count(*) FROM holds WHERE released_usec IS NULL"),
	    "access_log", (json_int_t)count(s, "SELECT count(*) FROM access_log"),
	    "schema", (json_int_t)STORE_SCHEMA_VERSION,
	    "policy_version", r->p->conf->policy.policy_version,
	    "retention_days", (json_int_t)r->p->conf->storage.retention_days,
	    "storage", policy_storage_state(s));
	return *ret != NULL ? 0 : -ENOMEM;
}

static int
op_login(struct req *r, json_t **ret)
{
	return users_login(r, ret);
}

void
policy_set_purge(struct policy *p, int (*fn)(void *userdata), void *userdata)
{
	p->purge = fn;
	p->purge_data = userdata;
}

static int
op_purge(struct req *r, json_t **ret)
{
	int64_t days = r->p->conf->storage.retention_days;
	struct store_purge_stats st;
	int k;

	r->terms = json_pack("{s:I}", "retention_days", (json_int_t)days);
	if (r->p->purge != NULL) {
		/* alpr-matchd: its event loop must go on; the purge logs its counts when done. */
		if ((k = r->p->purge(r->p->purge_data)) < 0)
			return req_fail(r, k, "internal", "cannot start the purge: %s", strerror(-k));
		*ret = json_pack("{s:I, s:b}", "retention_days", (json_int_t)days, "started", 1);
		return *ret != NULL ? 0 : -ENOMEM;
	}
	k = store_purge(r->p->store, days, &st);
	if (k < 0)
		return req_fail(r, k, "internal", "purge failed: %s", strerror(-k));
	*ret = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "retention_days", (json_int_t)days,
	    "reads", (json_int_t)st.reads, "hits", (json_int_t)st.hits,
	    "images", (json_int_t)st.images, "held", (json_int_t)st.held,
	    "batches", (json_int_t)st.batches, "max_batch_usec", (json_int_t)st.max_batch_usec);
	r->count = (int64_t)st.reads;
	return *ret != NULL ? 0 : -ENOMEM;
}

/* ---- the gate --------------------------------------------------------- */

static int
check_training(struct req *r)
{
	const struct conf_policy *cp = &r->p->conf->policy;

	if (r->root || users_training_current(r->p, r->user_id, NULL))
		return 0;
	return req_refuse(r, "training", "no training acknowledged on policy %s within the last"
	    " %lld days (policy IV.G, R2): complete ALPR training, then run"
	    " \"alprctl training ack\"", cp->policy_version, (long long)cp->training_valid_days);
}

static int
check_purpose(struct req *r, const struct op *op)
{
	const char *what = NULL;

	/* Prohibited first: a prohibited purpose is refused whatever else is right. */
	if (policy_text_prohibited(r->purpose, &what) || policy_text_prohibited(r->note, &what) ||
	    policy_text_prohibited(r->case_number, &what))
		return req_refuse(r, "prohibited", "refused: %s is a prohibited use of ALPR data"
		    " (policy IV.C); this attempt has been recorded", what);
	if (r->note != NULL && strlen(r->note) > POLICY_NOTE_MAX)
		return req_fail(r, -EINVAL, "invalid", "note longer than %d characters",
		    POLICY_NOTE_MAX);
	if (!(op->flags & (OP_GATE | OP_SOFT_GATE)))
		return 0;
	if (op->flags & OP_SOFT_GATE) {
		if (r->purpose == NULL)
			r->purpose = "hit-verification";
		if (r->case_number != NULL && !policy_case_valid(r->case_number))
			return req_refuse(r, "case", "\"%s\" is not a case or CAD number",
			    r->case_number);
	} else if (!policy_case_valid(r->case_number))
		return req_refuse(r, "case", "a case or CAD number is required to access ALPR data"
		    " (policy IV.F.3)");
	if (!policy_purpose_allowed(r->purpose))
		return req_refuse(r, "purpose", "\"%s\" is not a purpose the policy allows"
		    " (policy IV.C.5); allowed: investigation, patrol-follow-up, flyer,"
		    " hit-verification, canvass, missing-person, stolen-vehicle, warrant, evidence,"
		    " records-request, audit", r->purpose != NULL ? r->purpose : "(none)");
	return 0;
}

static int
write_log(struct req *r, const char *outcome)
{
	struct policy_log e = { 0 };
	char *terms = NULL, *ids = NULL;
	int k;

	e.user = r->user[0] != '\0' ? r->user : NULL;
	e.peer_uid = r->peer->offline ? 0 : (int64_t)r->peer->uid;
	e.op = r->op != NULL ? r->op : "?";
	if (r->terms != NULL)
		terms = json_dumps(r->terms, JSON_COMPACT | JSON_SORT_KEYS);
	if (r->ids != NULL)
		ids = json_dumps(r->ids, JSON_COMPACT);
	e.terms = terms;
	e.result_ids = ids;
	e.result_count = r->count;
	e.case_number = r->case_number;
	e.purpose = r->purpose;
	e.note = r->note;
	e.outcome = outcome;
	k = policy_log_append(r->p->store, &e);
	free(terms);
	free(ids);
	return k;
}

static int
emit_error(struct req *r, policy_emit_fn emit, void *data)
{
	json_t *b;
	int k;

	b = json_pack("{s:b, s:s, s:s}", "ok", 0, "code", r->code != NULL ? r->code : "internal",
	    "error", r->msg[0] != '\0' ? r->msg : "internal error");
	if (b == NULL)
		return -ENOMEM;
	k = emit(data, b, false, -1);
	json_decref(b);
	return k;
}

/* A sealed memfd holding f's bytes. */
static int
file_memfd(const struct out_file *f)
{
	void *map;
	int fd, k;

	if (f->len == 0) {
		if ((fd = memfd_create(f->name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
			return -errno;
	} else {
		if ((fd = ipc_memfd_new(f->name, f->len, &map)) < 0)
			return fd;
		memcpy(map, f->data, f->len);
		munmap(map, f->len);
	}
	if ((k = ipc_memfd_seal(fd)) < 0) {
		close(fd);
		return k;
	}
	return fd;
}

/* Streams rows (in chunks that fit a message) and files, then the result. */
static int
emit_answer(struct req *r, json_t *result, policy_emit_fn emit, void *data)
{
	size_t i, n, chunk = 100;
	json_t *b;
	int k = 0, fd;

	/* Rows in chunks that stay well inside one message (IPC_MSG_MAX). */
	n = r->rows != NULL ? json_array_size(r->rows) : 0;
	for (i = 0; i < n && k == 0;) {
		json_t *part = json_array();
		size_t bytes = 0;

		if (part == NULL)
			return -ENOMEM;
		for (; i < n && json_array_size(part) < chunk; i++) {
			json_t *row = json_array_get(r->rows, i);
			size_t len = json_dumpb(row, NULL, 0, JSON_COMPACT);

			if (json_array_size(part) > 0 && bytes + len > IPC_MSG_MAX / 2)
				break;
			if (len > IPC_MSG_MAX - 256) {
				json_decref(part);
				return -E2BIG;
			}
			json_array_append(part, row);
			bytes += len + 1;
		}
		b = json_pack("{s:b, s:o}", "ok", 1, "rows", part);
		k = b != NULL ? emit(data, b, true, -1) : -ENOMEM;
		json_decref(b);
	}
	for (i = 0; i < r->n_files && k == 0; i++) {
		struct out_file *f = &r->files[i];

		if ((fd = file_memfd(f)) < 0)
			return fd;
		b = json_pack("{s:b, s:{s:s, s:I, s:s}}", "ok", 1, "file", "name", f->name,
		    "size", (json_int_t)f->len, "sha256", f->sha256);
		k = b != NULL ? emit(data, b, true, fd) : -ENOMEM;
		json_decref(b);
		close(fd);
	}
	if (k < 0)
		return k;
	b = json_pack("{s:b, s:O}", "ok", 1, "result", result != NULL ? result : json_null());
	if (b == NULL)
		return -ENOMEM;
	k = emit(data, b, false, -1);
	json_decref(b);
	return k;
}

static void
req_clear(struct req *r)
{
	size_t i;

	json_decref(r->terms);
	json_decref(r->ids);
	json_decref(r->rows);
	for (i = 0; i < r->n_files; i++) {
		free(r->files[i].name);
		free(r->files[i].data);
	}
	free(r->files);
}

int
policy_control(struct policy *p, const json_t *request, const struct policy_peer *peer,
    policy_emit_fn emit, void *userdata)
{
	return policy_control_fd(p, request, -1, peer, emit, userdata);
}

void
policy_set_jobs(struct policy *p, policy_job_fn fn, void *userdata)
{
	p->job = fn;
	p->job_data = userdata;
}

/* job: the finished long part of this request (policy_control_job()), or NULL. */
static int
control(struct policy *p, const json_t *request, int fd, const struct policy_peer *peer,
    struct policy_job *job, policy_emit_fn emit, void *userdata)
{
	struct req r = { .p = p, .peer = peer, .count = -1, .fd = fd, .job = job };
	const struct op *op = NULL;
	json_t *result = NULL;
	char outcome[300];
	bool txn = false, own_job = false, done = false;
	size_t i;
	int k;

	r.op = get_str(request, "op");
	r.session = get_str(request, "session");
	r.case_number = get_str(request, "case");
	r.purpose = get_str(request, "reason");
	r.note = get_str(request, "note");
	r.args = json_object_get(request, "args");
	if (r.args == NULL)
		r.args = json_object();
	else
		json_incref(r.args);
	if (!json_is_object(request) || r.op == NULL || !json_is_object(r.args)) {
		k = req_fail(&r, -EINVAL, "invalid", "a request needs \"op\" and an object \"args\"");
		goto refused;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, r.op) == 0)
			op = &ops[i];
	if (op == NULL) {
		k = req_fail(&r, -EINVAL, "invalid", "unknown operation \"%.40s\"", r.op);
		goto refused;
	}

	/* 2. who */
	if (!(op->flags & OP_NO_SESSION)) {
		if (r.session == NULL && peer->offline && (op->flags & OP_ROOT)) {
			r.root = true;
			r.perms = ROOT_PERMS;
			snprintf(r.user, sizeof(r.user), "root");
			snprintf(r.role, sizeof(r.role), "root");
		} else if ((k = users_authenticate(&r)) < 0)
			goto refused;
	}
	/* 3. training */
	if (!(op->flags & (OP_NO_SESSION | OP_NO_TRAINING)) && (k = check_training(&r)) < 0)
		goto refused;
	/* 4. role */
	if (op->perms != 0 && !(r.perms & op->perms)) {
		k = req_refuse(&r, "permission", "the %s role may not %s", r.role, op->name);
		goto refused;
	}
	/* 5. case number and purpose */
	if ((k = check_purpose(&r, op)) < 0)
		goto refused;

	/* 6. the op's long part (a job), then the op, and its log row with it */
	if (op_stage(op) != NULL && r.job == NULL) {
		if ((k = op_stage(op)(&r, &r.job)) < 0)
			goto refused;
		if (p->job != NULL) {
			/* The daemon's: it answers through policy_control_job() later. */
			if ((k = p->job(r.job, userdata, p->job_data)) == 0) {
				r.job = NULL;
				goto out;
			}
			policy_job_free(r.job);
			r.job = NULL;
			k = req_fail(&r, k, "internal", "cannot start the job: %s", strerror(-k));
			goto refused;
		}
		own_job = true;
		(void)policy_job_run(r.job, p->store);
	}
	if (op->flags & OP_WRITE) {
		if ((k = store_begin(p->store)) < 0) {
			k = req_fail(&r, k, "busy", "database busy: %s", strerror(-k));
			goto refused;
		}
		txn = true;
	}
	k = op->fn(&r, &result);
	if (k < 0) {
		if (txn)
			store_rollback(p->store);
		txn = false;
		goto refused;
	}
	if (!(op->flags & OP_NO_LOG) && (k = write_log(&r, "ok")) < 0) {
		if (txn)
			store_rollback(p->store);
		json_decref(result);
		result = NULL;
		/* No log row, no data: fail closed. */
		r.code = "internal";
		snprintf(r.msg, sizeof(r.msg), "cannot write the access log: %s", strerror(-k));
		k = emit_error(&r, emit, userdata);
		goto out;
	}
	if (txn && (k = store_commit(p->store)) < 0) {
		json_decref(result);
		result = NULL;
		r.code = "internal";
		snprintf(r.msg, sizeof(r.msg), "commit failed: %s", strerror(-k));
		k = emit_error(&r, emit, userdata);
		goto out;
	}
	done = true;
	k = emit_answer(&r, result, emit, userdata);
	goto out;

refused:
	/* The refusal itself is recorded (R4), except for plain malformed input. */
	if (!(op != NULL && (op->flags & OP_NO_LOG))) {
		snprintf(outcome, sizeof(outcome), "%s: %s", k == -EPERM ? "refused" : "error",
		    r.code != NULL ? r.code : "internal");
		if (r.code != NULL && strcmp(r.code, "invalid") != 0 && write_log(&r, outcome) < 0)
			log_debug("access log: cannot record refusal of %s", r.op != NULL ? r.op : "?");
	}
	k = emit_error(&r, emit, userdata);
out:
	/* A job run in place and not committed: what it staged goes now. */
	if (own_job && !done)
		policy_job_abandon(r.job, p->store);
	if (own_job)
		policy_job_free(r.job);
	json_decref(result);
	json_decref(r.args);
	req_clear(&r);
	return k;
}

int
policy_control_fd(struct policy *p, const json_t *request, int fd,
    const struct policy_peer *peer, policy_emit_fn emit, void *userdata)
{
	return control(p, request, fd, peer, NULL, emit, userdata);
}

int
policy_control_job(struct policy *p, const json_t *request, const struct policy_peer *peer,
    struct policy_job *job, policy_emit_fn emit, void *userdata)
{
	return control(p, request, -1, peer, job, emit, userdata);
}
