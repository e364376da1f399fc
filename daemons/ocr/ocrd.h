/*
 * alpr-ocrd internals, shared by its role files:
 *
 *   main.c     the daemon: config, sockets, status, shutdown
 *   frames.c   FRAME messages from capture: checks every field and the memfd
 *   worker.c   the recognizer processes (forked, one rec_ctx each) and
 *              their queues; also the code the worker process runs
 *   tracker.c  associates plates across frames of one camera into tracks
 *   reads.c    one READ per track (sent early, updated at the close): JPEGs
 *              in a sealed memfd, reliable send to alpr-matchd
 *   spool.c    the reads not yet acknowledged, on disk (synced before sent)
 *   jpeg.cpp   the JPEG encoder (OpenCV) behind a C call
 *   sandbox.c  the workers' seccomp filter
 *
 * The main process never decodes or reads frame content: the pixels are
 * looked at only by the workers (recognition) and by the JPEG encoder
 * (which treats them as plain samples).
 */
#ifndef ALPR_OCRD_H
#define ALPR_OCRD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "base/latency.h"
#include "conf/conf.h"
#include "recognize.h"

#define OCR_CAMERA_MAX 32		/* camera name bytes, as in the config */
#define OCR_TRACKS_MAX 64		/* open tracks over all cameras */
#define OCR_EARLY_AGREE 3		/* frames reading a text alike for an early read */
#define OCR_EARLY_CHANGES 2		/* updates a track may send before it closes */
#define OCR_CAMERAS_MAX 32		/* cameras scheduled (and tracked) at once */
#define OCR_CLOSED_MAX 16		/* closed tracks kept to be rejoined */
#define OCR_SAME_PLATE_USEC 500000	/* a box on a track's: its plate, whatever the text */

struct daemon;

/*
 * One frame from capture: its sealed memfd.  Only the workers and the
 * image of a read need the pixels, so they are read on demand.  Reference
 * counted: the queue, the worker's job and a track's best frame may share it.
 */
struct frame {
	unsigned refs;
	int fd;
	uint8_t *copy;			/* the pixels, once frame_pixels() read them */
	size_t size;
	char camera[OCR_CAMERA_MAX + 1];
	int64_t number;
	int width, height;
	size_t stride;
	int64_t capture_usec;
	int64_t mono_usec;
	json_t *gps;			/* validated GPS object */
	int64_t received_usec;		/* our CLOCK_MONOTONIC */
};

struct frame *frame_ref(struct frame *f);
struct frame *frame_unref(struct frame *f);
/* The pixels (stride * height bytes), read from the memfd on first use, or NULL. */
const uint8_t *frame_pixels(struct frame *f);
/*
 * Validates a FRAME body and its descriptor; on success takes the
 * descriptor (m->fd becomes -1).  -EBADMSG with *ret_why on a bad frame.
 */
struct ipc_msg;
int frame_from_msg(struct ipc_msg *m, struct frame **ret, const char **ret_why);

/* ---- workers ------------------------------------------------------------ */

struct pool;

/* Called in the main process for each recognised frame (plates may be 0). */
typedef void (*pool_result_fn)(struct frame *f, const struct rec_result *res, void *userdata);

int pool_new(sd_event *e, const struct alpr_conf *conf, unsigned n, pool_result_fn fn,
    void *userdata, struct pool **ret);
struct pool *pool_free(struct pool *p);
/*
 * Makes f its camera's waiting frame (takes a reference); a worker takes
 * it when free, the cameras in turn.  Returns 1 if a frame was dropped:
 * the camera's older waiting one (superseded), or f itself when
 * OCR_CAMERAS_MAX other cameras all have one waiting.
 */
int pool_submit(struct pool *p, struct frame *f);
unsigned pool_workers(const struct pool *p);
unsigned pool_busy(const struct pool *p);
uint64_t pool_restarts(const struct pool *p);
uint64_t pool_dropped(const struct pool *p);
uint64_t pool_done(const struct pool *p);
/* Received -> handed to a worker; handed -> its result back. */
const struct latency *pool_queue_latency(const struct pool *p);
const struct latency *pool_job_latency(const struct pool *p);
/* Kills the worker with the frame in flight for longer than the timeout. */
void pool_tick(struct pool *p, int64_t now_usec, int64_t timeout_usec);

/*
 * sandbox.c: the worker's seccomp filter (an allow-list; any other syscall
 * kills the process).  Once entered, it cannot be left.
 */
int ocr_sandbox_enter(void);

/* The worker process: never returns. */
void worker_main(int sock, const struct alpr_conf *conf) __attribute__((noreturn));

/* ---- tracker ------------------------------------------------------------ */

struct track_candidate {
	char text[REC_TEXT_MAX];
	double score;			/* confidence summed over frames */
	unsigned votes;			/* frames that listed it */
	unsigned firsts;		/* frames that read it as their top-1 */
};

/* A plate followed across frames; what a read is made from. */
struct track {
	char camera[OCR_CAMERA_MAX + 1];
	uint64_t id;			/* per process, for logs */
	int box[4];			/* last box */
	int64_t last_frame;		/* frame number of the last sighting */
	uint64_t last_tick;		/* camera's processed-frame count then */
	int64_t last_seen_usec;		/* our monotonic clock */
	int64_t first_usec, last_usec;	/* capture times */
	int64_t last_mono_usec;		/* the latest frame's capture, capture's CLOCK_MONOTONIC */
	unsigned frames;
	/* the best sighting */
	struct frame *best;
	float best_conf;
	int best_box[4];
	char best_text[REC_TEXT_MAX];
	/* state votes: confidence summed per state code */
	struct {
		char code[REC_STATE_MAX];
		double score;
	} states[4];
	size_t n_cands;
	struct track_candidate cands[2 * REC_MAX_CANDIDATES];
	/* its read: sent early, then maybe once more when the track closes */
	char read_id[33];		/* "" until the first READ */
	unsigned sent_frames;		/* frames in the last READ, 0: none */
	char sent_text[REC_TEXT_MAX];	/* the text of the last READ */
	unsigned changes;		/* updates sent before the close */
};

struct tracker;
struct tracker_params {
	int64_t close_frames;		/* unseen this many processed frames */
	int64_t close_usec;		/* or this long */
	int64_t min_frames;		/* shorter tracks give no read */
	double early_conf;		/* 0..100; 0: a read only when the track closes */
	int64_t early_agree;		/* or: top-1 of this many frames, a majority (0: off) */
	int64_t rejoin_usec;		/* a closed track's text seen again this soon: one read (0: off) */
};
/*
 * What the tracker's reads were, for the stop line and the benchmark: an
 * early read whose text a later update changes was a wrong early read.
 */
struct tracker_counts {
	uint64_t early;			/* reads sent before their track closed */
	uint64_t changed;		/* updates before the close: a new text, sure */
	uint64_t closed_changed;	/* closing updates that changed the sent text */
	uint64_t at_close;		/* reads first sent when their track closed */
	uint64_t rejoined;		/* tracks that went on a closed track's read */
};

/*
 * Called when a track's read is due: early (closing false) the first time
 * the track is sure of a text, again before the close (closing false) if
 * the frames become sure of another text (at most OCR_EARLY_CHANGES times),
 * then when it closes (closing true) if it has not been sent yet or more
 * frames came since.  The callback sets t->read_id on the first call; a
 * later call is an update of the same read.  After a closing call the
 * tracker frees t.
 */
typedef void (*track_read_fn)(struct track *t, bool closing, void *userdata);

int tracker_new(const struct tracker_params *p, track_read_fn fn, void *userdata,
    struct tracker **ret);
/* 1 if t's read may go before the track closes (exported for the unit test). */
bool tracker_early(const struct tracker_params *p, const struct track *t);
/* 1 if t's sent read should be updated now, before the close: a new text, sure. */
bool tracker_changed(const struct tracker_params *p, const struct track *t);
const struct tracker_counts *tracker_counts(const struct tracker *t);
/* Closes every open track (calls fn) and frees. */
struct tracker *tracker_free(struct tracker *t);
void tracker_set_params(struct tracker *t, const struct tracker_params *p);
void tracker_add(struct tracker *t, struct frame *f, const struct rec_result *res,
    int64_t now_usec);
void tracker_tick(struct tracker *t, int64_t now_usec);
size_t tracker_open(const struct tracker *t);
/* Levenshtein distance (exported for the unit test). */
int tracker_text_distance(const char *a, const char *b);

/* ---- spool -------------------------------------------------------------- */

struct spool;
/* Opens (creating) dir/reads.spool; dir is made 0700 if missing. */
int spool_open(const char *dir, struct spool **ret);
struct spool *spool_close(struct spool *sp);
/* Sends each spooled read again (fn gets the body and an images memfd, both its own). */
int spool_replay(struct spool *sp, void (*fn)(json_t *body, int fd, void *userdata),
    void *userdata);
/* Appends a read and syncs it; 0 or -errno (the read is then memory-only). */
int spool_append(struct spool *sp, const json_t *body, int img_fd);
/* The oldest spooled read not yet sent went out with seq. */
void spool_sent(struct spool *sp, uint64_t seq);
/* matchd acknowledged everything up to seq. */
void spool_acked(struct spool *sp, uint64_t seq);
/* The read sent with seq was refused: how many times now (0: not spooled). */
unsigned spool_refused(struct spool *sp, uint64_t seq);
/* The read sent with seq, back from the file (a body and a memfd of its own). */
int spool_load(struct spool *sp, uint64_t seq, json_t **ret_body, int *ret_fd);
/* The read sent with seq went again as new_seq. */
void spool_resent(struct spool *sp, uint64_t seq, uint64_t new_seq);
/* Moves the read sent with seq to reads.dead (synced); it is done here. */
int spool_deadletter(struct spool *sp, uint64_t seq);
/* Reads in reads.dead. */
uint64_t spool_dead(const struct spool *sp);
size_t spool_count(const struct spool *sp);
uint64_t spool_failed(const struct spool *sp);

/* ---- reads -------------------------------------------------------------- */

struct reads;
/* spool_dir: where reads wait for matchd's ACK on disk. */
int reads_new(sd_event *e, const char *match_path, const char *spool_dir, int64_t top_n,
    struct reads **ret);
struct reads *reads_free(struct reads *r);
void reads_set_top_n(struct reads *r, int64_t top_n);
/*
 * Builds and sends (or keeps, if the outbox is full) the read of t: a new
 * read if t->read_id is "" (which it then sets), else an update of it;
 * closing says whether its track closed (for the log line).
 */
void reads_emit(struct reads *r, struct track *t, bool closing);
/* True while reads wait for the outbox: frames must be refused then. */
bool reads_blocked(struct reads *r);
uint64_t reads_sent(const struct reads *r);
size_t reads_unacked(const struct reads *r);
/* Reads on disk waiting for matchd's ACK. */
size_t reads_spooled(const struct reads *r);
/* Reads alpr-matchd refused SPOOL_TRIES times, kept in reads.dead. */
uint64_t reads_dead(const struct reads *r);
/* How long appending a read to the spool (write + fdatasync) took. */
const struct latency *reads_spool_latency(const struct reads *r);

/* ---- jpeg.cpp ----------------------------------------------------------- */

/*
 * Encodes the (x, y, w, h) region of a grey image as JPEG, scaled so that
 * neither side exceeds max_side (0: no scaling).  *ret is malloc'd.
 */
int ocr_jpeg_encode(const uint8_t *grey, int width, int height, size_t stride, const int box[4],
    int max_side, int quality, uint8_t **ret, size_t *ret_len);

#endif
