/*
 * The MDC page's HTTP side in alpr-alertd: libmicrohttpd driven from the
 * daemon's sd-event loop (MHD_USE_EPOLL without a thread: MHD's epoll fd
 * sits in our loop and MHD_run() runs when it is readable or its timeout
 * comes), sessions, CSRF tokens, and Server-Sent Events for live push.
 *
 * Trust: the browser is untrusted.  Every request must name an allowed
 * Host (no DNS rebinding), every page request but the static files needs a
 * session cookie (HttpOnly, SameSite=Strict), and every POST also the
 * session's CSRF token in X-CSRF-Token.  Logins and workflow steps are
 * decided by alpr-matchd (libalpr's policy); a step that is not legal from
 * the hit's state is refused here before it is even sent.  URLs carry hit
 * numbers and opaque image ids, never a plate.
 *
 * Requests that need matchd are suspended (MHD_suspend_connection) until
 * its reply comes, then resumed.  SSE streams are responses of unknown
 * size whose reader suspends the connection while there is nothing to
 * send; http_push() appends and resumes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "daemon/daemon.h"
#include "daemons/alert/alertd.h"

#define SESSIONS_MAX 64
#define ANON_TTL_USEC (10 * 60 * USEC_PER_SEC)
#define BODY_MAX 16384
#define SSE_BUF_MAX (4u << 20)	/* a page this far behind is dropped; it reconnects */
#define KEEPALIVE_USEC (15 * USEC_PER_SEC)
#define COOKIE "alpr_session"

struct session {
	struct session *next;
	char id[65];
	char csrf[65];
	char *user;		/* NULL until login */
	char *token;		/* matchd's session */
	int64_t expires_usec;	/* CLOCK_MONOTONIC */
};

struct sse {
	struct sse *next;
	struct http *h;
	struct MHD_Connection *conn;
	char session[65];
	char *buf;
	size_t len, off, cap;
	bool suspended, closed;
};

/* Per-request state, MHD's con_cls. */
struct req {
	struct req *next;	/* in h->waiting while matchd answers */
	struct http *h;
	struct MHD_Connection *conn;
	char *body;
	size_t len;
	bool too_big, waiting, answered;
	unsigned status;
	json_t *resp;
	char *set_cookie;
	const char *disposition;
	/* What the pending request is about. */
	char session[65];
	int64_t hit;
	int to;
	char step_disposition[24];
	char *case_no, *user;
	json_t *files;		/* an export's files, as they stream in */
};

struct http {
	struct alertd *a;
	struct MHD_Daemon *mhd;
	int listen_fd;
	bool tls;
	char host_port[128];	/* the Host header the page must send */
	unsigned port;
	sd_event_source *io, *timer, *defer, *keepalive;
	struct session *sessions;
	struct sse *sse;
	struct req *waiting;
};

/* ---- helpers ------------------------------------------------------------ */

static void
random_hex(char *out, size_t bytes)
{
	unsigned char b[32];
	size_t i;

	if (bytes > sizeof(b) || getrandom(b, bytes, 0) != (ssize_t)bytes)
		fatal("getrandom");
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Compares secrets in time that does not depend on where they differ. */
static bool
secret_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

static int64_t
mono_now(void)
{
	return time_monotonic_usec();
}

static void run_mhd(struct http *h);

static void
kick(struct http *h)
{
	if (h->defer != NULL)
		(void)sd_event_source_set_enabled(h->defer, SD_EVENT_ONESHOT);
}

/* ---- sessions ----------------------------------------------------------- */

static void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	free(s->user);
	if (s->token != NULL)
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

static void
sessions_expire(struct http *h)
{
	struct session **pp, *s;
	int64_t now = mono_now();

	for (pp = &h->sessions; (s = *pp) != NULL;) {
		if (s->expires_usec <= now) {
			if (s->user != NULL)
				log_info("session of \"%s\" timed out", s->user);
			*pp = s->next;
			session_free(s);
			continue;
		}
		pp = &s->next;
	}
}

static struct session *
session_find(struct http *h, const char *id)
{
	struct session *s;

	sessions_expire(h);
	if (id == NULL || strlen(id) != 64)
		return NULL;
	for (s = h->sessions; s != NULL; s = s->next)
		if (secret_eq(s->id, id))
			return s;
	return NULL;
}

static void
session_drop(struct http *h, struct session *victim)
{
	struct session **pp;

	for (pp = &h->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == victim) {
			*pp = victim->next;
			session_free(victim);
			return;
		}
}

/* A new session (anonymous until login); the oldest anonymous one makes room. */
static struct session *
session_new(struct http *h)
{
	struct session *s, *oldest = NULL;
	size_t n = 0;

	sessions_expire(h);
	for (s = h->sessions; s != NULL; s = s->next) {
		n++;
		if (s->user == NULL && (oldest == NULL || s->expires_usec < oldest->expires_usec))
			oldest = s;
	}
	if (n >= SESSIONS_MAX) {
		if (oldest == NULL)
			return NULL;
		session_drop(h, oldest);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	random_hex(s->id, 32);
	random_hex(s->csrf, 32);
	s->expires_usec = mono_now() + ANON_TTL_USEC;
	s->next = h->sessions;
	h->sessions = s;
	return s;
}

static char *
cookie_for(struct http *h, const struct session *s)
{
	char *c;

	if (asprintf(&c, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
	    s != NULL ? s->id : "", h->tls ? "; Secure" : "") < 0)
		return NULL;
	if (s == NULL) {
		char *d;

		if (asprintf(&d, "%s; Max-Age=0", c) < 0)
			d = NULL;
		free(c);
		return d;
	}
	return c;
}

/* ---- responses ---------------------------------------------------------- */

static void
add_headers(struct http *h, struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
	    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'");
	if (h->tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result
send_buf(struct http *h, struct MHD_Connection *conn, unsigned status, const char *type,
    const void *data, size_t len, enum MHD_ResponseMemoryMode mode, const char *cookie,
    const char *disposition)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if ((r = MHD_create_response_from_buffer(len, (void *)data, mode)) == NULL)
		return MHD_NO;
	add_headers(h, r, type);
	if (cookie != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	if (disposition != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct http *h, struct MHD_Connection *conn, unsigned status, json_t *o,
    const char *cookie, const char *disposition)
{
	char *text;

	text = o != NULL ? json_dumps(o, JSON_COMPACT) : strdup("{}");
	if (text == NULL)
		return MHD_NO;
	return send_buf(h, conn, status, "application/json", text, strlen(text),
	    MHD_RESPMEM_MUST_FREE, cookie, disposition);
}

static enum MHD_Result
send_error(struct http *h, struct MHD_Connection *conn, unsigned status, const char *why)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", why);
	enum MHD_Result r = send_json(h, conn, status, o, NULL, NULL);

	json_decref(o);
	return r;
}

/* ---- SSE ---------------------------------------------------------------- */

static bool
sse_append(struct sse *c, const char *text, size_t n)
{
	char *nb;
	size_t cap;

	if (c->closed)
		return false;
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->len + n > c->cap) {
		if (c->len - c->off + n > SSE_BUF_MAX) {
			c->closed = true;	/* too far behind: end the stream */
			return false;
		}
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		for (cap = c->cap ? c->cap : 4096; cap < c->len + n; cap *= 2)
			;
		if ((nb = realloc(c->buf, cap)) == NULL) {
			c->closed = true;
			return false;
		}
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, text, n);
	c->len += n;
	return true;
}

static void
sse_wake(struct sse *c)
{
	if (c->suspended) {
		c->suspended = false;
		MHD_resume_connection(c->conn);
		kick(c->h);
	}
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *c = cls;
	size_t n;

	if (c->len > c->off) {
		n = c->len - c->off < max ? c->len - c->off : max;
		memcpy(buf, c->buf + c->off, n);
		c->off += n;
		return n;
	}
	if (c->closed)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: park the connection until http_push(). */
	c->suspended = true;
	MHD_suspend_connection(c->conn);
	return 0;
}

static void
sse_free(void *cls)
{
	struct sse *c = cls, **pp;

	for (pp = &c->h->sse; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->buf);
	free(c);
}

void
http_push(struct http *h, const char *event, const json_t *data)
{
	struct session *s;
	struct sse *c;
	char *text, *msg;
	int n;

	if (h == NULL || h->sse == NULL)
		return;
	if ((text = json_dumps(data, JSON_COMPACT)) == NULL)
		return;
	n = asprintf(&msg, "event: %s\ndata: %s\n\n", event, text);
	free(text);
	if (n < 0)
		return;
	for (c = h->sse; c != NULL; c = c->next) {
		/* A stream lives only as long as its logged-in session. */
		s = session_find(h, c->session);
		if (s == NULL || s->user == NULL)
			c->closed = true;
		else
			(void)sse_append(c, msg, n);
		sse_wake(c);
	}
	free(msg);
}

size_t
http_clients(const struct http *h)
{
	const struct sse *c;
	size_t n = 0;

	for (c = h->sse; c != NULL; c = c->next)
		n++;
	return n;
}

static int
on_keepalive(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct http *h = userdata;
	struct session *se;
	struct sse *c;

	for (c = h->sse; c != NULL; c = c->next) {
		se = session_find(h, c->session);
		if (se == NULL || se->user == NULL)
			c->closed = true;
		else
			(void)sse_append(c, ": keep-alive\n\n", 14);
		sse_wake(c);
	}
	(void)sd_event_source_set_time(s, usec + KEEPALIVE_USEC);
	return 0;
}

static enum MHD_Result
start_sse(struct http *h, struct MHD_Connection *conn, struct session *s)
{
	struct MHD_Response *r;
	struct sse *c;
	enum MHD_Result ret;
	static const char hello[] = "retry: 1000\n\n";

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return MHD_NO;
	c->h = h;
	c->conn = conn;
	memcpy(c->session, s->id, sizeof(c->session));
	if (!sse_append(c, hello, sizeof(hello) - 1)) {
		free(c->buf);
		free(c);
		return MHD_NO;
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
	if (r == NULL) {
		free(c->buf);
		free(c);
		return MHD_NO;
	}
	c->next = h->sse;
	h->sse = c;
	add_headers(h, r, "text/event-stream");
	/* A stream is idle by design: no inactivity timeout for it. */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int)0);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the page's API ----------------------------------------------------- */

static json_t *
state_json(struct http *h, struct session *s)
{
	const struct alpr_conf *conf = alertd_conf(h->a);
	json_t *o;

	o = json_pack("{s:s, s:o, s:b, s:{s:i, s:i}, s:s}",
	    "csrf", s->csrf,
	    "user", s->user != NULL ? json_string(s->user) : json_null(),
	    "control", ctl_up(h->a->ctl),
	    "night", "start", (int)conf->alert.night_start_hour,
	    "end", (int)conf->alert.night_end_hour,
	    "alphabet", conf->alert.alphabet == CONF_ALPHABET_NATO ? "nato" : "apco");
	if (o != NULL && s->user != NULL) {
		json_object_set_new(o, "hits", hits_list_json(h->a->hits));
		json_object_set_new(o, "health", alertd_health_json(h->a));
		json_object_set_new(o, "audio", audio_json(h->a->audio));
		json_object_set_new(o, "lists", lists_json(h->a->lists));
		/* A page (re)loads: the lists may have changed since the last check. */
		lists_refresh(h->a->lists);
	}
	return o;
}

static void
req_answer(struct req *q, unsigned status, json_t *resp)
{
	struct req **pp;

	for (pp = &q->h->waiting; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	q->status = status;
	json_decref(q->resp);
	q->resp = resp;
	q->answered = true;
	if (q->waiting) {
		q->waiting = false;
		MHD_resume_connection(q->conn);
		kick(q->h);
	}
}

/*
 * Asks alpr-matchd (args is consumed) and suspends the connection until
 * cb answers it; when matchd cannot be asked, answers 503 with `down`.
 */
static enum MHD_Result
ask_matchd(struct req *q, struct MHD_Connection *conn, const char *op, const char *token,
    const char *case_no, const char *reason, json_t *args, ctl_cb cb, const char *down)
{
	int r = ctl_request(q->h->a->ctl, op, token, case_no, reason, args, cb, q);

	json_decref(args);
	if (r < 0)
		return send_error(q->h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, down);
	q->waiting = true;
	q->next = q->h->waiting;
	q->h->waiting = q;
	MHD_suspend_connection(q->conn);
	return MHD_YES;
}

static json_t *
error_json(const char *why)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", why != NULL ? why : "failed");
}

static void logout_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg);

static void
login_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
	struct req *q = arg;
	struct http *h = q->h;
	const struct alpr_conf *conf = alertd_conf(h->a);
	struct session *old, *s;
	const char *token = NULL, *user = NULL;
	json_t *result;

	if (more)
		return;
	if (!ok) {
		log_notice("login of \"%s\" on the MDC page refused: %s", q->user, err);
		req_answer(q, reply == NULL ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_FORBIDDEN,
		    error_json(err));
		return;
	}
	result = json_object_get(reply, "result");
	if (json_unpack(result, "{s:s, s?s}", "session", &token, "user", &user) < 0) {
		req_answer(q, MHD_HTTP_BAD_GATEWAY, error_json("malformed reply from alpr-matchd"));
		return;
	}
	if (json_is_false(json_object_get(result, "training_current"))) {
		/* R2: no alerts to work without current training; the session goes again. */
		log_notice("login of \"%s\" on the MDC page refused: training not current", q->user);
		(void)ctl_request(h->a->ctl, "logout", token, NULL, NULL, NULL, logout_cb, NULL);
		req_answer(q, MHD_HTTP_FORBIDDEN, error_json("your ALPR training on the current policy"
		    " is not acknowledged (policy IV.G): acknowledge it before using the system"));
		return;
	}
	/* A new session id on login: a cookie planted before cannot ride along. */
	if ((old = session_find(h, q->session)) != NULL)
		session_drop(h, old);
	if ((s = session_new(h)) == NULL ||
	    (s->user = strdup(user != NULL ? user : q->user)) == NULL ||
	    (s->token = strdup(token)) == NULL) {
		if (s != NULL)
			session_drop(h, s);
		req_answer(q, MHD_HTTP_INTERNAL_SERVER_ERROR, error_json("out of memory"));
		return;
	}
	s->expires_usec = mono_now() + conf->policy.session_timeout_min * 60 * USEC_PER_SEC;
	log_info("\"%s\" logged in on the MDC page", s->user);
	free(q->set_cookie);
	q->set_cookie = cookie_for(h, s);
	req_answer(q, MHD_HTTP_OK, state_json(h, s));
}

static void
step_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
	struct req *q = arg;
	struct http *h = q->h;
	struct hit *hit;
	json_t *o;

	if (more)
		return;
	if (!ok) {
		log_notice("hit=%lld: step to %s by \"%s\" refused by alpr-matchd: %s",
		    (long long)q->hit, policy_hit_state_name(q->to), q->user, err);
		req_answer(q, reply == NULL ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_CONFLICT,
		    error_json(err));
		return;
	}
	if ((hit = hits_find(h->a->hits, q->hit)) == NULL) {
		req_answer(q, MHD_HTTP_GONE, error_json("hit no longer on display"));
		return;
	}
	hits_stepped(h->a->hits, hit, q->to, q->step_disposition[0] != '\0' ? q->step_disposition : NULL,
	    q->user, q->case_no);
	o = hit_json(hit);
	req_answer(q, MHD_HTTP_OK, o);
}

#define EXPORT_FILE_MAX (16u << 20)

static char *
base64(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out, *o;
	size_t i;

	if ((out = o = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = tab[p[i + 2] & 63];
	}
	if (i < n) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (i + 1 < n ? p[i + 1] >> 4 : 0)];
		*o++ = i + 1 < n ? tab[(p[i + 1] & 15) << 2] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* One streamed file of an export: {"name", "size", "sha256", "base64"}. */
static int
export_file(struct req *q, json_t *part, int fd)
{
	json_t *file = json_object_get(part, "file"), *o;
	const char *name;
	json_int_t size;
	size_t have;
	void *map;
	char *b64;
	int r;

	if (json_unpack(file, "{s:s, s:I}", "name", &name, "size", &size) < 0 || fd < 0)
		return -EBADMSG;
	if ((r = ipc_memfd_check(fd, &have)) < 0)
		return r;
	if (have > EXPORT_FILE_MAX || (size_t)size > have)
		return -EFBIG;
	if (size == 0)
		b64 = strdup("");
	else {
		if ((map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
			return -errno;
		b64 = base64(map, size);
		munmap(map, size);
	}
	if (b64 == NULL)
		return -ENOMEM;
	o = json_pack("{s:s, s:I, s:O?, s:s}", "name", name, "size", size,
	    "sha256", json_object_get(file, "sha256"), "base64", b64);
	free(b64);
	if (o == NULL || (q->files == NULL && (q->files = json_array()) == NULL))
		return -ENOMEM;
	return json_array_append_new(q->files, o);
}

static void
export_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
	struct req *q = arg;
	json_t *o;
	int r;

	if (more) {
		/* A file of the report (hit.json, hit.html, images, MANIFEST.sha256). */
		if (ok && json_object_get(reply, "file") != NULL &&
		    (r = export_file(q, reply, fd)) < 0)
			log_warn_r(r, "hit=%lld: a file of the export, ignoring", (long long)q->hit);
		return;
	}
	if (!ok) {
		log_notice("hit=%lld: export by \"%s\" refused: %s", (long long)q->hit, q->user, err);
		req_answer(q, reply == NULL ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_FORBIDDEN,
		    error_json(err));
		return;
	}
	log_info("hit=%lld: exported for the report by \"%s\"", (long long)q->hit, q->user);
	o = json_pack("{s:b, s:O?, s:O}", "ok", 1, "result", json_object_get(reply, "result"),
	    "files", q->files != NULL ? q->files : json_array());
	req_answer(q, MHD_HTTP_OK, o);
}

static void
logout_cb(json_t *reply, bool ok, bool more, int fd, const char *err, void *arg)
{
}

/* Case and CAD numbers: short, printable, no markup. */
static bool
case_ok(const char *c)
{
	size_t n = c != NULL ? strlen(c) : 0;
	size_t i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!(c[i] >= '0' && c[i] <= '9') && !(c[i] >= 'A' && c[i] <= 'Z') &&
		    !(c[i] >= 'a' && c[i] <= 'z') && c[i] != '-' && c[i] != '/' && c[i] != '.')
			return false;
	return true;
}

static enum MHD_Result
do_post(struct http *h, struct req *q, struct session *s, const char *url, json_t *body)
{
	struct MHD_Connection *conn = q->conn;
	const char *user, *password, *to_name, *case_no = NULL, *note = NULL, *reason = NULL;
	const char *disposition = NULL;
	long long id;
	char tail[16];
	struct hit *hit;
	json_t *args;
	int to, r, mute = -1, volume = -1;

	if (strcmp(url, "/api/login") == 0) {
		if (json_unpack(body, "{s:s, s:s}", "user", &user, "password", &password) < 0 ||
		    *user == '\0' || strlen(user) > 64 || strlen(password) > 1024)
			return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "user and password needed");
		if ((args = json_pack("{s:s, s:s}", "user", user, "password", password)) == NULL)
			return MHD_NO;
		memcpy(q->session, s->id, sizeof(q->session));
		q->user = strdup(user);
		return ask_matchd(q, conn, "login", NULL, NULL, NULL, args, login_cb,
		    "alpr-matchd is not answering; try again");
	}
	if (s->user == NULL)
		return send_error(h, conn, MHD_HTTP_UNAUTHORIZED, "log in first");
	if (strcmp(url, "/api/logout") == 0) {
		log_info("\"%s\" logged out of the MDC page", s->user);
		(void)ctl_request(h->a->ctl, "logout", s->token, NULL, NULL, NULL, logout_cb, NULL);
		session_drop(h, s);
		q->set_cookie = cookie_for(h, NULL);
		return send_json(h, conn, MHD_HTTP_OK, NULL, q->set_cookie, NULL);
	}
	if (strcmp(url, "/api/audio") == 0) {
		if (json_unpack(body, "{s?b, s?i}", "mute", &mute, "volume", &volume) < 0 ||
		    volume > 100 || (volume < 0 && volume != -1))
			return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "mute and volume 0-100");
		audio_set(h->a->audio, mute, volume);
		args = audio_json(h->a->audio);
		http_push(h, "audio", args);
		r = send_json(h, conn, MHD_HTTP_OK, args, NULL, NULL);
		json_decref(args);
		return r;
	}
	/* /api/hit/N/step, /api/hit/N/ack, /api/hit/N/export */
	if (sscanf(url, "/api/hit/%lld/%15s", &id, tail) != 2 || id < 0)
		return send_error(h, conn, MHD_HTTP_NOT_FOUND, "no such resource");
	if ((hit = hits_find(h->a->hits, id)) == NULL)
		return send_error(h, conn, MHD_HTTP_NOT_FOUND, "no such hit on display");
	if (strcmp(tail, "ack") == 0) {
		hits_ack(h->a->hits, hit);
		return send_json(h, conn, MHD_HTTP_OK, NULL, NULL, NULL);
	}
	if (json_unpack(body, "{s?s, s?s, s?s, s?s}", "case", &case_no, "note", &note,
	    "reason", &reason, "disposition", &disposition) < 0)
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "malformed request");
	if (case_no != NULL && *case_no == '\0')
		case_no = NULL;
	if (case_no != NULL && !case_ok(case_no))
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST,
		    "a case or CAD number is letters, digits, '-', '/' or '.', at most 32");
	if (note != NULL && strlen(note) > 500)
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "note too long");
	memcpy(q->session, s->id, sizeof(q->session));
	q->hit = id;
	q->user = strdup(s->user);
	q->case_no = case_no != NULL ? strdup(case_no) : NULL;
	if (strcmp(tail, "export") == 0) {
		/* R7: the report attachment, through the same op as `alprctl hit export`. */
		if (case_no == NULL)
			return send_error(h, conn, MHD_HTTP_BAD_REQUEST,
			    "a case or CAD number is needed to export a hit");
		if ((args = json_pack("{s:I}", "id", (json_int_t)id)) == NULL)
			return MHD_NO;
		/* The purpose is matchd's to judge (R3, R4): a crime report is an investigation. */
		return ask_matchd(q, conn, "hit_export", s->token, case_no,
		    reason != NULL ? reason : "investigation", args, export_cb,
		    "alpr-matchd is not answering; try again");
	}
	if (strcmp(tail, "step") != 0)
		return send_error(h, conn, MHD_HTTP_NOT_FOUND, "no such resource");
	if (json_unpack(body, "{s:s}", "to", &to_name) < 0 || (to = policy_hit_state_from_name(to_name)) < 0)
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "unknown step");
	if (to == HIT_DISPOSED && !policy_disposition_valid(disposition))
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "disposition is no-action, stop,"
		    " arrest, citation, vehicle-recovered or investigation");
	if (to != HIT_DISPOSED && disposition != NULL)
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "a disposition goes only with DISPOSED");
	if (policy_disposition_is_action(disposition) && case_no == NULL)
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST,
		    "a case or CAD number is needed when action is taken");
	if (policy_hit_step_allowed(hit->state, to) < 0) {
		/* Only a forged request gets here: the page offers legal steps only. */
		log_notice("hit=%lld: illegal step %s -> %s by \"%s\" refused",
		    (long long)id, policy_hit_state_name(hit->state), to_name, s->user);
		return send_error(h, conn, MHD_HTTP_CONFLICT, "not a legal step from this state");
	}
	q->to = to;
	if (disposition != NULL)
		snprintf(q->step_disposition, sizeof(q->step_disposition), "%s", disposition);
	if ((args = json_pack("{s:I, s:s, s:s*}", "id", (json_int_t)id, "to", to_name,
	    "disposition", disposition)) == NULL)
		return MHD_NO;
	return ask_matchd(q, conn, "hit_transition", s->token, case_no, "hit-verification", args,
	    step_cb, "alpr-matchd is not answering; the step is not recorded, try again");
}

/* Host must be the address we serve: a rebinding DNS name gets nothing. */
static bool
host_ok(struct http *h, struct MHD_Connection *conn)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char alt[160];

	if (host == NULL)
		return false;
	if (strcmp(host, h->host_port) == 0)
		return true;
	snprintf(alt, sizeof(alt), "localhost:%u", h->port);
	return strcmp(host, alt) == 0;
}

static bool
origin_ok(struct http *h, struct MHD_Connection *conn)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char want[200];

	if (origin == NULL)
		return true;	/* not a browser's cross-site request; CSRF token still needed */
	snprintf(want, sizeof(want), "%s://%s", h->tls ? "https" : "http", host != NULL ? host : "");
	return strcmp(origin, want) == 0;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *q = *con_cls;
	const struct page_file *f;
	struct session *s;
	const char *csrf;
	const void *data;
	size_t len;
	json_t *body, *o;
	enum MHD_Result ret;
	bool post;

	if (q == NULL) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		q->h = h;
		q->conn = conn;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (q->len + *upload_size > BODY_MAX)
			q->too_big = true;
		else {
			char *nb = realloc(q->body, q->len + *upload_size + 1);

			if (nb == NULL)
				return MHD_NO;
			q->body = nb;
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
			q->body[q->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->answered) {
		ret = send_json(h, conn, q->status, q->resp, q->set_cookie, q->disposition);
		q->answered = false;
		return ret;
	}
	if (q->waiting)
		return MHD_YES;
	if (!host_ok(h, conn))
		return send_error(h, conn, MHD_HTTP_MISDIRECTED_REQUEST, "unknown host");
	post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return send_error(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");

	if (!post)
		for (f = page_files; f->path != NULL; f++)
			if (strcmp(url, f->path) == 0)
				return send_buf(h, conn, MHD_HTTP_OK, f->type, f->data, page_len(f),
				    MHD_RESPMEM_PERSISTENT, NULL, NULL);

	s = session_find(h, MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE));
	if (!post && strcmp(url, "/api/state") == 0) {
		char *cookie = NULL;

		if (s == NULL) {
			if ((s = session_new(h)) == NULL)
				return send_error(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "too many sessions");
			cookie = q->set_cookie = cookie_for(h, s);
		}
		o = state_json(h, s);
		ret = send_json(h, conn, MHD_HTTP_OK, o, cookie, NULL);
		json_decref(o);
		return ret;
	}
	if (s == NULL)
		return send_error(h, conn, MHD_HTTP_UNAUTHORIZED, "no session");
	if (!post) {
		if (s->user == NULL)
			return send_error(h, conn, MHD_HTTP_UNAUTHORIZED, "log in first");
		if (strcmp(url, "/api/events") == 0)
			return start_sse(h, conn, s);
		if (strncmp(url, "/img/", 5) == 0 &&
		    hits_image(h->a->hits, url + 5, &data, &len) == 0)
			return send_buf(h, conn, MHD_HTTP_OK, "image/jpeg", data, len,
			    MHD_RESPMEM_MUST_COPY, NULL, NULL);
		return send_error(h, conn, MHD_HTTP_NOT_FOUND, "not found");
	}
	csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	if (csrf == NULL || !secret_eq(csrf, s->csrf) || !origin_ok(h, conn)) {
		log_notice("POST %s without a valid CSRF token refused", url);
		return send_error(h, conn, MHD_HTTP_FORBIDDEN, "missing or wrong CSRF token");
	}
	if (q->too_big)
		return send_error(h, conn, MHD_HTTP_CONTENT_TOO_LARGE, "request too large");
	body = q->len > 0 ? json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, NULL) : json_object();
	if (!json_is_object(body)) {
		json_decref(body);
		return send_error(h, conn, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
	}
	ret = do_post(h, q, s, url, body);
	json_decref(body);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req *q = *con_cls, **pp;

	if (q == NULL)
		return;
	for (pp = &h->waiting; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	ctl_cancel(h->a->ctl, q);
	json_decref(q->resp);
	json_decref(q->files);
	free(q->body);
	free(q->set_cookie);
	free(q->case_no);
	free(q->user);
	free(q);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", buf);
}

/* ---- the loop ----------------------------------------------------------- */

static void
run_mhd(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	(void)MHD_run(h->mhd);
	(void)sd_event_now(h->a->event, CLOCK_MONOTONIC, &now);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
		(void)sd_event_source_set_time(h->timer, now + ms * 1000);
		(void)sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
	} else
		(void)sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
}

static int
on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	run_mhd(userdata);
	return 0;
}

static int
on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	run_mhd(userdata);
	return 0;
}

static int
on_defer(sd_event_source *s, void *userdata)
{
	run_mhd(userdata);
	return 0;
}

/* ---- listening ---------------------------------------------------------- */

static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/*
 * "127.0.0.1:8088", "[::1]:8088" or "localhost:8088".  Returns the bound
 * socket or -errno; a non-loopback address without TLS is -EPERM.
 */
static int
listen_on(struct http *h, const char *spec, bool tls)
{
	char host[128];
	const char *colon, *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	int fd, r, one = 1;

	if ((colon = strrchr(spec, ':')) == NULL || colon == spec ||
	    (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, colon - spec);
	host[colon - spec] = '\0';
	port = colon + 1;
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return -EINVAL;
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
		return -EINVAL;
	if (!is_loopback(ai->ai_addr) && !tls) {
		freeaddrinfo(ai);
		return -EPERM;
	}
	h->port = ntohs(ai->ai_family == AF_INET ?
	    ((struct sockaddr_in *)ai->ai_addr)->sin_port :
	    ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
	snprintf(h->host_port, sizeof(h->host_port), "%s", spec);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		goto out;
	}
	r = fd;
out:
	freeaddrinfo(ai);
	return r;
}

static char *
read_file(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int
http_new(struct alertd *a, struct http **ret)
{
	const struct alpr_conf *conf = alertd_conf(a);
	const union MHD_DaemonInfo *info;
	char *key = NULL, *cert = NULL;
	struct http *h;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	int r;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->a = a;
	h->listen_fd = -1;
	h->tls = conf->alert.tls_certificate[0] != '\0' && conf->alert.tls_key[0] != '\0';
	if (h->tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			log_warnx("TLS keys are set but libmicrohttpd has no TLS");
			r = -ENOTSUP;
			goto fail;
		}
		if ((cert = read_file(conf->alert.tls_certificate)) == NULL ||
		    (key = read_file(conf->alert.tls_key)) == NULL) {
			r = -errno;
			log_warn("reading TLSCertificate= or TLSKey=");
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	if ((h->listen_fd = listen_on(h, conf->alert.listen, h->tls)) < 0) {
		r = h->listen_fd;
		if (r == -EPERM)
			log_warnx("Listen=%s is not a loopback address: the MDC page is served "
			    "beyond this machine only with TLSCertificate= and TLSKey= set",
			    conf->alert.listen);
		else
			log_warn_r(r, "listening on Listen=%s", conf->alert.listen);
		goto fail;
	}
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)32,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	    h->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, key,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		r = -EIO;
		log_warnx("starting libmicrohttpd on %s failed", conf->alert.listen);
		goto fail;
	}
	h->listen_fd = -1;	/* MHD owns it now */
	if ((info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
		r = -EIO;
		goto fail;
	}
	if ((r = sd_event_add_io(a->event, &h->io, info->epoll_fd, EPOLLIN, on_io, h)) < 0 ||
	    (r = sd_event_add_time(a->event, &h->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, h)) < 0 ||
	    (r = sd_event_add_defer(a->event, &h->defer, on_defer, h)) < 0 ||
	    (r = sd_event_add_time_relative(a->event, &h->keepalive, CLOCK_MONOTONIC,
	    KEEPALIVE_USEC, USEC_PER_SEC, on_keepalive, h)) < 0)
		goto fail;
	(void)sd_event_source_set_enabled(h->keepalive, SD_EVENT_ON);
	run_mhd(h);
	free(key);
	free(cert);
	log_info("MDC page on %s://%s/", h->tls ? "https" : "http", conf->alert.listen);
	*ret = h;
	return 0;
fail:
	free(key);
	free(cert);
	http_free(h);
	return r;
}

struct http *
http_free(struct http *h)
{
	struct sse *c;

	if (h == NULL)
		return NULL;
	/* MHD may not stop with connections suspended: wake them all to end. */
	while (h->waiting != NULL)
		req_answer(h->waiting, MHD_HTTP_SERVICE_UNAVAILABLE, error_json("stopping"));
	for (c = h->sse; c != NULL; c = c->next) {
		c->closed = true;
		if (c->suspended) {
			c->suspended = false;
			MHD_resume_connection(c->conn);
		}
	}
	if (h->mhd != NULL) {
		(void)MHD_run(h->mhd);
		MHD_stop_daemon(h->mhd);
	}
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	sd_event_source_disable_unref(h->defer);
	sd_event_source_disable_unref(h->keepalive);
	while (h->sessions != NULL) {
		struct session *s = h->sessions;

		h->sessions = s->next;
		session_free(s);
	}
	free(h);
	return NULL;
}
