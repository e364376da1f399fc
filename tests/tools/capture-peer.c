/*
 * Test peer for alpr-captured (tests/system/07x-capture-*.sh, the capture
 * bench).  Real sockets, real memfds; it stands in for alpr-ocrd and
 * alprctl, which the capture tests must not depend on.
 *
 *   capture-peer receive SOCK [-n FRAMES] [-t SECONDS] [-q]
 *	listens on SOCK as alpr-ocrd would (role ocr), and prints one JSON
 *	line per FRAME: {"type":"frame","meta":{...},"sealed":B,"size":N,
 *	"mean":F} (the mean of the memfd's pixels, -q: not measured, no
 *	line printed), and per HEALTH: {"type":"health","body":{...}}.  At
 *	the end: {"type":"summary","frames":N,"bad":N,"seconds":F}.
 *   capture-peer stall SOCK SECONDS
 *	accepts one connection, says HELLO, and then never reads.
 *   capture-peer inspect SOCK [png|jpeg] [OUT]
 *	sends REQUEST {"op":"inspect"} and prints the REPLY's body; checks
 *	the sample memfd (sealed, image magic) and writes it to OUT.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"

static long max_frames = -1;
static bool quiet;
static long frames, bad;
static int64_t first_usec, last_usec;
static int exit_code;
static const char *out_path;

static int
on_frame(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	size_t size = 0;
	bool sealed;
	double mean = -1;
	json_t *line;
	char *s;

	sealed = ipc_memfd_check(m->fd, &size) == 0;
	if (!sealed)
		bad++;
	last_usec = time_monotonic_usec();
	if (frames++ == 0)
		first_usec = last_usec;
	if (!quiet) {
		if (sealed && size > 0) {
			const uint8_t *p = mmap(NULL, size, PROT_READ, MAP_SHARED, m->fd, 0);
			uint64_t sum = 0;
			size_t i;

			if (p != MAP_FAILED) {
				for (i = 0; i < size; i++)
					sum += p[i];
				mean = (double)sum / size;
				munmap((void *)p, size);
			}
		}
		line = json_pack("{s:s, s:O, s:b, s:I, s:f}", "type", "frame", "meta", m->body,
		    "sealed", sealed, "size", (json_int_t)size, "mean", mean);
		s = json_dumps(line, JSON_COMPACT);
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		json_decref(line);
	}
	if (max_frames >= 0 && frames >= max_frames)
		sd_event_exit(userdata, 0);
	return 0;
}

static int
on_health(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	json_t *line = json_pack("{s:s, s:O}", "type", "health", "body", m->body);
	char *s = json_dumps(line, JSON_COMPACT);

	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(line);
	return 0;
}

static const struct ipc_handler recv_table[] = {
	{ IPC_MSG_FRAME, IPC_ROLE_CAPTURE, true, true, on_frame },
	{ IPC_MSG_HEALTH, IPC_ROLE_CAPTURE, false, true, on_health },
	{ 0 }
};
static const struct ipc_ops recv_ops = { .table = recv_table };

static int
on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int
do_receive(const char *path, double seconds)
{
	struct ipc_server *srv;
	sd_event *e;
	int fd, r;

	(void)unlink(path);
	if ((fd = ipc_listen(path, 8)) < 0)
		fatal_r(fd, "listen %s", path);
	if ((r = sd_event_default(&e)) < 0)
		fatal_r(r, "event loop");
	if ((r = ipc_server_new(e, fd, IPC_ROLE_OCR, "capture-peer", IPC_ROLE_CAPTURE, &recv_ops,
	    e, &srv)) < 0)
		fatal_r(r, "server");
	if (seconds > 0 && (r = sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC,
	    (uint64_t)(seconds * USEC_PER_SEC), 1000, on_timeout, NULL)) < 0)
		fatal_r(r, "timer");
	(void)sd_event_loop(e);
	printf("{\"type\":\"summary\",\"frames\":%ld,\"bad\":%ld,\"seconds\":%.6f}\n", frames, bad,
	    frames > 1 ? (double)(last_usec - first_usec) / USEC_PER_SEC : 0.0);
	fflush(stdout);
	ipc_server_free(srv);
	sd_event_unref(e);
	(void)unlink(path);
	return bad == 0 ? 0 : 1;
}

/* A receiver that hangs: HELLO, then nothing is ever read. */
static int
do_stall(const char *path, double seconds)
{
	unsigned char buf[IPC_MSG_MAX];
	json_t *hello;
	ssize_t n;
	int lfd, fd;

	(void)unlink(path);
	if ((lfd = ipc_listen(path, 8)) < 0)
		fatal_r(lfd, "listen %s", path);
	(void)fcntl(lfd, F_SETFL, 0);
	if ((fd = accept(lfd, NULL, NULL)) < 0)
		fatal("accept");
	hello = json_pack("{s:i, s:s, s:s, s:s}", "version", IPC_VERSION, "role", "ocr", "name",
	    "capture-peer", "instance", "00000000000000a1");
	if ((n = ipc_encode(buf, IPC_MSG_HELLO, 0, 0, hello)) < 0 ||
	    ipc_send_raw(fd, buf, n, -1) < 0)
		fatalx("HELLO");
	json_decref(hello);
	printf("{\"type\":\"stalled\"}\n");
	fflush(stdout);
	usleep((useconds_t)(seconds * USEC_PER_SEC));
	close(fd);
	close(lfd);
	(void)unlink(path);
	return 0;
}

static int
on_reply(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	unsigned char magic[4] = { 0 };
	size_t size = 0;
	char *s;

	s = json_dumps(m->body, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	exit_code = 0;
	if (m->fd >= 0) {
		if (ipc_memfd_check(m->fd, &size) != 0 || (size > 0 && pread(m->fd, magic, 4, 0) != 4)) {
			printf("{\"sample\":\"not a sealed memfd\"}\n");
			exit_code = 1;
		} else {
			printf("{\"sample_sealed\":true,\"sample_size\":%zu,\"sample_magic\":\"%s\"}\n",
			    size, memcmp(magic, "\x89PNG", 4) == 0 ? "png" :
			    memcmp(magic, "\xff\xd8\xff", 3) == 0 ? "jpeg" : size == 0 ? "none" : "other");
			if (out_path != NULL) {
				int ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
				char *buf = malloc(size);

				if (ofd < 0 || buf == NULL || pread(m->fd, buf, size, 0) != (ssize_t)size ||
				    write(ofd, buf, size) != (ssize_t)size)
					exit_code = 1;
				free(buf);
				if (ofd >= 0)
					close(ofd);
			}
		}
	}
	fflush(stdout);
	sd_event_exit(userdata, 0);
	return 0;
}

static int
on_connected(struct ipc_conn *c, void *userdata)
{
	json_t *req = json_pack("{s:s, s:{s:s}}", "op", "inspect", "args", "format",
	    (const char *)ipc_conn_get_data(c) ?: "png");

	(void)ipc_conn_send(c, IPC_MSG_REQUEST, 0, 1, req, -1);
	json_decref(req);
	return 0;
}

static const struct ipc_handler ctl_table[] = {
	{ IPC_MSG_REPLY, IPC_ROLE_CAPTURE, true, true, on_reply },
	{ 0 }
};

static const char *inspect_format = "png";

static int
on_connected_fmt(struct ipc_conn *c, void *userdata)
{
	ipc_conn_set_data(c, (void *)inspect_format);
	return on_connected(c, userdata);
}

static const struct ipc_ops ctl_ops = { .table = ctl_table, .connected = on_connected_fmt };

static int
do_inspect(const char *path)
{
	struct ipc_client *cl;
	sd_event *e;
	int r;

	exit_code = 0;
	if ((r = sd_event_default(&e)) < 0)
		fatal_r(r, "event loop");
	if ((r = ipc_client_new(e, path, IPC_ROLE_TEST, "capture-peer", &ctl_ops, e, &cl)) < 0)
		fatal_r(r, "client");
	(void)sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC, 10 * USEC_PER_SEC, 1000,
	    on_timeout, NULL);
	exit_code = 2;	/* until a reply comes */
	(void)sd_event_loop(e);
	ipc_client_free(cl);
	sd_event_unref(e);
	return exit_code;
}

int
main(int argc, char **argv)
{
	double seconds = 0;
	int i;

	log_init("capture-peer", getenv("CAPTURE_PEER_DEBUG") != NULL);
	if (argc < 3) {
		fprintf(stderr, "usage: capture-peer receive|stall|inspect SOCK ...\n");
		return 64;
	}
	if (strcmp(argv[1], "receive") == 0) {
		for (i = 3; i < argc; i++) {
			if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
				max_frames = atol(argv[++i]);
			else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
				seconds = atof(argv[++i]);
			else if (strcmp(argv[i], "-q") == 0)
				quiet = true;
		}
		return do_receive(argv[2], seconds);
	}
	if (strcmp(argv[1], "stall") == 0)
		return do_stall(argv[2], argc > 3 ? atof(argv[3]) : 10);
	if (strcmp(argv[1], "inspect") == 0) {
		if (argc > 3)
			inspect_format = argv[3];
		if (argc > 4)
			out_path = argv[4];
		return do_inspect(argv[2]);
	}
	fprintf(stderr, "capture-peer: unknown mode %s\n", argv[1]);
	return 64;
}
