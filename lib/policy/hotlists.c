/*
 * Hot-list control ops (doc/protocol.md "Hot-list operations"): import a
 * list file handed over as a descriptor, list the active versions, add a
 * manual entry.  They run in alpr-matchd behind the same gate as every
 * other op (session, training, PERM_HOTLIST, case number and purpose),
 * inside the request's transaction with its access-log row; an import's
 * parse runs before it, off the daemon's loop (policy_job), and stays a
 * pending version until that transaction activates it: all or nothing.  Immigration categories are refused (policy IV.C.4, R4).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/time.h"
#include "conf/conf.h"
#include "hotlist/hotlist-store.h"
#include "policy-private.h"
#include "store/store.h"

#define IMPORT_SIZE_MAX ((off_t)2 << 30)	/* 2 GiB: far above a statewide list */

/*
 * hotlist.import in two parts (policy.h, "policy_job"): stage_hotlist_import()
 * checks the arguments and copies all the parse needs into a job, on the
 * loop; policy_job_run() parses the file into a pending version, in a
 * thread with a connection of its own; op_hotlist_import() activates it
 * in the request's transaction, with its access-log row.
 */
struct policy_job {
	int fd;				/* the list file, ours */
	struct hotlist_parse_opts o;	/* its strings are the copies below */
	struct hotlist_codes codes;
	char *source, *file_name, *columns, *user;
	/* What the run gave. */
	bool ran;
	int error;
	char *err;			/* a bad file: its position and why */
	struct hotlist_staged staged;
	struct hotlist *list;		/* provenance, no entries */
	bool activated;
	atomic_bool cancel;		/* policy_job_cancel(): stop at the next chunk */
};

void
policy_job_free(struct policy_job *job)
{
	if (job == NULL)
		return;
	if (job->fd >= 0)
		close(job->fd);
	free(job->source);
	free(job->file_name);
	free(job->columns);
	free(job->user);
	free(job->err);
	hotlist_free(job->list);
	free(job);
}

void
policy_job_cancel(struct policy_job *job)
{
	atomic_store(&job->cancel, true);
}

void
policy_job_abandon(struct policy_job *job, struct store *s)
{
	if (job != NULL && job->ran && job->error == 0 && !job->activated)
		(void)hotlist_store_drop(s, job->staged.id);
}

static int
dup_arg(const char *s, char **ret)
{
	*ret = NULL;
	if (s != NULL && (*ret = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

int
stage_hotlist_import(struct req *r, struct policy_job **ret)
{
	struct policy_job *job;
	const char *format, *source = NULL, *file_name = NULL, *columns = NULL, *sha = NULL;
	int64_t delimiter = 0, category = 0;
	struct stat sb;
	int skip_bad = 0, k, fmt;

	if (r->fd < 0)
		return req_fail(r, -EINVAL, "invalid", "hotlist.import needs the list file's descriptor");
	if ((k = arg_str(r, "format", true, &format)) < 0 ||
	    (k = arg_str(r, "source", false, &source)) < 0 ||
	    (k = arg_str(r, "file_name", false, &file_name)) < 0 ||
	    (k = arg_str(r, "columns", false, &columns)) < 0 ||
	    (k = arg_str(r, "sha256", true, &sha)) < 0 ||
	    (k = arg_int(r, "delimiter", false, &delimiter)) < 0 ||
	    (k = arg_int(r, "category", false, &category)) < 0)
		return k;
	if (json_unpack(r->args, "{s?b}", "skip_bad", &skip_bad) < 0)
		return req_fail(r, -EINVAL, "invalid", "skip_bad: a boolean");
	if ((fmt = hotlist_format_from_name(format)) < 0)
		return req_fail(r, -EINVAL, "invalid", "unknown list format");
	if (delimiter < 0 || delimiter > 127 || category < 0 || category >= _HOTLIST_CAT_MAX ||
	    hotlist_category_is_prohibited((int)category))
		return req_refuse(r, "invalid", "bad delimiter or default category (policy IV.C.4)");
	if (fstat(r->fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    sb.st_size > IMPORT_SIZE_MAX)
		return req_fail(r, -EINVAL, "invalid", "the list must be a regular, non-empty file");
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return req_fail(r, -ENOMEM, "internal", "out of memory");
	job->fd = -1;
	if (hotlist_codes_parse(r->p->conf->match.ncic_list_codes != NULL ?
	    r->p->conf->match.ncic_list_codes : HOTLIST_CODES_DEFAULT, &job->codes) < 0) {
		policy_job_free(job);
		return req_fail(r, -EINVAL, "config", "NcicListCodes is not valid");
	}
	if ((job->fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 3)) < 0 || dup_arg(source, &job->source) < 0 ||
	    dup_arg(file_name, &job->file_name) < 0 || dup_arg(columns, &job->columns) < 0 ||
	    dup_arg(r->user, &job->user) < 0) {
		policy_job_free(job);
		return req_fail(r, -ENOMEM, "internal", "cannot keep the request");
	}
	job->o.format = fmt;
	job->o.source = job->source;
	job->o.skip_bad = skip_bad;
	job->o.codes = &job->codes;
	job->o.delimiter = (char)delimiter;
	job->o.columns = job->columns;
	job->o.default_category = (int)category;
	job->o.display_name = job->file_name;
	*ret = job;
	return 0;
}

int
policy_job_run(struct policy_job *job, struct store *s)
{
	struct stat sb;
	char *report = NULL;
	void *map;
	int k;

	job->ran = true;
	if (s == NULL)
		return job->error = -EIO;	/* the daemon could not open a connection */
	if (fstat(job->fd, &sb) < 0 || sb.st_size <= 0)
		return job->error = -EINVAL;
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, job->fd, 0);
	if (map == MAP_FAILED)
		return job->error = -errno;
	(void)madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	/*
	 * Parsed straight into a pending version, entry by entry, in short
	 * transactions: a bad record or a store error removes it again.
	 */
	k = hotlist_store_stage_buffer(s, job->file_name != NULL ? job->file_name : "list", map,
	    (size_t)sb.st_size, &job->o, job->user, &job->cancel, &job->staged, &job->list,
	    &job->err, &report);
	munmap(map, (size_t)sb.st_size);
	free(report);
	close(job->fd);
	job->fd = -1;
	return job->error = k < 0 ? k : 0;
}

int
op_hotlist_import(struct req *r, json_t **ret)
{
	struct policy_job *job = r->job;
	struct hotlist_version v;
	const char *sha = NULL;
	int k;

	if (job == NULL || !job->ran)
		return req_fail(r, -EINVAL, "internal", "the import did not run");
	if (job->error == -EINVAL && job->err != NULL)
		return req_fail(r, job->error, "invalid", "%s", job->err);
	if (job->error < 0)
		return req_fail(r, job->error, "internal", "cannot store the list: %s",
		    strerror(-job->error));
	(void)arg_str(r, "sha256", true, &sha);
	if (sha == NULL || strcmp(job->list->sha256_hex, sha) != 0)
		return req_refuse(r, "sha256", "the file matchd read is not the one alprctl checked"
		    " (SHA-256 differs)");
	if ((k = hotlist_store_activate(r->p->store, &job->staged, &v)) == -ESTALE)
		return req_fail(r, k, "busy", "another version of the list came during the import;"
		    " import it again");
	if (k < 0)
		return req_fail(r, k, "internal", "cannot activate the list: %s", strerror(-k));
	job->activated = true;
	r->terms = json_pack("{s:s, s:s, s:s?}", "source", job->list->source, "sha256",
	    job->list->sha256_hex, "file_name", job->list->file_name);
	r->count = (int64_t)v.n_entries;
	*ret = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "version",
	    (json_int_t)v.version, "entries", (json_int_t)v.n_entries, "added",
	    (json_int_t)v.added, "removed", (json_int_t)v.removed, "unchanged",
	    (json_int_t)v.unchanged, "skipped", (json_int_t)v.skipped, "excluded",
	    (json_int_t)v.excluded, "first_entry", (json_int_t)v.first_entry);
	return *ret != NULL ? 0 : -ENOMEM;
}

void
policy_set_list_state(struct policy *p, const char *(*fn)(int64_t list_id, void *userdata),
    void *userdata)
{
	p->list_state = fn;
	p->list_state_data = userdata;
}

int
op_hotlist_status(struct req *r, json_t **ret)
{
	sqlite3_stmt *st = NULL;
	json_t *lists;
	int64_t now = store_now(r->p->store), age_usec, newest;
	int k, rc;

	age_usec = r->p->conf->match.max_list_age_hours * 3600 * USEC_PER_SEC;
	/* A list's age counts from the date in the file, else from its import. */
	k = store_prepare(r->p->store, "SELECT name, version, file_name, sha256, source_usec,"
	    " imported_usec, imported_by, entries, added, removed, unchanged, skipped, excluded, id"
	    " FROM hotlists WHERE active = 1 ORDER BY imported_usec DESC", &st);
	if (k < 0)
		return req_fail(r, k, "internal", "cannot read the lists");
	lists = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		newest = sqlite3_column_int64(st, 4) > 0 ? sqlite3_column_int64(st, 4) :
		    sqlite3_column_int64(st, 5);
		json_array_append_new(lists, json_pack("{s:o, s:I, s:o, s:o, s:I, s:I, s:o,"
		    " s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:b}",
		    "source", row_text(st, 0), "version", (json_int_t)sqlite3_column_int64(st, 1),
		    "file_name", row_text(st, 2), "sha256", row_text(st, 3),
		    "source_usec", (json_int_t)sqlite3_column_int64(st, 4),
		    "imported_usec", (json_int_t)sqlite3_column_int64(st, 5),
		    "imported_by", row_text(st, 6),
		    "counts", "entries", (json_int_t)sqlite3_column_int64(st, 7),
		    "added", (json_int_t)sqlite3_column_int64(st, 8),
		    "removed", (json_int_t)sqlite3_column_int64(st, 9),
		    "unchanged", (json_int_t)sqlite3_column_int64(st, 10),
		    "skipped", (json_int_t)sqlite3_column_int64(st, 11),
		    "excluded", (json_int_t)sqlite3_column_int64(st, 12),
		    "stale", age_usec > 0 && now - newest > age_usec));
		if (r->p->list_state != NULL)
			json_object_set_new(json_array_get(lists, json_array_size(lists) - 1),
			    "matching", json_string(r->p->list_state(sqlite3_column_int64(st, 13),
			    r->p->list_state_data)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(lists);
		return req_fail(r, -EIO, "internal", "cannot read the lists");
	}
	r->count = (int64_t)json_array_size(lists);
	*ret = lists;
	return 0;
}

static int need_alert(struct req *r);

/*
 * For alpr-alertd's stale-list and storage banners, without a session:
 * each active list's source, version, dates and staleness
 * (hotlist.status's), MaxListAgeHours, and the storage state (status's).
 */
int
op_hotlist_age(struct req *r, json_t **ret)
{
	json_t *all = NULL, *lists, *l;
	size_t i;
	int k;

	if ((k = need_alert(r)) < 0 || (k = op_hotlist_status(r, &all)) < 0)
		return k;
	lists = json_array();
	json_array_foreach(all, i, l)
		json_array_append_new(lists, json_pack("{s:O, s:O, s:O, s:O, s:O}",
		    "source", json_object_get(l, "source"), "version", json_object_get(l, "version"),
		    "source_usec", json_object_get(l, "source_usec"),
		    "imported_usec", json_object_get(l, "imported_usec"),
		    "stale", json_object_get(l, "stale")));
	json_decref(all);
	*ret = json_pack("{s:o, s:I, s:I, s:s}", "lists", lists, "max_age_hours",
	    (json_int_t)r->p->conf->match.max_list_age_hours, "now_usec",
	    (json_int_t)store_now(r->p->store), "storage", policy_storage_state(r->p->store));
	return *ret != NULL ? 0 : -ENOMEM;
}

int
op_hotlist_add(struct req *r, json_t **ret)
{
	struct hotlist_entry e = { 0 };
	const char *plate, *state = NULL, *category, *description = NULL;
	int64_t expiry, now = store_now(r->p->store), id;
	int64_t max_days = r->p->conf->policy.manual_entry_max_days;
	int k, cat;

	if ((k = arg_str(r, "plate", true, &plate)) < 0 ||
	    (k = arg_str(r, "state", false, &state)) < 0 ||
	    (k = arg_str(r, "category", true, &category)) < 0 ||
	    (k = arg_str(r, "description", false, &description)) < 0 ||
	    (k = arg_int(r, "expiry_usec", true, &expiry)) < 0)
		return k;
	if (hotlist_text_is_prohibited(category) ||
	    ((cat = hotlist_category_from_name(category)) >= 0 &&
	    hotlist_category_is_prohibited(cat)))
		return req_refuse(r, "prohibited", "immigration-enforcement entries are not loaded"
		    " (policy IV.C.4)");
	if (cat < 0)
		return req_fail(r, -EINVAL, "invalid", "unknown category");
	if ((k = hotlist_plate_normalize(plate, true, e.plate)) < 0)
		return req_fail(r, -EINVAL, "invalid", "bad plate or pattern");
	if (k == 1)
		e.flags |= HOTLIST_F_WILDCARD;
	if (state != NULL) {
		if (strlen(state) != 2 || !hotlist_state_valid(state))
			return req_fail(r, -EINVAL, "invalid", "bad state");
		memcpy(e.state, state, 3);
	}
	if (expiry <= now || expiry > now + max_days * USEC_PER_DAY)
		return req_refuse(r, "expiry", "a manual entry expires within %lld days"
		    " (ManualEntryMaxDays)", (long long)max_days);
	if (description != NULL && strlen(description) > HOTLIST_TEXT_MAX)
		return req_fail(r, -EINVAL, "invalid", "description too long");
	e.category = (uint8_t)cat;
	e.priority = (uint8_t)hotlist_default_priority(cat, "manual");
	if (cat == HOTLIST_CAT_WANTED || cat == HOTLIST_CAT_MISSING)
		e.flags |= HOTLIST_F_PERSON;
	e.source = "manual";
	e.case_no = r->case_number;
	e.reason = r->purpose;
	e.description = description;
	e.effective_usec = now;
	e.expiry_usec = expiry;
	if ((k = hotlist_store_add_manual(r->p->store, &e, r->user, &id)) < 0)
		return req_fail(r, k, "internal", "cannot store the entry: %s", strerror(-k));
	r->terms = json_pack("{s:s, s:I}", "category", category, "expiry_usec", (json_int_t)expiry);
	r->ids = json_pack("[I]", (json_int_t)id);
	r->count = 1;
	*ret = json_pack("{s:I}", "entry", (json_int_t)id);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* ---- ops alpr-alertd uses (doc/protocol.md) ---------------------------- */

static int
need_alert(struct req *r)
{
	if (!r->peer->alert)
		return req_refuse(r, "permission", "only alpr-alertd reports shown hits");
	return 0;
}

/*
 * The hit was put in front of the deputy.  The record is the access-log
 * row policy_control() writes for this op (user alpr-alertd, the hit's
 * id, quiet or not); hit_events stays the workflow's transitions.
 */
int
op_hit_shown(struct req *r, json_t **ret)
{
	sqlite3_stmt *st = NULL;
	int64_t hit;
	int quiet = 0, k, rc;

	if ((k = need_alert(r)) < 0 || (k = arg_int(r, "hit", true, &hit)) < 0)
		return k;
	if (json_unpack(r->args, "{s?b}", "quiet", &quiet) < 0)
		return req_fail(r, -EINVAL, "invalid", "quiet: a boolean");
	if ((k = store_prepare(r->p->store, "SELECT 1 FROM hits WHERE id = ?", &st)) < 0)
		return req_fail(r, k, "internal", "cannot read the hit");
	sqlite3_bind_int64(st, 1, hit);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return req_fail(r, -ENOENT, "not-found", "no such hit");
	if (rc != SQLITE_ROW)
		return req_fail(r, -EIO, "internal", "cannot read the hit");
	snprintf(r->user, sizeof(r->user), "alpr-alertd");
	r->terms = json_pack("{s:b}", "quiet", quiet);
	r->ids = json_pack("[I]", (json_int_t)hit);
	r->count = 1;
	*ret = json_pack("{s:I}", "hit", (json_int_t)hit);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* The window's hits not MISREAD nor DISPOSED, queued again through the daemon's hook. */
int
op_hit_resend(struct req *r, json_t **ret)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int k, rc;

	if ((k = need_alert(r)) < 0)
		return k;
	if (r->p->resend == NULL)
		return req_fail(r, -EOPNOTSUPP, "unsupported", "hits are resent by alpr-matchd only");
	k = store_prepare(r->p->store, "SELECT id FROM hits WHERE created_usec >= ?"
	    " AND state NOT IN ('MISREAD', 'DISPOSED') ORDER BY id", &st);
	if (k < 0)
		return req_fail(r, k, "internal", "cannot read the hits");
	sqlite3_bind_int64(st, 1, store_now(r->p->store) - POLICY_RESEND_WINDOW_USEC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (r->p->resend(sqlite3_column_int64(st, 0), r->p->resend_data) >= 0)
			n++;
	k = rc == SQLITE_DONE ? 0 : store_error(r->p->store, rc);
	sqlite3_finalize(st);
	/* Cut short (busy, I/O): say so, and alertd asks again (it shows each hit once). */
	if (k < 0)
		return req_fail(r, k, "busy", "reading the hits stopped after %lld of them",
		    (long long)n);
	r->count = n;
	*ret = json_pack("{s:I}", "count", (json_int_t)n);
	return *ret != NULL ? 0 : -ENOMEM;
}

void
policy_set_resend(struct policy *p, int (*fn)(int64_t hit_id, void *userdata), void *userdata)
{
	p->resend = fn;
	p->resend_data = userdata;
}
