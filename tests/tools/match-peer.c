/*
 * match-peer: the test peers of alpr-matchd.  Runs in tests only.
 *
 *   match-peer send SOCK FIRST COUNT HOT_EVERY
 *        send COUNT reliable READs to match.sock as alpr-ocrd would, ids
 *        FIRST.. (32 hex digits); read i has plate H<i> when i is a
 *        multiple of HOT_EVERY (0: never), R<i> otherwise, and every
 *        third read a sealed memfd with a crop image; exit 0 once every
 *        READ is acknowledged
 *   match-peer recv SOCK OUT
 *        serve alert.sock as alpr-alertd would: acknowledge every HIT
 *        that carries a memfd and append "HIT READ_ID ENTRY_PLATE" to OUT
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
cmd_send(const char *path, long first, long count, long hot_every)
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
		    "state_confidence", 0.0, "candidates", "plate", "X1", "confidence", 0.1,
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
	const char *read_id, *plate;
	json_int_t hit;

	if (json_unpack(m->body, "{s:I, s:{s:s}, s:{s:s}}", "hit", &hit, "read", "id", &read_id,
	    "entry", "plate", &plate) < 0)
		return -EINVAL;
	fprintf(out, "%lld %s %s\n", (long long)hit, read_id, plate);
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

int
main(int argc, char **argv)
{
	log_init("match-peer", false);
	if (argc == 6 && strcmp(argv[1], "send") == 0)
		return cmd_send(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return cmd_recv(argv[2], argv[3]);
	fprintf(stderr, "usage: match-peer send SOCK FIRST COUNT HOT_EVERY | recv SOCK OUT\n");
	return 2;
}
