/*
 * match.sock: READ messages from alpr-ocrd.  Each READ is type-checked,
 * held in a batch, and stored with its images in one group commit when
 * the batch is full or READ_BATCH_DELAY_USEC after its first read; only
 * then is it acknowledged (cumulative ACK per connection), so a read the
 * sender saw acknowledged is on disk.  A resend of a stored id is
 * recognised by lib/store and acknowledged again.  A READ that fails its
 * checks is refused alone (lib/ipc's ACK with IPC_F_ERROR), the connection
 * stays: the sender dead-letters it and the reads after it flow.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "matchd.h"

#define HITS_PER_BATCH (READ_BATCH_MAX * 8)

struct pending_read {
	struct store_read rd;
	struct ipc_conn *conn;		/* NULL once the connection is gone */
	uint64_t seq;
	char *camera, *candidates;
	void *map;			/* the READ's memfd, mapped */
	size_t map_len;
};

static void
pending_clear(struct pending_read *p)
{
	free(p->camera);
	free(p->candidates);
	if (p->map != NULL)
		munmap(p->map, p->map_len);
	memset(p, 0, sizeof(*p));
}

/* [offset, length] inside the memfd of size len. */
static const char *
image_span(json_t *images, const char *key, const void *map, size_t len, const void **ret,
    size_t *ret_len)
{
	json_int_t off, n;
	json_t *v = json_object_get(images, key);

	if (v == NULL)
		return NULL;
	if (json_unpack(v, "[II!]", &off, &n) < 0 || off < 0 || n <= 0)
		return "bad images span";
	if (map == NULL || (uint64_t)off > len || (uint64_t)n > len - (uint64_t)off)
		return "images span outside the memfd";
	*ret = (const char *)map + off;
	*ret_len = (size_t)n;
	return NULL;
}

/* Fills p from a READ's payload; returns why it is bad, or NULL. */
static const char *
parse_read(json_t *body, int fd, struct pending_read *p)
{
	const char *id, *camera, *plate, *state = NULL, *why;
	json_t *state_o = NULL, *cands = NULL, *gps = NULL, *images = NULL, *c;
	json_int_t capture = 0, first = 0, last = 0;
	double conf, sconf = 0;
	int frames = 0, fix = 0;
	size_t i, len;

	if (json_unpack(body, "{s:s, s:s, s:s, s:F, s:I, s?o, s?F, s?o, s?I, s?I, s?i, s?o, s?o}",
	    "id", &id, "camera", &camera, "plate", &plate, "confidence", &conf,
	    "capture_usec", &capture, "state", &state_o, "state_confidence", &sconf,
	    "candidates", &cands, "first_usec", &first, "last_usec", &last, "frames", &frames,
	    "gps", &gps, "images", &images) < 0)
		return "missing or mistyped field";
	if (!store_id_valid(id))
		return "bad id";
	if (!store_plate_valid(plate))
		return "bad plate";
	if (camera[0] == '\0' || strlen(camera) > 64)
		return "bad camera";
	if (capture <= 0 || !(conf >= 0 && conf <= 1) || !(sconf >= 0 && sconf <= 1))
		return "bad capture_usec or confidence";
	if (state_o != NULL && !json_is_null(state_o)) {
		if (!json_is_string(state_o) || strlen(state = json_string_value(state_o)) != 2)
			return "bad state";
	}
	if (cands != NULL) {
		if (!json_is_array(cands) || json_array_size(cands) > HOTLIST_CANDIDATES_MAX - 1)
			return "bad candidates";
		json_array_foreach(cands, i, c) {
			const char *cp;
			double cc;

			if (json_unpack(c, "{s:s, s:F}", "plate", &cp, "confidence", &cc) < 0 ||
			    !store_plate_valid(cp) || !(cc >= 0 && cc <= 1))
				return "bad candidate";
		}
	}
	if (gps != NULL) {
		p->rd.lat = p->rd.lon = p->rd.speed = p->rd.heading = 0;
		if (json_unpack(gps, "{s:b, s?F, s?F, s?F, s?F}", "fix", &fix, "lat", &p->rd.lat,
		    "lon", &p->rd.lon, "speed", &p->rd.speed, "heading", &p->rd.heading) < 0)
			return "bad gps";
		if (fix && (json_object_get(gps, "lat") == NULL || json_object_get(gps, "lon") == NULL))
			return "gps fix without a position";
	}
	if (images != NULL && !json_is_object(images))
		return "bad images";
	if (fd >= 0) {
		if (ipc_memfd_check(fd, &len) < 0)
			return "images descriptor is not a sealed memfd";
		if (len > 0) {
			p->map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
			if (p->map == MAP_FAILED) {
				p->map = NULL;
				return "cannot map the images";
			}
			p->map_len = len;
		}
	}
	if (images != NULL) {
		if ((why = image_span(images, "crop", p->map, p->map_len, &p->rd.crop,
		    &p->rd.crop_len)) != NULL ||
		    (why = image_span(images, "context", p->map, p->map_len, &p->rd.context,
		    &p->rd.context_len)) != NULL)
			return why;
	}
	memcpy(p->rd.id, id, STORE_ID_LEN + 1);
	snprintf(p->rd.plate, sizeof(p->rd.plate), "%s", plate);
	snprintf(p->rd.state, sizeof(p->rd.state), "%s", state != NULL ? state : "");
	p->rd.confidence = conf;
	p->rd.state_confidence = sconf;
	p->rd.capture_usec = capture;
	p->rd.first_usec = first;
	p->rd.last_usec = last;
	p->rd.frames = frames;
	p->rd.gps_fix = fix;
	if ((p->camera = strdup(camera)) == NULL)
		return "out of memory";
	p->rd.camera = p->camera;
	if (cands != NULL && (p->candidates = json_dumps(cands, JSON_COMPACT)) == NULL)
		return "out of memory";
	p->rd.candidates = p->candidates;
	return NULL;
}

static void
batch_close_all(struct matchd *m, const char *why)
{
	size_t i;

	for (i = 0; i < m->n_batch; i++)
		if (m->batch[i].conn != NULL) {
			struct ipc_conn *c = m->batch[i].conn;
			size_t j;

			for (j = i; j < m->n_batch; j++)
				if (m->batch[j].conn == c)
					m->batch[j].conn = NULL;
			ipc_conn_close(c, why);
		}
}

/* Returns how many reads had images. */
static size_t
images_drop(struct matchd *m, struct store_read *rds, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (rds[i].crop != NULL || rds[i].context != NULL) {
			rds[i].crop = rds[i].context = NULL;
			rds[i].crop_len = rds[i].context_len = 0;
			k++;
		}
	m->images_dropped += k;
	return k;
}

/* The batch's hits, matched inside its transaction (store_reads_insert_then). */
struct batch_hits {
	struct matchd *m;
	const struct store_read *rds;
	size_t n, n_hits;
	int64_t ids[HITS_PER_BATCH];
};

static int
batch_match(void *userdata)
{
	struct batch_hits *bh = userdata;
	int64_t rowid;
	size_t i, got;
	int r;

	bh->n_hits = 0;
	for (i = 0; i < bh->n; i++) {
		if ((rowid = store_read_rowid(bh->m->store, bh->rds[i].id)) < 0) {
			log_warn_r((int)rowid, "read %s stored but not found, not matched",
			    bh->rds[i].id);
			continue;
		}
		got = 0;
		r = hits_match_read(bh->m, rowid, &bh->rds[i], 0, bh->ids + bh->n_hits,
		    HITS_PER_BATCH - bh->n_hits, &got);
		if (r < 0) {
			log_warn_r(r, "read %s: cannot store its hits", bh->rds[i].id);
			bh->n_hits = 0;
			return r;
		}
		bh->n_hits += got;
	}
	return 0;
}

/*
 * The group commit: the reads and their hits in one transaction (one
 * sync), then the ACKs and the HITs.  A failure keeps neither the reads
 * nor the hits of the batch: the senders, never acknowledged, resend
 * them; a resent read already stored is a duplicate, and hits are
 * inserted only when that read has none for that entry.
 */
static void
batch_commit(struct matchd *m)
{
	struct store_read rds[READ_BATCH_MAX];
	bool dup[READ_BATCH_MAX];
	struct batch_hits bh = { .m = m, .rds = rds };
	size_t i, n = m->n_batch;
	struct store_times t0, t1;
	int64_t start = time_monotonic_usec();
	int r, stored, dups = 0;

	if (n == 0)
		return;
	(void)sd_event_source_set_enabled(m->batch_timer, SD_EVENT_OFF);
	for (i = 0; i < n; i++)
		rds[i] = m->batch[i].rd;
	bh.n = n;
	store_times(m->store, &t0);
	/* A full disk: the reads and their hits go on, their images do not. */
	if (store_space(m->store) < 0)
		images_drop(m, rds, n);
	stored = r = store_reads_insert_then(m->store, rds, n, dup, batch_match, &bh);
	if (r == -ENOSPC && images_drop(m, rds, n) > 0)
		stored = r = store_reads_insert_then(m->store, rds, n, dup, batch_match, &bh);
	m->batches++;
	store_times(m->store, &t1);
	m->batch_commits += t1.commits - t0.commits;
	latency_add(&m->batch_lat, time_monotonic_usec() - start);
	if (t1.images_synced > t0.images_synced)
		latency_add(&m->images_sync_lat, t1.images_sync_usec - t0.images_sync_usec);
	latency_add(&m->commit_lat, t1.commit_usec - t0.commit_usec);
	if (r < 0) {
		/* Not acknowledged: closing makes the senders resend. */
		log_warn_r(r, "cannot store %zu reads and their hits, closing their connections",
		    n);
		batch_close_all(m, "reads not stored");
		goto out;
	}
	for (i = 0; i < n; i++)
		dups += dup[i];
	log_debug("stored reads=%d duplicates=%d hits=%zu", stored, dups, bh.n_hits);
	/* Cumulative: the last seq of each connection in the batch. */
	for (i = 0; i < n; i++) {
		struct ipc_conn *c = m->batch[i].conn;
		size_t j;
		bool later = false;

		if (c == NULL)
			continue;
		for (j = i + 1; j < n && !later; j++)
			later = m->batch[j].conn == c;
		if (!later && (r = ipc_conn_ack(c, m->batch[i].seq)) < 0)
			log_debug("ACK %llu: %d", (unsigned long long)m->batch[i].seq, r);
	}
	for (i = 0; i < bh.n_hits; i++)
		if ((r = hits_send(m, bh.ids[i])) < 0)
			log_warn_r(r, "hit %lld stored but not queued for alpr-alertd",
			    (long long)bh.ids[i]);
out:
	for (i = 0; i < n; i++)
		pending_clear(&m->batch[i]);
	m->n_batch = 0;
	/* Answered: a checkpoint this batch made due runs now, not inside its commit. */
	(void)store_checkpoint_due(m->store);
}

static int
batch_timer_fire(sd_event_source *es, uint64_t usec, void *userdata)
{
	batch_commit(userdata);
	return 0;
}

static int
on_read(struct ipc_conn *c, struct ipc_msg *msg, void *userdata)
{
	struct matchd *m = userdata;
	struct pending_read *p = &m->batch[m->n_batch];
	const char *why;
	uint64_t now;

	memset(p, 0, sizeof(*p));
	if ((why = parse_read(msg->body, msg->fd, p)) != NULL) {
		/*
		 * Refused, that one READ only: closing would have the sender
		 * resend it for ever and hold up every read after it.
		 */
		log_warnx("match.sock: bad READ seq=%llu from pid=%d: %s, refused",
		    (unsigned long long)msg->seq, (int)ipc_conn_peer_pid(c), why);
		pending_clear(p);
		m->reads_refused++;
		return ipc_conn_refuse(c, msg->seq, why) < 0 ? -ENOMEM : 0;
	}
	p->conn = c;
	p->seq = msg->seq;
	if (++m->n_batch == 1) {
		(void)sd_event_now(m->d->event, CLOCK_MONOTONIC, &now);
		(void)sd_event_source_set_time(m->batch_timer, now + READ_BATCH_DELAY_USEC);
		(void)sd_event_source_set_enabled(m->batch_timer, SD_EVENT_ONESHOT);
	}
	if (m->n_batch == READ_BATCH_MAX)
		batch_commit(m);
	return 0;
}

/* Reads of a lost connection are still stored, just not acknowledged. */
static void
read_disconnected(struct ipc_conn *c, void *userdata)
{
	struct matchd *m = userdata;
	size_t i;

	for (i = 0; i < m->n_batch; i++)
		if (m->batch[i].conn == c)
			m->batch[i].conn = NULL;
}

static const struct ipc_handler read_table[] = {
	{ IPC_MSG_READ, IPC_ROLE_OCR | IPC_ROLE_TEST, IPC_FD_MAYBE, true, on_read },
	{ 0 }
};
const struct ipc_ops matchd_read_ops = { .table = read_table,
	.disconnected = read_disconnected };

int
reads_start(struct matchd *m)
{
	int r;

	if ((m->batch = calloc(READ_BATCH_MAX, sizeof(*m->batch))) == NULL)
		return -ENOMEM;
	/*
	 * An accuracy of its own: sd-event's default (0) is 250 ms, within
	 * which it may fire late to share a wakeup, and a READ would wait for
	 * it (an alert 0.2 s late; doc/benchmarks.md, pipeline).
	 */
	r = sd_event_add_time(m->d->event, &m->batch_timer, CLOCK_MONOTONIC, 0,
	    READ_BATCH_ACCURACY_USEC, batch_timer_fire, m);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(m->batch_timer, SD_EVENT_OFF);
}

/* What is waiting is committed before leaving (SIGTERM, not a crash). */
void
reads_stop(struct matchd *m)
{
	if (m->batch != NULL)
		batch_commit(m);
	log_info("reads: batches=%llu commits=%llu", (unsigned long long)m->batches,
	    (unsigned long long)m->batch_commits);
	/* bench-pipeline.sh prints this line. */
	log_info("group commit p50/p99 ms: batch %.1f/%.1f, images sync %.1f/%.1f,"
	    " commit %.1f/%.1f", latency_ms(&m->batch_lat, 50), latency_ms(&m->batch_lat, 99),
	    latency_ms(&m->images_sync_lat, 50), latency_ms(&m->images_sync_lat, 99),
	    latency_ms(&m->commit_lat, 50), latency_ms(&m->commit_lat, 99));
	sd_event_source_unref(m->batch_timer);
	free(m->batch);
	/* The servers are freed after this and report their connections' end. */
	m->batch = NULL;
	m->n_batch = 0;
}
