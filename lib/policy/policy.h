/*
 * The ALPR usage and privacy policy (CCCSO 1.07.38) as code: who may do
 * what (roles, training, sessions), the access gate every use of ALPR data
 * goes through (own credentials, case/CAD number, an allowed purpose,
 * prohibited purposes refused and logged), the tamper-evident access log,
 * the hit workflow, holds, sharing, exports, inspections, deployments and
 * the annual audit.  alpr-matchd runs it behind control.sock; alprctl
 * --offline runs the very same code on the file.
 *
 * Entry point: policy_control() takes one REQUEST body (doc/protocol.md)
 * and answers through an emit callback, so a socket and an in-process
 * caller see the same replies.
 */
#ifndef ALPR_POLICY_H
#define ALPR_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "policy/hit.h"
#include "store/store.h"

#define POLICY_CASE_MAX 32
#define POLICY_NOTE_MAX 500
#define POLICY_PASSWORD_MIN 10
#define POLICY_ROWS_MAX 10000		/* rows one query may return */

/* What a role may do: the table is in roles.c and nowhere else. */
enum policy_perm {
	PERM_QUERY = 1u << 0,		/* search reads */
	PERM_HIT_VIEW = 1u << 1,
	PERM_HIT_WORK = 1u << 2,	/* confirm, verify, dispose */
	PERM_HOLD = 1u << 3,
	PERM_EXPORT = 1u << 4,		/* evidence and hit exports */
	PERM_SHARE = 1u << 5,
	PERM_USERS = 1u << 6,
	PERM_RECIPIENTS = 1u << 7,
	PERM_PURGE = 1u << 8,
	PERM_AUDIT = 1u << 9,
	PERM_INSPECT = 1u << 10,
	PERM_DEPLOY = 1u << 11,
	PERM_HOTLIST = 1u << 12,
};

/* Permissions of role, 0 for an unknown role. */
uint32_t policy_role_perms(const char *role);
bool policy_role_valid(const char *role);
const char *const *policy_roles(void);

/* Purposes (policy IV.F.3 and IV.C). */
bool policy_purpose_allowed(const char *purpose);
const char *const *policy_purposes(void);
/*
 * True if the purpose code or any free text names a prohibited purpose
 * (immigration enforcement, personal use, harassment or intimidation),
 * however spelt: case-insensitive, with dots, spaces and digit-for-letter
 * disguises folded.  ret_what (optional) names the category.
 */
bool policy_text_prohibited(const char *text, const char **ret_what);
/* A case or CAD number: 3..32 of [A-Za-z0-9-], at least one digit. */
bool policy_case_valid(const char *s);

struct policy;

/*
 * conf stays owned by the caller and may be swapped (policy_set_conf) on
 * reload; store likewise.
 */
int policy_new(struct store *store, const struct alpr_conf *conf, struct policy **ret);
struct policy *policy_free(struct policy *p);
void policy_set_conf(struct policy *p, const struct alpr_conf *conf);
struct store *policy_store(struct policy *p);

/*
 * One message of an answer.  body is {"ok": ..., ...}; more is true on all
 * but the last.  fd (or -1) is a sealed memfd with a file's bytes, owned
 * by the caller of emit (emit duplicates it if it keeps it).  Returns
 * 0 or -errno (the request is abandoned).
 */
typedef int (*policy_emit_fn)(void *userdata, json_t *body, bool more, int fd);

struct policy_peer {
	uid_t uid;
	pid_t pid;
	bool offline;		/* alprctl --offline as root: the "root" actor */
	bool alert;		/* alpr-alertd (checked by SO_PEERCRED) */
};

/*
 * Runs one request: {"op", "session", "case", "reason", "note", "args"}.
 * Always answers through emit (an error is an answer); returns < 0 only
 * if emit failed.
 */
int policy_control(struct policy *p, const json_t *request, const struct policy_peer *peer,
    policy_emit_fn emit, void *userdata);
/*
 * How far back a hit is sent to alpr-alertd again: unresolved hits after
 * alertd restarted (hit_resend), undelivered ones after matchd restarted.
 * A window, not the calendar day: a shift runs past midnight.
 */
#define POLICY_RESEND_WINDOW_USEC (INT64_C(86400) * 1000000)

/* hit_resend queues each hit through fn (alpr-matchd's HIT sender). */
void policy_set_resend(struct policy *p, int (*fn)(int64_t hit_id, void *userdata), void *userdata);
/* What policy_control() demands of each operation (for the tests that try each one). */
struct policy_op_info {
	const char *name;
	bool session;		/* a user's session (else login, status and alertd's ops) */
	bool training;		/* current training (R2) */
	bool gate;		/* ALPR data: case number and allowed purpose (R3, R4) */
	bool soft_gate;		/* the hit workflow: allowed purpose, case optional */
	bool write;		/* one transaction with its log row */
	bool root;		/* root may run it offline without a session */
	bool logged;		/* an access-log row */
	uint32_t perms;		/* any of these; 0: any authenticated user */
};
/* The i-th operation (0, 1, ...) in ret; false past the last. */
bool policy_op_info(size_t i, struct policy_op_info *ret);
/*
 * The purge op through fn, which starts the purge in the caller's event
 * loop (alpr-matchd: in steps, the answer says it started); without it
 * (alprctl --offline) the op purges to the end and answers the counts.
 */
void policy_set_purge(struct policy *p, int (*fn)(void *userdata), void *userdata);
/* The same with the request's descriptor (hotlist.import's file), or -1; fd stays the caller's. */
int policy_control_fd(struct policy *p, const json_t *request, int fd,
    const struct policy_peer *peer, policy_emit_fn emit, void *userdata);

/*
 * The long part of a request, run off the daemon's event loop
 * (hotlist.import: parsing the file and writing it as a pending version,
 * seconds at millions of entries).  Once the gate has passed,
 * policy_control_fd() hands it to fn, which returns 0 if it took the job:
 * then nothing is answered yet.  The daemon runs policy_job_run() in a
 * thread on a database connection of that thread's own (the job holds
 * copies of all it needs: no policy, no config), then, back on its loop,
 * policy_control_job() with the same request: the gate is checked again,
 * the op finishes (activation and access-log row in one short
 * transaction) and answers through emit.  Without fn (alprctl --offline)
 * the job runs in place.  A job whose finish failed leaves a pending
 * version behind: hotlist_store_prune_step() removes it.
 */
struct policy_job;
typedef int (*policy_job_fn)(struct policy_job *job, void *emit_userdata, void *userdata);
void policy_set_jobs(struct policy *p, policy_job_fn fn, void *userdata);
int policy_job_run(struct policy_job *job, struct store *s);
int policy_control_job(struct policy *p, const json_t *request, const struct policy_peer *peer,
    struct policy_job *job, policy_emit_fn emit, void *userdata);
void policy_job_free(struct policy_job *job);
/* Any thread: a running policy_job_run() stops soon (-ECANCELED); the daemon stops. */
void policy_job_cancel(struct policy_job *job);
/*
 * hotlist.status says of each active version whether matching uses it
 * yet ("matching": fn's text, e.g. "yes", or why not): the daemon's index
 * is built after the activation, and may fail to build.
 */
void policy_set_list_state(struct policy *p, const char *(*fn)(int64_t list_id, void *userdata),
    void *userdata);

/* ---- access log ------------------------------------------------------ */

struct policy_log {
	const char *user;		/* NULL: unknown (no valid session) */
	int64_t peer_uid;		/* -1: unknown */
	const char *op;
	const char *terms;		/* JSON text of the query terms */
	int64_t result_count;		/* -1: none */
	const char *result_ids;		/* JSON array text */
	const char *case_number, *purpose, *note;
	const char *outcome;		/* "ok", "refused: ...", "error: ..." */
};

/* Appends one row, chained to the previous by SHA-256.  Runs its own transaction. */
int policy_log_append(struct store *s, const struct policy_log *e);

struct policy_verify {
	int64_t rows;
	int64_t first_bad;		/* 0 if the chain is intact */
	char why[128];
	char head[65];			/* hash of the last row */
};
/* Walks the chain: 0 with v filled (first_bad says whether it holds), or -errno. */
int policy_log_verify(struct store *s, struct policy_verify *v);

/* ---- users (also used by tests and alprctl --offline set-up) -------- */

int policy_password_hash(const char *password, char out[128]);
/*
 * Argon2id cost of new hashes; the default is libsodium's INTERACTIVE
 * (64 MiB).  For tests only, which log in hundreds of times.
 */
void policy_set_password_cost(unsigned long long ops, size_t mem);
bool policy_password_verify(const char *hash, const char *password);
bool policy_user_name_valid(const char *name);

/* ---- exported directories (evidence, shares, hit reports) ----------- */

/*
 * Checks DIR/MANIFEST.sha256 (sha256sum format): every file listed has its
 * hash, and no file is missing.  Returns 0 if all match, -EBADMSG with
 * ret_bad (malloc'd, optional) naming the first bad file, or -errno.
 */
int policy_manifest_verify(const char *dir, char **ret_bad);
/* True if name is a safe relative name for an exported file. */
bool policy_export_name_valid(const char *name);

/* ---- the hit workflow (R5, R6): policy/hit.h ------------------------ */

#define POLICY_PERSON_REMINDER "This alert concerns the vehicle, not necessarily its driver: " \
	"match the driver to the description of the wanted or missing person, or have another " \
	"legal basis, before any stop (policy IV.E.3)."

#endif
