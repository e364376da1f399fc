/*
 * The tracker, run in alpr-ocrd's main process on results the pool has
 * already checked (boxes inside the frame, texts of [A-Z0-9]).
 *
 * One car passing a camera shows its plate in several frames; a track
 * gathers those sightings so that the car gives ONE read.  A plate seen in
 * a frame joins the open track of the same camera that it matches best:
 *
 *	- the boxes overlap (IoU >= 0.3), and the text is close (below) or
 *	  the frames are less than OCR_SAME_PLATE_USEC apart: a car takes
 *	  another's place in view (at a light, or between a slow camera's
 *	  frames) in seconds, not in a frame or two, or
 *	- the box moved no further than the plate's width times (1.5 + the
 *	  frame gap), and the text is close (edit distance <= max(2, len/3)
 *	  to the track's best text, or the track's text is among the plate's
 *	  candidates): OCR misreads a character here and there, while a second
 *	  car nearby has a different plate.
 *
 * Otherwise it starts a new track.  Each sighting adds every candidate's
 * confidence to that text's score (a vote weighted by confidence), so the
 * read's text is the one the frames agree on, not one frame's guess.  The
 * sighting with the highest confidence is the best frame (kept by
 * reference for the images and its GPS fix).  A track closes when its
 * camera has delivered close_frames processed frames without it, or after
 * close_usec without a sighting (a camera that stops); tracks shorter than
 * min_frames give no read.  Frames may come back from the workers slightly
 * out of order; the tests above do not depend on order.
 *
 * A read need not wait for the close (TrackCloseFrames processed frames
 * later, a second or more): as soon as a track of at least min_frames
 * sightings has a text that the frames agree on with an average confidence
 * of early_conf or more, or that early_agree sightings (and more than half
 * of them) read as their top-1, and that text has a known US serial
 * format, its read goes (the alert comes within the frame that made it
 * sure).  The recognizer's confidences are a softmax over its candidates,
 * low on hard plates even when frame after frame reads the same text:
 * that agreement is the better sign (tests/bench/bench-tracker.sh).  If
 * the frames after an early read come to agree on another text, the update
 * goes at once (tracker_changed), not at the close: a hit on the better
 * text is then not held back by the close.  When the track closes, its read goes again as an update of the same read id
 * if more frames came since: alpr-matchd stores the read once and
 * replaces its text, candidates and counts, and matches it again, so a
 * better reading can still hit, while an entry it hit already does not hit
 * twice (doc/protocol.md).
 *
 * A car hidden for a moment behind another (a van, a truck) ends its track
 * after TrackCloseFrames and comes back as a new one.  A closed track that
 * sent a read is kept for rejoin_usec; when a new track of the same camera
 * is first due to send, and its text is the one the closed track sent,
 * the two are one pass: the new track takes the closed one's read id,
 * frames and votes, and its read goes as an update of that read (one read
 * per vehicle pass; matchd does not alert again on an update).  Only the
 * exact text joins: a car whose plate differs by one character within
 * seconds on the same camera is another car (a near miss is a hot-list
 * case).  A car coming out from behind the van is often misread in its
 * first frames (a character still hidden): a new track a few characters off
 * a text just sent holds its early read until the frames read that text
 * (a rejoin) or agree on their own (rejoin_pending).  A closed track stays
 * past its window while a track that began within it has not sent yet.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "ocrd.h"

struct camera_ticks {
	char name[OCR_CAMERA_MAX + 1];
	uint64_t ticks;			/* processed frames of this camera */
};

struct tracker {
	struct tracker_params params;
	track_read_fn fn;
	void *userdata;
	struct track *tracks[OCR_TRACKS_MAX];
	size_t n;
	struct track *closed[OCR_CLOSED_MAX];	/* sent and closed, may be rejoined */
	size_t n_closed;
	struct camera_ticks cams[OCR_CAMERAS_MAX];
	size_t n_cams;
	uint64_t next_id;
	struct tracker_counts counts;
};

int
tracker_text_distance(const char *a, const char *b)
{
	int prev[REC_TEXT_MAX + 1], cur[REC_TEXT_MAX + 1];
	int la = (int)strnlen(a, REC_TEXT_MAX), lb = (int)strnlen(b, REC_TEXT_MAX);

	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; i <= la; i++) {
		cur[0] = i;
		for (int j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static struct camera_ticks *
camera_get(struct tracker *t, const char *name)
{
	for (size_t i = 0; i < t->n_cams; i++)
		if (strcmp(t->cams[i].name, name) == 0)
			return &t->cams[i];
	if (t->n_cams == OCR_CAMERAS_MAX) {
		/* names are checked but unbounded in number: recycle the first */
		memmove(&t->cams[0], &t->cams[1], sizeof(t->cams[0]) * (OCR_CAMERAS_MAX - 1));
		t->n_cams--;
	}
	memset(&t->cams[t->n_cams], 0, sizeof(t->cams[0]));
	strcpy(t->cams[t->n_cams].name, name);
	return &t->cams[t->n_cams++];
}

static double
iou(const int a[4], const int b[4])
{
	int x0 = a[0] > b[0] ? a[0] : b[0], y0 = a[1] > b[1] ? a[1] : b[1];
	int x1 = a[0] + a[2] < b[0] + b[2] ? a[0] + a[2] : b[0] + b[2];
	int y1 = a[1] + a[3] < b[1] + b[3] ? a[1] + a[3] : b[1] + b[3];
	double inter, uni;

	if (x1 <= x0 || y1 <= y0)
		return 0;
	inter = (double)(x1 - x0) * (y1 - y0);
	uni = (double)a[2] * a[3] + (double)b[2] * b[3] - inter;
	return uni > 0 ? inter / uni : 0;
}

static const char *
track_text(const struct track *t)
{
	size_t best = 0;

	if (t->n_cands == 0)
		return t->best_text;
	for (size_t i = 1; i < t->n_cands; i++)
		if (t->cands[i].score > t->cands[best].score)
			best = i;
	return t->cands[best].text;
}

/* How many characters two readings of one plate may differ by. */
static int
text_slack(const char *text)
{
	int len = (int)strlen(text);

	return len / 3 > 2 ? len / 3 : 2;
}

static bool
text_close(const struct track *t, const struct rec_plate *p)
{
	const char *tt = track_text(t);
	int limit = text_slack(p->text);

	if (tracker_text_distance(tt, p->text) <= limit ||
	    tracker_text_distance(t->best_text, p->text) <= limit)
		return true;
	for (int i = 0; i < p->n_candidates; i++)
		if (strcmp(p->candidates[i].text, tt) == 0)
			return true;
	return false;
}

/* How well sighting p fits track t: < 0 for not at all. */
static double
match_score(const struct track *t, const struct frame *f, const struct rec_plate *p)
{
	double ov = iou(t->box, p->box), dx, dy, dist, scale, gap;
	bool close_text = text_close(t, p);

	if (ov >= 0.3 && (close_text || llabs(f->capture_usec - t->last_usec) < OCR_SAME_PLATE_USEC))
		return 2 + ov + close_text;
	dx = (t->box[0] + t->box[2] / 2.0) - (p->box[0] + p->box[2] / 2.0);
	dy = (t->box[1] + t->box[3] / 2.0) - (p->box[1] + p->box[3] / 2.0);
	dist = dx * dx + dy * dy;
	scale = t->box[2] > p->box[2] ? t->box[2] : p->box[2];
	gap = (double)llabs(f->number - t->last_frame);
	if (gap < 1)
		gap = 1;
	if (gap > 30)
		gap = 30;
	scale *= 1.5 + gap;
	if (!close_text || dist > scale * scale)
		return -1;
	return 1 - dist / (scale * scale);
}

/* Adds c's votes to t's for the same text; a full list drops its weakest. */
static void
cand_merge(struct track *t, const struct track_candidate *c)
{
	size_t low = 0;

	for (size_t i = 0; i < t->n_cands; i++) {
		if (strcmp(t->cands[i].text, c->text) == 0) {
			t->cands[i].score += c->score;
			t->cands[i].votes += c->votes;
			t->cands[i].firsts += c->firsts;
			return;
		}
		if (t->cands[i].score < t->cands[low].score)
			low = i;
	}
	if (t->n_cands < sizeof(t->cands) / sizeof(t->cands[0]))
		low = t->n_cands++;
	else if (t->cands[low].score >= c->score)
		return;
	t->cands[low] = *c;
}

static void
cand_add(struct track *t, const char *text, double conf)
{
	struct track_candidate c = { .score = conf, .votes = 1 };

	snprintf(c.text, sizeof(c.text), "%s", text);
	cand_merge(t, &c);
}

static void
state_add(struct track *t, const char *code, double conf)
{
	size_t n = sizeof(t->states) / sizeof(t->states[0]), low = 0;

	if (code[0] == '\0' || conf <= 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t->states[i].code, code) == 0) {
			t->states[i].score += conf;
			return;
		}
		if (t->states[i].score < t->states[low].score)
			low = i;
	}
	if (t->states[low].score >= conf)
		return;
	strcpy(t->states[low].code, code);
	t->states[low].score = conf;
}

static void
sighting_add(struct track *t, struct frame *f, const struct rec_plate *p, uint64_t tick,
    int64_t now_usec)
{
	memcpy(t->box, p->box, sizeof(t->box));
	if (t->frames == 0 || f->number > t->last_frame)
		t->last_frame = f->number;
	t->last_tick = tick;
	t->last_seen_usec = now_usec;
	if (t->frames == 0 || f->capture_usec < t->first_usec)
		t->first_usec = f->capture_usec;
	if (f->capture_usec > t->last_usec) {
		t->last_usec = f->capture_usec;
		t->last_mono_usec = f->mono_usec;
	}
	t->frames++;
	if (p->n_candidates == 0)
		cand_add(t, p->text, p->confidence);
	for (int i = 0; i < p->n_candidates; i++)
		cand_add(t, p->candidates[i].text, p->candidates[i].confidence);
	for (size_t i = 0; i < t->n_cands; i++)
		if (strcmp(t->cands[i].text, p->text) == 0)
			t->cands[i].firsts++;
	state_add(t, p->state, p->state_confidence);
	if (t->best == NULL || p->confidence > t->best_conf) {
		frame_unref(t->best);
		t->best = frame_ref(f);
		t->best_conf = p->confidence;
		memcpy(t->best_box, p->box, sizeof(t->best_box));
		strcpy(t->best_text, p->text);
	}
}

/* The track's score and top-1 count of text. */
static void
text_votes(const struct track *t, const char *text, double *score, unsigned *firsts)
{
	*score = 0;
	*firsts = 0;
	for (size_t i = 0; i < t->n_cands; i++)
		if (strcmp(t->cands[i].text, text) == 0) {
			*score = t->cands[i].score;
			*firsts = t->cands[i].firsts;
		}
	if (t->n_cands == 0)
		*score = t->best_conf * t->frames;
}

/* Read as its top-1 text by early_agree frames, more than half of the track's. */
static bool
agreed(const struct tracker_params *p, const struct track *t, unsigned firsts)
{
	return p->early_agree > 0 && (int64_t)firsts >= p->early_agree && 2 * firsts > t->frames;
}

bool
tracker_early(const struct tracker_params *p, const struct track *t)
{
	const char *text = track_text(t);
	unsigned firsts;
	double score;

	if (p->early_conf <= 0 || t->sent_frames > 0 || (int64_t)t->frames < p->min_frames)
		return false;
	text_votes(t, text, &score, &firsts);
	if (!rec_syntax_known(text))
		return false;
	/* confident, or read alike by several frames and most of them */
	return score / t->frames >= p->early_conf || agreed(p, t, firsts);
}

/*
 * After an early read, the frames may come to agree on another text (the
 * first frames of a far plate misread a character): the update goes as
 * soon as the new text leads the votes, has a known format, and is
 * confident or read as top-1 by early_agree frames and by more frames than
 * the text sent, rather than when the track closes a second later.
 */
bool
tracker_changed(const struct tracker_params *p, const struct track *t)
{
	const char *text = track_text(t);
	unsigned firsts, sent_firsts;
	double score, sent_score;

	if (p->early_conf <= 0 || t->sent_frames == 0 || t->changes >= OCR_EARLY_CHANGES ||
	    strcmp(text, t->sent_text) == 0 || !rec_syntax_known(text))
		return false;
	text_votes(t, text, &score, &firsts);
	text_votes(t, t->sent_text, &sent_score, &sent_firsts);
	return score / t->frames >= p->early_conf ||
	    (p->early_agree > 0 && (int64_t)firsts >= p->early_agree && firsts > sent_firsts);
}

const struct tracker_counts *
tracker_counts(const struct tracker *tr)
{
	return &tr->counts;
}

/* The index of the track of ts[0..n-1] seen longest ago (n > 0). */
static size_t
longest_unseen(struct track *const *ts, size_t n)
{
	size_t old = 0;

	for (size_t i = 1; i < n; i++)
		if (ts[i]->last_seen_usec < ts[old]->last_seen_usec)
			old = i;
	return old;
}

static void
closed_drop(struct tracker *tr, size_t i)
{
	free(tr->closed[i]);
	tr->closed[i] = tr->closed[--tr->n_closed];
}

/* Closed track c ended on t's camera less than rejoin_usec before t began. */
static bool
closed_before(const struct tracker *tr, const struct track *c, const struct track *t)
{
	return strcmp(c->camera, t->camera) == 0 && t->first_usec >= c->first_usec &&
	    t->first_usec - c->last_usec <= tr->params.rejoin_usec;
}

/*
 * Closed track c can go: its window has passed and no open track that
 * began within it is still to send (its first read may come at its close).
 */
static bool
closed_expired(const struct tracker *tr, const struct track *c, int64_t now_usec)
{
	if (now_usec - c->last_seen_usec <= tr->params.rejoin_usec)
		return false;
	for (size_t i = 0; i < tr->n; i++)
		if (tr->tracks[i]->sent_frames == 0 && closed_before(tr, c, tr->tracks[i]))
			return false;
	return true;
}

/* Finds the closed track just before t that sent t's text. */
static bool
closed_find(const struct tracker *tr, const struct track *t, size_t *ret_i)
{
	const char *text = track_text(t);

	for (size_t i = 0; i < tr->n_closed; i++)
		if (closed_before(tr, tr->closed[i], t) && strcmp(tr->closed[i]->sent_text, text) == 0) {
			*ret_i = i;
			return true;
		}
	return false;
}

/*
 * A new track whose text is a few characters off the text that a track
 * just before it sent may be that car read badly in its first frames
 * (behind the van's edge): its read waits for the text sent (a rejoin) or
 * for its own text read alike by early_agree frames (another car).
 */
static bool
rejoin_pending(const struct tracker *tr, const struct track *t)
{
	const char *text = track_text(t);
	unsigned firsts;
	double score;

	if (tr->params.rejoin_usec <= 0 || t->sent_frames > 0)
		return false;
	text_votes(t, text, &score, &firsts);
	if (agreed(&tr->params, t, firsts))
		return false;
	for (size_t i = 0; i < tr->n_closed; i++) {
		const struct track *c = tr->closed[i];

		if (closed_before(tr, c, t) && strcmp(c->sent_text, text) != 0 &&
		    tracker_text_distance(c->sent_text, text) <= text_slack(text))
			return true;
	}
	return false;
}

/*
 * t goes on where closed track c ended: c's read id, frames and votes are
 * t's.  Not c's best frame: the read's images and capture time are those
 * of its first READ, which an update keeps (doc/protocol.md).
 */
static void
track_rejoin(struct tracker *tr, struct track *t, size_t ci)
{
	struct track *c = tr->closed[ci];

	log_debug("track %llu: the plate of track %llu again, %lld ms later: one read",
	    (unsigned long long)t->id, (unsigned long long)c->id,
	    (long long)((t->first_usec - c->last_usec) / 1000));
	strcpy(t->read_id, c->read_id);
	strcpy(t->sent_text, c->sent_text);
	t->sent_frames = c->sent_frames;
	t->changes = c->changes;
	t->frames += c->frames;
	t->first_usec = c->first_usec;
	for (size_t i = 0; i < c->n_cands; i++)
		cand_merge(t, &c->cands[i]);
	for (size_t i = 0; i < sizeof(c->states) / sizeof(c->states[0]); i++)
		state_add(t, c->states[i].code, c->states[i].score);
	tr->counts.rejoined++;
	closed_drop(tr, ci);
}

/* Hands t's read to the callback and notes what it sent. */
static void
track_emit(struct tracker *tr, struct track *t, bool closing)
{
	const char *text = track_text(t);
	size_t ci;

	if (t->sent_frames == 0 && tr->params.rejoin_usec > 0 && closed_find(tr, t, &ci))
		track_rejoin(tr, t, ci);
	else if (t->sent_frames == 0 && closing)
		tr->counts.at_close++;
	else if (t->sent_frames == 0)
		tr->counts.early++;
	else if (!closing)
		tr->counts.changed++;
	else if (strcmp(text, t->sent_text) != 0)
		tr->counts.closed_changed++;
	strcpy(t->sent_text, text);
	tr->fn(t, closing, tr->userdata);
}

static void
track_close(struct tracker *tr, size_t i)
{
	struct track *t = tr->tracks[i];

	if (t->sent_frames > 0 && t->frames == t->sent_frames)
		log_debug("track %llu closed, its read is up to date", (unsigned long long)t->id);
	else if ((int64_t)t->frames >= tr->params.min_frames && tr->fn != NULL)
		track_emit(tr, t, true);
	else
		log_debug("track %llu closed after %u frame(s), no read", (unsigned long long)t->id,
		    t->frames);
	tr->tracks[i] = tr->tracks[--tr->n];
	if (t->sent_frames > 0 && tr->params.rejoin_usec > 0) {
		if (tr->n_closed == OCR_CLOSED_MAX)
			closed_drop(tr, longest_unseen(tr->closed, tr->n_closed));
		t->best = frame_unref(t->best);	/* its pixels are not needed again */
		tr->closed[tr->n_closed++] = t;
		return;
	}
	frame_unref(t->best);
	free(t);
}

void
tracker_add(struct tracker *tr, struct frame *f, const struct rec_result *res, int64_t now_usec)
{
	struct camera_ticks *cam = camera_get(tr, f->camera);
	bool taken[OCR_TRACKS_MAX] = { false };

	cam->ticks++;
	for (int k = 0; k < res->n_plates; k++) {
		const struct rec_plate *p = &res->plates[k];
		double best_score = -1;
		size_t best = tr->n;
		struct track *t;

		for (size_t i = 0; i < tr->n; i++) {
			double s;

			if (taken[i] || strcmp(tr->tracks[i]->camera, f->camera) != 0)
				continue;
			if ((s = match_score(tr->tracks[i], f, p)) > best_score) {
				best_score = s;
				best = i;
			}
		}
		if (best == tr->n) {
			if (tr->n == OCR_TRACKS_MAX) {
				/* full: the longest unseen track goes first */
				track_close(tr, longest_unseen(tr->tracks, tr->n));
				memset(taken, 0, sizeof(taken));
			}
			if ((t = calloc(1, sizeof(*t))) == NULL) {
				log_warnx("track: out of memory, ignoring a plate");
				continue;
			}
			strcpy(t->camera, f->camera);
			t->id = ++tr->next_id;
			log_debug("track %llu opened: camera=%s frame=%lld box=%d,%d,%d,%d",
			    (unsigned long long)t->id, f->camera, (long long)f->number, p->box[0],
			    p->box[1], p->box[2], p->box[3]);
			best = tr->n;
			tr->tracks[tr->n++] = t;
		}
		taken[best] = true;
		t = tr->tracks[best];
		sighting_add(t, f, p, cam->ticks, now_usec);
		if (tr->fn != NULL && tracker_early(&tr->params, t) && !rejoin_pending(tr, t)) {
			track_emit(tr, t, false);
			log_debug("track %llu: early read after %u frame(s)", (unsigned long long)t->id,
			    t->frames);
		} else if (tr->fn != NULL && tracker_changed(&tr->params, t)) {
			t->changes++;
			track_emit(tr, t, false);
			log_debug("track %llu: another text after %u frame(s), updated",
			    (unsigned long long)t->id, t->frames);
		}
	}
	tracker_tick(tr, now_usec);
}

void
tracker_tick(struct tracker *tr, int64_t now_usec)
{
	for (size_t i = 0; i < tr->n;) {
		struct track *t = tr->tracks[i];
		struct camera_ticks *cam = camera_get(tr, t->camera);

		if ((int64_t)(cam->ticks - t->last_tick) >= tr->params.close_frames ||
		    now_usec - t->last_seen_usec >= tr->params.close_usec) {
			log_debug("track %llu closed: %llu frames unseen, %lld ms", (unsigned long long)t->id,
			    (unsigned long long)(cam->ticks - t->last_tick),
			    (long long)((now_usec - t->last_seen_usec) / 1000));
			track_close(tr, i);
		} else
			i++;
	}
	for (size_t i = 0; i < tr->n_closed;)
		if (closed_expired(tr, tr->closed[i], now_usec))
			closed_drop(tr, i);
		else
			i++;
}

size_t
tracker_open(const struct tracker *tr)
{
	return tr->n;
}

void
tracker_set_params(struct tracker *tr, const struct tracker_params *p)
{
	tr->params = *p;
}

int
tracker_new(const struct tracker_params *p, track_read_fn fn, void *userdata,
    struct tracker **ret)
{
	struct tracker *tr;

	if ((tr = calloc(1, sizeof(*tr))) == NULL)
		return -ENOMEM;
	tr->params = *p;
	tr->fn = fn;
	tr->userdata = userdata;
	*ret = tr;
	return 0;
}

struct tracker *
tracker_free(struct tracker *tr)
{
	if (tr == NULL)
		return NULL;
	while (tr->n > 0)
		track_close(tr, tr->n - 1);
	while (tr->n_closed > 0)
		closed_drop(tr, 0);
	free(tr);
	return NULL;
}
