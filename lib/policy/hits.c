/*
 * The hit workflow (R5, R6, R7) over the hits table: view, step through
 * the state machine in roles.c (each step names its user and time in
 * hit_events), and export the report attachment (JSON, an HTML page and
 * the images).  Runs in alpr-matchd (requests from alpr-alertd and
 * alprctl) and in alprctl --offline.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "policy/policy-private.h"

#define HIT_SELECT "SELECT " HIT_COLUMNS ", " READ_COLUMNS \
	" FROM hits h JOIN reads r ON r.rowid = h.read_rowid"
#define HIT_READ_AT HIT_NCOLUMNS

json_t *policy_hit_json(struct store *s, sqlite3_stmt *h);

static json_t *
hit_with_read(struct store *s, sqlite3_stmt *st)
{
	json_t *o = policy_hit_json(s, st);

	if (o != NULL)
		json_object_set_new(o, "read", read_row_json(st, HIT_READ_AT));
	return o;
}

static int
load_hit(struct req *r, int64_t id, json_t **ret)
{
	sqlite3_stmt *st;
	int k;

	if ((k = store_prepare(r->p->store, HIT_SELECT " WHERE h.id = ?", &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return req_fail(r, -ENOENT, "not-found", "no hit %lld", (long long)id);
	}
	*ret = hit_with_read(r->p->store, st);
	sqlite3_finalize(st);
	return *ret != NULL ? 0 : -ENOMEM;
}

int
op_hit_get(struct req *r, json_t **ret)
{
	int64_t id = 0;
	int k;

	if ((k = arg_int(r, "id", true, &id)) < 0)
		return k;
	r->terms = json_pack("{s:I}", "hit", (json_int_t)id);
	if ((k = load_hit(r, id, ret)) < 0)
		return k;
	r->count = 1;
	r->ids = json_pack("[O]", json_object_get(json_object_get(*ret, "read"), "id"));
	return 0;
}

int
op_hit_list(struct req *r, json_t **ret)
{
	int64_t from = INT64_MIN, to = INT64_MAX;
	const char *state;
	sqlite3_stmt *st;
	json_t *rows = json_array(), *ids = json_array();
	int k;

	if ((k = arg_int(r, "from_usec", false, &from)) < 0 ||
	    (k = arg_int(r, "to_usec", false, &to)) < 0 ||
	    (k = arg_str(r, "state", false, &state)) < 0)
		goto fail;
	r->terms = json_deep_copy(r->args);
	if ((k = store_prepare(r->p->store, HIT_SELECT " WHERE h.created_usec BETWEEN ? AND ?"
	    " AND (?3 IS NULL OR h.state = ?3) ORDER BY h.id LIMIT 10000", &st)) < 0) {
		k = req_fail(r, k, "internal", "database error");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(rows, hit_with_read(r->p->store, st));
		json_array_append_new(ids, row_text(st, HIT_READ_AT));
	}
	sqlite3_finalize(st);
	r->count = (int64_t)json_array_size(rows);
	r->rows = rows;
	r->ids = ids;
	*ret = json_pack("{s:I}", "count", (json_int_t)r->count);
	return 0;
fail:
	json_decref(rows);
	json_decref(ids);
	return k;
}

/*
 * One step of the workflow.  args: {"id": N, "to": STATE, "disposition": D}
 * with the request's case number.  Refusals say which rule.
 */
int
op_hit_transition(struct req *r, json_t **ret)
{
	const char *to_name, *disp;
	int64_t id = 0, now = store_now(r->p->store);
	int from, to, k;
	bool person;
	sqlite3_stmt *st;

	if ((k = arg_int(r, "id", true, &id)) < 0 || (k = arg_str(r, "to", true, &to_name)) < 0 ||
	    (k = arg_str(r, "disposition", false, &disp)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	if ((to = policy_hit_state_from_name(to_name)) < 0)
		return req_fail(r, -EINVAL, "invalid", "unknown hit state \"%.32s\"", to_name);
	if ((k = store_prepare(r->p->store, "SELECT state, person FROM hits WHERE id = ?",
	    &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return req_fail(r, -ENOENT, "not-found", "no hit %lld", (long long)id);
	}
	from = policy_hit_state_from_name((const char *)sqlite3_column_text(st, 0));
	person = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);

	if (to == HIT_DISPOSED) {
		if (from != HIT_CLETS_CONFIRMED)
			return req_refuse(r, "state", "no disposition before the hit is verified"
			    " through CLETS (policy IV.E.2); the hit is %s",
			    policy_hit_state_name(from));
		if (!policy_disposition_valid(disp))
			return req_fail(r, -EINVAL, "invalid", "disposition is no-action, stop,"
			    " arrest, citation, vehicle-recovered or investigation");
		if (policy_disposition_is_action(disp) && r->case_number == NULL)
			return req_refuse(r, "case", "an enforcement action needs a case or CAD"
			    " number");
	} else if (disp != NULL)
		return req_fail(r, -EINVAL, "invalid", "a disposition goes only with DISPOSED");
	if (policy_hit_step_allowed(from, to) < 0)
		return req_refuse(r, "state", "a hit that is %s cannot become %s (policy IV.E:"
		    " confirm visually, then verify through CLETS)", policy_hit_state_name(from),
		    policy_hit_state_name(to));

	if ((k = store_prepare(r->p->store, "UPDATE hits SET state = ?, disposition = ?,"
	    " disposition_case = ?, updated_usec = ? WHERE id = ? AND state = ?", &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_text(st, 1, policy_hit_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, disp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to == HIT_DISPOSED ? r->case_number : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, id);
	sqlite3_bind_text(st, 6, policy_hit_state_name(from), -1, SQLITE_STATIC);
	k = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(store_db(r->p->store)) == 1 ? 0 : -EIO;
	sqlite3_finalize(st);
	if (k < 0)
		return req_fail(r, k, "internal", "database error");
	if ((k = store_prepare(r->p->store, "INSERT INTO hit_events (hit_id, at_usec, user,"
	    " from_state, to_state, disposition, case_number, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	    &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, policy_hit_state_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, policy_hit_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, disp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->case_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->note, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	*ret = json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)id,
	    "from", policy_hit_state_name(from), "to", policy_hit_state_name(to),
	    "user", r->user, "at_usec", (json_int_t)now);
	if (*ret != NULL && person && to == HIT_VISUALLY_CONFIRMED)
		json_object_set_new(*ret, "reminder", json_string(POLICY_PERSON_REMINDER));
	return 0;
}

static void
html_escaped(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

static void
html_row(FILE *f, const char *k, const char *v)
{
	fputs("<tr><th>", f);
	html_escaped(f, k);
	fputs("</th><td>", f);
	html_escaped(f, v);
	fputs("</td></tr>\n", f);
}

/* The page a report writer attaches (IV.E.4): the hit, its read, the workflow, the images. */
static char *
hit_html(json_t *hit, size_t *ret_len)
{
	json_t *rd = json_object_get(hit, "read"), *ev, *imgs = json_object_get(rd, "images");
	char *buf = NULL, t[40];
	size_t len = 0, i;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>ALPR hit %lld</title>\n<style>body{font-family:sans-serif;margin:2em}"
	    "th{text-align:left;padding-right:1em}td,th{border-bottom:1px solid #ccc}"
	    ".note{border:2px solid #a00;padding:.5em}</style></head><body>\n",
	    (long long)json_integer_value(json_object_get(hit, "id")));
	fprintf(f, "<h1>ALPR hit %lld</h1>\n<table>\n",
	    (long long)json_integer_value(json_object_get(hit, "id")));
	html_row(f, "Plate read", jstr(rd, "plate"));
	html_row(f, "State read", jstr(rd, "state"));
	html_row(f, "Hot-list plate", jstr(hit, "entry_plate"));
	html_row(f, "List", jstr(hit, "list"));
	html_row(f, "Category", jstr(hit, "category"));
	html_row(f, "Source", jstr(hit, "source"));
	html_row(f, "Description", jstr(hit, "description"));
	html_row(f, "Camera", jstr(rd, "camera"));
	html_row(f, "Read at", time_format_iso(json_integer_value(json_object_get(rd,
	    "capture_usec")), t, sizeof(t)));
	html_row(f, "Status", jstr(hit, "state"));
	html_row(f, "Disposition", jstr(hit, "disposition"));
	fputs("</table>\n", f);
	if (json_is_string(json_object_get(hit, "reminder"))) {
		fputs("<p class=\"note\">", f);
		html_escaped(f, jstr(hit, "reminder"));
		fputs("</p>\n", f);
	}
	fputs("<h2>Workflow</h2>\n<table><tr><th>When</th><th>Who</th><th>From</th><th>To</th>"
	    "<th>Case</th></tr>\n", f);
	json_array_foreach(json_object_get(hit, "events"), i, ev) {
		fputs("<tr><td>", f);
		html_escaped(f, time_format_iso(json_integer_value(json_object_get(ev, "at_usec")),
		    t, sizeof(t)));
		fputs("</td><td>", f);
		html_escaped(f, jstr(ev, "user"));
		fputs("</td><td>", f);
		html_escaped(f, jstr(ev, "from"));
		fputs("</td><td>", f);
		html_escaped(f, jstr(ev, "to"));
		fputs("</td><td>", f);
		html_escaped(f, jstr(ev, "case"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Images</h2>\n", f);
	for (i = 0; i < 2; i++) {
		const char *rel = jstr(imgs, i == 0 ? "crop" : "context");
		const char *base = strrchr(rel, '/');

		if (rel[0] == '\0')
			continue;
		fputs("<p><img alt=\"", f);
		fputs(i == 0 ? "plate crop" : "context frame", f);
		fputs("\" src=\"images/", f);
		html_escaped(f, base != NULL ? base + 1 : rel);
		fputs("\"></p>\n", f);
	}
	fputs("<p>Generated by patrol-alpr for the crime report (policy IV.E.4).</p>\n"
	    "</body></html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

int
op_hit_export(struct req *r, json_t **ret)
{
	json_t *hit = NULL, *imgs;
	char manifest[65], *text, *html;
	int64_t id = 0;
	size_t len, i;
	sqlite3_stmt *st;
	int k;

	if ((k = arg_int(r, "id", true, &id)) < 0)
		return k;
	r->terms = json_pack("{s:I}", "hit", (json_int_t)id);
	if ((k = load_hit(r, id, &hit)) < 0)
		return k;
	r->count = 1;
	r->ids = json_pack("[O]", json_object_get(json_object_get(hit, "read"), "id"));
	text = json_dumps(hit, JSON_INDENT(2) | JSON_SORT_KEYS);
	html = hit_html(hit, &len);
	if (text == NULL || html == NULL ||
	    (k = req_add_file(r, "hit.json", (unsigned char *)text, strlen(text))) < 0) {
		free(text);
		free(html);
		json_decref(hit);
		return req_fail(r, -ENOMEM, "internal", "out of memory");
	}
	if ((k = req_add_file(r, "hit.html", (unsigned char *)html, len)) < 0) {
		json_decref(hit);
		return req_fail(r, k, "internal", "out of memory");
	}
	/* The images, read through the store (never a path from the request). */
	if ((k = store_prepare(r->p->store, "SELECT r.crop_file, r.context_file FROM hits h"
	    " JOIN reads r ON r.rowid = h.read_rowid WHERE h.id = ?", &st)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			for (i = 0; i < 2 && k == 0; i++) {
				const char *rel = (const char *)sqlite3_column_text(st, (int)i);
				int fd;
				unsigned char *buf;
				ssize_t got;
				char name[128];

				if (rel == NULL || (fd = store_image_open(r->p->store, rel)) < 0)
					continue;
				buf = malloc(1 << 20);
				got = buf != NULL ? read(fd, buf, 1 << 20) : -1;
				close(fd);
				if (got < 0) {
					free(buf);
					continue;
				}
				snprintf(name, sizeof(name), "images/%s", strrchr(rel, '/') != NULL ?
				    strrchr(rel, '/') + 1 : rel);
				k = req_add_file(r, name, buf, (size_t)got);
			}
		}
		sqlite3_finalize(st);
	}
	(void)imgs;
	json_decref(hit);
	if (k < 0 || (k = req_add_manifest(r, manifest)) < 0)
		return req_fail(r, k, "internal", "cannot build the export");
	if ((k = store_prepare(r->p->store, "INSERT INTO exports (kind, hit_id, at_usec, user,"
	    " case_number, files, manifest_sha256) VALUES ('hit', ?, ?, ?, ?, ?, ?)", &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, store_now(r->p->store));
	sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->case_number, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)r->n_files);
	sqlite3_bind_text(st, 6, manifest, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	*ret = json_pack("{s:I, s:I, s:s}", "hit", (json_int_t)id, "files",
	    (json_int_t)r->n_files, "manifest_sha256", manifest);
	return 0;
}
