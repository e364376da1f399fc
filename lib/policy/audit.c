/*
 * The access log (R3, R10): one row per thing a person did or tried, never
 * updated or deleted (the schema's triggers refuse it), each row chained to
 * the one before by SHA-256 over its id, its fields and the previous
 * row's hash.  Editing a row breaks its hash; deleting one breaks the next
 * row's link and leaves a gap in the ids; swapping rows breaks both.
 * Rewriting the whole chain from some row on is detectable only against a
 * copy of an earlier head hash, which is why the annual memorandum prints
 * the head.
 *
 * Runs in alpr-matchd and alprctl --offline.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Unambiguous field encoding: NULL, integer or length-prefixed text. */
static void
h_text(crypto_hash_sha256_state *h, const char *v)
{
	char pre[32];

	if (v == NULL) {
		crypto_hash_sha256_update(h, (const unsigned char *)"N;", 2);
		return;
	}
	snprintf(pre, sizeof(pre), "S%zu:", strlen(v));
	crypto_hash_sha256_update(h, (const unsigned char *)pre, strlen(pre));
	crypto_hash_sha256_update(h, (const unsigned char *)v, strlen(v));
	crypto_hash_sha256_update(h, (const unsigned char *)";", 1);
}

static void
h_int(crypto_hash_sha256_state *h, bool null, int64_t v)
{
	char buf[32];

	if (null)
		snprintf(buf, sizeof(buf), "N;");
	else
		snprintf(buf, sizeof(buf), "I%" PRId64 ";", v);
	crypto_hash_sha256_update(h, (const unsigned char *)buf, strlen(buf));
}

struct row {
	int64_t id, at_usec, peer_uid, result_count;
	bool peer_null, count_null;
	const char *user, *op, *terms, *ids, *case_number, *purpose, *note, *outcome, *prev;
};

static void
row_hash(const struct row *r, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&h);
	h_text(&h, "alpr-access-log-v1");
	h_int(&h, false, r->id);
	h_int(&h, false, r->at_usec);
	h_text(&h, r->user);
	h_int(&h, r->peer_null, r->peer_uid);
	h_text(&h, r->op);
	h_text(&h, r->terms);
	h_int(&h, r->count_null, r->result_count);
	h_text(&h, r->ids);
	h_text(&h, r->case_number);
	h_text(&h, r->purpose);
	h_text(&h, r->note);
	h_text(&h, r->outcome);
	h_text(&h, r->prev);
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 65, d, sizeof(d));
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int
policy_log_append(struct store *s, const struct policy_log *e)
{
	sqlite3_stmt *last = NULL, *ins = NULL;
	char prev[65] = GENESIS, hash[65];
	struct row r = { 0 };
	int rc, ret;

	if ((ret = store_prepare(s, "SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1",
	    &last)) < 0 ||
	    (ret = store_prepare(s, "INSERT INTO access_log (id, at_usec, user, peer_uid, op, terms,"
	    " result_count, result_ids, case_number, purpose, note, outcome, prev_hash, hash)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &ins)) < 0)
		goto out;
	/* In the caller's transaction when it has one (an access and its log row commit together). */
	if ((ret = store_begin(s)) < 0)
		goto out;
	r.id = 1;
	if ((rc = sqlite3_step(last)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(last, 0) + 1;
		snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(last, 1));
	} else if (rc != SQLITE_DONE) {
		ret = store_error(s, rc);
		goto fail;
	}
	r.at_usec = store_now(s);
	r.user = e->user;
	r.peer_null = e->peer_uid < 0;
	r.peer_uid = e->peer_uid;
	r.op = e->op;
	r.terms = e->terms;
	r.count_null = e->result_count < 0;
	r.result_count = e->result_count;
	r.ids = e->result_ids;
	r.case_number = e->case_number;
	r.purpose = e->purpose;
	r.note = e->note;
	r.outcome = e->outcome;
	r.prev = prev;
	row_hash(&r, hash);

	sqlite3_bind_int64(ins, 1, r.id);
	sqlite3_bind_int64(ins, 2, r.at_usec);
	bind_opt(ins, 3, r.user);
	if (r.peer_null)
		sqlite3_bind_null(ins, 4);
	else
		sqlite3_bind_int64(ins, 4, r.peer_uid);
	sqlite3_bind_text(ins, 5, r.op, -1, SQLITE_STATIC);
	bind_opt(ins, 6, r.terms);
	if (r.count_null)
		sqlite3_bind_null(ins, 7);
	else
		sqlite3_bind_int64(ins, 7, r.result_count);
	bind_opt(ins, 8, r.ids);
	bind_opt(ins, 9, r.case_number);
	bind_opt(ins, 10, r.purpose);
	bind_opt(ins, 11, r.note);
	sqlite3_bind_text(ins, 12, r.outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 13, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 14, hash, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(ins)) != SQLITE_DONE) {
		ret = store_error(s, rc);
		goto fail;
	}
	sqlite3_reset(last);
	ret = store_commit(s);
	goto out;
fail:
	sqlite3_reset(last);
	store_rollback(s);
out:
	sqlite3_finalize(last);
	sqlite3_finalize(ins);
	return ret;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int
policy_log_verify(struct store *s, struct policy_verify *v)
{
	sqlite3_stmt *st;
	char prev[65] = GENESIS, hash[65];
	int64_t expect = 1;
	int rc, r;

	memset(v, 0, sizeof(*v));
	snprintf(v->head, sizeof(v->head), GENESIS);
	if ((r = store_prepare(s, "SELECT id, at_usec, user, peer_uid, op, terms, result_count,"
	    " result_ids, case_number, purpose, note, outcome, prev_hash, hash"
	    " FROM access_log ORDER BY id", &st)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row row = {
			.id = sqlite3_column_int64(st, 0),
			.at_usec = sqlite3_column_int64(st, 1),
			.user = col(st, 2),
			.peer_null = sqlite3_column_type(st, 3) == SQLITE_NULL,
			.peer_uid = sqlite3_column_int64(st, 3),
			.op = col(st, 4),
			.terms = col(st, 5),
			.count_null = sqlite3_column_type(st, 6) == SQLITE_NULL,
			.result_count = sqlite3_column_int64(st, 6),
			.ids = col(st, 7),
			.case_number = col(st, 8),
			.purpose = col(st, 9),
			.note = col(st, 10),
			.outcome = col(st, 11),
			.prev = col(st, 12),
		};
		const char *stored = col(st, 13);

		v->rows++;
		if (row.id != expect) {
			v->first_bad = row.id;
			snprintf(v->why, sizeof(v->why), "row %" PRId64 " missing before row %" PRId64
			    " (deleted)", expect, row.id);
			break;
		}
		if (row.prev == NULL || strcmp(row.prev, prev) != 0) {
			v->first_bad = row.id;
			snprintf(v->why, sizeof(v->why), "row %" PRId64 " does not follow the row"
			    " before it (deleted or reordered)", row.id);
			break;
		}
		row.prev = prev;
		row_hash(&row, hash);
		if (stored == NULL || strcmp(stored, hash) != 0) {
			v->first_bad = row.id;
			snprintf(v->why, sizeof(v->why), "row %" PRId64 " does not match its hash"
			    " (edited or reordered)", row.id);
			break;
		}
		memcpy(prev, hash, sizeof(prev));
		expect++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_error(s, rc);
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (v->first_bad == 0)
		memcpy(v->head, prev, sizeof(v->head));
	return 0;
}
