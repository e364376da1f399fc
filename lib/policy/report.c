/*
 * The audit (R10): verification of the access log's hash chain, the
 * annual memorandum (policy IV.A.1.e-g) in Markdown and HTML, and the
 * check of exported directories against their manifest.  Runs in
 * alpr-matchd and alprctl (--offline, and for `evidence verify`, which
 * reads only the directory it is given).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/time.h"
#include "policy/policy-private.h"

int
op_audit_verify(struct req *r, json_t **ret)
{
	struct policy_verify v;
	int k;

	if ((k = policy_log_verify(r->p->store, &v)) < 0)
		return req_fail(r, k, "internal", "cannot read the access log");
	r->count = v.rows;
	*ret = json_pack("{s:b, s:I, s:I, s:s, s:s}", "intact", v.first_bad == 0,
	    "rows", (json_int_t)v.rows, "first_bad", (json_int_t)v.first_bad, "why", v.why,
	    "head", v.head);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* Both documents at once: the same content as Markdown and as HTML. */
struct doc {
	FILE *md, *html;
	char *md_buf, *html_buf;
	size_t md_len, html_len;
};

static void
esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

/* Markdown table cells: no pipes or newlines from the data. */
static void
md_cell(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc(*s == '|' || *s == '\n' ? ' ' : *s, f);
}

static void
heading(struct doc *d, int level, const char *text)
{
	fprintf(d->md, "\n%.*s %s\n\n", level, "###", text);
	fprintf(d->html, "<h%d>", level);
	esc(d->html, text);
	fprintf(d->html, "</h%d>\n", level);
}

static void __attribute__((format(printf, 2, 3)))
para(struct doc *d, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(d->md, "%s\n\n", buf);
	fputs("<p>", d->html);
	esc(d->html, buf);
	fputs("</p>\n", d->html);
}

/* A table from a query: every column as text. */
static int
table(struct doc *d, struct store *s, const char *const *header, int n, const char *sql,
    int64_t a, int64_t b)
{
	sqlite3_stmt *st;
	int i, rows = 0;

	if (store_prepare(s, sql, &st) < 0)
		return -EIO;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	fputs("|", d->md);
	fputs("<table>\n<tr>", d->html);
	for (i = 0; i < n; i++) {
		fprintf(d->md, " %s |", header[i]);
		fputs("<th>", d->html);
		esc(d->html, header[i]);
		fputs("</th>", d->html);
	}
	fputs("\n|", d->md);
	for (i = 0; i < n; i++)
		fputs(" --- |", d->md);
	fputs("\n", d->md);
	fputs("</tr>\n", d->html);
	while (sqlite3_step(st) == SQLITE_ROW) {
		fputs("|", d->md);
		fputs("<tr>", d->html);
		for (i = 0; i < n; i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);

			fputs(" ", d->md);
			md_cell(d->md, v != NULL ? v : "");
			fputs(" |", d->md);
			fputs("<td>", d->html);
			esc(d->html, v != NULL ? v : "");
			fputs("</td>", d->html);
		}
		fputs("\n", d->md);
		fputs("</tr>\n", d->html);
		rows++;
	}
	sqlite3_finalize(st);
	if (rows == 0) {
		fputs("| (none) |", d->md);
		for (i = 1; i < n; i++)
			fputs(" |", d->md);
		fputs("\n", d->md);
		fprintf(d->html, "<tr><td colspan=\"%d\">(none)</td></tr>\n", n);
	}
	fputs("\n", d->md);
	fputs("</table>\n", d->html);
	return rows;
}

static int64_t
scalar(struct store *s, const char *sql, int64_t a, int64_t b, bool *ret_null)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (ret_null != NULL)
		*ret_null = true;
	if (store_prepare(s, sql, &st) < 0)
		return 0;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		v = sqlite3_column_int64(st, 0);
		if (ret_null != NULL)
			*ret_null = false;
	}
	sqlite3_finalize(st);
	return v;
}

static int64_t
year_start(int year)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = 0, .tm_mday = 1 };

	return (int64_t)timegm(&tm) * USEC_PER_SEC;
}

int
op_audit_report(struct req *r, json_t **ret)
{
	static const char *const h_access[] = { "User", "Purpose", "Accesses" };
	static const char *const h_refused[] = { "When (UTC)", "User", "Operation", "Outcome" };
	static const char *const h_shares[] = { "When (UTC)", "Recipient ORI", "Agency", "By",
		"Case", "Reads" };
	static const char *const h_holds[] = { "Hold", "Kind", "Case", "Justification",
		"Review by (UTC)", "Released", "Reads" };
	static const char *const h_hits[] = { "Disposition", "Hits" };
	static const char *const h_bad[] = { "Hit", "Disposition", "Case" };
	static const char *const h_users[] = { "User", "Role", "Disabled", "Last training ack (UTC)" };
	static const char *const h_insp[] = { "Camera", "Result", "Inspections" };
	static const char *const h_dep[] = { "When (UTC)", "Mode", "Location", "Approver",
		"Approver role" };
	struct store *s = r->p->store;
	const struct alpr_conf *c = r->p->conf;
	struct policy_verify v;
	struct doc d = { 0 };
	int64_t year = 0, from, to, now = store_now(s), oldest;
	bool none;
	char name[64], t[40];
	int k;

	if ((k = arg_int(r, "year", true, &year)) < 0)
		return k;
	if (year < 2000 || year > 2200)
		return req_fail(r, -EINVAL, "invalid", "year out of range");
	r->terms = json_pack("{s:I}", "year", (json_int_t)year);
	from = year_start((int)year);
	to = year_start((int)year + 1);
	if ((k = policy_log_verify(s, &v)) < 0)
		return req_fail(r, k, "internal", "cannot read the access log");
	if ((d.md = open_memstream(&d.md_buf, &d.md_len)) == NULL ||
	    (d.html = open_memstream(&d.html_buf, &d.html_len)) == NULL) {
		if (d.md != NULL)
			fclose(d.md);
		free(d.md_buf);
		return req_fail(r, -ENOMEM, "internal", "out of memory");
	}
	fprintf(d.html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>ALPR annual audit %lld</title><style>body{font-family:sans-serif;"
	    "margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
	    "padding:.2em .5em}</style></head><body>\n", (long long)year);
	fprintf(d.md, "# ALPR annual audit memorandum, %lld\n\n", (long long)year);
	fprintf(d.html, "<h1>ALPR annual audit memorandum, %lld</h1>\n", (long long)year);
	para(&d, "To: Field Operations Bureau Assistant Sheriff (policy IV.A.1.g). Agency ORI: %s."
	    " Policy: %s. Generated %s by %s.", c->general.agency_ori[0] != '\0' ?
	    c->general.agency_ori : "(not configured)", c->policy.policy_version,
	    time_format_iso(now, t, sizeof(t)), r->user);

	heading(&d, 2, "1. Integrity of the access log");
	if (v.first_bad == 0)
		para(&d, "The access log's hash chain was verified: %lld rows, intact. Head hash"
		    " %s; compare it with the head printed in the previous memorandum.",
		    (long long)v.rows, v.head);
	else
		para(&d, "THE ACCESS LOG FAILED VERIFICATION at row %lld: %s. The records after"
		    " that row cannot be relied upon; report this at once.",
		    (long long)v.first_bad, v.why);

	heading(&d, 2, "2. Accesses per user and purpose (IV.A.1.e.ii)");
	table(&d, s, h_access, 3, "SELECT coalesce(user, '(no session)'), coalesce(purpose, '-'),"
	    " count(*) FROM access_log WHERE at_usec >= ?1 AND at_usec < ?2 AND outcome = 'ok'"
	    " GROUP BY 1, 2 ORDER BY 1, 2", from, to);

	heading(&d, 2, "3. Refused attempts");
	para(&d, "%lld attempts were refused in %lld, %lld of them for a prohibited purpose"
	    " (policy IV.C).",
	    (long long)scalar(s, "SELECT count(*) FROM access_log WHERE at_usec >= ?1 AND"
	    " at_usec < ?2 AND outcome LIKE 'refused%'", from, to, NULL), (long long)year,
	    (long long)scalar(s, "SELECT count(*) FROM access_log WHERE at_usec >= ?1 AND"
	    " at_usec < ?2 AND outcome = 'refused: prohibited'", from, to, NULL));
	table(&d, s, h_refused, 4, "SELECT strftime('%Y-%m-%d %H:%M', at_usec / 1000000,"
	    " 'unixepoch'), coalesce(user, '(unknown)'), op, outcome FROM access_log"
	    " WHERE at_usec >= ?1 AND at_usec < ?2 AND outcome LIKE 'refused%' ORDER BY id"
	    " LIMIT 500", from, to);

	heading(&d, 2, "4. Sharing (IV.A.1.e.i)");
	table(&d, s, h_shares, 6, "SELECT strftime('%Y-%m-%d', s.at_usec / 1000000, 'unixepoch'),"
	    " s.ori, rc.name, s.user, s.case_number, s.reads FROM shares s JOIN recipients rc"
	    " ON rc.ori = s.ori WHERE s.at_usec >= ?1 AND s.at_usec < ?2 ORDER BY s.id", from, to);
	para(&d, "Shares to an agency outside California or of a federal type: %lld (must be 0).",
	    (long long)scalar(s, "SELECT count(*) FROM shares s JOIN recipients rc ON"
	    " rc.ori = s.ori WHERE s.at_usec >= ?1 AND s.at_usec < ?2 AND (substr(s.ori, 1, 2)"
	    " <> 'CA' OR rc.type NOT IN ('state', 'county', 'city', 'district'))", from, to, NULL));

	heading(&d, 2, "5. Retention (IV.A.1.e.iii, IV.F.5)");
	oldest = scalar(s, "SELECT min(capture_usec) FROM reads r WHERE NOT EXISTS (SELECT 1"
	    " FROM hold_reads hr JOIN holds h ON h.id = hr.hold_id WHERE hr.read_rowid = r.rowid"
	    " AND h.released_usec IS NULL)", 0, 0, &none);
	if (none)
		para(&d, "No unheld reads are stored. Retention period: %lld days.",
		    (long long)c->storage.retention_days);
	else
		para(&d, "Oldest unheld read: %lld days old; retention period %lld days: %s.",
		    (long long)((now - oldest) / USEC_PER_DAY), (long long)c->storage.retention_days,
		    now - oldest <= c->storage.retention_days * USEC_PER_DAY ? "compliant" :
		    "NOT COMPLIANT, run the purge");
	table(&d, s, h_holds, 7, "SELECT h.id, h.kind, h.case_number, h.justification,"
	    " strftime('%Y-%m-%d', h.review_usec / 1000000, 'unixepoch'),"
	    " CASE WHEN h.released_usec IS NULL THEN 'no' ELSE 'yes' END,"
	    " (SELECT count(*) FROM hold_reads hr WHERE hr.hold_id = h.id) FROM holds h"
	    " ORDER BY h.id", 0, 0);
	para(&d, "Active holds past their review date: %lld.",
	    (long long)scalar(s, "SELECT count(*) FROM holds WHERE released_usec IS NULL AND"
	    " review_usec < ?1", now, 0, NULL));

	heading(&d, 2, "6. Hits and CLETS verification (IV.E)");
	table(&d, s, h_hits, 2, "SELECT coalesce(disposition, state), count(*) FROM hits"
	    " WHERE created_usec >= ?1 AND created_usec < ?2 GROUP BY 1 ORDER BY 1", from, to);
	k = table(&d, s, h_bad, 3, "SELECT h.id, h.disposition, coalesce(h.disposition_case, '')"
	    " FROM hits h WHERE h.created_usec >= ?1 AND h.created_usec < ?2 AND h.state ="
	    " 'DISPOSED' AND NOT EXISTS (SELECT 1 FROM hit_events e WHERE e.hit_id = h.id AND"
	    " e.to_state = 'CLETS_CONFIRMED' AND e.id < (SELECT max(id) FROM hit_events e2"
	    " WHERE e2.hit_id = h.id AND e2.to_state = 'DISPOSED'))", from, to);
	para(&d, "%s", k == 0 ? "Every disposition was preceded by a recorded CLETS verification." :
	    "The hits listed above were disposed of without a recorded CLETS verification.");

	heading(&d, 2, "7. Training (IV.G)");
	table(&d, s, h_users, 4, "SELECT u.name, u.role, CASE u.disabled WHEN 0 THEN 'no'"
	    " ELSE 'yes' END, coalesce((SELECT strftime('%Y-%m-%d', max(t.acked_usec) / 1000000,"
	    " 'unixepoch') FROM training t WHERE t.user_id = u.id), 'never') FROM users u"
	    " ORDER BY u.name", 0, 0);
	para(&d, "Training is current when acknowledged on policy %s within %lld days.",
	    c->policy.policy_version, (long long)c->policy.training_valid_days);

	heading(&d, 2, "8. Equipment (IV.D, IV.B.5)");
	table(&d, s, h_insp, 3, "SELECT camera, result, count(*) FROM inspections WHERE"
	    " at_usec >= ?1 AND at_usec < ?2 GROUP BY 1, 2 ORDER BY 1, 2", from, to);
	table(&d, s, h_dep, 5, "SELECT strftime('%Y-%m-%d', at_usec / 1000000, 'unixepoch'),"
	    " mode, coalesce(location, ''), coalesce(approver, ''), coalesce(approver_role, '')"
	    " FROM deployments WHERE mutual_aid = 1 AND at_usec >= ?1 AND at_usec < ?2"
	    " ORDER BY id", from, to);
	fputs("</body></html>\n", d.html);
	k = fclose(d.md) | fclose(d.html);
	if (k != 0) {
		free(d.md_buf);
		free(d.html_buf);
		return req_fail(r, -ENOMEM, "internal", "out of memory");
	}
	snprintf(name, sizeof(name), "audit-%lld.md", (long long)year);
	k = req_add_file(r, name, (unsigned char *)d.md_buf, d.md_len);
	snprintf(name, sizeof(name), "audit-%lld.html", (long long)year);
	if (k == 0)
		k = req_add_file(r, name, (unsigned char *)d.html_buf, d.html_len);
	else
		free(d.html_buf);
	if (k < 0)
		return req_fail(r, k, "internal", "out of memory");
	*ret = json_pack("{s:I, s:b, s:I}", "year", (json_int_t)year, "log_intact",
	    v.first_bad == 0, "log_rows", (json_int_t)v.rows);
	return 0;
}

/* ---- exported directories ---------------------------------------------- */

bool
policy_export_name_valid(const char *name)
{
	const char *p;
	bool slash = false;

	if (name == NULL || name[0] == '\0' || name[0] == '.' || strlen(name) > 120)
		return false;
	for (p = name; *p != '\0'; p++) {
		if (*p == '/') {
			/* one level: images/NAME */
			if (slash || p[1] == '\0' || p[1] == '.' || strncmp(name, "images/", 7) != 0)
				return false;
			slash = true;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return false;
	}
	return strstr(name, "..") == NULL;
}

static int
hash_file(const char *path, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char buf[65536], d[crypto_hash_sha256_BYTES];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	crypto_hash_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return -EIO;
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 65, d, sizeof(d));
	return 0;
}

int
policy_manifest_verify(const char *dir, char **ret_bad)
{
	char path[PATH_MAX], line[512], got[65];
	FILE *f;
	int r = 0, files = 0;

	if (sodium_init() < 0)
		return -EIO;
	snprintf(path, sizeof(path), "%s/MANIFEST.sha256", dir);
	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *name;

		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ') {
			r = -EBADMSG;
			if (ret_bad != NULL)
				*ret_bad = strdup("MANIFEST.sha256");
			break;
		}
		line[64] = '\0';
		name = line + 66;
		if (!policy_export_name_valid(name)) {
			r = -EBADMSG;
			if (ret_bad != NULL)
				*ret_bad = strdup(name);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (hash_file(path, got) < 0 || strcmp(got, line) != 0) {
			r = -EBADMSG;
			if (ret_bad != NULL)
				*ret_bad = strdup(name);
		}
		files++;
	}
	fclose(f);
	if (r == 0 && files == 0)
		r = -EBADMSG;
	return r;
}
