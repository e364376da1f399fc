/*
 * match-peer: the test peers of alpr-matchd.  Runs in tests only.
 *
 *   match-peer send SOCK FIRST COUNT HOT_EVERY
 *        send COUNT reliable READs to match.sock as alpr-ocrd would, ids
 *        FIRST.. (32 hex digits); read i has plate H<i> when i is a
 *        multiple of HOT_EVERY (0: never), R<i> otherwise, and every
 *        third read a sealed memfd with a crop image; exit 0 once every
 *        READ is acknowledged
 *   match-peer pace SOCK FIRST RATE STOPFILE
 *        send READs one at a time, RATE a second, ids FIRST.., plate A<i>
 *        if i % 10 is 0, B<i> if 5, else R<i>, until STOPFILE exists; print the
 *        count and the max, p99 and median READ->ACK latency; exit 0 once
 *        every READ is acknowledged
 *   match-peer recv SOCK OUT
 *        serve alert.sock as alpr-alertd would: acknowledge every HIT
 *        that carries a memfd and append "HIT READ_ID ENTRY_PLATE CANDIDATE
 *        DIFFERS" to OUT (what matched: the read's plate or candidate, and
 *        its positions that differ from the entry, as JSON)
 *   match-peer control SOCK OP ARGS
 *        send one REQUEST {"op": OP, "args": ARGS} to control.sock with the
 *        role alert, as alpr-alertd would; print the reply; exit 0 if ok
 *   match-peer badread SOCK
 *        send a READ with a bad plate, then a good one; exit 0 when
 *        matchd refused the first alone and acknowledged the second on
 *        the same connection, 1 if it closed it or after 5 s
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/latency.h"
#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"

static long want;
static FILE *out;

static void
on_ack(uint64_t seq, void *userdata)
{
	if ((long)seq >= want)
		sd_event_exit(userdata, 0);
}

static const struct ipc_handler no_table[] = { { 0 } };
static const struct ipc_ops send_ops = { .table = no_table };

static int
cmd_send(const char *path, long first, long count, long hot_every, const char *cand)
{
	static const char jpeg[] = "\xff\xd8\xff\xe0 not really a jpeg \xff\xd9";
	struct ipc_client *cl;
	sd_event *e;
	int64_t now = time_now_usec(CLOCK_REALTIME);
	long i;
	int r, fd;

	sd_event_default(&e);
	if ((r = ipc_client_new(e, path, IPC_ROLE_OCR, "match-peer", &send_ops, e, &cl)) < 0)
		fatal_r(r, "client");
	ipc_client_on_ack(cl, on_ack);
	want = count;
	for (i = first; i < first + count; i++) {
		char id[33], plate[16];
		json_t *b;

		snprintf(id, sizeof(id), "%032lx", i);
		snprintf(plate, sizeof(plate), "%c%ld",
		    hot_every > 0 && i % hot_every == 0 ? 'H' : 'R', i);
		b = json_pack("{s:s, s:s, s:s, s:f, s:n, s:f, s:[{s:s, s:f}], s:I, s:I, s:I,"
		    " s:i, s:{s:b}, s:[iiii]}",
		    "id", id, "camera", "front", "plate", plate, "confidence", 0.9, "state",
		    "state_confidence", 0.0, "candidates", "plate", cand, "confidence", 0.1,
		    "first_usec", (json_int_t)now, "last_usec", (json_int_t)now,
		    "capture_usec", (json_int_t)now, "frames", 3, "gps", "fix", 0,
		    "box", 1, 2, 3, 4);
		fd = -1;
		if (i % 3 == 0) {
			json_object_set_new(b, "images", json_pack("{s:[ii]}", "crop", 0,
			    (int)sizeof(jpeg) - 1));
			if ((fd = ipc_memfd_from("crop", jpeg, sizeof(jpeg) - 1)) < 0)
				fatal_r(fd, "memfd");
		}
		if ((r = ipc_client_send_reliable(cl, IPC_MSG_READ, b, fd, NULL)) < 0)
			fatal_r(r, "send %ld", i);
		if (fd >= 0)
			close(fd);
		json_decref(b);
	}
	r = sd_event_loop(e);
	ipc_client_free(cl);
	sd_event_unref(e);
	return r < 0;
}

static int
on_hit(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	const char *read_id, *plate, *candidate = NULL;
	json_t *differs = NULL;
	json_int_t hit;
	char *d;

	if (json_unpack(m->body, "{s:I, s:{s:s}, s:{s:s}, s:{s?s, s:o}}", "hit", &hit, "read", "id",
	    &read_id, "entry", "plate", &plate, "match", "candidate", &candidate,
	    "differs", &differs) < 0 || !json_is_array(differs))
		return -EINVAL;
	d = json_dumps(differs, JSON_COMPACT);
	fprintf(out, "%lld %s %s %s %s\n", (long long)hit, read_id, plate,
	    candidate != NULL ? candidate : "-", d != NULL ? d : "?");
	free(d);
	fflush(out);
	return ipc_conn_ack(c, m->seq);
}

static const struct ipc_handler recv_table[] = {
	{ IPC_MSG_HIT, IPC_ROLE_MATCH, true, true, on_hit },
	{ 0 }
};
static const struct ipc_ops recv_ops = { .table = recv_table };

static int
cmd_recv(const char *path, const char *file)
{
	struct ipc_server *s;
	sd_event *e;
	int fd, r;

	if ((out = fopen(file, "a")) == NULL)
		fatal("%s", file);
	unlink(path);
	if ((fd = ipc_listen(path, 16)) < 0)
		fatal_r(fd, "%s", path);
	sd_event_default(&e);
	if ((r = ipc_server_new(e, fd, IPC_ROLE_ALERT, "match-peer", IPC_ROLE_MATCH, &recv_ops,
	    NULL, &s)) < 0)
		fatal_r(r, "server");
	return sd_event_loop(e) < 0;
}

static json_t *request;
static int status = 1;

static int
on_reply(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	char *text = json_dumps(m->body, JSON_COMPACT);

	printf("%s\n", text != NULL ? text : "?");
	free(text);
	if (json_is_true(json_object_get(m->body, "more")))
		return 0;
	status = json_is_true(json_object_get(m->body, "ok")) ? 0 : 1;
	sd_event_exit(userdata, 0);
	return 0;
}

static int
control_connected(struct ipc_conn *c, void *userdata)
{
	return ipc_conn_send(c, IPC_MSG_REQUEST, 0, 1, request, -1);
}

static const struct ipc_handler control_table[] = {
	{ IPC_MSG_REPLY, IPC_ROLE_MATCH, IPC_FD_MAYBE, true, on_reply },
	{ 0 }
};
static const struct ipc_ops control_ops = { .table = control_table,
	.connected = control_connected };

static int
cmd_control(const char *path, const char *op, const char *args)
{
	struct ipc_client *cl;
	sd_event *e;
	int r;

	request = json_pack("{s:s, s:o}", "op", op, "args", json_loads(args, 0, NULL));
	if (request == NULL)
		fatalx("bad ARGS");
	sd_event_default(&e);
	if ((r = ipc_client_new(e, path, IPC_ROLE_ALERT, "match-peer", &control_ops, e, &cl)) < 0)
		fatal_r(r, "client");
	(void)sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC, 5 * USEC_PER_SEC, 0, NULL,
	    NULL);
	sd_event_loop(e);
	ipc_client_free(cl);
	sd_event_unref(e);
	json_decref(request);
	return status;
}

static bool bad_refused, bad_done;

static void
bad_on_refused(uint64_t seq, const char *why, void *userdata)
{
	bad_refused = seq == 1;
}

static void
bad_on_ack(uint64_t seq, void *userdata)
{
	if (seq >= 2 && !bad_done) {
		bad_done = true;
		status = bad_refused ? 0 : 1;
		sd_event_exit(userdata, 0);
	}
}

static void
bad_disconnected(struct ipc_conn *c, void *userdata)
{
	if (bad_done)
		return;	/* our own close at the end */
	bad_done = true;
	fprintf(stderr, "match-peer: matchd closed the connection\n");
	status = 1;
	sd_event_exit(userdata, 0);
}

static const struct ipc_ops bad_ops = { .table = no_table, .disconnected = bad_disconnected };

static int
cmd_badread(const char *path)
{
	struct ipc_client *cl;
	sd_event *e;
	int r;

	sd_event_default(&e);
	if ((r = ipc_client_new(e, path, IPC_ROLE_OCR, "match-peer", &bad_ops, e, &cl)) < 0)
		fatal_r(r, "client");
	ipc_client_on_refused(cl, bad_on_refused);
	ipc_client_on_ack(cl, bad_on_ack);
	for (int i = 0; i < 2; i++) {
		json_t *b = json_pack("{s:s, s:s, s:s, s:f, s:I}", "id",
		    i == 0 ? "0123456789abcdef0123456789abcdef" : "0123456789abcdef0123456789abcde0",
		    "camera", "front", "plate", i == 0 ? "NOT A PLATE" : "BAD1OK",
		    "confidence", 0.9, "capture_usec", (json_int_t)time_now_usec(CLOCK_REALTIME));

		if ((r = ipc_client_send_reliable(cl, IPC_MSG_READ, b, -1, NULL)) < 0)
			fatal_r(r, "send");
		json_decref(b);
	}
	(void)sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC, 5 * USEC_PER_SEC, 0, NULL,
	    NULL);
	sd_event_loop(e);
	ipc_client_free(cl);
	sd_event_unref(e);
	return status;
}

/*
 * pace: READs at a steady rate, each its own message, and the time from
 * each send to its ACK (a READ is acknowledged once stored): the latency a
 * camera's reads see while matchd does other work.  Read i has plate
 * A<i> when i % 10 is 0, B<i> when 5, R<i> otherwise, so that the lists of
 * a test (A: even, B: odd numbers) can be told apart, and no plate
 * repeats (no alert cool-down).
 */
struct pacer {
	sd_event *e;
	struct ipc_client *cl;
	long next, first, sent, acked;
	int64_t *sent_usec;		/* by seq - 1 */
	int64_t *lat_usec;
	size_t n_lat, cap;
	const char *stop_file;
	bool stopping;
	int64_t gap_usec;
};

static void
pace_ack(uint64_t seq, void *userdata)
{
	struct pacer *p = userdata;
	int64_t now = time_monotonic_usec();

	for (; p->acked < (long)seq && p->acked < p->sent; p->acked++)
		p->lat_usec[p->n_lat++] = now - p->sent_usec[p->acked];
	if (p->stopping && p->acked >= p->sent)
		sd_event_exit(p->e, 0);
}

static int
pace_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct pacer *p = userdata;
	char id[33], plate[16];
	json_t *b;
	int64_t now = time_now_usec(CLOCK_REALTIME);
	int r;

	if (access(p->stop_file, F_OK) == 0 || (size_t)p->sent >= p->cap) {
		p->stopping = true;
		if (p->acked >= p->sent)
			sd_event_exit(p->e, 0);
		return 0;
	}
	snprintf(id, sizeof(id), "%032lx", p->next);
	snprintf(plate, sizeof(plate), "%c%ld", p->next % 10 == 0 ? 'A' : p->next % 10 == 5 ?
	    'B' : 'R', p->next);
	b = json_pack("{s:s, s:s, s:s, s:f, s:n, s:f, s:[], s:I, s:I, s:I, s:i, s:{s:b}, s:[iiii]}",
	    "id", id, "camera", "front", "plate", plate, "confidence", 0.9, "state",
	    "state_confidence", 0.0, "candidates", "first_usec", (json_int_t)now,
	    "last_usec", (json_int_t)now, "capture_usec", (json_int_t)now, "frames", 3,
	    "gps", "fix", 0, "box", 1, 2, 3, 4);
	p->sent_usec[p->sent] = time_monotonic_usec();
	if ((r = ipc_client_send_reliable(p->cl, IPC_MSG_READ, b, -1, NULL)) < 0)
		fatal_r(r, "send %ld", p->next);
	json_decref(b);
	p->sent++;
	p->next++;
	(void)sd_event_source_set_time(es, usec + (uint64_t)p->gap_usec);
	(void)sd_event_source_set_enabled(es, SD_EVENT_ON);
	return 0;
}

static int
cmd_pace(const char *path, long first, long rate, const char *stop_file)
{
	struct pacer p = { .first = first, .next = first, .stop_file = stop_file,
		.cap = 1000000, .gap_usec = 1000000 / (rate > 0 ? rate : 1) };
	sd_event_source *t = NULL;
	int r;

	p.sent_usec = calloc(p.cap, sizeof(int64_t));
	p.lat_usec = calloc(p.cap, sizeof(int64_t));
	if (p.sent_usec == NULL || p.lat_usec == NULL)
		fatal_r(-ENOMEM, "pace");
	sd_event_default(&p.e);
	if ((r = ipc_client_new(p.e, path, IPC_ROLE_OCR, "match-peer", &send_ops, &p, &p.cl)) < 0)
		fatal_r(r, "client");
	ipc_client_on_ack(p.cl, pace_ack);
	if ((r = sd_event_add_time_relative(p.e, &t, CLOCK_MONOTONIC, 0, 0, pace_tick, &p)) < 0)
		fatal_r(r, "timer");
	(void)sd_event_source_set_enabled(t, SD_EVENT_ON);
	r = sd_event_loop(p.e);
	latency_sort(p.lat_usec, p.n_lat);
	printf("reads=%ld acked=%zu max_ms=%.1f p99_ms=%.1f p50_ms=%.1f\n", p.sent, p.n_lat,
	    p.n_lat ? (double)p.lat_usec[p.n_lat - 1] / 1000 : 0.0,
	    p.n_lat ? (double)p.lat_usec[p.n_lat * 99 / 100] / 1000 : 0.0,
	    p.n_lat ? (double)p.lat_usec[p.n_lat / 2] / 1000 : 0.0);
	sd_event_source_unref(t);
	ipc_client_free(p.cl);
	sd_event_unref(p.e);
	free(p.sent_usec);
	free(p.lat_usec);
	return r < 0 || (long)p.n_lat != p.sent;
}

int
main(int argc, char **argv)
{
	log_init("match-peer", false);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "send") == 0)
		return cmd_send(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]),
		    argc == 7 ? argv[6] : "X1");
	if (argc == 6 && strcmp(argv[1], "pace") == 0)
		return cmd_pace(argv[2], atol(argv[3]), atol(argv[4]), argv[5]);
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return cmd_recv(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "control") == 0)
		return cmd_control(argv[2], argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "badread") == 0)
		return cmd_badread(argv[2]);
	fprintf(stderr, "usage: match-peer send SOCK FIRST COUNT HOT_EVERY [CANDIDATE] | recv SOCK OUT\n");
	return 2;
}
