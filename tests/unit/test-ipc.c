/* lib/ipc: framing, malformed messages, descriptor passing, connections. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "ipc/ipc.h"

static unsigned char buf[IPC_MSG_MAX + 100];

static size_t
encode_test(json_t *body, uint32_t flags)
{
	ssize_t n = ipc_encode(buf, IPC_MSG_READ, flags, 42, body);

	assert_true(n >= IPC_HDR_SIZE);
	return n;
}

static void
test_roundtrip(void **state)
{
	struct ipc_msg m = { .fd = -1 };
	const char *why = NULL;
	json_t *b = json_pack("{s:s, s:i}", "id", "abc", "n", 7);
	size_t n = encode_test(b, IPC_F_RELIABLE);

	assert_int_equal(ipc_decode(buf, n, false, &m, &why), 0);
	assert_int_equal(m.type, IPC_MSG_READ);
	assert_int_equal(m.flags, IPC_F_RELIABLE);
	assert_int_equal(m.seq, 42);
	assert_true(json_equal(m.body, b));
	ipc_msg_clear(&m);
	/* No payload at all is a valid message too. */
	n = ipc_encode(buf, IPC_MSG_ACK, 0, 9, NULL);
	assert_int_equal(n, IPC_HDR_SIZE);
	assert_int_equal(ipc_decode(buf, n, false, &m, &why), 0);
	assert_null(m.body);
	json_decref(b);
}

/* Every way a message can be malformed is refused with its reason. */
static void
test_malformed(void **state)
{
	struct ipc_msg m = { .fd = -1 };
	json_t *b = json_pack("{s:s}", "id", "abc");
	const char *why;
	size_t n, i;
	uint32_t v32;

#define REJECT(len, fd, reason) do { \
		why = NULL; \
		assert_int_equal(ipc_decode(buf, (len), (fd), &m, &why), -EBADMSG); \
		assert_string_equal(why, (reason)); \
	} while (0)
	n = encode_test(b, 0);
	for (i = 0; i < IPC_HDR_SIZE; i++)
		REJECT(i, false, "short message");
	REJECT(n - 1, false, "length does not match");
	REJECT(n + 1, false, "length does not match");
	REJECT(n, true, "descriptor and flag disagree");
	buf[0] ^= 0xff;
	REJECT(n, false, "bad magic");
	buf[0] ^= 0xff;
	buf[2] = 2;
	REJECT(n, false, "unsupported version");
	buf[2] = IPC_VERSION;
	buf[3] = 0;
	REJECT(n, false, "unknown type");
	buf[3] = IPC_MSG_TYPE_MAX + 1;
	REJECT(n, false, "unknown type");
	buf[3] = IPC_MSG_READ;
	v32 = 1u << 20;
	memcpy(buf + 4, &v32, 4);
	REJECT(n, false, "unknown flags");
	v32 = IPC_F_FD;
	memcpy(buf + 4, &v32, 4);
	REJECT(n, false, "descriptor and flag disagree");
	v32 = 0;
	memcpy(buf + 4, &v32, 4);
	buf[12] = 1;
	REJECT(n, false, "reserved field set");
	buf[12] = 0;
	assert_int_equal(ipc_decode(buf, n, false, &m, &why), 0);
	ipc_msg_clear(&m);
	/* Payloads: garbage, not an object, duplicate keys. */
	buf[n - 1] = 'x';	/* the closing brace */
	REJECT(n, false, "payload is not JSON");
	json_decref(b);
	b = json_pack("[i,i]", 1, 2);
	n = encode_test(b, 0);
	REJECT(n, false, "payload is not a JSON object");
	n = encode_test(NULL, 0);
	memcpy(buf + IPC_HDR_SIZE, "{\"a\":1,\"a\":2}", 13);
	v32 = IPC_HDR_SIZE + 13;
	memcpy(buf + 8, &v32, 4);
	REJECT(v32, false, "payload is not JSON");
	/* Longer than IPC_MSG_MAX. */
	v32 = IPC_MSG_MAX + 1;
	memcpy(buf + 8, &v32, 4);
	REJECT(v32, false, "length does not match");
	json_decref(b);
#undef REJECT
}

static void
test_encode_too_big(void **state)
{
	char *big = malloc(IPC_MSG_MAX);
	json_t *b;

	memset(big, 'x', IPC_MSG_MAX - 1);
	big[IPC_MSG_MAX - 1] = '\0';
	b = json_pack("{s:s}", "x", big);
	assert_true(ipc_encode(buf, IPC_MSG_TEST, 0, 1, b) < 0);
	json_decref(b);
	free(big);
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* A frame: memfd written, sealed, passed; the receiver sees the seals and the bytes. */
static void
test_memfd_passing(void **state)
{
	struct ipc_msg m = { .fd = -1 };
	const char *why = NULL;
	size_t size = 1280 * 720, got;
	json_t *b = json_pack("{s:i}", "width", 1280);
	unsigned char *map;
	int sv[2], fd, pfd[2];
	ssize_t n;

	pair(sv);
	fd = ipc_memfd_new("frame", size, (void **)&map);
	assert_true(fd >= 0);
	memset(map, 0x5a, size);
	map[size - 1] = 0x17;
	/* Sealing fails while a writable mapping exists. */
	assert_int_equal(ipc_memfd_seal(fd), -EBUSY);
	munmap(map, size);
	assert_int_equal(ipc_memfd_seal(fd), 0);
	n = ipc_encode(buf, IPC_MSG_FRAME, IPC_F_FD, 1, b);
	assert_int_equal(ipc_send_raw(sv[0], buf, n, fd), n);
	close(fd);
	assert_int_equal(ipc_recv(sv[1], &m, &why), 1);
	assert_true(m.fd >= 0);
	assert_int_equal(ipc_memfd_check(m.fd, &got), 0);
	assert_int_equal(got, size);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, m.fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(map[0], 0x5a);
	assert_int_equal(map[size - 1], 0x17);
	munmap(map, size);
	/* The receiver cannot write to it. */
	assert_true(write(m.fd, "x", 1) < 0);
	ipc_msg_clear(&m);

	/* An unsealed memfd and a pipe are refused by the check. */
	fd = ipc_memfd_new("frame", 16, (void **)&map);
	assert_int_equal(ipc_memfd_check(fd, &got), -EPERM);
	munmap(map, 16);
	close(fd);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ipc_memfd_check(pfd[0], &got), -EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	json_decref(b);
	close(sv[0]);
	close(sv[1]);
}

static void
test_recv_errors(void **state)
{
	struct ipc_msg m = { .fd = -1 };
	const char *why = NULL;
	char *big = calloc(1, IPC_MSG_MAX + 10);
	int sv[2], p1[2], p2[2], fds[2];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	pair(sv);
	/* Garbage bytes. */
	assert_int_equal(send(sv[0], "garbage!", 8, 0), 8);
	assert_int_equal(ipc_recv(sv[1], &m, &why), -EBADMSG);
	assert_string_equal(why, "short message");
	/* Longer than any message may be: truncated by the kernel, refused. */
	n = ipc_encode(big, IPC_MSG_TEST, 0, 1, NULL);
	memset(big + n, ' ', IPC_MSG_MAX + 10 - n);
	assert_int_equal(send(sv[0], big, IPC_MSG_MAX + 10, 0), IPC_MSG_MAX + 10);
	assert_int_equal(ipc_recv(sv[1], &m, &why), -EBADMSG);
	assert_string_equal(why, "message too long");
	/* Two descriptors: refused, and both closed on our side. */
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	n = ipc_encode(buf, IPC_MSG_FRAME, IPC_F_FD, 1, NULL);
	iov.iov_base = buf;
	iov.iov_len = n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * 2);
	fds[0] = p1[0];
	fds[1] = p2[0];
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &mh, 0), n);
	close(p1[0]);
	close(p2[0]);
	assert_int_equal(ipc_recv(sv[1], &m, &why), -EBADMSG);
	assert_string_equal(why, "too many descriptors");
	/* Our copies are closed, so the write ends see no reader. */
	signal(SIGPIPE, SIG_IGN);
	assert_true(write(p1[1], "x", 1) < 0 && errno == EPIPE);
	assert_true(write(p2[1], "x", 1) < 0 && errno == EPIPE);
	close(p1[1]);
	close(p2[1]);
	/* Nothing waiting, then EOF. */
	assert_int_equal(ipc_recv(sv[1], &m, &why), -EAGAIN);
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], &m, &why), 0);
	close(sv[1]);
	free(big);
}

/* ---- connections: a server and a client on one loop ------------------- */

struct loop_state {
	sd_event *event;
	int received, acked_to, refused, closed;
	uint64_t last_seq;
};

static int
on_test(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	struct loop_state *s = userdata;
	json_int_t n;

	if (json_unpack(m->body, "{s:I}", "n", &n) < 0)
		return -EBADMSG;
	if (n < 0) {
		s->refused++;
		return -EINVAL;
	}
	s->received++;
	s->last_seq = m->seq;
	return ipc_conn_ack(c, m->seq);
}

static void
on_disconnect(struct ipc_conn *c, void *userdata)
{
	((struct loop_state *)userdata)->closed++;
}

static const struct ipc_handler server_table[] = {
	{ IPC_MSG_TEST, IPC_ROLE_TEST, false, true, on_test },
	{ 0 }
};
static const struct ipc_handler client_table[] = { { 0 } };
static const struct ipc_ops server_ops = { .table = server_table, .disconnected = on_disconnect };
static const struct ipc_ops client_ops = { .table = client_table };

static void
on_ack(uint64_t seq, void *userdata)
{
	((struct loop_state *)userdata)->acked_to = (int)seq;
}

/* Turns the loop for a while (sd_event_exit would finish it for good). */
static void
run_for(sd_event *e, uint64_t usec)
{
	uint64_t end = 0, now;

	sd_event_now(e, CLOCK_MONOTONIC, &end);
	end += usec;
	do {
		assert_true(sd_event_run(e, 50000) >= 0);
		sd_event_now(e, CLOCK_MONOTONIC, &now);
	} while (now < end);
}

static void
test_conn_reliable(void **state)
{
	char dir[] = "/tmp/test-ipc-XXXXXX", path[128];
	struct loop_state s = { 0 };
	struct ipc_server *srv;
	struct ipc_client *cl, *cl2;
	json_t *b;
	int i, fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	assert_int_equal(sd_event_new(&s.event), 0);
	log_init("test-ipc", getenv("TEST_DEBUG") != NULL);
	fd = ipc_listen(path, 8);
	assert_true(fd >= 0);
	assert_int_equal(ipc_server_new(s.event, fd, IPC_ROLE_MATCH, "srv", IPC_ROLE_TEST,
	    &server_ops, &s, &srv), 0);
	assert_int_equal(ipc_client_new(s.event, path, IPC_ROLE_TEST, "cl", &client_ops, &s, &cl), 0);
	ipc_client_on_ack(cl, on_ack);
	/* Queued before the connection exists: sent once HELLO is done. */
	for (i = 1; i <= 100; i++) {
		b = json_pack("{s:i}", "n", i);
		assert_int_equal(ipc_client_send_reliable(cl, IPC_MSG_TEST, b, -1, NULL), 0);
		json_decref(b);
	}
	assert_int_equal(ipc_client_unacked(cl), 100);
	for (i = 0; i < 500 && s.acked_to < 100; i++)
		assert_true(sd_event_run(s.event, 10000) >= 0);
	assert_int_equal(s.received, 100);
	assert_int_equal(s.acked_to, 100);
	assert_int_equal(s.last_seq, 100);
	assert_int_equal(ipc_client_unacked(cl), 0);

	/* A peer with a role the socket does not admit is refused at HELLO. */
	assert_int_equal(ipc_client_new(s.event, path, IPC_ROLE_CAPTURE, "intruder", &client_ops,
	    &s, &cl2), 0);
	b = json_pack("{s:i}", "n", 1);
	assert_int_equal(ipc_client_send_reliable(cl2, IPC_MSG_TEST, b, -1, NULL), 0);
	json_decref(b);
	run_for(s.event, 500000);
	assert_int_equal(s.received, 100);
	assert_int_equal(ipc_client_unacked(cl2), 1);
	ipc_client_free(cl2);

	/* A message its handler rejects closes that connection only; the client reconnects. */
	b = json_pack("{s:i}", "n", -1);
	assert_int_equal(ipc_client_send(cl, IPC_MSG_TEST, b, -1), 0);
	json_decref(b);
	run_for(s.event, 500000);
	assert_int_equal(s.refused, 1);
	assert_true(s.closed >= 1);
	assert_non_null(ipc_client_conn(cl));
	/* Not allowed from a client: a type without a handler. */
	assert_int_equal(ipc_client_send(cl, IPC_MSG_HIT, NULL, -1), 0);
	run_for(s.event, 500000);
	assert_true(s.closed >= 2);

	ipc_client_free(cl);
	ipc_server_free(srv);
	sd_event_unref(s.event);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encode_too_big),
		cmocka_unit_test(test_memfd_passing),
		cmocka_unit_test(test_recv_errors),
		cmocka_unit_test(test_conn_reliable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
