/*
 * The ops that touch ALPR data or the equipment record: queries (R3, R12),
 * holds and evidence exports (R8), sharing (R9), recipients, inspections
 * (R11) and deployments (R12).  Each runs inside policy_control() after
 * the gate; what it found goes to the access log through r->terms,
 * r->count and r->ids.  Runs in alpr-matchd and alprctl --offline.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "policy/policy-private.h"

#define CANVASS_RADIUS_MAX 10000.0		/* metres */
#define CANVASS_WINDOW_MAX (7 * USEC_PER_DAY)

static double
distance_m(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = M_PI / 180.0, earth = 6371000.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad, a;

	a = sin(dlat / 2) * sin(dlat / 2) +
	    cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * earth * asin(sqrt(a));
}

/* A plate pattern: [A-Z0-9*?], with at least two real characters, so no one dumps the table. */
static bool
pattern_valid(const char *p)
{
	size_t i, real = 0;

	for (i = 0; p[i] != '\0'; i++) {
		if ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9'))
			real++;
		else if (p[i] != '*' && p[i] != '?')
			return false;
	}
	return i <= STORE_PLATE_MAX && real >= 2;
}

int
op_query(struct req *r, json_t **ret)
{
	const char *plate, *pattern, *camera;
	int64_t from = INT64_MIN, to = INT64_MAX, limit = 1000;
	double lat = 0, lon = 0, radius = 0;
	bool has_lat, has_lon, has_radius, area, truncated = false;
	char sql[1024];
	sqlite3_stmt *st;
	json_t *rows, *ids;
	int k, n = 0, rc;

	if ((k = arg_str(r, "plate", false, &plate)) < 0 ||
	    (k = arg_str(r, "pattern", false, &pattern)) < 0 ||
	    (k = arg_str(r, "camera", false, &camera)) < 0 ||
	    (k = arg_int(r, "from_usec", false, &from)) < 0 ||
	    (k = arg_int(r, "to_usec", false, &to)) < 0 ||
	    (k = arg_int(r, "limit", false, &limit)) < 0 ||
	    (k = arg_real(r, "lat", false, &lat, &has_lat)) < 0 ||
	    (k = arg_real(r, "lon", false, &lon, &has_lon)) < 0 ||
	    (k = arg_real(r, "radius_m", false, &radius, &has_radius)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	area = has_lat || has_lon || has_radius;
	if (plate != NULL && !store_plate_valid(plate))
		return req_fail(r, -EINVAL, "invalid", "a plate is 1-16 of A-Z 0-9");
	if (pattern != NULL && !pattern_valid(pattern))
		return req_fail(r, -EINVAL, "invalid", "a pattern is A-Z 0-9 with * and ?, and at"
		    " least two letters or digits");
	if (plate == NULL && pattern == NULL && camera == NULL && !area)
		return req_fail(r, -EINVAL, "invalid", "give a plate, a pattern, a camera or an"
		    " area (lat, lon, radius_m)");
	if (from > to)
		return req_fail(r, -EINVAL, "invalid", "from_usec is after to_usec");
	if (limit < 1 || limit > POLICY_ROWS_MAX)
		return req_fail(r, -EINVAL, "invalid", "limit is 1..%d", POLICY_ROWS_MAX);
	if (area) {
		/* A canvass of one incident (IV.B.4), not a way to follow people. */
		if (!has_lat || !has_lon || !has_radius || lat < -90 || lat > 90 || lon < -180 ||
		    lon > 180 || radius <= 0 || radius > CANVASS_RADIUS_MAX)
			return req_fail(r, -EINVAL, "invalid", "an area needs lat, lon and radius_m"
			    " (at most %.0f m)", CANVASS_RADIUS_MAX);
		if (from == INT64_MIN || to == INT64_MAX || to - from > CANVASS_WINDOW_MAX)
			return req_fail(r, -EINVAL, "invalid", "an area canvass needs from_usec and"
			    " to_usec at most 7 days apart");
	}

	/* Fixed fragments only; every value is a bound parameter. */
	snprintf(sql, sizeof(sql), "SELECT " READ_COLUMNS " FROM reads r WHERE"
	    " r.capture_usec BETWEEN ?1 AND ?2%s%s%s%s ORDER BY r.capture_usec LIMIT ?9",
	    plate != NULL ? " AND r.plate = ?3" : "",
	    pattern != NULL ? " AND r.plate GLOB ?4" : "",
	    camera != NULL ? " AND r.camera = ?5" : "",
	    area ? " AND r.gps_fix = 1 AND r.lat BETWEEN ?6 AND ?7 AND r.lon BETWEEN ?8 AND ?10" : "");
	if ((k = store_prepare(r->p->store, sql, &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if (plate != NULL)
		sqlite3_bind_text(st, 3, plate, -1, SQLITE_STATIC);
	if (pattern != NULL)
		sqlite3_bind_text(st, 4, pattern, -1, SQLITE_STATIC);
	if (camera != NULL)
		sqlite3_bind_text(st, 5, camera, -1, SQLITE_STATIC);
	if (area) {
		double dlat = radius / 111320.0;
		double dlon = radius / (111320.0 * fmax(cos(lat * M_PI / 180.0), 0.01));

		sqlite3_bind_double(st, 6, lat - dlat);
		sqlite3_bind_double(st, 7, lat + dlat);
		sqlite3_bind_double(st, 8, lon - dlon);
		sqlite3_bind_double(st, 10, lon + dlon);
	}
	/* One more than asked, to tell the caller the answer was cut. */
	sqlite3_bind_int64(st, 9, area ? POLICY_ROWS_MAX * 4 : limit + 1);
	rows = json_array();
	ids = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (area && distance_m(lat, lon, sqlite3_column_double(st, 8),
		    sqlite3_column_double(st, 9)) > radius)
			continue;
		if (n == limit) {
			truncated = true;
			break;
		}
		json_array_append_new(rows, read_row_json(st, 0));
		json_array_append_new(ids, row_text(st, 0));
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(rows);
		json_decref(ids);
		return req_fail(r, -EIO, "internal", "database error");
	}
	r->rows = rows;
	r->ids = ids;
	r->count = n;
	*ret = json_pack("{s:i, s:b}", "count", n, "truncated", truncated);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* ---- holds ------------------------------------------------------------ */

int
op_hold_create(struct req *r, json_t **ret)
{
	const char *kind, *why;
	int64_t review = 0, now = store_now(r->p->store), hold;
	json_t *reads = json_object_get(r->args, "reads"), *v;
	sqlite3_stmt *st;
	size_t i;
	int k;

	if ((k = arg_str(r, "kind", true, &kind)) < 0 ||
	    (k = arg_str(r, "justification", true, &why)) < 0 ||
	    (k = arg_int(r, "review_usec", true, &review)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	if (strcmp(kind, "ongoing") != 0 && strcmp(kind, "evidence") != 0)
		return req_fail(r, -EINVAL, "invalid", "a hold is \"ongoing\" (criminal activity,"
		    " partial plates included) or \"evidence\" (policy IV.F.5.a)");
	if (strlen(why) < 10)
		return req_fail(r, -EINVAL, "invalid", "say why the reads must be kept");
	if (review <= now || review > now + 365 * USEC_PER_DAY)
		return req_fail(r, -EINVAL, "invalid", "the review date must be within the next"
		    " year");
	if (!json_is_array(reads) || json_array_size(reads) == 0 ||
	    json_array_size(reads) > POLICY_ROWS_MAX)
		return req_fail(r, -EINVAL, "invalid", "\"reads\" is a list of read ids");
	if (store_prepare(r->p->store, "INSERT INTO holds (kind, case_number, justification,"
	    " created_by, created_usec, review_usec) VALUES (?, ?, ?, ?, ?, ?)", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->case_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, review);
	if ((k = req_step(r, st)) < 0)
		return k;
	hold = sqlite3_last_insert_rowid(store_db(r->p->store));
	if (store_prepare(r->p->store, "INSERT OR IGNORE INTO hold_reads (hold_id, read_rowid)"
	    " SELECT ?, rowid FROM reads WHERE id = ?", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	json_array_foreach(reads, i, v) {
		if (!json_is_string(v) || !store_id_valid(json_string_value(v))) {
			sqlite3_finalize(st);
			return req_fail(r, -EINVAL, "invalid", "\"reads\" is a list of read ids");
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, hold);
		sqlite3_bind_text(st, 2, json_string_value(v), -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(store_db(r->p->store)) == 0) {
			sqlite3_finalize(st);
			return req_fail(r, -ENOENT, "not-found", "no read %s", json_string_value(v));
		}
	}
	sqlite3_finalize(st);
	r->ids = json_deep_copy(reads);
	r->count = (int64_t)json_array_size(reads);
	*ret = json_pack("{s:I, s:I}", "hold", (json_int_t)hold, "reads", (json_int_t)r->count);
	return 0;
}

int
op_hold_release(struct req *r, json_t **ret)
{
	int64_t id = 0;
	sqlite3_stmt *st;
	int k;

	if ((k = arg_int(r, "id", true, &id)) < 0)
		return k;
	r->terms = json_pack("{s:I}", "hold", (json_int_t)id);
	if (store_prepare(r->p->store, "UPDATE holds SET released_usec = ?, released_by = ?"
	    " WHERE id = ? AND released_usec IS NULL", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_int64(st, 1, store_now(r->p->store));
	sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	if ((k = req_step(r, st)) < 0)
		return k;
	if (sqlite3_changes(store_db(r->p->store)) == 0)
		return req_fail(r, -ENOENT, "not-found", "no active hold %lld", (long long)id);
	*ret = json_pack("{s:I, s:b}", "hold", (json_int_t)id, "released", 1);
	return 0;
}

int
op_hold_list(struct req *r, json_t **ret)
{
	sqlite3_stmt *st;
	json_t *rows = json_array();

	if (store_prepare(r->p->store, "SELECT h.id, h.kind, h.case_number, h.justification,"
	    " h.created_by, h.created_usec, h.review_usec, h.released_usec,"
	    " (SELECT count(*) FROM hold_reads hr WHERE hr.hold_id = h.id)"
	    " FROM holds h ORDER BY h.id", &st) < 0) {
		json_decref(rows);
		return req_fail(r, -EIO, "internal", "database error");
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:I}",
		    "id", (json_int_t)sqlite3_column_int64(st, 0), "kind", row_text(st, 1),
		    "case", row_text(st, 2), "justification", row_text(st, 3),
		    "created_by", row_text(st, 4),
		    "created_usec", (json_int_t)sqlite3_column_int64(st, 5),
		    "review_usec", (json_int_t)sqlite3_column_int64(st, 6),
		    "released_usec", sqlite3_column_type(st, 7) == SQLITE_NULL ? json_null() :
		    json_integer(sqlite3_column_int64(st, 7)),
		    "reads", (json_int_t)sqlite3_column_int64(st, 8)));
	sqlite3_finalize(st);
	r->count = (int64_t)json_array_size(rows);
	r->rows = rows;
	*ret = json_pack("{s:I}", "holds", (json_int_t)r->count);
	return 0;
}

/* ---- bundles of reads: evidence exports and shares -------------------- */

static int
add_image(struct req *r, const char *rel)
{
	char name[128];
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t got;
	int fd, k;

	if (rel == NULL)
		return 0;
	if ((fd = store_image_open(r->p->store, rel)) < 0)
		return 0;	/* listed in the read but gone: the manifest shows what was sent */
	for (;;) {
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (nb == NULL) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		if ((got = read(fd, buf + len, cap - len)) <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	snprintf(name, sizeof(name), "images/%s", strrchr(rel, '/') != NULL ?
	    strrchr(rel, '/') + 1 : rel);
	k = req_add_file(r, name, buf, len);
	return k;
}

/*
 * What the hit matched (schema step 6; NULL on older hits): the read's
 * plate or candidate that met the entry, the positions in it that differ
 * from the entry, and the candidate with those characters in brackets,
 * "H15[0]", for people.
 */
static void
hit_match_json(json_t *o, const char *candidate, const char *differs)
{
	json_t *pos = differs != NULL ? json_loads(differs, 0, NULL) : NULL, *p;
	char marked[64];	/* 3 bytes for each of up to 15 characters */
	size_t i, n = 0, k;

	if (candidate == NULL) {
		json_decref(pos);
		return;
	}
	json_object_set_new(o, "match_candidate", json_string(candidate));
	if (!json_is_array(pos)) {
		json_decref(pos);
		return;
	}
	for (i = 0; candidate[i] != '\0' && n + 4 < sizeof(marked); i++) {
		bool differ = false;

		json_array_foreach(pos, k, p)
			if (json_integer_value(p) == (json_int_t)i)
				differ = true;
		n += (size_t)snprintf(marked + n, sizeof(marked) - n, differ ? "[%c]" : "%c",
		    candidate[i]);
	}
	marked[n] = '\0';
	json_object_set_new(o, "match_differs", pos);
	json_object_set_new(o, "match_marked", json_string(marked));
}

static json_t *
hit_json(struct store *s, sqlite3_stmt *h)
{
	json_t *o, *events = json_array();
	sqlite3_stmt *ev;

	o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:b, s:o, s:o, s:o, s:I, s:o, s:o, s:o}",
	    "id", (json_int_t)sqlite3_column_int64(h, 0), "list", row_text(h, 1),
	    "entry_plate", row_text(h, 2), "category", row_text(h, 3), "source", row_text(h, 4),
	    "priority", (json_int_t)sqlite3_column_int64(h, 5), "person", sqlite3_column_int(h, 6),
	    "description", row_text(h, 7), "match_type", row_text(h, 8),
	    "state_check", row_text(h, 9), "created_usec", (json_int_t)sqlite3_column_int64(h, 10),
	    "state", row_text(h, 11), "disposition", row_text(h, 12),
	    "disposition_case", row_text(h, 13));
	if (o == NULL)
		return NULL;
	if (sqlite3_column_int(h, 6))
		json_object_set_new(o, "reminder", json_string(POLICY_PERSON_REMINDER));
	hit_match_json(o, (const char *)sqlite3_column_text(h, 14),
	    (const char *)sqlite3_column_text(h, 15));
	if (store_prepare(s, "SELECT at_usec, user, from_state, to_state, disposition, case_number,"
	    " note FROM hit_events WHERE hit_id = ? ORDER BY id", &ev) == 0) {
		sqlite3_bind_int64(ev, 1, sqlite3_column_int64(h, 0));
		while (sqlite3_step(ev) == SQLITE_ROW)
			json_array_append_new(events, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
			    "at_usec", (json_int_t)sqlite3_column_int64(ev, 0), "user", row_text(ev, 1),
			    "from", row_text(ev, 2), "to", row_text(ev, 3),
			    "disposition", row_text(ev, 4), "case", row_text(ev, 5),
			    "note", row_text(ev, 6)));
		sqlite3_finalize(ev);
	}
	json_object_set_new(o, "events", events);
	return o;
}

/* Exposed to hits.c through this declaration. */
json_t *policy_hit_json(struct store *s, sqlite3_stmt *h);
json_t *
policy_hit_json(struct store *s, sqlite3_stmt *h)
{
	return hit_json(s, h);
}

static int
append_line(char **buf, size_t *len, json_t *o)
{
	char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n;
	char *nb;

	if (line == NULL)
		return -ENOMEM;
	n = strlen(line);
	if ((nb = realloc(*buf, *len + n + 2)) == NULL) {
		free(line);
		return -ENOMEM;
	}
	memcpy(nb + *len, line, n);
	nb[*len + n] = '\n';
	*len += n + 1;
	nb[*len] = '\0';
	*buf = nb;
	free(line);
	return 0;
}

/*
 * reads.jsonl, hits.jsonl and the images of the reads sel returns
 * (READ_COLUMNS then r.rowid), as files of the answer.
 */
static int
bundle(struct req *r, sqlite3_stmt *sel, bool with_hits, int64_t *ret_reads)
{
	char *reads = NULL, *hits = NULL;
	size_t rlen = 0, hlen = 0;
	sqlite3_stmt *hs = NULL;
	json_t *ids = json_array();
	int64_t n = 0;
	int k = 0, rc;

	if (with_hits && (k = store_prepare(r->p->store, "SELECT " HIT_COLUMNS ", r.id"
	    " FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE h.read_rowid = ?", &hs)) < 0)
		goto out;
	while (k == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		json_t *o = read_row_json(sel, 0);

		if (o == NULL) {
			k = -ENOMEM;
			break;
		}
		json_array_append_new(ids, row_text(sel, 0));
		k = append_line(&reads, &rlen, o);
		json_decref(o);
		if (k == 0)
			k = add_image(r, (const char *)sqlite3_column_text(sel, 12));
		if (k == 0)
			k = add_image(r, (const char *)sqlite3_column_text(sel, 13));
		if (k == 0 && hs != NULL) {
			sqlite3_reset(hs);
			sqlite3_bind_int64(hs, 1, sqlite3_column_int64(sel, READ_NCOLUMNS));
			while (k == 0 && sqlite3_step(hs) == SQLITE_ROW) {
				json_t *h = hit_json(r->p->store, hs);

				if (h == NULL) {
					k = -ENOMEM;
					break;
				}
				json_object_set_new(h, "read", row_text(hs, HIT_NCOLUMNS));
				k = append_line(&hits, &hlen, h);
				json_decref(h);
			}
		}
		n++;
	}
	if (k == 0)
		k = req_add_file(r, "reads.jsonl", (unsigned char *)reads, rlen);
	else
		free(reads);
	reads = NULL;
	if (k == 0 && with_hits)
		k = req_add_file(r, "hits.jsonl", (unsigned char *)hits, hlen);
	else
		free(hits);
	hits = NULL;
	if (k == 0) {
		r->ids = ids;
		ids = NULL;
		r->count = n;
		*ret_reads = n;
	}
out:
	json_decref(ids);
	sqlite3_finalize(hs);
	return k;
}

static int
record_export(struct req *r, const char *kind, int64_t hold, int64_t hit, const char *dest,
    const char *manifest)
{
	sqlite3_stmt *st;
	int k;

	if ((k = store_prepare(r->p->store, "INSERT INTO exports (kind, hold_id, hit_id, at_usec,"
	    " user, case_number, destination, files, manifest_sha256)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) < 0)
		return k;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (hold > 0)
		sqlite3_bind_int64(st, 2, hold);
	if (hit > 0)
		sqlite3_bind_int64(st, 3, hit);
	sqlite3_bind_int64(st, 4, store_now(r->p->store));
	sqlite3_bind_text(st, 5, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->case_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)r->n_files);
	sqlite3_bind_text(st, 9, manifest, -1, SQLITE_STATIC);
	k = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return k;
}

static int
hold_json(struct req *r, int64_t hold, json_t **ret)
{
	sqlite3_stmt *st;
	int k;

	if ((k = store_prepare(r->p->store, "SELECT kind, case_number, justification, created_by,"
	    " created_usec, review_usec, released_usec FROM holds WHERE id = ?", &st)) < 0)
		return k;
	sqlite3_bind_int64(st, 1, hold);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -ENOENT;
	}
	*ret = json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:b}", "id", (json_int_t)hold,
	    "kind", row_text(st, 0), "case", row_text(st, 1), "justification", row_text(st, 2),
	    "created_by", row_text(st, 3), "created_usec", (json_int_t)sqlite3_column_int64(st, 4),
	    "review_usec", (json_int_t)sqlite3_column_int64(st, 5),
	    "released", sqlite3_column_type(st, 6) != SQLITE_NULL);
	sqlite3_finalize(st);
	return *ret != NULL ? 0 : -ENOMEM;
}

static int
add_json_file(struct req *r, const char *name, json_t *o)
{
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	int k;

	if (text == NULL)
		return -ENOMEM;
	k = req_add_file(r, name, (unsigned char *)text, strlen(text));
	return k;
}

/* Policy IV.F.5.b: the held reads, their hits and images, with a checksum manifest. */
int
op_evidence_export(struct req *r, json_t **ret)
{
	int64_t hold = 0, n = 0;
	const char *dest;
	char manifest[65];
	sqlite3_stmt *sel;
	json_t *h = NULL;
	int k;

	if ((k = arg_int(r, "hold", true, &hold)) < 0 ||
	    (k = arg_str(r, "destination", false, &dest)) < 0)
		return k;
	r->terms = json_pack("{s:I}", "hold", (json_int_t)hold);
	if ((k = hold_json(r, hold, &h)) < 0)
		return req_fail(r, k, "not-found", "no hold %lld", (long long)hold);
	k = add_json_file(r, "hold.json", h);
	json_decref(h);
	if (k < 0)
		return req_fail(r, k, "internal", "out of memory");
	if ((k = store_prepare(r->p->store, "SELECT " READ_COLUMNS ", r.rowid FROM reads r"
	    " JOIN hold_reads hr ON hr.read_rowid = r.rowid WHERE hr.hold_id = ?"
	    " ORDER BY r.capture_usec", &sel)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(sel, 1, hold);
	k = bundle(r, sel, true, &n);
	sqlite3_finalize(sel);
	if (k < 0 || (k = req_add_manifest(r, manifest)) < 0 ||
	    (k = record_export(r, "evidence", hold, 0, dest, manifest)) < 0)
		return req_fail(r, k, "internal", "cannot build the export: %s", strerror(-k));
	*ret = json_pack("{s:I, s:I, s:I, s:s}", "hold", (json_int_t)hold, "reads", (json_int_t)n,
	    "files", (json_int_t)r->n_files, "manifest_sha256", manifest);
	return 0;
}

/* ---- sharing (R9) ----------------------------------------------------- */

/*
 * Civil Code 1798.90.5(f) and policy III.F: California state and local
 * public agencies only.  An ORI starts with the state's two letters.
 */
static const char *const agency_types[] = { "state", "county", "city", "district", NULL };

static int
recipient_check(struct req *r, const char *ori, const char *type)
{
	size_t i;

	if (ori == NULL || strlen(ori) != 9)
		return req_refuse(r, "recipient", "an ORI has 9 characters");
	for (i = 0; i < 9; i++)
		if (!((ori[i] >= 'A' && ori[i] <= 'Z') || (ori[i] >= '0' && ori[i] <= '9')))
			return req_refuse(r, "recipient", "an ORI is A-Z and 0-9");
	if (strncmp(ori, "CA", 2) != 0)
		return req_refuse(r, "recipient", "refused: %s is not a California agency; ALPR"
		    " information is shared only with California public agencies (policy"
		    " IV.A.1.e.i, III.F)", ori);
	if (!policy_word_in(agency_types, type))
		return req_refuse(r, "recipient", "refused: agency type \"%s\" is not a California"
		    " state or local public agency (federal and out-of-state agencies are"
		    " excluded, policy III.F)", type != NULL ? type : "?");
	return 0;
}

int
op_recipient_add(struct req *r, json_t **ret)
{
	const char *ori, *name, *type;
	sqlite3_stmt *st;
	int k, rc;

	if ((k = arg_str(r, "ori", true, &ori)) < 0 || (k = arg_str(r, "name", true, &name)) < 0 ||
	    (k = arg_str(r, "type", true, &type)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	if ((k = recipient_check(r, ori, type)) < 0)
		return k;
	if (store_prepare(r->p->store, "INSERT INTO recipients (ori, name, type, added_by,"
	    " added_usec) VALUES (?, ?, ?, ?, ?)", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, ori, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, store_now(r->p->store));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return req_fail(r, -EEXIST, "exists", "recipient %s exists", ori);
	if (rc != SQLITE_DONE)
		return req_fail(r, -EIO, "internal", "database error");
	*ret = json_pack("{s:s, s:s, s:s}", "ori", ori, "name", name, "type", type);
	return 0;
}

int
op_recipient_list(struct req *r, json_t **ret)
{
	sqlite3_stmt *st;
	json_t *rows = json_array();

	if (store_prepare(r->p->store, "SELECT ori, name, type, active FROM recipients"
	    " ORDER BY ori", &st) < 0) {
		json_decref(rows);
		return req_fail(r, -EIO, "internal", "database error");
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("{s:o, s:o, s:o, s:b}", "ori", row_text(st, 0),
		    "name", row_text(st, 1), "type", row_text(st, 2),
		    "active", sqlite3_column_int(st, 3)));
	sqlite3_finalize(st);
	r->rows = rows;
	*ret = json_pack("{s:I}", "recipients", (json_int_t)json_array_size(rows));
	return 0;
}

int
op_share(struct req *r, json_t **ret)
{
	const char *ori;
	char manifest[65], type[32] = "", name[128] = "";
	int64_t hold = 0, n = 0;
	sqlite3_stmt *st;
	json_t *info;
	int k;

	if ((k = arg_str(r, "ori", true, &ori)) < 0 || (k = arg_int(r, "hold", true, &hold)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	if (store_prepare(r->p->store, "SELECT name, type FROM recipients WHERE ori = ?"
	    " AND active = 1", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, ori, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(type, sizeof(type), "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	/* Checked again here, not only when registered: the table may have been edited. */
	if ((k = recipient_check(r, ori, type[0] != '\0' ? type : NULL)) < 0)
		return k;
	if (name[0] == '\0')
		return req_refuse(r, "recipient", "%s is not in the registry of recipients", ori);
	info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "recipient_ori", ori,
	    "recipient", name, "shared_by", r->user, "case", r->case_number,
	    "purpose", r->purpose, "agency_ori", r->p->conf->general.agency_ori,
	    "at_usec", (json_int_t)store_now(r->p->store), "hold", (json_int_t)hold);
	k = info != NULL ? add_json_file(r, "share.json", info) : -ENOMEM;
	json_decref(info);
	if (k < 0)
		return req_fail(r, k, "internal", "out of memory");
	if ((k = store_prepare(r->p->store, "SELECT " READ_COLUMNS ", r.rowid FROM reads r"
	    " JOIN hold_reads hr ON hr.read_rowid = r.rowid WHERE hr.hold_id = ?"
	    " ORDER BY r.capture_usec", &st)) < 0)
		return req_fail(r, k, "internal", "database error");
	sqlite3_bind_int64(st, 1, hold);
	k = bundle(r, st, false, &n);
	sqlite3_finalize(st);
	if (k < 0 || (k = req_add_manifest(r, manifest)) < 0)
		return req_fail(r, k, "internal", "cannot build the share");
	if (n == 0)
		return req_fail(r, -ENOENT, "not-found", "hold %lld has no reads", (long long)hold);
	if (store_prepare(r->p->store, "INSERT INTO shares (ori, at_usec, user, case_number,"
	    " purpose, reads, files, manifest_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_text(st, 1, ori, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_now(r->p->store));
	sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->case_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, n);
	sqlite3_bind_int64(st, 7, (int64_t)r->n_files);
	sqlite3_bind_text(st, 8, manifest, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	*ret = json_pack("{s:s, s:s, s:I, s:I, s:s}", "ori", ori, "recipient", name,
	    "reads", (json_int_t)n, "files", (json_int_t)r->n_files, "manifest_sha256", manifest);
	return 0;
}

/* ---- inspections and deployments (R11, R12) --------------------------- */

int
op_inspect_record(struct req *r, json_t **ret)
{
	const char *camera, *result, *notes;
	sqlite3_stmt *st;
	int k;

	if ((k = arg_str(r, "camera", true, &camera)) < 0 ||
	    (k = arg_str(r, "result", true, &result)) < 0 ||
	    (k = arg_str(r, "notes", false, &notes)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	if (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0 &&
	    strcmp(result, "damaged") != 0)
		return req_fail(r, -EINVAL, "invalid", "result is pass, fail or damaged");
	if (strcmp(result, "pass") != 0 && (notes == NULL || notes[0] == '\0'))
		return req_fail(r, -EINVAL, "invalid", "describe the fault in the notes");
	if (store_prepare(r->p->store, "INSERT INTO inspections (at_usec, user, camera, result,"
	    " notes) VALUES (?, ?, ?, ?, ?)", &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_int64(st, 1, store_now(r->p->store));
	sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, camera, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, notes, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	*ret = json_pack("{s:I, s:s, s:s}", "id",
	    (json_int_t)sqlite3_last_insert_rowid(store_db(r->p->store)), "result", result,
	    "action", strcmp(result, "pass") == 0 ? "none" :
	    "report the damage to a supervisor now (policy IV.D.3)");
	return 0;
}

static int
list_rows(struct req *r, const char *sql, const char *const *names, const int *types, int n,
    json_t **ret)
{
	sqlite3_stmt *st;
	json_t *rows = json_array();
	int i;

	if (store_prepare(r->p->store, sql, &st) < 0) {
		json_decref(rows);
		return req_fail(r, -EIO, "internal", "database error");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();

		for (i = 0; i < n; i++)
			json_object_set_new(o, names[i], sqlite3_column_type(st, i) == SQLITE_NULL ?
			    json_null() : types[i] ? json_integer(sqlite3_column_int64(st, i)) :
			    row_text(st, i));
		json_array_append_new(rows, o);
	}
	sqlite3_finalize(st);
	r->count = (int64_t)json_array_size(rows);
	r->rows = rows;
	*ret = json_pack("{s:I}", "count", (json_int_t)r->count);
	return 0;
}

int
op_inspect_list(struct req *r, json_t **ret)
{
	static const char *const names[] = { "id", "at_usec", "user", "camera", "result", "notes" };
	static const int types[] = { 1, 1, 0, 0, 0, 0 };

	return list_rows(r, "SELECT id, at_usec, user, camera, result, notes FROM inspections"
	    " ORDER BY id", names, types, 6, ret);
}

int
op_deploy_record(struct req *r, json_t **ret)
{
	const char *camera, *mode, *location, *approver, *approver_role;
	json_t *mutual = json_object_get(r->args, "mutual_aid");
	bool aid = json_is_true(mutual);
	sqlite3_stmt *st;
	int k;

	if ((k = arg_str(r, "camera", false, &camera)) < 0 ||
	    (k = arg_str(r, "mode", true, &mode)) < 0 ||
	    (k = arg_str(r, "location", false, &location)) < 0 ||
	    (k = arg_str(r, "approver", false, &approver)) < 0 ||
	    (k = arg_str(r, "approver_role", false, &approver_role)) < 0)
		return k;
	r->terms = json_deep_copy(r->args);
	if (mutual != NULL && !json_is_boolean(mutual))
		return req_fail(r, -EINVAL, "invalid", "mutual_aid is true or false");
	if (strcmp(mode, "mobile") != 0 && strcmp(mode, "fixed") != 0 &&
	    strcmp(mode, "hand-held") != 0)
		return req_fail(r, -EINVAL, "invalid", "mode is mobile, fixed or hand-held (II.B)");
	/* IV.B.5: mutual aid only when a Station or Watch Commander approved it. */
	if (aid && (approver == NULL || approver[0] == '\0' || approver_role == NULL ||
	    (strcmp(approver_role, "station-commander") != 0 &&
	    strcmp(approver_role, "watch-commander") != 0)))
		return req_refuse(r, "approval", "a mutual-aid deployment needs the approving"
		    " Station Commander or Watch Commander (policy IV.B.5)");
	if (store_prepare(r->p->store, "INSERT INTO deployments (at_usec, user, camera, mode,"
	    " location, mutual_aid, approver, approver_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	    &st) < 0)
		return req_fail(r, -EIO, "internal", "database error");
	sqlite3_bind_int64(st, 1, store_now(r->p->store));
	sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, camera, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, mode, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, location, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, aid);
	sqlite3_bind_text(st, 7, aid ? approver : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, aid ? approver_role : NULL, -1, SQLITE_STATIC);
	if ((k = req_step(r, st)) < 0)
		return k;
	*ret = json_pack("{s:I, s:s, s:b}", "id",
	    (json_int_t)sqlite3_last_insert_rowid(store_db(r->p->store)), "mode", mode,
	    "mutual_aid", aid);
	return 0;
}

int
op_deploy_list(struct req *r, json_t **ret)
{
	static const char *const names[] = { "id", "at_usec", "user", "camera", "mode", "location",
		"mutual_aid", "approver", "approver_role" };
	static const int types[] = { 1, 1, 0, 0, 0, 0, 1, 0, 0 };

	return list_rows(r, "SELECT id, at_usec, user, camera, mode, location, mutual_aid,"
	    " approver, approver_role FROM deployments ORDER BY id", names, types, 9, ret);
}
