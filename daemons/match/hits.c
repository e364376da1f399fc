/*
 * Hits: matching each stored read (top-1 plus candidates) against the
 * hot-list index (lists.c builds and swaps it), the alert cool-down, storing
 * each hit, and only then sending it to alpr-alertd.  A HIT is built from
 * the stored row, so a hit resent after a restart is the same message.
 * alertd's ACK marks the hit delivered (hits.delivered_usec); at start the
 * undelivered hits of the last day are queued again.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "hotlist/hotlist-store.h"
#include "matchd.h"

#define COOLDOWN_CAPACITY 4096

struct hit_sent {
	uint64_t seq;
	int64_t hit_id;
};

/*
 * What the hit matched, as the alert shows it: the read's plate or
 * candidate that met the entry (as the index compared it: upper case, no
 * spaces or dashes) and its positions that differ from the entry, "[2,5]".
 */
static void
hit_matched(const struct hotlist_read *hr, const struct hotlist_hit *h,
    char candidate[HOTLIST_PATTERN_MAX + 1], char *differs, size_t size)
{
	size_t i, n;

	candidate[0] = '\0';
	if (h->candidate < hr->n_plates)
		(void)hotlist_plate_normalize(hr->plates[h->candidate], false, candidate);
	n = (size_t)snprintf(differs, size, "[");
	for (i = 0; i < h->n_differs && n < size; i++)
		n += (size_t)snprintf(differs + n, size - n, "%s%u", i ? "," : "", h->differs[i]);
	if (n < size)
		snprintf(differs + n, size - n, "]");
}

static int
insert_hit(struct matchd *m, sqlite3_stmt *st, int64_t read_rowid, const struct hotlist_read *hr,
    const struct hotlist_hit *h)
{
	char candidate[HOTLIST_PATTERN_MAX + 1], differs[4 * HOTLIST_PATTERN_MAX + 3];
	struct hotlist_stored_entry se;
	int r, rc;

	/* The entry is copied: lists are replaced, the hit stays as it was. */
	if ((r = hotlist_store_entry(m->store, h->entry_id, &se)) == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	hit_matched(hr, h, candidate, differs, sizeof(differs));
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, read_rowid);	/* ?6 (retro) stays bound */
	sqlite3_bind_text(st, 2, hotlist_match_type_name(h->type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hotlist_state_check_name(h->state_check), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, store_now(m->store));
	sqlite3_bind_int64(st, 5, h->entry_id);
	if (candidate[0] != '\0')
		sqlite3_bind_text(st, 7, candidate, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, differs, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, se.list_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, se.e.plate, -1, SQLITE_STATIC);
	if (se.e.state[0] != '\0')
		sqlite3_bind_text(st, 11, se.e.state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_text(st, 12, hotlist_category_name(se.e.category), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, se.e.source, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, se.e.priority);
	sqlite3_bind_int(st, 15, (se.e.flags & HOTLIST_F_PERSON) != 0);
	sqlite3_bind_text(st, 16, se.e.description, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_error(m->store, rc);
	return sqlite3_changes(store_db(m->store));
}

int
hits_match_read(struct matchd *m, int64_t read_rowid, const struct store_read *rd,
    int64_t min_entry, int64_t *ids, size_t max_ids, size_t *n_ids)
{
	struct hotlist_hit hits[16];
	struct hotlist_read hr = { .state = rd->state, .now_usec = rd->capture_usec };
	char plates[HOTLIST_CANDIDATES_MAX][STORE_PLATE_MAX + 1];
	sqlite3_stmt *st = NULL;
	json_t *cands = NULL, *c;
	size_t i, k = 0;
	int n, r;

	*n_ids = 0;
	if (m->index == NULL)
		return 0;
	/* Retro: the list as it stands now (its new entries start after the read). */
	if (min_entry > 0)
		hr.now_usec = store_now(m->store);
	hr.plates[hr.n_plates++] = rd->plate;
	if (rd->candidates != NULL && (cands = json_loads(rd->candidates, 0, NULL)) != NULL)
		json_array_foreach(cands, i, c) {
			const char *p = json_string_value(json_object_get(c, "plate"));

			if (p == NULL || hr.n_plates >= HOTLIST_CANDIDATES_MAX)
				continue;
			snprintf(plates[k], sizeof(plates[k]), "%s", p);
			hr.plates[hr.n_plates++] = plates[k++];
		}
	json_decref(cands);
	if ((n = hotlist_index_match(m->index, &hr, hits, 16)) <= 0)
		return n;
	/*
	 * A read has one hit per entry, and an entry carried over into a new
	 * version of its list (same plate and category) is the same entry.
	 */
	r = store_prepare(m->store, "INSERT INTO hits (read_rowid, entry_id, list_name,"
	    " entry_plate, entry_state, category, source, priority, person, description,"
	    " match_type, state_check, retro, created_usec, match_candidate, match_differs)"
	    " SELECT ?1, ?5, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?2, ?3, ?6, ?4, ?7, ?8"
	    " WHERE NOT EXISTS (SELECT 1 FROM hits x WHERE x.read_rowid = ?1 AND (x.entry_id = ?5"
	    " OR (x.entry_plate = ?10 AND x.category = ?12)))", &st);
	if (r < 0)
		return r;
	/* Inside the batch's transaction (reads.c), a savepoint in it. */
	if ((r = store_begin(m->store)) < 0)
		goto out;
	sqlite3_bind_int(st, 6, min_entry > 0);
	for (i = 0; i < (size_t)n && *n_ids < max_ids; i++) {
		if (hits[i].entry_id < min_entry)
			continue;
		/*
		 * Keyed on the text that matched: two reads of one car (a
		 * pass split by an occlusion) hit the entry through the same
		 * text even when their top-1 differs.
		 */
		if (!hotlist_cooldown_check(m->cooldown, hr.plates[hits[i].candidate],
		    hits[i].entry_id, rd->capture_usec))
			continue;
		if ((r = insert_hit(m, st, read_rowid, &hr, &hits[i])) < 0) {
			store_rollback(m->store);
			*n_ids = 0;
			goto out;
		}
		if (r > 0)
			ids[(*n_ids)++] = sqlite3_last_insert_rowid(store_db(m->store));
	}
	r = store_commit(m->store);
	if (r < 0)
		*n_ids = 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* Appends the file images/<rel> to buf; its [offset, length] to images. */
static int
add_image(struct matchd *m, const char *rel, const char *key, char **buf, size_t *len,
    json_t *images)
{
	struct stat sb;
	char *nb;
	ssize_t got;
	int fd, r = 0;

	if (rel == NULL)
		return 0;
	if ((fd = store_image_open(m->store, rel)) < 0)
		return fd;
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0 || sb.st_size > 16 * 1024 * 1024) {
		r = -EIO;
		goto out;
	}
	if ((nb = realloc(*buf, *len + (size_t)sb.st_size)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*buf = nb;
	got = pread(fd, nb + *len, (size_t)sb.st_size, 0);
	if (got != sb.st_size) {
		r = -EIO;
		goto out;
	}
	json_object_set_new(images, key, json_pack("[II]", (json_int_t)*len,
	    (json_int_t)sb.st_size));
	*len += (size_t)sb.st_size;
out:
	close(fd);
	return r;
}

static json_t *
col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t != NULL ? json_string(t) : json_null();
}

/* The HIT payload of a stored hit, and its images in a sealed memfd. */
static int
build_hit(struct matchd *m, int64_t hit_id, json_t **ret, int *ret_fd)
{
	sqlite3_stmt *st = NULL;
	json_t *hit = NULL, *rd, *gps, *cands, *images, *differs;
	char *buf = NULL;
	size_t len = 0;
	int r, rc;

	r = store_prepare(m->store, "SELECT h.id, h.entry_id, h.entry_plate, h.entry_state,"
	    " h.category, h.source, h.priority, h.person, h.description, h.list_name,"
	    " h.match_type, h.state_check, h.retro, h.state, h.disposition,"
	    " r.id, r.plate, r.state, r.confidence, r.state_confidence, r.candidates, r.camera,"
	    " r.capture_usec, r.first_usec, r.last_usec, r.frames, r.gps_fix, r.lat, r.lon,"
	    " r.speed, r.heading, r.crop_file, r.context_file, h.match_candidate, h.match_differs"
	    " FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE h.id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, hit_id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? -ENOENT : store_error(m->store, rc);
		goto out;
	}
	gps = sqlite3_column_int(st, 26) ?
	    json_pack("{s:b, s:f, s:f, s:f, s:f}", "fix", 1, "lat", sqlite3_column_double(st, 27),
	    "lon", sqlite3_column_double(st, 28), "speed", sqlite3_column_double(st, 29),
	    "heading", sqlite3_column_double(st, 30)) : json_pack("{s:b}", "fix", 0);
	cands = json_loads((const char *)sqlite3_column_text(st, 20), 0, NULL);
	/* A hit stored before schema step 5 says nothing of what differed. */
	differs = sqlite3_column_text(st, 34) != NULL ?
	    json_loads((const char *)sqlite3_column_text(st, 34), 0, NULL) : NULL;
	if (!json_is_array(differs)) {
		json_decref(differs);
		differs = json_array();
	}
	rd = json_pack("{s:o, s:o, s:o, s:f, s:f, s:o, s:o, s:I, s:I, s:I, s:i, s:o}",
	    "id", col_text(st, 15), "plate", col_text(st, 16), "state", col_text(st, 17),
	    "confidence", sqlite3_column_double(st, 18),
	    "state_confidence", sqlite3_column_double(st, 19),
	    "candidates", cands != NULL ? cands : json_array(), "camera", col_text(st, 21),
	    "capture_usec", (json_int_t)sqlite3_column_int64(st, 22),
	    "first_usec", (json_int_t)sqlite3_column_int64(st, 23),
	    "last_usec", (json_int_t)sqlite3_column_int64(st, 24),
	    "frames", sqlite3_column_int(st, 25), "gps", gps);
	hit = json_pack("{s:I, s:o, s:{s:I, s:o, s:o, s:o, s:o, s:i, s:b, s:o, s:o},"
	    " s:{s:o, s:o, s:o}, s:o, s:b, s:o, s:o, s:o}",
	    "hit", (json_int_t)sqlite3_column_int64(st, 0), "read", rd,
	    "entry", "id", (json_int_t)sqlite3_column_int64(st, 1), "plate", col_text(st, 2),
	    "state", col_text(st, 3), "category", col_text(st, 4), "source", col_text(st, 5),
	    "priority", sqlite3_column_int(st, 6), "person", sqlite3_column_int(st, 7),
	    "description", col_text(st, 8), "list", col_text(st, 9),
	    "match", "type", col_text(st, 10), "differs", differs,
	    "candidate", col_text(st, 33), "state_check", col_text(st, 11), "retro", sqlite3_column_int(st, 12),
	    "workflow_state", col_text(st, 13), "disposition", col_text(st, 14),
	    "images", images = json_object());
	if (hit == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = add_image(m, (const char *)sqlite3_column_text(st, 31), "crop", &buf, &len,
	    images)) < 0 ||
	    (r = add_image(m, (const char *)sqlite3_column_text(st, 32), "context", &buf, &len,
	    images)) < 0)
		log_warn_r(r, "hit %lld: image missing, sending without it", (long long)hit_id);
	/* alertd takes no HIT without a memfd: one byte when there is no image. */
	r = len > 0 ? ipc_memfd_from("hit", buf, len) : ipc_memfd_from("hit", "", 1);
	if (r < 0)
		goto out;
	*ret_fd = r;
	*ret = hit;
	hit = NULL;
	r = 0;
out:
	json_decref(hit);
	free(buf);
	sqlite3_finalize(st);
	return r;
}

int
hits_send(struct matchd *m, int64_t hit_id)
{
	json_t *hit = NULL;
	uint64_t seq;
	int fd = -1, r;

	if ((r = build_hit(m, hit_id, &hit, &fd)) < 0)
		return r;
	r = ipc_client_send_reliable(m->alert, IPC_MSG_HIT, hit, fd, &seq);
	if (r >= 0) {
		if (m->n_sent == m->alloc_sent) {
			size_t na = m->alloc_sent ? m->alloc_sent * 2 : 64;
			struct hit_sent *ns = reallocarray(m->sent, na, sizeof(*ns));

			if (ns == NULL) {
				r = -ENOMEM;
				goto out;
			}
			m->sent = ns;
			m->alloc_sent = na;
		}
		m->sent[m->n_sent++] = (struct hit_sent){ seq, hit_id };
		log_info("hit %lld queued for alpr-alertd", (long long)hit_id);
	}
out:
	json_decref(hit);
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Retro-match (RetroWindowHours): after a list changed, the reads of the
 * window are matched against the entries added by that change only
 * (entry id >= min_entry), RETRO_STEP reads per turn of the loop at most,
 * and no more than RETRO_STEP_USEC of it (each read with a hit is a
 * commit of its own), so that new reads keep being stored meanwhile.
 */
#define RETRO_STEP 500
#define RETRO_STEP_USEC (20 * USEC_PER_MSEC)

static int
retro_step(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct matchd *m = userdata;
	struct store_read rd;
	sqlite3_stmt *st = NULL;
	int64_t ids[64], start = time_monotonic_usec();
	size_t n_ids, i;
	int r, rc, n = 0;
	bool more = false;

	r = store_prepare(m->store, "SELECT rowid, id, plate, state, candidates, capture_usec"
	    " FROM reads WHERE rowid > ? AND capture_usec >= ? ORDER BY rowid LIMIT ?", &st);
	if (r < 0)
		goto done;
	sqlite3_bind_int64(st, 1, m->retro_cursor);
	sqlite3_bind_int64(st, 2, m->retro_since);
	sqlite3_bind_int(st, 3, RETRO_STEP);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t;

		memset(&rd, 0, sizeof(rd));
		m->retro_cursor = sqlite3_column_int64(st, 0);
		snprintf(rd.plate, sizeof(rd.plate), "%s", (const char *)sqlite3_column_text(st, 2));
		if ((t = (const char *)sqlite3_column_text(st, 3)) != NULL)
			snprintf(rd.state, sizeof(rd.state), "%s", t);
		rd.candidates = (const char *)sqlite3_column_text(st, 4);
		rd.capture_usec = sqlite3_column_int64(st, 5);
		n++;
		if ((r = hits_match_read(m, m->retro_cursor, &rd, m->retro_min_entry, ids, 64,
		    &n_ids)) < 0)
			break;
		for (i = 0; i < n_ids; i++) {
			m->retro_hits++;
			(void)hits_send(m, ids[i]);
		}
		if (time_monotonic_usec() - start > RETRO_STEP_USEC) {
			more = true;	/* the cursor is past this read: the next turn goes on */
			break;
		}
	}
	sqlite3_finalize(st);
	if (r >= 0 && (more || n == RETRO_STEP)) {
		(void)sd_event_source_set_time(es, usec + USEC_PER_MSEC);
		(void)sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
		return 0;
	}
done:
	if (r < 0)
		log_warn_r(r, "retro-match stopped");
	else
		log_info("retro-match done: hits=%zu", m->retro_hits);
	m->retro_min_entry = 0;
	return 0;
}

int
hits_retro_start(struct matchd *m, int64_t min_entry)
{
	uint64_t now;
	int r;

	if (m->d->conf->match.retro_window_hours <= 0 || m->index == NULL)
		return 0;
	/* A run in progress widens to the older of the two changes. */
	if (m->retro_min_entry == 0 || min_entry < m->retro_min_entry)
		m->retro_min_entry = min_entry;
	m->retro_cursor = 0;
	m->retro_hits = 0;
	m->retro_since = store_now(m->store) -
	    m->d->conf->match.retro_window_hours * 3600 * USEC_PER_SEC;
	(void)sd_event_now(m->d->event, CLOCK_MONOTONIC, &now);
	if (m->retro_timer == NULL) {
		r = sd_event_add_time(m->d->event, &m->retro_timer, CLOCK_MONOTONIC, now, 0,
		    retro_step, m);
		if (r < 0)
			return r;
	}
	(void)sd_event_source_set_time(m->retro_timer, now);
	return sd_event_source_set_enabled(m->retro_timer, SD_EVENT_ONESHOT);
}

int64_t
hits_next_entry_id(struct matchd *m)
{
	int64_t id = hotlist_store_next_entry_id(m->store);

	return id > 0 ? id : 1;
}

int
hits_resend(int64_t hit_id, void *userdata)
{
	return hits_send(userdata, hit_id);
}

/* alertd acknowledged every HIT up to seq: they are delivered. */
static void
on_alert_ack(uint64_t seq, void *userdata)
{
	struct matchd *m = userdata;
	sqlite3_stmt *st = NULL;
	size_t i = 0;
	int r;

	if (m->n_sent == 0 || m->sent[0].seq > seq)
		return;
	if ((r = store_prepare(m->store, "UPDATE hits SET delivered_usec = ? WHERE id = ?",
	    &st)) < 0 || (r = store_begin(m->store)) < 0)
		goto out;
	for (i = 0; i < m->n_sent && m->sent[i].seq <= seq; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, store_now(m->store));
		sqlite3_bind_int64(st, 2, m->sent[i].hit_id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_rollback(m->store);
			r = -EIO;
			goto out;
		}
	}
	if ((r = store_commit(m->store)) < 0)
		goto out;
	memmove(m->sent, m->sent + i, (m->n_sent - i) * sizeof(*m->sent));
	m->n_sent -= i;
out:
	if (r < 0)
		log_warn_r(r, "cannot mark hits delivered, they may be sent again after a restart");
	sqlite3_finalize(st);
}

/* Hits stored but never acknowledged by alertd (a crash or a stop in between). */
static int
resend_undelivered(struct matchd *m)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL, *ni;
	size_t n = 0, i;
	int r, rc, failed = 0;

	r = store_prepare(m->store, "SELECT id FROM hits WHERE delivered_usec IS NULL"
	    " AND created_usec >= ? ORDER BY id", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, store_now(m->store) - POLICY_RESEND_WINDOW_USEC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ni = reallocarray(ids, n + 1, sizeof(*ids))) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		ids = ni;
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < n; i++)
		if (hits_send(m, ids[i]) < 0)
			failed++;
	if (n > 0)
		log_info("undelivered hits queued again: %zu (failed %d)", n, failed);
out:
	sqlite3_finalize(st);
	free(ids);
	return r;
}

int
hits_start(struct matchd *m)
{
	int r;

	r = hotlist_cooldown_new(COOLDOWN_CAPACITY,
	    m->d->conf->match.alert_cooldown_sec * USEC_PER_SEC, &m->cooldown);
	if (r < 0)
		return r;
	ipc_client_on_ack(m->alert, on_alert_ack);
	if ((r = resend_undelivered(m)) < 0)
		log_warn_r(r, "cannot queue the undelivered hits again");
	return 0;
}

void
hits_stop(struct matchd *m)
{
	sd_event_source_unref(m->retro_timer);
	hotlist_cooldown_free(m->cooldown);
	free(m->sent);
}
