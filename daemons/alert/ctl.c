/*
 * alpr-alertd's client of alpr-matchd's control socket.  Runs in
 * alpr-alertd; trusts matchd (the socket is matchd's, and the lib checks
 * its HELLO), but still type-checks every reply.
 *
 * Each REQUEST carries a sequence number of ours; matchd's REPLY carries
 * it back.  Pending requests wait in a list (a handful at a time: one per
 * button press or shown hit), and all of them fail when the connection
 * drops, because matchd forgets them too.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "daemons/alert/alertd.h"

#define CTL_PENDING_MAX 4096

struct pending {
	struct pending *next;
	uint64_t seq;
	ctl_cb cb;
	void *arg;
};

struct ctl {
	struct alertd *a;
	struct ipc_client *client;
	struct pending *pending;
	size_t n_pending;
	uint64_t next_seq;
};

static struct pending *
take(struct ctl *c, uint64_t seq, bool remove)
{
	struct pending **pp, *p;

	for (pp = &c->pending; (p = *pp) != NULL; pp = &p->next)
		if (p->seq == seq) {
			if (remove) {
				*pp = p->next;
				c->n_pending--;
			}
			return p;
		}
	return NULL;
}

static int
on_reply(struct ipc_conn *conn, struct ipc_msg *m, void *userdata)
{
	struct ctl *c = userdata;
	struct pending *p;
	const char *err = NULL;
	json_t *more_j;
	bool ok, more;

	more_j = m->body != NULL ? json_object_get(m->body, "more") : NULL;
	more = json_is_true(more_j);
	if ((p = take(c, m->seq, !more)) == NULL) {
		/* Cancelled by its owner, or not ours: nothing waits for it. */
		log_debug("control reply seq=%llu with no request, ignoring",
		    (unsigned long long)m->seq);
		return 0;
	}
	ok = !(m->flags & IPC_F_ERROR) && m->body != NULL &&
	    json_is_true(json_object_get(m->body, "ok"));
	if (!ok && m->body != NULL)
		err = json_string_value(json_object_get(m->body, "error"));
	if (!ok && err == NULL)
		err = "refused";
	if (p->cb != NULL)
		p->cb(m->body, ok, more, m->fd, err, p->arg);
	if (!more)
		free(p);
	return 0;
}

static void
fail_all(struct ctl *c, const char *why)
{
	struct pending *p;

	while ((p = c->pending) != NULL) {
		c->pending = p->next;
		c->n_pending--;
		if (p->cb != NULL)
			p->cb(NULL, false, false, -1, why, p->arg);
		free(p);
	}
}

static int
on_connected(struct ipc_conn *conn, void *userdata)
{
	struct ctl *c = userdata;

	log_info("control socket of alpr-matchd connected");
	hits_control_up(c->a->hits);
	lists_refresh(c->a->lists);
	return 0;
}

static void
on_disconnected(struct ipc_conn *conn, void *userdata)
{
	struct ctl *c = userdata;

	log_warnx("control socket of alpr-matchd lost, reconnecting");
	fail_all(c, "alpr-matchd is not answering");
}

/* A streamed part of an export carries its file as a sealed memfd. */
static const struct ipc_handler ctl_table[] = {
	{ IPC_MSG_REPLY, IPC_ROLE_MATCH, IPC_FD_MAYBE, true, on_reply },
	{ 0 }
};

static const struct ipc_ops ctl_ops = {
	.table = ctl_table,
	.connected = on_connected,
	.disconnected = on_disconnected,
};

int
ctl_new(struct alertd *a, const char *path, struct ctl **ret)
{
	struct ctl *c;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->a = a;
	c->next_seq = 1;
	if ((r = ipc_client_new(a->event, path, IPC_ROLE_ALERT, a->d->name, &ctl_ops, c,
	    &c->client)) < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct ctl *
ctl_free(struct ctl *c)
{
	struct pending *p;

	if (c == NULL)
		return NULL;
	ipc_client_free(c->client);
	/* Owners learn that nothing will answer (and free what they passed). */
	fail_all(c, "stopping");
	while ((p = c->pending) != NULL) {
		c->pending = p->next;
		free(p);
	}
	free(c);
	return NULL;
}

bool
ctl_up(const struct ctl *c)
{
	return ipc_client_conn(c->client) != NULL;
}

int
ctl_request(struct ctl *c, const char *op, const char *session, const char *case_no,
    const char *reason, json_t *args, ctl_cb cb, void *arg)
{
	struct ipc_conn *conn;
	struct pending *p;
	json_t *req;
	int r;

	if ((conn = ipc_client_conn(c->client)) == NULL)
		return -ENOTCONN;
	if (c->n_pending >= CTL_PENDING_MAX)
		return -ENOBUFS;
	if ((req = json_pack("{s:s}", "op", op)) == NULL)
		return -ENOMEM;
	if ((session != NULL && json_object_set_new(req, "session", json_string(session)) < 0) ||
	    (case_no != NULL && json_object_set_new(req, "case", json_string(case_no)) < 0) ||
	    (reason != NULL && json_object_set_new(req, "reason", json_string(reason)) < 0) ||
	    json_object_set_new(req, "args", args != NULL ? json_incref(args) : json_object()) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	p->seq = c->next_seq++;
	p->cb = cb;
	p->arg = arg;
	if ((r = ipc_conn_send(conn, IPC_MSG_REQUEST, 0, p->seq, req, -1)) < 0) {
		free(p);
		goto out;
	}
	p->next = c->pending;
	c->pending = p;
	c->n_pending++;
	r = 0;
out:
	json_decref(req);
	return r;
}

void
ctl_cancel(struct ctl *c, void *arg)
{
	struct pending *p;

	for (p = c->pending; p != NULL; p = p->next)
		if (p->arg == arg)
			p->cb = NULL;
}
