/*
 * Reads, run in alpr-ocrd's main process: one READ per track, sent to
 * alpr-matchd on match.sock with lib/ipc's reliable delivery, as soon as
 * the tracker is sure of it, and once more as an update (same id, more
 * frames, no images) if the track saw more frames before it closed.
 *
 * Input: tracks built from checked worker results.  The read's images (the
 * plate crop and a downscaled context frame, JPEG) go in one sealed memfd,
 * their offsets in the body (doc/protocol.md).  Each read gets a random
 * 32-hex id so that matchd can tell a resend or an update from a new read.
 *
 * Reads are never dropped.  Each is appended to the spool (spool.c) and
 * synced before it is sent, so that a kill -9 of ocrd loses none that
 * matchd has not acknowledged: they are sent again at the next start.
 * The outbox keeps every unacknowledged read (with its memfd) and resends
 * them after matchd restarts.  Because each holds
 * images, we stop well below the outbox's own cap: at UNACKED_HIGH waiting
 * reads (or if the outbox ever says -ENOBUFS, in which case the read waits
 * here) reads_blocked() turns true and the daemon refuses frames until
 * matchd has acknowledged down to UNACKED_LOW.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"
#include "ocrd.h"

#define UNACKED_HIGH 1024
#define UNACKED_LOW 512
#define CROP_MAX_SIDE 480
#define CONTEXT_MAX_SIDE 640
#define JPEG_QUALITY 85
#define READ_TRIES 3			/* refusals before a read is dead-lettered */

static const struct ipc_handler match_table[] = { { 0 } };
static const struct ipc_ops match_ops = { .table = match_table };

struct pending {
	json_t *body;
	int fd;
	bool spooled;
};

struct reads {
	struct ipc_client *match;
	struct spool *spool;
	int64_t top_n;
	struct pending *pending;	/* FIFO, oldest first */
	size_t n_pending;
	bool blocked;
	uint64_t sent, lost;
	struct latency spool_lat;
};

static int
read_id(char id[33])
{
	uint8_t raw[16];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -errno;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct track_candidate *x = a, *y = b;

	return x->score < y->score ? 1 : x->score > y->score ? -1 : strcmp(x->text, y->text);
}

/* The crop and the context JPEGs in one sealed memfd. */
static int
images_new(const struct track *t, json_t **ret_images)
{
	struct frame *f = t->best;
	const uint8_t *px = frame_pixels(f);
	uint8_t *crop = NULL, *ctx = NULL, *both = NULL;
	size_t crop_len, ctx_len;
	int box[4], whole[4] = { 0, 0, f->width, f->height }, fd = -1, r;
	int mx = t->best_box[2] / 6, my = t->best_box[3] / 4;

	/* a margin around the plate, for the person who checks the read */
	box[0] = t->best_box[0] - mx < 0 ? 0 : t->best_box[0] - mx;
	box[1] = t->best_box[1] - my < 0 ? 0 : t->best_box[1] - my;
	box[2] = t->best_box[0] + t->best_box[2] + mx > f->width ? f->width - box[0] :
	    t->best_box[0] + t->best_box[2] + mx - box[0];
	box[3] = t->best_box[1] + t->best_box[3] + my > f->height ? f->height - box[1] :
	    t->best_box[1] + t->best_box[3] + my - box[1];
	if (px == NULL)
		return -ENOMEM;
	if ((r = ocr_jpeg_encode(px, f->width, f->height, f->stride, box, CROP_MAX_SIDE,
	    JPEG_QUALITY, &crop, &crop_len)) < 0 ||
	    (r = ocr_jpeg_encode(px, f->width, f->height, f->stride, whole,
	    CONTEXT_MAX_SIDE, JPEG_QUALITY, &ctx, &ctx_len)) < 0)
		goto out;
	if ((both = malloc(crop_len + ctx_len)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(both, crop, crop_len);
	memcpy(both + crop_len, ctx, ctx_len);
	if ((fd = r = ipc_memfd_from("alpr-read", both, crop_len + ctx_len)) < 0)
		goto out;
	*ret_images = json_pack("{s:[I,I],s:[I,I]}", "crop", (json_int_t)0,
	    (json_int_t)crop_len, "context", (json_int_t)crop_len, (json_int_t)ctx_len);
	r = *ret_images != NULL ? fd : -ENOMEM;
out:
	if (r < 0 && fd >= 0)
		close(fd);
	free(crop);
	free(ctx);
	free(both);
	return r;
}

static int
empty_memfd(void)
{
	return ipc_memfd_from("alpr-read", "", 1);
}

/*
 * A text's confidence on the wire: its recognizer score (0..100 a frame,
 * lib/recognize) summed over the track and averaged over its frames, then
 * scaled to READ's 0..1 (doc/protocol.md; alpr-matchd refuses a READ
 * outside it).  The one place the two scales meet.
 */
static double
wire_confidence(double score_sum, unsigned frames)
{
	double c = frames > 0 ? score_sum / frames / 100.0 : 0;

	return c < 0 ? 0 : c > 1 ? 1 : c;
}

static json_t *
read_body(const struct reads *rd, const struct track *t, const char *id)
{
	struct track_candidate c[sizeof(t->cands) / sizeof(t->cands[0])];
	size_t n = t->n_cands, state = 0;
	json_t *body, *cands;
	double conf, state_conf;

	memcpy(c, t->cands, n * sizeof(c[0]));
	qsort(c, n, sizeof(c[0]), cand_cmp);
	if ((cands = json_array()) == NULL)
		return NULL;
	for (size_t i = 0; i < n && (int64_t)i < rd->top_n; i++)
		json_array_append_new(cands, json_pack("{s:s,s:f}", "plate", c[i].text,
		    "confidence", wire_confidence(c[i].score, t->frames)));
	for (size_t i = 1; i < sizeof(t->states) / sizeof(t->states[0]); i++)
		if (t->states[i].score > t->states[state].score)
			state = i;
	conf = n > 0 ? wire_confidence(c[0].score, t->frames) : 0;
	state_conf = wire_confidence(t->states[state].score, t->frames);
	body = json_pack("{s:s,s:s,s:s,s:f,s:s*,s:f,s:o,s:I,s:I,s:I,s:i,s:O,s:[i,i,i,i]}",
	    "id", id, "camera", t->camera, "plate", n > 0 ? c[0].text : t->best_text,
	    "confidence", conf,
	    "state", t->states[state].code[0] ? t->states[state].code : NULL,
	    "state_confidence", state_conf, "candidates", cands,
	    "first_usec", (json_int_t)t->first_usec, "last_usec", (json_int_t)t->last_usec,
	    "capture_usec", (json_int_t)t->best->capture_usec, "frames", (int)t->frames,
	    "gps", t->best->gps, "box", t->best_box[0], t->best_box[1], t->best_box[2],
	    t->best_box[3]);
	return body;
}

/* Moves waiting reads into the outbox while it has room. */
static void
pending_flush(struct reads *rd)
{
	size_t done = 0;
	uint64_t seq;
	int r;

	while (done < rd->n_pending && ipc_client_unacked(rd->match) < UNACKED_HIGH) {
		struct pending *p = &rd->pending[done];

		if ((r = ipc_client_send_reliable(rd->match, IPC_MSG_READ, p->body, p->fd, &seq)) < 0)
			break;
		if (p->spooled)
			spool_sent(rd->spool, seq);
		json_decref(p->body);
		if (p->fd >= 0)
			close(p->fd);
		done++;
		rd->sent++;
	}
	if (done > 0) {
		memmove(rd->pending, rd->pending + done, (rd->n_pending - done) * sizeof(*rd->pending));
		rd->n_pending -= done;
	}
}

static void
on_ack(uint64_t seq, void *userdata)
{
	struct reads *rd = userdata;

	spool_acked(rd->spool, seq);
	pending_flush(rd);
}

/*
 * alpr-matchd refused a read (a bad READ, or it could not take it): sent
 * again, up to READ_TRIES times in all, then dead-lettered (spool.c), so
 * that it neither blocks the reads after it nor vanishes.
 */
static void
on_refused(uint64_t seq, const char *why, void *userdata)
{
	struct reads *rd = userdata;
	unsigned n = spool_refused(rd->spool, seq);
	uint64_t new_seq;
	json_t *body = NULL;
	const char *id;
	int fd = -1, r;

	if (n == 0) {
		log_warnx("read seq=%llu refused by alpr-matchd (%s) and not spooled: lost",
		    (unsigned long long)seq, why);
		rd->lost++;
		return;
	}
	if ((r = spool_load(rd->spool, seq, &body, &fd)) < 0) {
		log_warn_r(r, "read seq=%llu refused by alpr-matchd (%s), cannot read it back",
		    (unsigned long long)seq, why);
		n = READ_TRIES;
	}
	id = body != NULL ? json_string_value(json_object_get(body, "id")) : NULL;
	if (n < READ_TRIES && (r = ipc_client_send_reliable(rd->match, IPC_MSG_READ, body, fd,
	    &new_seq)) == 0) {
		log_warnx("read %s refused by alpr-matchd (%s), try %u of %u", id, why, n + 1,
		    READ_TRIES);
		spool_resent(rd->spool, seq, new_seq);
	} else if ((r = spool_deadletter(rd->spool, seq)) == 0) {
		log_warnx("read %s refused by alpr-matchd %u times (%s): kept in reads.dead",
		    id != NULL ? id : "?", n, why);
	} else {
		log_warn_r(r, "read %s refused by alpr-matchd (%s), cannot dead-letter it: it "
		    "stays in the spool for the next start", id != NULL ? id : "?", why);
		rd->lost++;
	}
	json_decref(body);
	if (fd >= 0)
		close(fd);
	pending_flush(rd);
}

/* Sends a read, or keeps it here (in order) while the outbox is full. */
static void
read_out(struct reads *rd, json_t *body, int fd, bool spooled)
{
	const char *id = json_string_value(json_object_get(body, "id"));
	uint64_t seq;

	if (rd->n_pending == 0 && ipc_client_unacked(rd->match) < UNACKED_HIGH &&
	    ipc_client_send_reliable(rd->match, IPC_MSG_READ, body, fd, &seq) == 0) {
		if (spooled)
			spool_sent(rd->spool, seq);
		rd->sent++;
		json_decref(body);
		if (fd >= 0)
			close(fd);
		return;
	}
	/* The outbox is full: keep it here, in order, and refuse frames. */
	struct pending *np = realloc(rd->pending, (rd->n_pending + 1) * sizeof(*np));

	if (np == NULL) {
		log_warnx("read %s: out of memory, %s", id != NULL ? id : "?",
		    spooled ? "sent again at the next start" : "lost");
		rd->lost++;
		json_decref(body);
		if (fd >= 0)
			close(fd);
		return;
	}
	rd->pending = np;
	rd->pending[rd->n_pending++] = (struct pending){ .body = body, .fd = fd, .spooled = spooled };
}

void
reads_emit(struct reads *rd, struct track *t, bool closing)
{
	json_t *body = NULL, *images = NULL;
	bool update = t->read_id[0] != '\0';
	char *id = t->read_id;
	int64_t spool_usec;
	int fd = -1, r;

	t->sent_frames = t->frames;
	if (!update && (r = read_id(id)) < 0) {
		log_warn_r(r, "read: no random id, track %llu lost", (unsigned long long)t->id);
		id[0] = '\0';
		rd->lost++;
		return;
	}
	if ((body = read_body(rd, t, id)) == NULL) {
		log_warnx("read %s: out of memory, lost", id);
		rd->lost++;
		return;
	}
	/* An update keeps the first READ's images: those the alert showed. */
	if (update)
		fd = empty_memfd();
	else
		fd = images_new(t, &images);
	if (fd < 0) {
		/*
		 * A read without pictures still goes: the text is what matters.
		 * lib/ipc's tables cannot say "optional descriptor", so it still
		 * carries one (an empty sealed memfd) and no "images" field.
		 */
		if (!update)
			log_warn_r(fd, "read %s: images", id);
		if (fd < 0 && (fd = empty_memfd()) < 0) {
			log_warn_r(fd, "read %s: memfd, lost", id);
			rd->lost++;
			json_decref(body);
			return;
		}
	} else if (images != NULL)
		json_object_set_new(body, "images", images);
	/* On disk first: from here on a kill -9 does not lose it. */
	spool_usec = time_monotonic_usec();
	r = spool_append(rd->spool, body, fd);
	latency_add(&rd->spool_lat, time_monotonic_usec() - spool_usec);
	if (r < 0)
		log_warn_r(r, "read %s: not spooled, kept in memory only", id);
	log_info("read id=%s camera=%s frames=%u track=%llu%s %s%s", id, t->camera, t->frames,
	    (unsigned long long)t->id, update ? " update" : "", closing ? "closing" : "early",
	    r < 0 ? " unspooled" : "");
	read_out(rd, body, fd, r == 0);
}

static void
replayed(json_t *body, int fd, void *userdata)
{
	read_out(userdata, body, fd, true);
}

bool
reads_blocked(struct reads *rd)
{
	size_t unacked = ipc_client_unacked(rd->match);

	pending_flush(rd);
	if (!rd->blocked && (rd->n_pending > 0 || unacked >= UNACKED_HIGH)) {
		log_warnx("%zu reads wait for alpr-matchd: refusing frames until it catches up",
		    unacked + rd->n_pending);
		rd->blocked = true;
	} else if (rd->blocked && rd->n_pending == 0 && unacked <= UNACKED_LOW) {
		log_info("alpr-matchd caught up: taking frames again");
		rd->blocked = false;
	}
	return rd->blocked;
}

uint64_t
reads_sent(const struct reads *rd)
{
	return rd->sent;
}

const struct latency *
reads_spool_latency(const struct reads *rd)
{
	return &rd->spool_lat;
}

uint64_t
reads_dead(const struct reads *rd)
{
	return spool_dead(rd->spool);
}

size_t
reads_spooled(const struct reads *rd)
{
	return spool_count(rd->spool);
}

size_t
reads_unacked(const struct reads *rd)
{
	return ipc_client_unacked(rd->match) + rd->n_pending;
}

void
reads_set_top_n(struct reads *rd, int64_t top_n)
{
	rd->top_n = top_n;
}

int
reads_new(sd_event *e, const char *match_path, const char *spool_dir, int64_t top_n,
    struct reads **ret)
{
	struct reads *rd;
	int r;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return -ENOMEM;
	rd->top_n = top_n;
	if ((r = spool_open(spool_dir, &rd->spool)) < 0) {
		log_warn_r(r, "spool %s", spool_dir);
		free(rd);
		return r;
	}
	if ((r = ipc_client_new(e, match_path, IPC_ROLE_OCR, "alpr-ocrd", &match_ops, rd,
	    &rd->match)) < 0) {
		spool_close(rd->spool);
		free(rd);
		return r;
	}
	ipc_client_on_ack(rd->match, on_ack);
	ipc_client_on_refused(rd->match, on_refused);
	if ((r = spool_replay(rd->spool, replayed, rd)) < 0)
		log_warn_r(r, "spool %s/reads.spool: cannot replay", spool_dir);
	else if (r > 0)
		log_info("%d reads from the spool sent again", r);
	*ret = rd;
	return 0;
}

struct reads *
reads_free(struct reads *rd)
{
	if (rd == NULL)
		return NULL;
	if (rd->n_pending > 0 || ipc_client_unacked(rd->match) > 0)
		log_warnx("stopping with %zu reads not acknowledged by alpr-matchd",
		    ipc_client_unacked(rd->match) + rd->n_pending);
	for (size_t i = 0; i < rd->n_pending; i++) {
		json_decref(rd->pending[i].body);
		if (rd->pending[i].fd >= 0)
			close(rd->pending[i].fd);
	}
	free(rd->pending);
	ipc_client_free(rd->match);
	spool_close(rd->spool);
	free(rd);
	return NULL;
}
