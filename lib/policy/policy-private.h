/* Internals of lib/policy shared between its files; not installed. */
#ifndef ALPR_POLICY_PRIVATE_H
#define ALPR_POLICY_PRIVATE_H

#include <stdbool.h>
#include <string.h>

#include "policy/policy.h"

struct policy {
	struct store *store;
	const struct alpr_conf *conf;
	int (*resend)(int64_t hit_id, void *userdata);	/* hit_resend: the daemon sends */
	void *resend_data;
	int (*purge)(void *userdata);	/* purge: the daemon runs it in steps */
	void *purge_data;
	policy_job_fn job;		/* runs a request's long part off the loop */
	void *job_data;
	const char *(*list_state)(int64_t list_id, void *userdata);	/* hotlist.status */
	void *list_state_data;
};

/* A file of an answer, emitted as a sealed memfd once the access is logged. */
struct out_file {
	char *name;
	unsigned char *data;
	size_t len;
	char sha256[65];
};

/* One request on its way through policy_control(). */
struct req {
	struct policy *p;
	const struct policy_peer *peer;
	const char *op, *session, *case_number, *purpose, *note;
	json_t *args;
	int fd;			/* the request's descriptor, or -1 */
	/* The actor, once authenticated. */
	int64_t user_id;
	char user[64];
	char role[32];
	uint32_t perms;
	bool root;
	/* Filled by the handler for the access log. */
	json_t *terms;
	int64_t count;
	json_t *ids;
	/* A refusal or error: code and message. */
	const char *code;
	char msg[256];
	/* The op's long part: made by its stage(), done by policy_job_run(). */
	struct policy_job *job;
	/* Streamed before the final reply, after the log row is written. */
	json_t *rows;
	struct out_file *files;
	size_t n_files;
};

/* Sets r->code/msg and returns -EPERM (refusal) or -EINVAL, for handlers' returns. */
int req_refuse(struct req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int req_fail(struct req *r, int err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Steps st once (INSERT, UPDATE, DELETE) and finalizes it: 0, or the answer's database error. */
int req_step(struct req *r, sqlite3_stmt *st);
/* "ok", or what the operator is told while storage fails (status, hotlist_age). */
const char *policy_storage_state(struct store *s);
int req_add_file(struct req *r, const char *name, unsigned char *data, size_t len);
int req_add_file_copy(struct req *r, const char *name, const void *data, size_t len);
/* Adds MANIFEST.sha256 over the files so far; its hash in ret (65 bytes). */
int req_add_manifest(struct req *r, char ret[65]);
void sha256_hex(const void *data, size_t len, char out[65]);

/* users.c */
int users_login(struct req *r, json_t **ret);
int users_authenticate(struct req *r);
/*
 * Whether s (NULL: no) is one of the NULL-terminated list v: the policy's
 * fixed vocabularies.  Inline, so hit.c still builds alone (fuzz-hit).
 */
static inline bool
policy_word_in(const char *const *v, const char *s)
{
	for (; s != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}
bool users_training_current(struct policy *p, int64_t user_id, int64_t *ret_acked);
int op_logout(struct req *r, json_t **ret);
int op_whoami(struct req *r, json_t **ret);
int op_training_ack(struct req *r, json_t **ret);
int op_user_add(struct req *r, json_t **ret);
int op_user_disable(struct req *r, json_t **ret);
int op_user_enable(struct req *r, json_t **ret);
int op_user_unlock(struct req *r, json_t **ret);
int op_user_passwd(struct req *r, json_t **ret);
int op_user_list(struct req *r, json_t **ret);

/* data.c */
int op_query(struct req *r, json_t **ret);
int op_hold_create(struct req *r, json_t **ret);
int op_hold_release(struct req *r, json_t **ret);
int op_hold_list(struct req *r, json_t **ret);
int op_evidence_export(struct req *r, json_t **ret);
int op_share(struct req *r, json_t **ret);
int op_recipient_add(struct req *r, json_t **ret);
int op_recipient_list(struct req *r, json_t **ret);
int op_inspect_record(struct req *r, json_t **ret);
int op_inspect_list(struct req *r, json_t **ret);
int op_deploy_record(struct req *r, json_t **ret);
int op_deploy_list(struct req *r, json_t **ret);

/* hits.c */
int op_hit_get(struct req *r, json_t **ret);
int op_hit_list(struct req *r, json_t **ret);
int op_hit_transition(struct req *r, json_t **ret);
int op_hit_export(struct req *r, json_t **ret);

/* hotlists.c */
int stage_hotlist_import(struct req *r, struct policy_job **ret);
int op_hotlist_import(struct req *r, json_t **ret);
/* Removes what a job staged but did not activate (its request failed). */
void policy_job_abandon(struct policy_job *job, struct store *s);
int op_hotlist_status(struct req *r, json_t **ret);
int op_hotlist_add(struct req *r, json_t **ret);
int op_hit_shown(struct req *r, json_t **ret);
int op_hit_resend(struct req *r, json_t **ret);
int op_hotlist_age(struct req *r, json_t **ret);

/* report.c */
int op_audit_verify(struct req *r, json_t **ret);
int op_audit_report(struct req *r, json_t **ret);

/* Small helpers over SQLite rows. */
json_t *row_text(sqlite3_stmt *st, int i);
json_t *read_row_json(sqlite3_stmt *st, int first);	/* READ_COLUMNS at first */
/* A hit's columns as policy_hit_json() takes them (data.c, hits.c). */
#define HIT_COLUMNS "h.id, h.list_name, h.entry_plate, h.category, h.source, h.priority," \
	" h.person, h.description, h.match_type, h.state_check, h.created_usec, h.state," \
	" h.disposition, h.disposition_case, h.match_candidate, h.match_differs"
#define HIT_NCOLUMNS 16
#define READ_COLUMNS "r.id, r.plate, r.state, r.confidence, r.candidates, r.camera," \
	" r.capture_usec, r.gps_fix, r.lat, r.lon, r.speed, r.heading, r.crop_file, r.context_file"
#define READ_NCOLUMNS 14
/* Gets optional args: strings (NULL if absent), with type checking. */
int arg_str(struct req *r, const char *key, bool required, const char **ret);
int arg_int(struct req *r, const char *key, bool required, int64_t *ret);
int arg_real(struct req *r, const char *key, bool required, double *ret, bool *ret_set);

#endif
