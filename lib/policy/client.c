/*
 * A small blocking client of matchd's control socket, for alprctl (and
 * tests): connect, exchange HELLO, then one REQUEST at a time, reading
 * REPLY messages with the request's sequence number until one without
 * "more".  It trusts the daemon's framing (lib/ipc checks it) and hands
 * each reply to the same emit callback that policy_control() uses, so
 * alprctl handles online and --offline answers with one piece of code.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/time.h"
#include "ipc/ipc.h"
#include "policy/client.h"

struct policy_client {
	int fd;
	uint64_t seq;
	int timeout_ms;
};

static int
send_msg(struct policy_client *c, uint8_t type, uint64_t seq, const json_t *body)
{
	char *buf = malloc(IPC_MSG_MAX);
	ssize_t n;
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };

	if (buf == NULL)
		return -ENOMEM;
	if ((n = ipc_encode(buf, type, 0, seq, body)) < 0) {
		free(buf);
		return (int)n;
	}
	for (;;) {
		ssize_t k = ipc_send_raw(c->fd, buf, (size_t)n, -1);

		if (k >= 0)
			break;
		if (k != -EAGAIN) {
			free(buf);
			return (int)k;
		}
		if (poll(&p, 1, c->timeout_ms) <= 0) {
			free(buf);
			return -ETIMEDOUT;
		}
	}
	free(buf);
	return 0;
}

static int
recv_msg(struct policy_client *c, struct ipc_msg *m)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	const char *why = NULL;
	int r;

	for (;;) {
		r = ipc_recv(c->fd, m, &why);
		if (r == 1)
			return 0;
		if (r == 0)
			return -ECONNRESET;
		if (r != -EAGAIN)
			return r;
		if ((r = poll(&p, 1, c->timeout_ms)) == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int
policy_client_connect(const char *path, int timeout_ms, struct policy_client **ret)
{
	struct policy_client *c;
	struct ipc_msg m = { .fd = -1 };
	uint64_t inst = 0;
	char hex[17];
	json_t *hello;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	if ((c->fd = ipc_connect(path)) < 0) {
		r = c->fd;
		free(c);
		return r;
	}
	if (getrandom(&inst, sizeof(inst), 0) != sizeof(inst))
		inst = (uint64_t)getpid() ^ (uint64_t)time_monotonic_usec();
	snprintf(hex, sizeof(hex), "%016" PRIx64, inst);
	hello = json_pack("{s:i, s:s, s:s, s:s}", "version", IPC_VERSION, "role", "ctl",
	    "name", "alprctl", "instance", hex);
	r = hello != NULL ? send_msg(c, IPC_MSG_HELLO, 0, hello) : -ENOMEM;
	json_decref(hello);
	if (r == 0 && (r = recv_msg(c, &m)) == 0 && m.type != IPC_MSG_HELLO)
		r = -EPROTO;
	ipc_msg_clear(&m);
	if (r < 0) {
		policy_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct policy_client *
policy_client_free(struct policy_client *c)
{
	if (c == NULL)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return NULL;
}

int
policy_client_call(struct policy_client *c, const json_t *request, policy_emit_fn emit,
    void *userdata)
{
	struct ipc_msg m = { .fd = -1 };
	uint64_t seq = ++c->seq;
	bool more;
	int r;

	if ((r = send_msg(c, IPC_MSG_REQUEST, seq, request)) < 0)
		return r;
	do {
		if ((r = recv_msg(c, &m)) < 0)
			return r;
		if (m.type != IPC_MSG_REPLY || m.seq != seq || !json_is_object(m.body)) {
			ipc_msg_clear(&m);
			return -EPROTO;
		}
		more = json_is_true(json_object_get(m.body, "more"));
		r = emit(userdata, m.body, more, m.fd);
		ipc_msg_clear(&m);
		if (r < 0)
			return r;
	} while (more);
	return 0;
}
