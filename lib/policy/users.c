/*
 * Users, passwords, sessions and training (R2, R3).  Passwords are
 * Argon2id hashes from libsodium (crypto_pwhash_str_alg); a session is a
 * random 256-bit token of which only the SHA-256 is stored, valid for
 * SessionTimeoutMin from login.  MaxFailedLogins wrong passwords in a row
 * lock the account until an administrator unlocks it.
 *
 * Runs in alpr-matchd and alprctl --offline, inside policy_control().
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "policy/policy-private.h"

static unsigned long long pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

void
policy_set_password_cost(unsigned long long ops, size_t mem)
{
	pw_ops = ops;
	pw_mem = mem;
}

int
policy_password_hash(const char *password, char out[128])
{
	if (crypto_pwhash_str_alg(out, password, strlen(password), pw_ops, pw_mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}

bool
policy_password_verify(const char *hash, const char *password)
{
	return hash != NULL && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool
policy_user_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || !islower((unsigned char)name[0]))
		return false;
	for (i = 0; name[i] != '\0'; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '.' && name[i] != '-' && name[i] != '_')
			return false;
	return i <= 32;
}

/* A new password: long enough, not too long, hashed into hash. */
static int
password_new_hash(struct req *r, const char *pw, char hash[128])
{
	size_t n = pw != NULL ? strlen(pw) : 0;

	if (n < POLICY_PASSWORD_MIN)
		return req_fail(r, -EINVAL, "invalid", "passwords have at least %d characters",
		    POLICY_PASSWORD_MIN);
	if (n > 256)
		return req_fail(r, -EINVAL, "invalid", "password too long");
	if (policy_password_hash(pw, hash) < 0)
		return req_fail(r, -ENOMEM, "internal", "cannot hash the password");
	return 0;
}

bool
users_training_current(struct policy *p, int64_t user_id, int64_t *ret_acked)
{
	const struct conf_policy *cp = &p->conf->policy;
	int64_t now = store_now(p->store);
	sqlite3_stmt *st;
	bool ok = false;

	if (store_prepare(p->store, "SELECT max(acked_usec) FROM training WHERE user_id = ?"
	    " AND policy_version = ? AND acked_usec <= ?", &st) < 0)
		return false;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, cp->policy_version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		int64_t acked = sqlite3_column_int64(st, 0);

		ok = now - acked < cp->training_valid_days * USEC_PER_DAY;
		if (ret_acked != NULL)
			*ret_acked = acked;
	}
	sqlite3_finalize(st);
	return ok;
}

/* The user a session token belongs to, if the session and the account are live. */
int
users_authenticate(struct req *r)
{
	const struct conf_policy *cp = &r->p->conf->policy;
	unsigned char d[crypto_hash_sha256_BYTES];
	char hash[65];
	sqlite3_stmt *st;
	int rc;

	if (r->session == NULL || strlen(r->session) != 64)
		return req_refuse(r, "no-session", "log in first (alprctl login): every access"
		    " needs the user's own credentials (policy IV.F.3)");
	crypto_hash_sha256(d, (const unsigned char *)r->session, strlen(r->session));
	sodium_bin2hex(hash, sizeof(hash), d, sizeof(d));
	if (store_prepare(r->p->store, "SELECT u.id, u.name, u.role, u.disabled, u.failed_logins"
	    " FROM sessions s JOIN users u ON u.id = s.user_id"
	    " WHERE s.token_hash = ? AND s.expires_usec > ?", &st) < 0)
		return req_fail(r, -EIO, "internal", "cannot look up the session");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_now(r->p->store));
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return req_refuse(r, "no-session", "no valid session: it expired or was never"
		    " issued; log in again (alprctl login)");
	}
	r->user_id = sqlite3_column_int64(st, 0);
	snprintf(r->user, sizeof(r->user), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(r->role, sizeof(r->role), "%s", (const char *)sqlite3_column_text(st, 2));
	r->perms = policy_role_perms(r->role);
	if (sqlite3_column_int(st, 3) || sqlite3_column_int64(st, 4) >= cp->max_failed_logins) {
		sqlite3_finalize(st);
		return req_refuse(r, "locked", "account \"%s\" is disabled or locked", r->user);
	}
	sqlite3_finalize(st);
	return 0;
}

static int
exec_user(struct req *r, const char *sql, int64_t id, int64_t arg2)
{
	sqlite3_stmt *st;
	int rc, k;

	if ((k = store_prepare(r->p->store, sql, &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, arg2);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : req_fail(r, -EIO, "internal", "database error");
}

/* A dummy hash so an unknown name costs as much as a wrong password. */
static const char *
dummy_hash(void)
{
	static char h[128];

	if (h[0] == '\0')
		(void)policy_password_hash("not a password of anyone", h);
	return h;
}

int
users_login(struct req *r, json_t **ret)
{
	const struct conf_policy *cp = &r->p->conf->policy;
	unsigned char tok[32], d[crypto_hash_sha256_BYTES];
	char token[65], hash[65], pwhash[128];
	const char *name, *pw;
	int64_t id = 0, failed = 0, now, expires;
	bool disabled = false, found = false, trained;
	sqlite3_stmt *st;
	int k;

	if ((k = arg_str(r, "user", true, &name)) < 0 || (k = arg_str(r, "password", true, &pw)) < 0)
		return k;
	snprintf(r->user, sizeof(r->user), "%.63s", name);
	r->terms = json_pack("{s:s}", "user", r->user);
	if ((k = store_prepare(r->p->store, "SELECT id, password, disabled, failed_logins, role"
	    " FROM users WHERE name = ?", &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		id = sqlite3_column_int64(st, 0);
		snprintf(pwhash, sizeof(pwhash), "%s", (const char *)sqlite3_column_text(st, 1));
		disabled = sqlite3_column_int(st, 2);
		failed = sqlite3_column_int64(st, 3);
		snprintf(r->role, sizeof(r->role), "%s", (const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (!found) {
		(void)policy_password_verify(dummy_hash(), pw);
		r->user[0] = '\0';	/* not a user: do not name one in the log */
		return req_refuse(r, "auth", "wrong user name or password");
	}
	if (disabled)
		return req_refuse(r, "locked", "account \"%s\" is disabled", name);
	if (failed >= cp->max_failed_logins)
		return req_refuse(r, "locked", "account \"%s\" is locked after %lld failed logins;"
		    " an administrator must unlock it (alprctl user unlock)", name,
		    (long long)failed);
	if (!policy_password_verify(pwhash, pw)) {
		/*
		 * Count the failure in its own committed transaction: the
		 * refusal rolls back the request's transaction.
		 */
		store_rollback(r->p->store);
		(void)exec_user(r, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?",
		    id, 0);
		if (failed + 1 >= cp->max_failed_logins)
			(void)exec_user(r, "UPDATE users SET locked_usec = ?2 WHERE id = ?1", id,
			    store_now(r->p->store));
		(void)store_begin(r->p->store);
		if (failed + 1 >= cp->max_failed_logins)
			return req_refuse(r, "locked", "wrong password; account \"%s\" is now locked"
			    " after %lld failed logins", name, (long long)failed + 1);
		return req_refuse(r, "auth", "wrong user name or password");
	}
	if ((k = exec_user(r, "UPDATE users SET failed_logins = 0, locked_usec = NULL"
	    " WHERE id = ?", id, 0)) < 0)
		return k;
	randombytes_buf(tok, sizeof(tok));
	sodium_bin2hex(token, sizeof(token), tok, sizeof(tok));
	crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hash, sizeof(hash), d, sizeof(d));
	now = store_now(r->p->store);
	expires = now + cp->session_timeout_min * 60 * USEC_PER_SEC;
	if ((k = store_prepare(r->p->store, "INSERT INTO sessions (token_hash, user_id,"
	    " created_usec, expires_usec, peer_uid) VALUES (?, ?, ?, ?, ?)", &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, expires);
	sqlite3_bind_int64(st, 5, r->peer->uid);
	if ((k = req_step(r, st)) < 0)
		return k;
	/* Old sessions of anyone go when they expire. */
	if (store_prepare(r->p->store, "DELETE FROM sessions WHERE expires_usec <= ?", &st) == 0) {
		sqlite3_bind_int64(st, 1, now);
		(void)sqlite3_step(st);
		sqlite3_finalize(st);
	}
	r->user_id = id;
	trained = users_training_current(r->p, id, NULL);
	*ret = json_pack("{s:s, s:s, s:s, s:I, s:b, s:s}", "session", token, "user", name,
	    "role", r->role, "expires_usec", (json_int_t)expires, "training_current", trained,
	    "policy_version", cp->policy_version);
	sodium_memzero(token, sizeof(token));
	return *ret != NULL ? 0 : -ENOMEM;
}

int
op_logout(struct req *r, json_t **ret)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	char hash[65];
	sqlite3_stmt *st;

	crypto_hash_sha256(d, (const unsigned char *)r->session, strlen(r->session));
	sodium_bin2hex(hash, sizeof(hash), d, sizeof(d));
	if (store_prepare(r->p->store, "DELETE FROM sessions WHERE token_hash = ?", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	(void)sqlite3_step(st);
	sqlite3_finalize(st);
	*ret = json_pack("{s:b}", "logged_out", 1);
	return 0;
}

static json_t *
perms_json(uint32_t perms)
{
	static const char *const names[] = { "query", "hit-view", "hit-work", "hold", "export",
		"share", "users", "recipients", "purge", "audit", "inspect", "deploy", "hotlist" };
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (perms & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

int
op_whoami(struct req *r, json_t **ret)
{
	int64_t acked = 0;
	bool trained = r->root || users_training_current(r->p, r->user_id, &acked);

	*ret = json_pack("{s:s, s:s, s:o, s:b, s:I, s:s}", "user", r->user, "role", r->role,
	    "permissions", perms_json(r->perms), "training_current", trained,
	    "training_acked_usec", (json_int_t)acked,
	    "policy_version", r->p->conf->policy.policy_version);
	return *ret != NULL ? 0 : -ENOMEM;
}

/*
 * The user acknowledges, with their own session, the training on the
 * policy version they name, which must be the current one (IV.G.1).
 */
int
op_training_ack(struct req *r, json_t **ret)
{
	const char *version;
	sqlite3_stmt *st;
	int k;

	if ((k = arg_str(r, "policy_version", true, &version)) < 0)
		return k;
	if (strcmp(version, r->p->conf->policy.policy_version) != 0)
		return req_refuse(r, "invalid", "the current policy is %s, not %s",
		    r->p->conf->policy.policy_version, version);
	r->terms = json_pack("{s:s}", "policy_version", version);
	if (store_prepare(r->p->store, "INSERT INTO training (user_id, policy_version, acked_usec)"
	    " VALUES (?, ?, ?)", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_int64(st, 1, r->user_id);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, store_now(r->p->store));
	if ((k = req_step(r, st)) < 0)
		return k;
	*ret = json_pack("{s:s, s:I}", "policy_version", version,
	    "valid_until_usec", (json_int_t)(store_now(r->p->store) +
	    r->p->conf->policy.training_valid_days * USEC_PER_DAY));
	return 0;
}

int
op_user_add(struct req *r, json_t **ret)
{
	const char *name, *role, *pw, *full, *badge;
	char hash[128];
	sqlite3_stmt *st;
	int k, rc;

	if ((k = arg_str(r, "name", true, &name)) < 0 || (k = arg_str(r, "role", true, &role)) < 0 ||
	    (k = arg_str(r, "password", true, &pw)) < 0 ||
	    (k = arg_str(r, "full_name", false, &full)) < 0 ||
	    (k = arg_str(r, "badge", false, &badge)) < 0)
		return k;
	r->terms = json_pack("{s:s, s:s}", "name", name, "role", role);
	if (!policy_user_name_valid(name))
		return req_fail(r, -EINVAL, "invalid", "user names are 1-32 of a-z 0-9 . - _,"
		    " starting with a letter");
	if (!policy_role_valid(role))
		return req_fail(r, -EINVAL, "invalid", "unknown role \"%.32s\"", role);
	if ((k = password_new_hash(r, pw, hash)) < 0)
		return k;
	if (store_prepare(r->p->store, "INSERT INTO users (name, full_name, role, badge, password,"
	    " created_usec, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, full, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, badge, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, store_now(r->p->store));
	sqlite3_bind_text(st, 7, r->user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return req_fail(r, -EEXIST, "exists", "user \"%s\" exists", name);
	if (rc != SQLITE_DONE)
		return req_fail(r, -EIO, "internal", "database error");
	*ret = json_pack("{s:s, s:s}", "name", name, "role", role);
	return 0;
}

static int
user_update(struct req *r, const char *sql, const char *what, json_t **ret)
{
	const char *name;
	sqlite3_stmt *st;
	int k;

	if ((k = arg_str(r, "name", true, &name)) < 0)
		return k;
	r->terms = json_pack("{s:s}", "name", name);
	if (store_prepare(r->p->store, sql, &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	if (sqlite3_changes(store_db(r->p->store)) == 0)
		return req_fail(r, -ENOENT, "not-found", "no user \"%s\"", name);
	/* A disabled account loses its sessions at once. */
	if (strcmp(what, "disabled") == 0 &&
	    store_prepare(r->p->store, "DELETE FROM sessions WHERE user_id ="
	    " (SELECT id FROM users WHERE name = ?)", &st) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		(void)sqlite3_step(st);
		sqlite3_finalize(st);
	}
	*ret = json_pack("{s:s, s:b}", "name", name, what, 1);
	return 0;
}

int
op_user_disable(struct req *r, json_t **ret)
{
	return user_update(r, "UPDATE users SET disabled = 1 WHERE name = ?", "disabled", ret);
}

int
op_user_enable(struct req *r, json_t **ret)
{
	return user_update(r, "UPDATE users SET disabled = 0 WHERE name = ?", "enabled", ret);
}

int
op_user_unlock(struct req *r, json_t **ret)
{
	return user_update(r, "UPDATE users SET failed_logins = 0, locked_usec = NULL"
	    " WHERE name = ?", "unlocked", ret);
}

/* One's own password with one's session; anyone else's with PERM_USERS. */
int
op_user_passwd(struct req *r, json_t **ret)
{
	const char *name, *pw;
	char hash[128];
	sqlite3_stmt *st;
	int k;

	if ((k = arg_str(r, "name", false, &name)) < 0 || (k = arg_str(r, "password", true, &pw)) < 0)
		return k;
	if (name == NULL)
		name = r->user;
	r->terms = json_pack("{s:s}", "name", name);
	if (strcmp(name, r->user) != 0 && !(r->perms & PERM_USERS))
		return req_refuse(r, "permission", "only an administrator sets another user's"
		    " password");
	if ((k = password_new_hash(r, pw, hash)) < 0)
		return k;
	if (store_prepare(r->p->store, "UPDATE users SET password = ?, failed_logins = 0,"
	    " locked_usec = NULL WHERE name = ?", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	if (sqlite3_changes(store_db(r->p->store)) == 0)
		return req_fail(r, -ENOENT, "not-found", "no user \"%s\"", name);
	*ret = json_pack("{s:s, s:b}", "name", name, "password_set", 1);
	return 0;
}

int
op_user_list(struct req *r, json_t **ret)
{
	sqlite3_stmt *st;
	json_t *rows = json_array();

	if (rows == NULL || store_prepare(r->p->store, "SELECT id, name, full_name, role, badge,"
	    " disabled, failed_logins FROM users ORDER BY name", &st) < 0) {
		json_decref(rows);
		return req_fail(r, -EIO, "internal", "database error");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t acked = 0;
		bool trained = users_training_current(r->p, sqlite3_column_int64(st, 0), &acked);
		bool locked = sqlite3_column_int64(st, 6) >= r->p->conf->policy.max_failed_logins;

		json_array_append_new(rows, json_pack("{s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:I}",
		    "name", row_text(st, 1), "full_name", row_text(st, 2), "role", row_text(st, 3),
		    "badge", row_text(st, 4), "disabled", sqlite3_column_int(st, 5), "locked", locked,
		    "training_current", trained, "training_acked_usec", (json_int_t)acked));
	}
	sqlite3_finalize(st);
	r->count = (int64_t)json_array_size(rows);
	r->rows = rows;
	*ret = json_pack("{s:I}", "users", (json_int_t)r->count);
	return 0;
}
