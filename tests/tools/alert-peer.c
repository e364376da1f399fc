/*
 * alert-peer: the test peer of alpr-alertd.  Runs in tests and the bench,
 * never in production.
 *
 *   alert-peer hits SOCK [options]     send HITs to alert.sock as matchd
 *                                      would (reliable, with an image
 *                                      memfd), wait for every ACK, print
 *                                      "sent ID USEC" per hit
 *   alert-peer health SOCK CAMERA STATE GPS
 *   alert-peer control SOCK USER PASSWORD LOG
 *                                      stand in for alpr-matchd's control
 *                                      socket with the ops alertd uses
 *                                      (doc/protocol.md): login (lockout
 *                                      after 3 failures), logout,
 *                                      hit_shown, hit_resend,
 *                                      hit_transition, hit_export (files
 *                                      streamed as memfds); every request
 *                                      appended to LOG as a JSON line;
 *                                      ALERT_PEER_REFUSE_RESEND=N refuses
 *                                      the first N hit_resend requests
 *
 * The control stand-in exists for the bench and for running the page's
 * tests where matchd's control ops are absent; it holds no policy (that
 * is libalpr's, in matchd): it records what alertd sent, so a test can
 * check that alertd refused a forged step before sending it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"

static sd_event *loop;
static uint64_t want_acks, last_seq;
static int exit_code;

/* ---- hits --------------------------------------------------------------- */

static void
on_ack(uint64_t seq, void *userdata)
{
	if (seq >= want_acks)
		sd_event_exit(loop, 0);
}

static int
slurp(const char *path, char **ret, size_t *ret_len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n < 0 || (buf = malloc(n ? n : 1)) == NULL || fread(buf, 1, n, f) != (size_t)n) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*ret = buf;
	*ret_len = n;
	return 0;
}

struct hit_opts {
	long long first, count;
	const char *plate, *category, *source, *state, *camera, *match, *differs;
	const char *crop, *context, *description;
	int priority, interval_ms, entry;
	bool person;
};

static int
make_memfd(const struct hit_opts *o, json_t **ret_images)
{
	char *crop = NULL, *ctx = NULL;
	size_t crop_len = 0, ctx_len = 0;
	void *map;
	int fd, r;

	if (o->crop != NULL && (r = slurp(o->crop, &crop, &crop_len)) < 0)
		return r;
	if (o->context != NULL && (r = slurp(o->context, &ctx, &ctx_len)) < 0)
		return r;
	/* A HIT always carries a memfd; one byte when the read has no images. */
	if ((fd = ipc_memfd_new("hit-images", crop_len + ctx_len > 0 ? crop_len + ctx_len : 1,
	    &map)) < 0)
		return fd;
	if (crop_len)
		memcpy(map, crop, crop_len);
	if (ctx_len)
		memcpy((char *)map + crop_len, ctx, ctx_len);
	munmap(map, crop_len + ctx_len > 0 ? crop_len + ctx_len : 1);
	if ((r = ipc_memfd_seal(fd)) < 0)
		return r;
	*ret_images = json_object();
	if (crop_len)
		json_object_set_new(*ret_images, "crop", json_pack("[ii]", 0, (int)crop_len));
	if (ctx_len)
		json_object_set_new(*ret_images, "context", json_pack("[ii]", (int)crop_len,
		    (int)ctx_len));
	free(crop);
	free(ctx);
	return fd;
}

static int
send_one(struct ipc_client *cl, const struct hit_opts *o, long long id, int fd,
    json_t *images)
{
	json_t *differs = json_array(), *body;
	char plate[32];
	const char *p;
	int64_t now;
	int r;

	for (p = o->differs; p != NULL && *p != '\0'; p++)
		if (*p >= '0' && *p <= '9')
			json_array_append_new(differs, json_integer(*p - '0'));
	if (o->count > 1 && strchr(o->plate, '#') != NULL)
		snprintf(plate, sizeof(plate), "%.*s%lld", (int)(strchr(o->plate, '#') - o->plate),
		    o->plate, id % 10000);
	else
		snprintf(plate, sizeof(plate), "%s", o->plate);
	/* capture_usec is the send time: the page measures its latency from it. */
	now = time_realtime_usec();
	body = json_pack("{s:I, s:{s:s, s:s, s:s, s:f, s:I, s:I, s:{s:b, s:f, s:f, s:i, s:f},"
	    " s:O}, s:{s:i, s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s}, s:{s:s, s:o},"
	    " s:s, s:b}",
	    "hit", (json_int_t)id,
	    "read", "id", "00000000000000000000000000000001", "camera", o->camera,
	    "plate", plate, "confidence", 0.93, "capture_usec", (json_int_t)now,
	    "first_usec", (json_int_t)now,
	    "gps", "fix", 1, "lat", 38.58157, "lon", -121.4944, "age_ms", 400, "eph", 4.0,
	    "images", images,
	    "entry", "id", o->entry, "plate", plate, "state", o->state, "category", o->category,
	    "source", o->source, "priority", o->priority, "person", o->person,
	    "description", o->description, "list", "NCIC daily",
	    "match", "type", o->match, "differs", differs,
	    "state_check", "match", "retro", 0);
	if (body == NULL)
		return -ENOMEM;
	r = ipc_client_send_reliable(cl, IPC_MSG_HIT, body, fd, &last_seq);
	json_decref(body);
	if (r == 0)
		printf("sent %lld %lld\n", id, (long long)now);
	fflush(stdout);
	return r;
}

struct sender {
	struct ipc_client *cl;
	struct hit_opts *o;
	long long next;
	int fd;
	json_t *images;
};

static int
on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct sender *sd = userdata;
	int r;

	if (ipc_client_conn(sd->cl) == NULL) {
		(void)sd_event_source_set_time(s, usec + 10000);
		return 0;
	}
	if ((r = send_one(sd->cl, sd->o, sd->next, sd->fd, sd->images)) < 0) {
		fprintf(stderr, "alert-peer: send: %s\n", strerror(-r));
		exit_code = 1;
		return sd_event_exit(loop, 1);
	}
	sd->next++;
	if (sd->next >= sd->o->first + sd->o->count) {
		want_acks = last_seq;
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	}
	return sd_event_source_set_time(s, usec + (uint64_t)sd->o->interval_ms * 1000);
}

static int
on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	fprintf(stderr, "alert-peer: timed out waiting for acknowledgements\n");
	exit_code = 1;
	return sd_event_exit(loop, 1);
}

static const struct ipc_handler none[] = { { 0 } };
static const struct ipc_ops client_ops = { .table = none };

static int
cmd_hits(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "first", required_argument, NULL, 'f' }, { "count", required_argument, NULL, 'n' },
		{ "plate", required_argument, NULL, 'p' }, { "category", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, 's' }, { "state", required_argument, NULL, 'S' },
		{ "priority", required_argument, NULL, 'P' }, { "person", no_argument, NULL, 'x' },
		{ "match", required_argument, NULL, 'm' }, { "differs", required_argument, NULL, 'd' },
		{ "crop", required_argument, NULL, 'C' }, { "context", required_argument, NULL, 'X' },
		{ "interval-ms", required_argument, NULL, 'i' }, { "entry", required_argument, NULL, 'e' },
		{ "description", required_argument, NULL, 'D' }, { "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct hit_opts o = { .first = 1, .count = 1, .plate = "7ABC123", .category = "stolen_vehicle",
		.source = "NCIC", .state = "CA", .camera = "front", .match = "exact", .priority = 1,
		.entry = 42, .description = "2014 Honda Civic, silver" };
	struct sender sd = { .o = &o, .fd = -1 };
	sd_event_source *tick, *to;
	int ch, timeout_s = 20, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': o.first = atoll(optarg); break;
		case 'n': o.count = atoll(optarg); break;
		case 'p': o.plate = optarg; break;
		case 'c': o.category = optarg; break;
		case 's': o.source = optarg; break;
		case 'S': o.state = optarg; break;
		case 'P': o.priority = atoi(optarg); break;
		case 'x': o.person = true; break;
		case 'm': o.match = optarg; break;
		case 'd': o.differs = optarg; break;
		case 'C': o.crop = optarg; break;
		case 'X': o.context = optarg; break;
		case 'i': o.interval_ms = atoi(optarg); break;
		case 'e': o.entry = atoi(optarg); break;
		case 'D': o.description = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	if ((sd.fd = make_memfd(&o, &sd.images)) < 0) {
		fprintf(stderr, "alert-peer: images: %s\n", strerror(-sd.fd));
		return 1;
	}
	sd.next = o.first;
	if ((r = ipc_client_new(loop, argv[optind], IPC_ROLE_MATCH, "alert-peer", &client_ops, NULL,
	    &sd.cl)) < 0)
		return 1;
	ipc_client_on_ack(sd.cl, on_ack);
	want_acks = UINT64_MAX;
	sd_event_add_time_relative(loop, &tick, CLOCK_MONOTONIC, 0, 0, on_tick, &sd);
	sd_event_source_set_enabled(tick, SD_EVENT_ON);
	sd_event_add_time_relative(loop, &to, CLOCK_MONOTONIC, timeout_s * USEC_PER_SEC, 0,
	    on_timeout, NULL);
	sd_event_loop(loop);
	ipc_client_free(sd.cl);
	json_decref(sd.images);
	close(sd.fd);
	return exit_code;
}

/* ---- health ------------------------------------------------------------- */

static int
cmd_health(int argc, char **argv)
{
	struct ipc_msg m = { .fd = -1 };
	unsigned char buf[IPC_MSG_MAX];
	const char *why;
	json_t *b, *hello;
	ssize_t n;
	int fd, r, i;

	if (argc != 5)
		return 2;
	if ((fd = ipc_connect(argv[1])) < 0)
		return 1;
	for (i = 0; i < 200 && (r = ipc_recv(fd, &m, &why)) == -EAGAIN; i++)
		usleep(10000);
	ipc_msg_clear(&m);
	hello = json_pack("{s:i, s:s, s:s, s:s}", "version", IPC_VERSION, "role", "capture",
	    "name", "alert-peer", "instance", "0123456789abcdef");
	n = ipc_encode(buf, IPC_MSG_HELLO, 0, 0, hello);
	ipc_send_raw(fd, buf, n, -1);
	b = json_pack("{s:s, s:s, s:f, s:i, s:s}", "camera", argv[2], "state", argv[3],
	    "fps", 29.9, "dropped", 0, "gps", argv[4]);
	n = ipc_encode(buf, IPC_MSG_HEALTH, 0, 1, b);
	ipc_send_raw(fd, buf, n, -1);
	usleep(100000);
	close(fd);
	json_decref(hello);
	json_decref(b);
	return 0;
}

/* ---- control stand-in ------------------------------------------------------ */

static const char *ctl_user, *ctl_password;
static FILE *ctl_log;
static int failures;
static int refuse_resend;	/* ALERT_PEER_REFUSE_RESEND: hit_resend refusals before a yes */

static int
reply(struct ipc_conn *c, uint64_t seq, json_t *result, const char *error)
{
	json_t *b;
	int r;

	if (error != NULL)
		b = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", error, "code", "refused");
	else
		b = json_pack("{s:b, s:o}", "ok", 1, "result", result != NULL ? result : json_object());
	r = ipc_conn_send(c, IPC_MSG_REPLY, error != NULL ? IPC_F_ERROR : 0, seq, b, -1);
	json_decref(b);
	return r;
}

/* Two files as matchd streams them: a part with a sealed memfd each, then the result. */
static int
export_files(struct ipc_conn *c, uint64_t seq, json_t *args)
{
	static const char *const names[] = { "hit.json", "hit.html" };
	char text[128];
	json_t *b;
	void *map;
	size_t i, n;
	int fd, r;

	for (i = 0; i < 2; i++) {
		n = (size_t)snprintf(text, sizeof(text), i == 0 ? "{\"hit\": %lld}\n" :
		    "<p>hit %lld</p>\n", (long long)json_integer_value(json_object_get(args, "id")));
		if ((fd = ipc_memfd_new(names[i], n, &map)) < 0)
			return fd;
		memcpy(map, text, n);
		munmap(map, n);
		ipc_memfd_seal(fd);
		b = json_pack("{s:b, s:b, s:{s:s, s:i, s:s}}", "ok", 1, "more", 1, "file",
		    "name", names[i], "size", (int)n, "sha256", "stand-in");
		r = ipc_conn_send(c, IPC_MSG_REPLY, 0, seq, b, fd);
		json_decref(b);
		close(fd);
		if (r < 0)
			return r;
	}
	return reply(c, seq, json_pack("{s:i}", "files", 2), NULL);
}

static int
on_request(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	const char *op = NULL, *user = "", *password = "", *session = NULL;
	json_t *args, *logged;
	char *line;

	if (json_unpack(m->body, "{s:s, s?s, s:o}", "op", &op, "session", &session, "args", &args) < 0)
		return reply(c, m->seq, NULL, "malformed request");
	/* The log never holds the password. */
	logged = json_deep_copy(m->body);
	json_object_del(json_object_get(logged, "args"), "password");
	json_object_set_new(logged, "usec", json_integer(time_realtime_usec()));
	if ((line = json_dumps(logged, JSON_COMPACT)) != NULL) {
		fprintf(ctl_log, "%s\n", line);
		fflush(ctl_log);
		free(line);
	}
	json_decref(logged);
	if (strcmp(op, "login") == 0) {
		json_unpack(args, "{s:s, s:s}", "user", &user, "password", &password);
		if (failures >= 3)
			return reply(c, m->seq, NULL, "account locked after too many failed logins");
		/* "untrained" logs in but has no current training (R2). */
		if ((strcmp(user, ctl_user) != 0 && strcmp(user, "untrained") != 0) ||
		    strcmp(password, ctl_password) != 0) {
			failures++;
			return reply(c, m->seq, NULL, "wrong user or password");
		}
		failures = 0;
		return reply(c, m->seq, json_pack("{s:s, s:s, s:s, s:b}", "session",
		    "stub-session-token", "user", user, "role", "sworn", "training_current",
		    strcmp(user, "untrained") != 0), NULL);
	}
	if (strcmp(op, "hit_shown") == 0)
		return reply(c, m->seq, json_pack("{s:O}", "hit", json_object_get(args, "hit")), NULL);
	if (strcmp(op, "hit_resend") == 0) {
		if (refuse_resend > 0) {
			refuse_resend--;
			return reply(c, m->seq, NULL, "database busy (stand-in)");
		}
		return reply(c, m->seq, json_pack("{s:i}", "count", 0), NULL);
	}
	if (session == NULL || strcmp(session, "stub-session-token") != 0)
		return reply(c, m->seq, NULL, "not logged in");
	if (strcmp(op, "logout") == 0)
		return reply(c, m->seq, NULL, NULL);
	if (strcmp(op, "hit_transition") == 0)
		return reply(c, m->seq, json_pack("{s:O, s:O}", "id", json_object_get(args, "id"),
		    "to", json_object_get(args, "to")), NULL);
	if (strcmp(op, "hit_export") == 0)
		return export_files(c, m->seq, args);
	return reply(c, m->seq, NULL, "unknown op");
}

static const struct ipc_handler control_table[] = {
	{ IPC_MSG_REQUEST, IPC_ROLE_ALERT | IPC_ROLE_CTL, false, true, on_request },
	{ 0 }
};
static const struct ipc_ops control_ops = { .table = control_table };

static int
on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(loop, 0);
}

static int
cmd_control(int argc, char **argv)
{
	struct ipc_server *srv;
	sigset_t ss;
	int fd;

	if (argc != 5)
		return 2;
	ctl_user = argv[2];
	if (getenv("ALERT_PEER_REFUSE_RESEND") != NULL)
		refuse_resend = atoi(getenv("ALERT_PEER_REFUSE_RESEND"));
	ctl_password = argv[3];
	if ((ctl_log = fopen(argv[4], "ae")) == NULL)
		return 1;
	unlink(argv[1]);
	if ((fd = ipc_listen(argv[1], 16)) < 0)
		return 1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sd_event_add_signal(loop, NULL, SIGTERM, on_term, NULL);
	sd_event_add_signal(loop, NULL, SIGINT, on_term, NULL);
	if (ipc_server_new(loop, fd, IPC_ROLE_MATCH, "alert-peer", IPC_ROLE_ALERT | IPC_ROLE_CTL,
	    &control_ops, NULL, &srv) < 0)
		return 1;
	sd_event_loop(loop);
	ipc_server_free(srv);
	fclose(ctl_log);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("alert-peer", false);
	if (argc < 3) {
		fprintf(stderr, "usage: alert-peer hits|health|control SOCK ...\n");
		return 2;
	}
	sd_event_default(&loop);
	if (strcmp(argv[1], "hits") == 0)
		return cmd_hits(argc - 1, argv + 1);
	if (strcmp(argv[1], "health") == 0)
		return cmd_health(argc - 1, argv + 1);
	if (strcmp(argv[1], "control") == 0)
		return cmd_control(argc - 1, argv + 1);
	return 2;
}
