/*
 * ipc-peer: a test and benchmark peer for lib/ipc.
 *
 *   ipc-peer recv SOCKET DB      serve SOCKET; commit every reliable TEST
 *                                message to the SQLite file DB, then ACK
 *   ipc-peer send SOCKET COUNT   send COUNT reliable TEST messages; exit 0
 *                                once every one is acknowledged
 *   ipc-peer bench               print messages/s, round-trip latency and
 *                                frames/s by memfd over a socketpair-like
 *                                pair of real processes
 *
 * The receiver keeps, per sender instance, the highest sequence number it
 * committed, in the same transaction as the message, and skips resends at
 * or below it.  The messages table has no unique key on purpose: a
 * duplicate that got through would show up as a second row.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/latency.h"
#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"

static sqlite3 *db;
static sqlite3_stmt *st_get, *st_set, *st_add;
static long want, acked;

static void
db_must(int r, const char *what)
{
	if (r != SQLITE_OK && r != SQLITE_DONE && r != SQLITE_ROW)
		fatalx("%s: %s", what, sqlite3_errmsg(db));
}

static int
on_test(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	char inst[17];
	json_int_t n;
	int64_t committed = 0;

	if (!(m->flags & IPC_F_RELIABLE) || json_unpack(m->body, "{s:I}", "n", &n) < 0)
		return -EBADMSG;
	snprintf(inst, sizeof(inst), "%016" PRIx64, ipc_conn_peer_instance(c));
	db_must(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
	sqlite3_bind_text(st_get, 1, inst, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st_get) == SQLITE_ROW)
		committed = sqlite3_column_int64(st_get, 0);
	sqlite3_reset(st_get);
	if ((int64_t)m->seq > committed) {
		sqlite3_bind_text(st_add, 1, inst, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st_add, 2, (int64_t)m->seq);
		sqlite3_bind_int64(st_add, 3, n);
		db_must(sqlite3_step(st_add), "insert");
		sqlite3_reset(st_add);
		sqlite3_bind_text(st_set, 1, inst, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st_set, 2, (int64_t)m->seq);
		db_must(sqlite3_step(st_set), "update");
		sqlite3_reset(st_set);
	}
	db_must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	return ipc_conn_ack(c, m->seq);
}

static int
on_echo(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	return ipc_conn_send(c, IPC_MSG_REPLY, 0, m->seq, m->body, -1);
}

static const struct ipc_handler recv_table[] = {
	{ IPC_MSG_TEST, IPC_ROLE_TEST, false, true, on_test },
	{ IPC_MSG_REQUEST, IPC_ROLE_TEST, false, false, on_echo },
	{ 0 }
};
static const struct ipc_ops recv_ops = { .table = recv_table };

static int
cmd_recv(const char *path, const char *dbpath)
{
	struct ipc_server *srv;
	sd_event *e;
	int fd, r;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		fatalx("%s: %s", dbpath, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	db_must(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE IF NOT EXISTS messages(instance TEXT, seq INTEGER, n INTEGER);"
	    "CREATE TABLE IF NOT EXISTS senders(instance TEXT PRIMARY KEY, committed INTEGER);",
	    NULL, NULL, NULL), "schema");
	db_must(sqlite3_prepare_v2(db, "SELECT committed FROM senders WHERE instance = ?", -1,
	    &st_get, NULL), "prepare");
	db_must(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO senders VALUES (?, ?)", -1,
	    &st_set, NULL), "prepare");
	db_must(sqlite3_prepare_v2(db, "INSERT INTO messages VALUES (?, ?, ?)", -1, &st_add,
	    NULL), "prepare");
	if ((fd = ipc_listen(path, 16)) < 0)
		fatal_r(fd, "listen on %s", path);
	sd_event_default(&e);
	if ((r = ipc_server_new(e, fd, IPC_ROLE_MATCH, "ipc-peer", IPC_ROLE_TEST, &recv_ops, NULL,
	    &srv)) < 0)
		fatal_r(r, "server");
	printf("ready\n");
	fflush(stdout);
	return sd_event_loop(e) < 0;
}

static void
on_ack(uint64_t seq, void *userdata)
{
	acked = (long)seq;
	if (acked >= want)
		sd_event_exit(userdata, 0);
}

static const struct ipc_handler send_table[] = { { 0 } };
static const struct ipc_ops send_ops = { .table = send_table };

static int
cmd_send(const char *path, long count)
{
	struct ipc_client *cl;
	sd_event *e;
	json_t *b;
	long i;
	int r;

	sd_event_default(&e);
	if ((r = ipc_client_new(e, path, IPC_ROLE_TEST, "ipc-peer", &send_ops, e, &cl)) < 0)
		fatal_r(r, "client");
	ipc_client_on_ack(cl, on_ack);
	want = count;
	for (i = 1; i <= count; i++) {
		b = json_pack("{s:I, s:s}", "n", (json_int_t)i, "pad",
		    "a read-sized payload: plate, state, confidence, candidates");
		if ((r = ipc_client_send_reliable(cl, IPC_MSG_TEST, b, -1, NULL)) < 0)
			fatal_r(r, "send %ld", i);
		json_decref(b);
	}
	r = sd_event_loop(e);
	printf("sent %ld acked %ld\n", count, acked);
	ipc_client_free(cl);
	sd_event_unref(e);
	return r < 0 || acked != count;
}

/* ---- bench ------------------------------------------------------------- */

static double
cpu_sec(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Messages through the real client and server code: the parent streams
 * read-sized reliable messages (at most 8192 unacknowledged), the child
 * acknowledges every 64th; then request/reply round trips one at a time.
 */
struct bench {
	sd_event *e;
	struct ipc_client *cl;
	json_t *body;
	long sent, total, replies;
	int64_t t_sent;
	int64_t *lat;
};

static int
on_bench_test(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	int last;

	if (json_unpack(m->body, "{s:b}", "last", &last) < 0)
		return -EBADMSG;
	if (m->seq % 64 == 0 || last)
		return ipc_conn_ack(c, m->seq);
	return 0;
}

static const struct ipc_handler bench_srv_table[] = {
	{ IPC_MSG_TEST, IPC_ROLE_TEST, false, true, on_bench_test },
	{ IPC_MSG_REQUEST, IPC_ROLE_TEST, false, false, on_echo },
	{ 0 }
};
static const struct ipc_ops bench_srv_ops = { .table = bench_srv_table };

static void
bench_fill(struct bench *b)
{
	json_t *x;

	while (b->sent < b->total && ipc_client_unacked(b->cl) < 8192) {
		b->sent++;
		x = json_pack("{s:O, s:b}", "read", b->body, "last", b->sent == b->total);
		if (ipc_client_send_reliable(b->cl, IPC_MSG_TEST, x, -1, NULL) < 0)
			fatalx("bench send");
		json_decref(x);
	}
}

static void
on_bench_ack(uint64_t seq, void *userdata)
{
	struct bench *b = userdata;

	if ((long)seq == b->total)
		sd_event_exit(b->e, 0);
	else
		bench_fill(b);
}

static int
bench_connected(struct ipc_conn *c, void *userdata)
{
	bench_fill(userdata);
	return 0;
}

static int on_bench_reply(struct ipc_conn *c, struct ipc_msg *m, void *userdata);

static const struct ipc_handler bench_cl_table[] = {
	{ IPC_MSG_REPLY, IPC_ROLE_MATCH, false, false, on_bench_reply },
	{ 0 }
};
static const struct ipc_ops bench_cl_ops = { .table = bench_cl_table, .connected = bench_connected };

static void
bench_request(struct bench *b)
{
	b->t_sent = time_monotonic_usec();
	if (ipc_client_send(b->cl, IPC_MSG_REQUEST, b->body, -1) < 0)
		fatalx("bench request");
}

static int
on_bench_reply(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	struct bench *b = userdata;

	b->lat[b->replies++] = time_monotonic_usec() - b->t_sent;
	if (b->replies == 20000)
		sd_event_exit(b->e, 0);
	else
		bench_request(b);
	return 0;
}

/* A receiver process listening on path; its CPU time is counted at bench_server_stop(). */
static pid_t
bench_server(const char *path)
{
	struct ipc_server *srv;
	sd_event *e;
	pid_t pid;
	int fd;

	(void)unlink(path);
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid == 0) {
		if ((fd = ipc_listen(path, 4)) < 0)
			_exit(1);
		sd_event_new(&e);
		if (ipc_server_new(e, fd, IPC_ROLE_MATCH, "bench", IPC_ROLE_TEST, &bench_srv_ops,
		    NULL, &srv) < 0)
			_exit(1);
		signal(SIGTERM, SIG_DFL);
		sd_event_loop(e);
		_exit(0);
	}
	for (int i = 0; i < 500 && access(path, F_OK) < 0; i++)
		usleep(10000);
	return pid;
}

static void
bench_server_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

static void
bench_messages(const char *path)
{
	struct bench b = { .total = 300000 };
	double c0, c1, scpu, rcpu;
	int64_t t0, t1;
	sd_event *e;
	pid_t pid;

	/*
	 * The receiver's CPU time is its process's, so the streamed messages
	 * and the round trips each get a receiver of their own: a round trip
	 * wakes both ends for every message and costs several streamed ones.
	 */
	pid = bench_server(path);
	b.body = json_pack("{s:s, s:s, s:s, s:f, s:[{s:s, s:f}, {s:s, s:f}], s:I, s:I}",
	    "id", "5f0e6c1d2a3b4c5d6e7f8091a2b3c4d5", "camera", "front", "plate", "7ABC123",
	    "confidence", 0.93, "candidates", "plate", "7ABC123", "confidence", 0.93, "plate",
	    "7ABC12J", "confidence", 0.41, "capture_usec", (json_int_t)1764370000000000,
	    "frames", (json_int_t)12);
	b.lat = calloc(20000, sizeof(*b.lat));
	sd_event_new(&b.e);
	e = b.e;
	if (ipc_client_new(e, path, IPC_ROLE_TEST, "bench", &bench_cl_ops, &b, &b.cl) < 0)
		fatalx("bench client");
	ipc_client_on_ack(b.cl, on_bench_ack);
	c0 = cpu_sec(RUSAGE_SELF);
	t0 = time_monotonic_usec();
	sd_event_loop(e);
	t1 = time_monotonic_usec();
	c1 = cpu_sec(RUSAGE_SELF);
	scpu = (c1 - c0) * 1e6 / b.total;
	printf("ipc: %ld reliable read-sized JSON messages in %.2f s: %.0f messages/s; "
	    "sender %.1f us CPU per message\n", b.total, (t1 - t0) / 1e6,
	    b.total / ((t1 - t0) / 1e6), scpu);
	ipc_client_free(b.cl);
	sd_event_unref(e);
	c0 = cpu_sec(RUSAGE_CHILDREN);
	bench_server_stop(pid);
	rcpu = (cpu_sec(RUSAGE_CHILDREN) - c0) * 1e6 / b.total;
	printf("ipc: receiver %.1f us CPU per message (parses each, acks every 64th)\n", rcpu);
	printf("ipc: CPU-bound rate of the slower end on one core: %.0f messages/s "
	    "(target >= 100000)\n", 1e6 / (rcpu > scpu ? rcpu : scpu));

	pid = bench_server(path);
	sd_event_new(&b.e);
	if (ipc_client_new(b.e, path, IPC_ROLE_TEST, "bench", &bench_cl_ops, &b, &b.cl) < 0)
		fatalx("bench client");
	b.total = 0;
	while (ipc_client_conn(b.cl) == NULL)
		sd_event_run(b.e, 10000);
	bench_request(&b);
	sd_event_loop(b.e);
	latency_sort(b.lat, b.replies);
	printf("ipc: request/reply round trip over %ld requests: p50 %" PRId64 " us, p99 %" PRId64
	    " us\n", b.replies, b.lat[b.replies / 2], b.lat[b.replies * 99 / 100]);
	ipc_client_free(b.cl);
	sd_event_unref(b.e);
	bench_server_stop(pid);
	json_decref(b.body);
	free(b.lat);
}

/*
 * Frames: the sender copies each 1280x720 grey frame once into a new sealed
 * memfd (as capture does from the camera's buffer) and passes it; the
 * receiver checks the seals and reads the whole frame out (as an ocrd
 * worker does), with pread(): see ipc_memfd_read().
 */
static void
bench_frames(void)
{
	enum { N = 3000, W = 1280, H = 720 };
	static unsigned char buf[IPC_MSG_MAX];
	struct ipc_msg m = { .fd = -1 };
	const char *why;
	int sv[2], i, fd, status;
	unsigned char *in, *frame;
	volatile unsigned sum = 0;
	int64_t t0, t1;
	double c0, cc, cs, cr0;
	size_t size;
	json_t *b;
	pid_t pid;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("socketpair");
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if ((in = malloc(W * H)) == NULL)
			_exit(2);
		for (i = 0; i < N; i++) {
			while (ipc_recv(sv[1], &m, &why) == -EAGAIN)
				;
			if (m.fd < 0 || ipc_memfd_check(m.fd, &size) < 0 || size != W * H ||
			    ipc_memfd_read(m.fd, in, size) < 0 || in[0] != (unsigned char)i)
				_exit(2);
			sum += in[0] + in[size - 1];
			ipc_msg_clear(&m);
		}
		_exit(0);
	}
	close(sv[1]);
	b = json_pack("{s:i, s:i, s:s}", "width", W, "height", H, "format", "GREY");
	frame = calloc(1, W * H);
	cr0 = cpu_sec(RUSAGE_CHILDREN);
	c0 = cpu_sec(RUSAGE_SELF);
	t0 = time_monotonic_usec();
	for (i = 0; i < N; i++) {
		frame[0] = frame[W * H - 1] = i;
		if ((fd = ipc_memfd_from("frame", frame, W * H)) < 0)
			fatal_r(fd, "memfd");
		n = ipc_encode(buf, IPC_MSG_FRAME, IPC_F_FD, i, b);
		while (ipc_send_raw(sv[0], buf, n, fd) == -EAGAIN)
			;
		close(fd);
	}
	waitpid(pid, &status, 0);
	t1 = time_monotonic_usec();
	cs = cpu_sec(RUSAGE_SELF) - c0;
	cc = cs + cpu_sec(RUSAGE_CHILDREN) - cr0;
	printf("ipc: %d frames 1280x720 by memfd in %.2f s: %.0f frames/s; CPU per frame %.0f us "
	    "sending (one copy into the memfd), %.0f us receiving (one copy out)%s\n", N,
	    (t1 - t0) / 1e6, N / ((t1 - t0) / 1e6), cs * 1e6 / N, (cc - cs) * 1e6 / N,
	    WEXITSTATUS(status) == 0 ? "" : " RECEIVER FAILED");
	printf("ipc: CPU-bound frame rate with both ends on one core: %.0f frames/s "
	    "(target >= 1000)\n", N / cc);
	json_decref(b);
	free(frame);
	close(sv[0]);
}

static int
cmd_bench(void)
{
	char dir[] = "/tmp/ipc-bench-XXXXXX", path[64], dbpath[64];

	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	snprintf(path, sizeof(path), "%s/b.sock", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/b.db", dir);
	bench_messages(path);
	bench_frames();
	unlink(path);
	unlink(dbpath);
	rmdir(dir);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("ipc-peer", getenv("IPC_PEER_DEBUG") != NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return cmd_recv(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "send") == 0)
		return cmd_send(argv[2], atol(argv[3]));
	if (argc == 2 && strcmp(argv[1], "bench") == 0)
		return cmd_bench();
	fprintf(stderr, "usage: ipc-peer recv SOCKET DB | send SOCKET COUNT | bench\n");
	return 2;
}
