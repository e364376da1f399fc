/*
 * Connections, servers and reconnecting clients on an sd-event loop: see
 * ipc.h.  Runs in every daemon; trusts nothing a peer sends.
 *
 * A connection's life: accepted or connected -> HELLO both ways (nothing
 * else is accepted before) -> messages dispatched through the owner's
 * handler table -> closed on EOF, error or a protocol violation.  Closing
 * is deferred to a loop iteration of its own so that a handler may close
 * the connection it is running on.
 *
 * Ownership: a queued message owns a dup of any descriptor it carries; the
 * client's outbox owns each unacknowledged reliable message until the ACK
 * that covers it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "ipc/ipc.h"

#define RECV_BURST 64		/* messages per wake-up before others get a turn */
#define BACKOFF_MIN_USEC 50000
#define BACKOFF_MAX_USEC 2000000
#define DEDUP_SLOTS 64		/* senders whose acknowledged seq a server remembers */
/*
 * A peer that connects and never says HELLO would hold one of the
 * server's IPC_CONN_MAX slots for ever (a stuck or hostile client): it
 * gets this long, then the connection is closed.
 */
#define HELLO_TIMEOUT_USEC (5 * 1000000ULL)

struct out {
	struct out *next;
	int fd;
	uint64_t seq;
	size_t len;
	unsigned char data[];
};

struct outq {
	struct out *head, **tail;
	size_t len;
};

struct ipc_conn {
	int fd;
	sd_event_source *io, *closer;
	sd_event_source *hello_timer;	/* until the peer's HELLO */
	struct ipc_server *server;	/* exactly one of server, client */
	struct ipc_client *client;
	struct ipc_conn *next;		/* in the server's list */
	bool hello_done, closing;
	uint32_t peer_role;
	char peer_name[64];
	uint64_t peer_instance;
	uid_t uid;
	pid_t pid;
	uint64_t ack_pending;		/* cumulative ACK not yet written, or 0 */
	struct outq q;
	void *data;
};

/* What server and client share: identity, handlers, loop. */
struct endpoint {
	sd_event *event;
	uint32_t role, peers;
	char *name;
	uint64_t instance;
	const struct ipc_ops *ops;
	void *userdata;
};

struct ipc_server {
	struct endpoint ep;
	int listen_fd;
	sd_event_source *io;
	struct ipc_conn *conns;
	size_t n_conns;
	struct {
		uint64_t instance, acked;
	} dedup[DEDUP_SLOTS];
	unsigned dedup_next;
};

struct ipc_client {
	struct endpoint ep;
	char *path;
	struct ipc_conn *conn;
	sd_event_source *timer;
	uint64_t backoff_usec;
	uint64_t connected_usec;	/* CLOCK_MONOTONIC of the last connect */
	uint64_t next_seq;
	struct outq outbox;		/* unacknowledged, in seq order */
	struct out *unsent;		/* first outbox entry not yet written on conn */
	void (*on_ack)(uint64_t, void *);
	void (*on_refused)(uint64_t, const char *, void *);
};

static struct endpoint *
conn_ep(const struct ipc_conn *c)
{
	return c->server != NULL ? &c->server->ep : &c->client->ep;
}

static void
outq_init(struct outq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->len = 0;
}

static void
out_free(struct out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

static void
outq_clear(struct outq *q)
{
	struct out *o;

	while ((o = q->head) != NULL) {
		q->head = o->next;
		out_free(o);
	}
	outq_init(q);
}

static struct out *
out_new(uint8_t type, uint32_t flags, uint64_t seq, const json_t *body, int fd)
{
	unsigned char buf[IPC_MSG_MAX];
	struct out *o;
	ssize_t n;

	if ((n = ipc_encode(buf, type, flags | (fd >= 0 ? IPC_F_FD : 0), seq, body)) < 0) {
		errno = -n;
		return NULL;
	}
	if ((o = malloc(sizeof(*o) + n)) == NULL)
		return NULL;
	o->next = NULL;
	o->seq = seq;
	o->len = n;
	memcpy(o->data, buf, n);
	o->fd = -1;
	if (fd >= 0 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		free(o);
		return NULL;
	}
	return o;
}

static void
outq_push(struct outq *q, struct out *o)
{
	*q->tail = o;
	q->tail = &o->next;
	q->len++;
}

static void conn_close_now(struct ipc_conn *c);

static int
closer_cb(sd_event_source *s, void *userdata)
{
	conn_close_now(userdata);
	return 0;
}

void
ipc_conn_close(struct ipc_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	if (why != NULL)
		log_warnx("closing connection to %s \"%s\" (pid %d): %s",
		    ipc_role_name(c->peer_role), c->peer_name, (int)c->pid, why);
	(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	if (sd_event_add_defer(conn_ep(c)->event, &c->closer, closer_cb, c) < 0)
		conn_close_now(c);
}

/*
 * Writes what the socket takes now, many messages per system call: the
 * pending ACK, the queue, then (a client once HELLO is done) the outbox
 * from its first unsent entry.  Waits for EPOLLOUT for the rest.
 */
static void
conn_flush(struct ipc_conn *c)
{
	struct ipc_client *cl = c->client;
	struct out *items[IPC_SEND_BATCH], *o;
	struct ipc_iov v[IPC_SEND_BATCH];
	unsigned char ack[IPC_HDR_SIZE];
	int i, k, n;

	while (!c->closing) {
		n = 0;
		if (c->ack_pending != 0) {
			v[n].data = ack;
			v[n].len = ipc_encode(ack, IPC_MSG_ACK, 0, c->ack_pending, NULL);
			v[n].fd = -1;
			items[n++] = NULL;
		}
		for (o = c->q.head; o != NULL && n < IPC_SEND_BATCH; o = o->next) {
			v[n] = (struct ipc_iov){ o->data, o->len, o->fd };
			items[n++] = o;
		}
		for (o = cl != NULL && c->hello_done ? cl->unsent : NULL; o != NULL &&
		    n < IPC_SEND_BATCH; o = o->next) {
			v[n] = (struct ipc_iov){ o->data, o->len, o->fd };
			items[n++] = o;
		}
		if (n == 0)
			break;
		k = ipc_send_many(c->fd, v, n);
		if (k == -EAGAIN)
			goto wait;
		if (k < 0) {
			ipc_conn_close(c, strerror(-k));
			return;
		}
		for (i = 0; i < k; i++) {
			if ((o = items[i]) == NULL) {
				c->ack_pending = 0;
			} else if (o == c->q.head) {
				c->q.head = o->next;
				if (c->q.head == NULL)
					c->q.tail = &c->q.head;
				c->q.len--;
				out_free(o);
			} else
				cl->unsent = o->next;	/* stays in the outbox until acknowledged */
		}
		if (k < n)
			goto wait;
	}
	(void)sd_event_source_set_io_events(c->io, EPOLLIN);
	return;
wait:
	(void)sd_event_source_set_io_events(c->io, EPOLLIN | EPOLLOUT);
}

int
ipc_conn_send(struct ipc_conn *c, uint8_t type, uint32_t flags, uint64_t seq,
    const json_t *body, int fd)
{
	struct out *o;

	if (c->closing)
		return -ENOTCONN;
	if (c->q.len >= IPC_OUTQ_MAX)
		return -ENOBUFS;
	if ((o = out_new(type, flags, seq, body, fd)) == NULL)
		return -errno;
	outq_push(&c->q, o);
	conn_flush(c);
	return 0;
}

static void
dedup_set(struct ipc_server *s, uint64_t instance, uint64_t acked)
{
	unsigned i;

	for (i = 0; i < DEDUP_SLOTS; i++)
		if (s->dedup[i].instance == instance) {
			if (acked > s->dedup[i].acked)
				s->dedup[i].acked = acked;
			return;
		}
	i = s->dedup_next++ % DEDUP_SLOTS;
	s->dedup[i].instance = instance;
	s->dedup[i].acked = acked;
}

static uint64_t
dedup_get(const struct ipc_server *s, uint64_t instance)
{
	unsigned i;

	for (i = 0; i < DEDUP_SLOTS; i++)
		if (s->dedup[i].instance == instance)
			return s->dedup[i].acked;
	return 0;
}

/*
 * ACKs are cumulative, so one pending value replaces a queue: acknowledging
 * never fails for want of queue space, however slowly the sender reads.
 */
int
ipc_conn_ack(struct ipc_conn *c, uint64_t seq)
{
	if (c->closing)
		return -ENOTCONN;
	if (c->server != NULL)
		dedup_set(c->server, c->peer_instance, seq);
	if (seq > c->ack_pending)
		c->ack_pending = seq;
	conn_flush(c);
	return 0;
}

static int
send_hello(struct ipc_conn *c)
{
	struct endpoint *ep = conn_ep(c);
	char inst[17];
	json_t *b;
	int r;

	snprintf(inst, sizeof(inst), "%016" PRIx64, ep->instance);
	b = json_pack("{s:i, s:s, s:s, s:s}", "version", IPC_VERSION, "role",
	    ipc_role_name(ep->role), "name", ep->name, "instance", inst);
	if (b == NULL)
		return -ENOMEM;
	r = ipc_conn_send(c, IPC_MSG_HELLO, 0, 0, b, -1);
	json_decref(b);
	return r;
}

static const char *
take_hello(struct ipc_conn *c, const struct ipc_msg *m)
{
	struct endpoint *ep = conn_ep(c);
	const char *role, *name, *inst;
	json_int_t version;
	char *end;

	if (m->type != IPC_MSG_HELLO || m->body == NULL)
		return "expected HELLO first";
	if (json_unpack(m->body, "{s:I, s:s, s:s, s:s}", "version", &version, "role", &role,
	    "name", &name, "instance", &inst) < 0)
		return "malformed HELLO";
	if (version != IPC_VERSION)
		return "unsupported protocol version";
	c->peer_role = ipc_role_from_name(role);
	if (c->peer_role == 0 || !(c->peer_role & ep->peers))
		return "role not admitted on this socket";
	if (strlen(name) >= sizeof(c->peer_name) || strlen(inst) != 16)
		return "malformed HELLO";
	errno = 0;
	c->peer_instance = strtoull(inst, &end, 16);
	if (errno != 0 || *end != '\0')
		return "malformed HELLO";
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", name);
	return NULL;
}

static void
client_take_ack(struct ipc_client *cl, uint64_t seq)
{
	struct out *o;

	while ((o = cl->outbox.head) != NULL && o->seq <= seq) {
		if (cl->unsent == o)
			cl->unsent = o->next;
		cl->outbox.head = o->next;
		cl->outbox.len--;
		out_free(o);
	}
	if (cl->outbox.head == NULL)
		cl->outbox.tail = &cl->outbox.head;
	if (cl->on_ack != NULL)
		cl->on_ack(seq, cl->ep.userdata);
}

/*
 * The receiver refused the reliable message seq (ACK with IPC_F_ERROR): it
 * leaves the outbox (it would be refused again on every resend and hold up
 * the rest) and the sender decides what becomes of it.
 */
static const char *
client_take_refusal(struct ipc_client *cl, struct ipc_msg *m)
{
	struct out **pp, *o;
	const char *why = NULL;

	for (pp = &cl->outbox.head; (o = *pp) != NULL; pp = &o->next)
		if (o->seq == m->seq)
			break;
	if (o == NULL)
		return NULL;	/* acknowledged meanwhile, or refused twice */
	if (cl->unsent == o)
		cl->unsent = o->next;
	*pp = o->next;
	if (cl->outbox.tail == &o->next)
		cl->outbox.tail = pp;
	cl->outbox.len--;
	out_free(o);
	if (m->body != NULL)
		why = json_string_value(json_object_get(m->body, "error"));
	if (cl->on_refused != NULL)
		cl->on_refused(m->seq, why != NULL ? why : "refused", cl->ep.userdata);
	else
		log_warnx("%s: message seq=%llu refused by the receiver, dropped: %s", cl->ep.name,
		    (unsigned long long)m->seq, why != NULL ? why : "no reason");
	return NULL;
}

int
ipc_conn_refuse(struct ipc_conn *c, uint64_t seq, const char *why)
{
	json_t *b = json_pack("{s:s}", "error", why);
	int r;

	if (b == NULL)
		return -ENOMEM;
	r = ipc_conn_send(c, IPC_MSG_ACK, IPC_F_ERROR, seq, b, -1);
	json_decref(b);
	return r;
}

/* Returns a reason to close the connection, or NULL. */
static const char *
dispatch(struct ipc_conn *c, struct ipc_msg *m)
{
	struct endpoint *ep = conn_ep(c);
	const struct ipc_handler *h;
	const char *why;

	if (!c->hello_done) {
		if ((why = take_hello(c, m)) != NULL)
			return why;
		c->hello_done = true;
		c->hello_timer = sd_event_source_disable_unref(c->hello_timer);
		log_debug("%s: peer %s \"%s\" pid %d said HELLO", ep->name,
		    ipc_role_name(c->peer_role), c->peer_name, (int)c->pid);
		if (ep->ops->connected != NULL && ep->ops->connected(c, ep->userdata) < 0)
			return "refused by the daemon";
		if (c->client != NULL)
			c->client->unsent = c->client->outbox.head;	/* resend */
		conn_flush(c);
		return NULL;
	}
	if (m->type == IPC_MSG_HELLO)
		return "second HELLO";
	if (m->type == IPC_MSG_ACK) {
		if (c->client == NULL || m->seq >= c->client->next_seq)
			return "ACK for a message never sent";
		if (m->flags & IPC_F_ERROR)
			return client_take_refusal(c->client, m);
		client_take_ack(c->client, m->seq);
		return NULL;
	}
	if ((m->flags & IPC_F_RELIABLE) && c->server != NULL &&
	    m->seq <= dedup_get(c->server, c->peer_instance)) {
		/* A resend of what we already acknowledged: say so again. */
		(void)ipc_conn_ack(c, dedup_get(c->server, c->peer_instance));
		return NULL;
	}
	for (h = ep->ops->table; h != NULL && h->type != 0; h++)
		if (h->type == m->type)
			break;
	if (h == NULL || h->type == 0)
		return "unexpected message type";
	if (!(h->roles & c->peer_role))
		return "message type not allowed from this peer";
	if (h->fd != IPC_FD_MAYBE && (bool)h->fd != (m->fd >= 0))
		return h->fd ? "missing descriptor" : "unexpected descriptor";
	if (h->body && m->body == NULL)
		return "missing payload";
	if (h->fn(c, m, ep->userdata) < 0)
		return "rejected by handler";
	return NULL;
}

static int
conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ipc_conn *c = userdata;
	struct ipc_msg m[IPC_RECV_BATCH];
	const char *why[IPC_RECV_BATCH], *bad;
	int status[IPC_RECV_BATCH], got = 0, i, k;
	char text[96];

	if (revents & EPOLLOUT)
		conn_flush(c);
	while (got < RECV_BURST && !c->closing) {
		k = ipc_recv_many(c->fd, m, status, why, IPC_RECV_BATCH);
		if (k == -EAGAIN)
			break;
		if (k < 0) {
			ipc_conn_close(c, strerror(-k));
			break;
		}
		for (i = 0; i < k; i++) {
			if (c->closing) {
				/* after a protocol error the rest of the batch is dropped */
			} else if (status[i] == 0) {
				ipc_conn_close(c, NULL);
			} else if (status[i] < 0) {
				ipc_conn_close(c, why[i]);
			} else if ((bad = dispatch(c, &m[i])) != NULL) {
				snprintf(text, sizeof(text), "%s (%s)", bad, ipc_type_name(m[i].type));
				ipc_conn_close(c, text);
			}
			if (status[i] > 0)
				ipc_msg_clear(&m[i]);
		}
		got += k;
		if (k < IPC_RECV_BATCH)
			break;
	}
	if ((revents & (EPOLLHUP | EPOLLERR)) && got == 0 && !c->closing)
		ipc_conn_close(c, NULL);
	return 0;
}

static int
hello_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ipc_conn *c = userdata;

	if (!c->hello_done)
		ipc_conn_close(c, "no HELLO within 5 s");
	return 0;
}

static int
conn_new(struct endpoint *ep, int fd, struct ipc_conn **ret)
{
	struct ipc_conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->fd = fd;
	outq_init(&c->q);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->uid = cred.uid;
		c->pid = cred.pid;
	}
	r = sd_event_add_io(ep->event, &c->io, fd, EPOLLIN, conn_io, c);
	if (r < 0) {
		free(c);
		return r;
	}
	r = sd_event_add_time_relative(ep->event, &c->hello_timer, CLOCK_MONOTONIC,
	    HELLO_TIMEOUT_USEC, 0, hello_timeout, c);
	if (r < 0) {
		sd_event_source_disable_unref(c->io);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static void client_schedule(struct ipc_client *cl);

static void
conn_close_now(struct ipc_conn *c)
{
	struct endpoint *ep = conn_ep(c);
	struct ipc_conn **p;
	uint64_t now;

	if (c->hello_done && ep->ops->disconnected != NULL)
		ep->ops->disconnected(c, ep->userdata);
	if (c->server != NULL) {
		for (p = &c->server->conns; *p != NULL; p = &(*p)->next)
			if (*p == c) {
				*p = c->next;
				c->server->n_conns--;
				break;
			}
	} else {
		/* A connection that held for a while starts the backoff afresh. */
		(void)sd_event_now(ep->event, CLOCK_MONOTONIC, &now);
		if (now - c->client->connected_usec > BACKOFF_MAX_USEC)
			c->client->backoff_usec = BACKOFF_MIN_USEC;
		c->client->conn = NULL;
		c->client->unsent = NULL;
		client_schedule(c->client);
	}
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->closer);
	sd_event_source_disable_unref(c->hello_timer);
	outq_clear(&c->q);
	close(c->fd);
	free(c);
}

uint32_t
ipc_conn_peer_role(const struct ipc_conn *c)
{
	return c->peer_role;
}

const char *
ipc_conn_peer_name(const struct ipc_conn *c)
{
	return c->peer_name;
}

uint64_t
ipc_conn_peer_instance(const struct ipc_conn *c)
{
	return c->peer_instance;
}

uid_t
ipc_conn_peer_uid(const struct ipc_conn *c)
{
	return c->uid;
}

pid_t
ipc_conn_peer_pid(const struct ipc_conn *c)
{
	return c->pid;
}

size_t
ipc_conn_queued(const struct ipc_conn *c)
{
	return c->q.len;
}

int
ipc_conn_set_sndbuf(struct ipc_conn *c, int bytes)
{
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

void
ipc_conn_set_data(struct ipc_conn *c, void *data)
{
	c->data = data;
}

void *
ipc_conn_get_data(const struct ipc_conn *c)
{
	return c->data;
}

static int
endpoint_init(struct endpoint *ep, sd_event *e, uint32_t role, const char *name,
    uint32_t peers, const struct ipc_ops *ops, void *userdata)
{
	ep->event = sd_event_ref(e);
	ep->role = role;
	ep->peers = peers;
	ep->ops = ops;
	ep->userdata = userdata;
	if (getrandom(&ep->instance, sizeof(ep->instance), 0) != sizeof(ep->instance))
		ep->instance = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	if ((ep->name = strdup(name)) == NULL)
		return -ENOMEM;
	return 0;
}

static void
endpoint_clear(struct endpoint *ep)
{
	free(ep->name);
	sd_event_unref(ep->event);
}

/* ---- server ------------------------------------------------------------- */

static int
server_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ipc_server *srv = userdata;
	struct ipc_conn *c;
	int cfd, r;

	cfd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept on %s socket, ignoring", srv->ep.name);
		return 0;
	}
	if (srv->n_conns >= IPC_CONN_MAX) {
		log_warnx("too many connections to %s, refusing one", srv->ep.name);
		close(cfd);
		return 0;
	}
	if ((r = conn_new(&srv->ep, cfd, &c)) < 0) {
		log_warn_r(r, "new connection, ignoring");
		close(cfd);
		return 0;
	}
	c->server = srv;
	c->next = srv->conns;
	srv->conns = c;
	srv->n_conns++;
	if ((r = send_hello(c)) < 0)
		ipc_conn_close(c, "cannot send HELLO");
	return 0;
}

int
ipc_server_new(sd_event *e, int listen_fd, uint32_t role, const char *name, uint32_t peers,
    const struct ipc_ops *ops, void *userdata, struct ipc_server **ret)
{
	struct ipc_server *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((r = endpoint_init(&s->ep, e, role, name, peers, ops, userdata)) < 0)
		goto fail;
	s->listen_fd = listen_fd;
	(void)fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	if ((r = sd_event_add_io(e, &s->io, listen_fd, EPOLLIN, server_accept, s)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	endpoint_clear(&s->ep);
	free(s);
	return r;
}

struct ipc_server *
ipc_server_free(struct ipc_server *s)
{
	if (s == NULL)
		return NULL;
	/* The owner hears of each connection's end, so it can free its data. */
	while (s->conns != NULL)
		conn_close_now(s->conns);
	sd_event_source_disable_unref(s->io);
	close(s->listen_fd);
	endpoint_clear(&s->ep);
	free(s);
	return NULL;
}

void
ipc_server_foreach(struct ipc_server *s, void (*fn)(struct ipc_conn *, void *), void *arg)
{
	struct ipc_conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->hello_done && !c->closing)
			fn(c, arg);
	}
}

/* ---- client ------------------------------------------------------------- */

static int
client_try(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ipc_client *cl = userdata;
	struct ipc_conn *c;
	int fd, r;

	fd = ipc_connect(cl->path);
	if (fd < 0) {
		log_debug("connect to %s: %s", cl->path, strerror(-fd));
		goto retry;
	}
	if ((r = conn_new(&cl->ep, fd, &c)) < 0) {
		close(fd);
		goto retry;
	}
	c->client = cl;
	cl->conn = c;
	cl->unsent = NULL;
	(void)sd_event_now(cl->ep.event, CLOCK_MONOTONIC, &cl->connected_usec);
	if (send_hello(c) < 0)
		ipc_conn_close(c, "cannot send HELLO");
	return 0;
retry:
	client_schedule(cl);
	return 0;
}

/*
 * The next attempt, after the current backoff; the backoff doubles up to
 * its maximum until a connection gets through HELLO.
 */
static void
client_schedule(struct ipc_client *cl)
{
	uint64_t now;

	(void)sd_event_now(cl->ep.event, CLOCK_MONOTONIC, &now);
	now += cl->backoff_usec;
	cl->backoff_usec = cl->backoff_usec * 2 > BACKOFF_MAX_USEC ? BACKOFF_MAX_USEC :
	    cl->backoff_usec * 2;
	if (cl->timer == NULL) {
		if (sd_event_add_time(cl->ep.event, &cl->timer, CLOCK_MONOTONIC, now, 10000,
		    client_try, cl) < 0)
			fatalx("cannot add a reconnect timer");
		(void)sd_event_source_set_enabled(cl->timer, SD_EVENT_ONESHOT);
		return;
	}
	(void)sd_event_source_set_time(cl->timer, now);
	(void)sd_event_source_set_enabled(cl->timer, SD_EVENT_ONESHOT);
}

int
ipc_client_new(sd_event *e, const char *path, uint32_t role, const char *name,
    const struct ipc_ops *ops, void *userdata, struct ipc_client **ret)
{
	struct ipc_client *cl;
	int r;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return -ENOMEM;
	if ((r = endpoint_init(&cl->ep, e, role, name, IPC_ROLE_ANY, ops, userdata)) < 0)
		goto fail;
	if ((cl->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	outq_init(&cl->outbox);
	cl->next_seq = 1;
	cl->backoff_usec = BACKOFF_MIN_USEC;
	if ((r = sd_event_add_time(e, &cl->timer, CLOCK_MONOTONIC, 0, 0, client_try, cl)) < 0)
		goto fail;
	(void)sd_event_source_set_enabled(cl->timer, SD_EVENT_ONESHOT);
	*ret = cl;
	return 0;
fail:
	free(cl->path);
	endpoint_clear(&cl->ep);
	free(cl);
	return r;
}

struct ipc_client *
ipc_client_free(struct ipc_client *cl)
{
	if (cl == NULL)
		return NULL;
	if (cl->conn != NULL) {
		if (cl->conn->hello_done && cl->ep.ops->disconnected != NULL)
			cl->ep.ops->disconnected(cl->conn, cl->ep.userdata);
		sd_event_source_disable_unref(cl->conn->io);
		sd_event_source_disable_unref(cl->conn->closer);
		outq_clear(&cl->conn->q);
		close(cl->conn->fd);
		free(cl->conn);
	}
	sd_event_source_disable_unref(cl->timer);
	outq_clear(&cl->outbox);
	free(cl->path);
	endpoint_clear(&cl->ep);
	free(cl);
	return NULL;
}

struct ipc_conn *
ipc_client_conn(struct ipc_client *cl)
{
	return cl->conn != NULL && cl->conn->hello_done && !cl->conn->closing ? cl->conn : NULL;
}

int
ipc_client_send(struct ipc_client *cl, uint8_t type, const json_t *body, int fd)
{
	struct ipc_conn *c = ipc_client_conn(cl);

	if (c == NULL)
		return -ENOTCONN;
	return ipc_conn_send(c, type, 0, 0, body, fd);
}

int
ipc_client_send_reliable(struct ipc_client *cl, uint8_t type, const json_t *body, int fd,
    uint64_t *ret_seq)
{
	struct out *o;

	if (cl->outbox.len >= IPC_OUTBOX_MAX)
		return -ENOBUFS;
	if ((o = out_new(type, IPC_F_RELIABLE, cl->next_seq, body, fd)) == NULL)
		return -errno;
	if (ret_seq != NULL)
		*ret_seq = cl->next_seq;
	cl->next_seq++;
	outq_push(&cl->outbox, o);
	if (cl->unsent == NULL)
		cl->unsent = o;
	if (cl->conn != NULL)
		conn_flush(cl->conn);
	return 0;
}

size_t
ipc_client_unacked(const struct ipc_client *cl)
{
	return cl->outbox.len;
}

uint64_t
ipc_client_instance(const struct ipc_client *cl)
{
	return cl->ep.instance;
}

void
ipc_client_on_ack(struct ipc_client *cl, void (*fn)(uint64_t, void *))
{
	cl->on_ack = fn;
}

void
ipc_client_on_refused(struct ipc_client *cl, void (*fn)(uint64_t, const char *, void *))
{
	cl->on_refused = fn;
}
