/*
 * The recognizer workers.
 *
 * Two halves run in two processes:
 *
 * - The pool (alpr-ocrd's main process) forks one worker per configured
 *   core, each on its own SOCK_SEQPACKET socketpair, and hands it one frame
 *   at a time: a FRAME message {"job", "width", "height", "stride"} with the
 *   frame's sealed memfd.  The worker answers with a REPLY of the same
 *   sequence number (the job) carrying the plates it found.  The pool trusts
 *   nothing in that answer: a worker has looked at hostile pixels, so its
 *   reply is checked like any outside input, and a worker that dies, hangs
 *   past [ocr] JobTimeoutSec or answers nonsense is killed and started
 *   again with a backoff; its frame is dropped, the daemon carries on.
 *
 * - The worker (worker_main) loads the models once, enters its seccomp
 *   filter (sandbox.c), then loops: receive a job, copy the frame out of its
 *   memfd, rec_run() (the state guess on every STATE_EVERY-th frame with
 *   plates), reply.  It keeps only its socket and stderr, and dies with
 *   its parent (PR_SET_PDEATHSIG).
 *
 * Scheduling: each camera has ONE waiting slot, holding its newest frame.
 * A frame that arrives while its camera's slot is still full replaces the
 * waiting one, which is dropped (counted: "dropped" in the status line
 * means exactly this, a frame superseded by a newer one of the same camera
 * before a worker was free, or one lost with a dying worker).  An idle
 * worker takes the next camera with a frame waiting, in turn (round
 * robin), so that cameras share the workers evenly whatever their frame
 * rates.  When the workers cannot keep up, each camera is thus read at the
 * rate the workers allow, on its freshest frame, and a frame never waits
 * behind more than the jobs in flight: a car stays in view for many frames
 * (0.5 s is 15 at 30 fps) and the tracker needs only a few good looks,
 * while a queue of stale frames would add its length to every alert's
 * latency (doc/benchmarks.md, pipeline).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"
#include "ocrd.h"

#define RESTART_MIN_USEC (100 * 1000LL)
#define RESTART_MAX_USEC (5 * 1000000LL)
#define WORKER_FD 3
/*
 * Tesseract's state guess costs about as much as finding and reading the
 * plates (doc/benchmarks.md): a worker asks for it on one frame with plates
 * in STATE_EVERY.  A car stays in view for many frames and the tracker adds
 * up the state votes of all of them, so a third of the votes still decide.
 */
#define STATE_EVERY 3

struct worker {
	struct pool *pool;
	unsigned index;
	pid_t pid;			/* 0 while down */
	int sock;
	sd_event_source *io, *child, *timer;
	struct frame *job;		/* in flight, or NULL */
	uint64_t job_seq;
	int64_t job_usec;
	int64_t backoff_usec;
};

struct pool {
	sd_event *event;
	char *model_dir;
	pool_result_fn fn;
	void *userdata;
	unsigned n;
	struct worker *workers;
	/* one waiting slot a camera; next: where the round robin goes on */
	struct {
		char camera[OCR_CAMERA_MAX + 1];
		struct frame *f;	/* the camera's newest frame, or NULL */
	} slots[OCR_CAMERAS_MAX];
	unsigned n_slots, next;
	uint64_t next_job;
	uint64_t restarts, dropped, done, failed;
	struct latency queue_lat, job_lat;	/* received -> job sent -> result */
};

static int worker_start(struct worker *w);
static void worker_kick(struct pool *p);

/* ---- the worker process ------------------------------------------------- */

static json_t *
result_json(const struct rec_result *res)
{
	json_t *plates = json_array(), *o;

	if (plates == NULL)
		return NULL;
	for (int i = 0; i < res->n_plates; i++) {
		const struct rec_plate *pl = &res->plates[i];
		json_t *cands = json_array();

		for (int k = 0; cands != NULL && k < pl->n_candidates; k++)
			json_array_append_new(cands, json_pack("[s,f]", pl->candidates[k].text,
			    (double)pl->candidates[k].confidence));
		o = json_pack("{s:s,s:f,s:s,s:f,s:[i,i,i,i],s:o*}", "text", pl->text,
		    "conf", (double)pl->confidence, "state", pl->state,
		    "state_conf", (double)pl->state_confidence, "box", pl->box[0], pl->box[1],
		    pl->box[2], pl->box[3], "cands", cands);
		if (o == NULL || json_array_append_new(plates, o) < 0) {
			json_decref(plates);
			return NULL;
		}
	}
	return json_pack("{s:o}", "plates", plates);
}

void
worker_main(int sock, const struct alpr_conf *conf)
{
	struct rec_options opt;
	struct rec_ctx *ctx;
	uint8_t *px = NULL;		/* the frame, copied in: see ipc_memfd_read() */
	size_t px_size = 0;
	unsigned since_state = STATE_EVERY;	/* frames with plates since a state guess */
	sigset_t none;
	int r;

	/* The parent blocks its signals for signalfd: a worker takes them plainly. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(sock, WORKER_FD) < 0)
		_exit(71);
	/* Keep the socket and stdio only: no listening socket, no peer. */
	if (close_range(WORKER_FD + 1, ~0U, 0) < 0)
		for (int fd = WORKER_FD + 1; fd < 1024; fd++)
			close(fd);
	if (getppid() == 1)
		_exit(0);
	rec_global_set_threads(1);
	rec_options_init(&opt);
	opt.top_n = REC_MAX_CANDIDATES;	/* the tracker votes over all of them */
	if ((r = rec_new(conf->ocr.model_dir, &opt, &ctx)) < 0) {
		log_warn_r(r, "worker: cannot load models from \"%s\"", conf->ocr.model_dir);
		_exit(78);
	}
	/* jansson seeds its hash tables from /dev/urandom on first use: now */
	json_object_seed(0);
	/* From here on hostile pixels: only the job loop's syscalls (sandbox.c). */
	if ((r = ocr_sandbox_enter()) < 0) {
		log_warn_r(r, "worker: cannot enter the seccomp sandbox");
		_exit(71);
	}
	for (;;) {
		static uint8_t buf[IPC_MSG_MAX];
		struct ipc_msg m;
		struct rec_result res;
		json_int_t w, h, stride;
		const char *why;
		json_t *out = NULL;
		size_t size;
		ssize_t len;

		struct pollfd pfd = { .fd = WORKER_FD, .events = POLLIN };

		/* ipc_recv() never blocks: sleep in poll() until the pool sends */
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			_exit(1);
		r = ipc_recv(WORKER_FD, &m, &why);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r <= 0)
			_exit(r == 0 ? 0 : 1);
		/* The parent is trusted; a message we do not expect is our bug. */
		if (m.type != IPC_MSG_FRAME || m.fd < 0 ||
		    json_unpack(m.body, "{s:I,s:I,s:I}", "width", &w, "height", &h,
		    "stride", &stride) < 0)
			_exit(1);
		size = (size_t)stride * (size_t)h;
		if (size > px_size) {
			free(px);
			px_size = 0;
			if ((px = malloc(size)) == NULL)
				_exit(1);
			px_size = size;
		}
		r = ipc_memfd_read(m.fd, px, size);
		if (r == 0) {
			bool state = since_state + 1 >= STATE_EVERY;

			r = rec_run(ctx, px, (int)w, (int)h, (size_t)stride,
			    state ? 0 : REC_NO_STATE, &res);
			if (r >= 0 && res.n_plates > 0)
				since_state = state ? 0 : since_state + 1;
		}
		if (r < 0)
			out = json_pack("{s:i}", "error", -r);
		else
			out = result_json(&res);
		if (out == NULL)
			_exit(1);
		len = ipc_encode(buf, IPC_MSG_REPLY, 0, m.seq, out);
		json_decref(out);
		ipc_msg_clear(&m);
		if (len < 0 || ipc_send_raw(WORKER_FD, buf, (size_t)len, -1) < 0)
			_exit(1);
	}
}

/* ---- the pool, in the main process --------------------------------------- */

static bool
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (; *s; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9'))
			return false;
	return true;
}

static bool
conf_ok(double c)
{
	return isfinite(c) && c >= 0 && c <= 100;
}

/* The worker's answer, checked field by field into a rec_result. */
static int
result_parse(json_t *body, const struct frame *f, struct rec_result *res)
{
	json_t *plates, *pl;
	size_t i;

	memset(res, 0, sizeof(*res));
	if (json_object_get(body, "error") != NULL)
		return 0;	/* the recognizer refused the frame: no plates */
	if (!json_is_array(plates = json_object_get(body, "plates")) ||
	    json_array_size(plates) > REC_MAX_PLATES)
		return -EBADMSG;
	json_array_foreach(plates, i, pl) {
		struct rec_plate *p = &res->plates[res->n_plates];
		const char *text, *state;
		double conf, state_conf;
		json_t *cands, *c;
		size_t k;
		int *b = p->box;

		if (json_unpack(pl, "{s:s,s:F,s:s,s:F,s:[iiii],s:o}", "text", &text, "conf", &conf,
		    "state", &state, "state_conf", &state_conf, "box", &b[0], &b[1], &b[2], &b[3],
		    "cands", &cands) < 0)
			return -EBADMSG;
		if (!text_ok(text, REC_TEXT_MAX) || !conf_ok(conf) || !conf_ok(state_conf) ||
		    strlen(state) >= REC_STATE_MAX || !json_is_array(cands) ||
		    json_array_size(cands) > REC_MAX_CANDIDATES)
			return -EBADMSG;
		for (const char *s = state; *s; s++)
			if (*s < 'a' || *s > 'z')
				return -EBADMSG;
		if (b[0] < 0 || b[1] < 0 || b[2] <= 0 || b[3] <= 0 || b[0] > f->width - b[2] ||
		    b[1] > f->height - b[3])
			return -EBADMSG;
		strcpy(p->text, text);
		p->confidence = (float)conf;
		strcpy(p->state, state);
		p->state_confidence = (float)state_conf;
		json_array_foreach(cands, k, c) {
			struct rec_candidate *rc = &p->candidates[p->n_candidates];
			const char *ct;
			double cc;

			if (json_unpack(c, "[sF]", &ct, &cc) < 0 || !text_ok(ct, REC_TEXT_MAX) ||
			    !conf_ok(cc))
				return -EBADMSG;
			strcpy(rc->text, ct);
			rc->confidence = (float)cc;
			p->n_candidates++;
		}
		res->n_plates++;
	}
	return 0;
}

static void
job_finish(struct worker *w, const struct rec_result *res)
{
	struct pool *p = w->pool;
	struct frame *f = w->job;

	w->job = NULL;
	if (res != NULL) {
		p->done++;
		latency_add(&p->job_lat, time_monotonic_usec() - w->job_usec);
		p->fn(f, res, p->userdata);
	} else
		p->failed++;
	frame_unref(f);
}

/* Kills a misbehaving worker; on_child restarts it. */
static void
worker_kill(struct worker *w, const char *why)
{
	if (w->pid <= 0)
		return;
	log_warnx("worker %u (pid %d): %s, killing it", w->index, (int)w->pid, why);
	kill(w->pid, SIGKILL);
	w->io = sd_event_source_disable_unref(w->io);
}

static int
on_worker_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct worker *w = userdata;
	struct rec_result res;
	struct ipc_msg m;
	const char *why = NULL;
	int r;

	for (;;) {
		r = ipc_recv(fd, &m, &why);
		if (r == -EAGAIN || r == -EINTR)
			return 0;
		if (r <= 0) {
			worker_kill(w, r == 0 ? "closed its socket" : why ? why : "receive failed");
			return 0;
		}
		if (m.type != IPC_MSG_REPLY || m.fd >= 0 || w->job == NULL || m.seq != w->job_seq ||
		    m.body == NULL || result_parse(m.body, w->job, &res) < 0) {
			ipc_msg_clear(&m);
			worker_kill(w, "sent a malformed result");
			return 0;
		}
		ipc_msg_clear(&m);
		w->backoff_usec = RESTART_MIN_USEC;
		job_finish(w, &res);
		worker_kick(w->pool);
		if (w->io == NULL)
			return 0;
	}
}

static int
on_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct worker *w = userdata;

	w->timer = sd_event_source_disable_unref(w->timer);
	if (worker_start(w) < 0)
		log_warnx("worker %u: cannot start, retrying", w->index);
	worker_kick(w->pool);
	return 0;
}

static int
on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct worker *w = userdata;
	struct pool *p = w->pool;
	uint64_t now;

	if (si->si_code == CLD_EXITED)
		log_warnx("worker %u (pid %d) exited with status %d, restarting", w->index,
		    (int)w->pid, si->si_status);
	else
		log_warnx("worker %u (pid %d) killed by signal %d, restarting", w->index,
		    (int)w->pid, si->si_status);
	p->restarts++;
	w->child = sd_event_source_disable_unref(w->child);
	w->io = sd_event_source_disable_unref(w->io);
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	w->pid = 0;
	/* Its frame may be the hostile one: never hand it to another worker. */
	if (w->job != NULL)
		job_finish(w, NULL);
	sd_event_now(p->event, CLOCK_MONOTONIC, &now);
	if (sd_event_add_time(p->event, &w->timer, CLOCK_MONOTONIC, now + w->backoff_usec, 0,
	    on_restart, w) < 0)
		w->timer = NULL;
	w->backoff_usec = w->backoff_usec * 2 > RESTART_MAX_USEC ? RESTART_MAX_USEC :
	    w->backoff_usec * 2;
	return 0;
}

static int
worker_start(struct worker *w)
{
	struct pool *p = w->pool;
	struct alpr_conf conf = { 0 };
	int sv[2], r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	conf.ocr.model_dir = p->model_dir;
	if ((pid = fork()) < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_main(sv[1], &conf);
	}
	close(sv[1]);
	w->pid = pid;
	w->sock = sv[0];
	if ((r = sd_event_add_child(p->event, &w->child, pid, WEXITED, on_child, w)) < 0 ||
	    (r = sd_event_add_io(p->event, &w->io, w->sock, EPOLLIN, on_worker_io, w)) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		w->child = sd_event_source_disable_unref(w->child);
		close(w->sock);
		w->sock = -1;
		w->pid = 0;
		return r;
	}
	log_debug("worker %u started, pid %d", w->index, (int)pid);
	return 0;
}

static int
job_send(struct worker *w, struct frame *f)
{
	static uint8_t buf[IPC_MSG_MAX];
	json_t *body;
	ssize_t len;

	body = json_pack("{s:I,s:i,s:i,s:I}", "job", (json_int_t)w->pool->next_job,
	    "width", f->width, "height", f->height, "stride", (json_int_t)f->stride);
	if (body == NULL)
		return -ENOMEM;
	len = ipc_encode(buf, IPC_MSG_FRAME, IPC_F_FD, w->pool->next_job, body);
	json_decref(body);
	if (len < 0)
		return (int)len;
	if ((len = ipc_send_raw(w->sock, buf, (size_t)len, f->fd)) < 0)
		return (int)len;
	w->job = f;
	w->job_seq = w->pool->next_job++;
	w->job_usec = time_monotonic_usec();
	latency_add(&w->pool->queue_lat, w->job_usec - f->received_usec);
	return 0;
}

/* The next camera's waiting frame, in turn; NULL if none waits. */
static struct frame *
slot_take(struct pool *p)
{
	for (unsigned k = 0; k < p->n_slots; k++) {
		unsigned i = (p->next + k) % p->n_slots;
		struct frame *f = p->slots[i].f;

		if (f != NULL) {
			p->slots[i].f = NULL;
			p->next = (i + 1) % p->n_slots;
			return f;
		}
	}
	return NULL;
}

/* Hands waiting frames to idle workers. */
static void
worker_kick(struct pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->workers[i];
		struct frame *f;

		if (w->pid <= 0 || w->io == NULL || w->job != NULL)
			continue;
		if ((f = slot_take(p)) == NULL)
			return;
		if (job_send(w, f) < 0) {
			p->failed++;
			frame_unref(f);
			worker_kill(w, "cannot take a frame");
		}
	}
}

int
pool_submit(struct pool *p, struct frame *f)
{
	unsigned i, free_slot = p->n_slots;
	int dropped = 0;

	for (i = 0; i < p->n_slots; i++) {
		if (strcmp(p->slots[i].camera, f->camera) == 0)
			break;
		if (p->slots[i].f == NULL && free_slot == p->n_slots)
			free_slot = i;
	}
	if (i == p->n_slots) {
		/* A new camera: a new slot, or an idle one's (names are unbounded in number). */
		if (p->n_slots < OCR_CAMERAS_MAX)
			i = p->n_slots++;
		else if ((i = free_slot) == p->n_slots) {
			p->dropped++;	/* every slot holds a frame: this one waits nowhere */
			return 1;
		}
		strcpy(p->slots[i].camera, f->camera);
	}
	if (p->slots[i].f != NULL) {
		/* superseded: the newest frame of a camera is the one worth reading */
		frame_unref(p->slots[i].f);
		p->dropped++;
		dropped = 1;
	}
	p->slots[i].f = frame_ref(f);
	worker_kick(p);
	return dropped;
}

void
pool_tick(struct pool *p, int64_t now_usec, int64_t timeout_usec)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->workers[i];

		if (w->job != NULL && w->io != NULL && now_usec - w->job_usec > timeout_usec)
			worker_kill(w, "stuck on a frame");
	}
}

int
pool_new(sd_event *e, const struct alpr_conf *conf, unsigned n, pool_result_fn fn,
    void *userdata, struct pool **ret)
{
	struct pool *p;
	sigset_t ss;
	int r;

	/* sd-event watches children through SIGCHLD, which must be blocked. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->event = sd_event_ref(e);
	p->fn = fn;
	p->userdata = userdata;
	p->n = n;
	p->next_job = 1;
	if ((p->model_dir = strdup(conf->ocr.model_dir)) == NULL ||
	    (p->workers = calloc(n, sizeof(*p->workers))) == NULL) {
		pool_free(p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		p->workers[i].pool = p;
		p->workers[i].index = i;
		p->workers[i].sock = -1;
		p->workers[i].backoff_usec = RESTART_MIN_USEC;
	}
	for (unsigned i = 0; i < n; i++)
		if ((r = worker_start(&p->workers[i])) < 0) {
			pool_free(p);
			return r;
		}
	*ret = p;
	return 0;
}

struct pool *
pool_free(struct pool *p)
{
	if (p == NULL)
		return NULL;
	for (unsigned i = 0; p->workers != NULL && i < p->n; i++) {
		struct worker *w = &p->workers[i];

		w->io = sd_event_source_disable_unref(w->io);
		w->timer = sd_event_source_disable_unref(w->timer);
		w->child = sd_event_source_disable_unref(w->child);
		if (w->pid > 0) {
			/* closing the socket ends the worker's loop; SIGKILL if it is busy */
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
		}
		if (w->sock >= 0)
			close(w->sock);
		frame_unref(w->job);
	}
	for (unsigned i = 0; i < p->n_slots; i++)
		frame_unref(p->slots[i].f);
	free(p->workers);
	free(p->model_dir);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}

unsigned
pool_workers(const struct pool *p)
{
	unsigned up = 0;

	for (unsigned i = 0; i < p->n; i++)
		up += p->workers[i].pid > 0;
	return up;
}

unsigned
pool_busy(const struct pool *p)
{
	unsigned busy = 0;

	for (unsigned i = 0; i < p->n; i++)
		busy += p->workers[i].job != NULL;
	return busy;
}

uint64_t
pool_restarts(const struct pool *p)
{
	return p->restarts;
}

uint64_t
pool_dropped(const struct pool *p)
{
	return p->dropped + p->failed;
}

uint64_t
pool_done(const struct pool *p)
{
	return p->done;
}

const struct latency *
pool_queue_latency(const struct pool *p)
{
	return &p->queue_lat;
}

const struct latency *
pool_job_latency(const struct pool *p)
{
	return &p->job_lat;
}
