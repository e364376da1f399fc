/*
 * frame-peer: the two ends of alpr-ocrd for its tests and benchmark.
 *
 *   frame-peer cars SOCKET PLATES.txt CARS FRAMES GAP FPS [W H]
 *	acts as alpr-captured on SOCKET (ocr.sock): CARS cars pass one after
 *	the other, each showing a rendered plate (tests/data/plates, listed in
 *	PLATES.txt) in FRAMES frames while it moves across a W x H frame
 *	(default 1280x720), then GAP frames with no car; FPS frames a second
 *	(0: as fast as the socket takes them).  Prints "car N TEXT" per car.
 *	FRAME_PEER_HIDE=FROM:COUNT in the environment hides each car's plate
 *	in its frames FROM to FROM + COUNT - 1 (a van passing in front).
 *   frame-peer bad SOCKET
 *	sends hostile FRAMEs (unsealed, wrong size, not a memfd, missing and
 *	mistyped fields, absurd sizes) and then a good one; exits 0 if the
 *	daemon kept the connection open through all of them.
 *   frame-peer recv SOCKET FILE
 *	acts as alpr-matchd on SOCKET (match.sock): checks each READ (fields,
 *	JPEG images in its memfd), appends "id plate frames images camera
 *	candidates gps confidence top-candidate-confidence" to FILE and
 *	fsyncs it before it acknowledges, and skips a read whose id is already
 *	in FILE (as matchd does), so a kill -9 between commit and ACK shows;
 *	an update (a known id with more frames) replaces its line, keeping
 *	the first READ's images field, as matchd keeps its images.  With
 *	FRAME_PEER_REFUSE=PLATE in the environment, a READ of that plate is
 *	refused (lib/ipc's refusal, as matchd refuses a bad READ) and counted
 *	as "refused ID" lines in FILE.refused.
 *
 * The rendered plates are pasted, scaled to half size, into a synthetic
 * background: what the recognizer's own scene test reads, on a moving car.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "ipc/ipc.h"
#include "recognize.h"

static uint8_t buf[IPC_MSG_MAX];

static int
send_msg(int sock, uint8_t type, json_t *body, int fd)
{
	ssize_t len = ipc_encode(buf, type, fd >= 0 ? IPC_F_FD : 0, 0, body);

	json_decref(body);
	if (len < 0)
		return (int)len;
	return ipc_send_raw(sock, buf, (size_t)len, fd) < 0 ? -errno : 0;
}

static int
peer_connect(const char *path)
{
	struct ipc_msg m;
	const char *why;
	uint64_t inst;
	char hex[17];
	int sock, r;

	if ((sock = ipc_connect(path)) < 0)
		fatal_r(sock, "connect %s", path);
	/* a plain blocking client: the socket's buffer paces us */
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
	getrandom(&inst, sizeof(inst), 0);
	snprintf(hex, sizeof(hex), "%016" PRIx64, inst);
	if ((r = send_msg(sock, IPC_MSG_HELLO, json_pack("{s:i,s:s,s:s,s:s}", "version",
	    IPC_VERSION, "role", "capture", "name", "frame-peer", "instance", hex), -1)) < 0)
		fatal_r(r, "hello");
	/* ipc_recv() never blocks: wait for the answer first */
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	why = NULL;
	if (poll(&pfd, 1, 10000) != 1 || (r = ipc_recv(sock, &m, &why)) <= 0 ||
	    m.type != IPC_MSG_HELLO)
		fatalx("no HELLO from %s", path);
	ipc_msg_clear(&m);
	return sock;
}

static json_t *
frame_body(const char *camera, int64_t n, int w, int h, int stride)
{
	return json_pack("{s:s,s:I,s:i,s:i,s:i,s:s,s:I,s:I,s:{s:b,s:f,s:f,s:f,s:f,s:i,s:i,s:f}}",
	    "camera", camera, "frame", (json_int_t)n, "width", w, "height", h, "stride", stride,
	    "format", "GREY", "capture_usec", (json_int_t)time_realtime_usec(), "mono_usec",
	    (json_int_t)time_monotonic_usec(), "gps", "fix", 1, "lat", 36.97, "lon", -122.03,
	    "speed", 12.5, "heading", 90.0, "mode", 3, "age_ms", 200, "eph", 4.0);
}

/* A sealed memfd holding a copy of img (w x h, stride w); -errno on failure. */
static int
memfd_of(const uint8_t *img, size_t size, bool seal)
{
	void *map;
	int fd, r;

	if ((fd = ipc_memfd_new("frame", size, &map)) < 0)
		return fd;
	memcpy(map, img, size);
	munmap(map, size);
	if (seal && (r = ipc_memfd_seal(fd)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static void
background(uint8_t *f, int w, int h, unsigned seed)
{
	srand(seed);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			f[(size_t)y * w + x] = (uint8_t)(60 + (x / 40 + y / 30) % 3 * 30 + rand() % 12);
}

struct plate {
	char text[16];
	uint8_t *grey;
	int w, h;
};

static size_t
plates_load(const char *list, struct plate *p, size_t max)
{
	char line[256], file[128], text[16], dir[512], path[700];
	const char *slash = strrchr(list, '/');
	size_t n = 0;
	FILE *f;
	int r;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - list) : 1, slash ? list : ".");
	if ((f = fopen(list, "r")) == NULL)
		fatal("%s", list);
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || sscanf(line, "%127s %15s", file, text) != 2)
			continue;
		/* names are relative to the list's directory unless absolute */
		snprintf(path, sizeof(path), "%s/%s", file[0] == '/' ? "" : dir, file);
		if ((r = rec_image_load(path, &p[n].grey, &p[n].w, &p[n].h)) < 0)
			fatal_r(r, "%s", path);
		snprintf(p[n].text, sizeof(p[n].text), "%s", text);
		n++;
	}
	fclose(f);
	return n;
}

static void
pace(int64_t start, int64_t n, double fps)
{
	int64_t due, now;

	if (fps <= 0)
		return;
	due = start + (int64_t)((double)n * 1e6 / fps);
	now = time_monotonic_usec();
	if (due > now)
		usleep((useconds_t)(due - now));
}

static int
cars(int argc, char **argv)
{
	struct plate plates[32];
	int n_cars = atoi(argv[3]), per_car = atoi(argv[4]), gap = atoi(argv[5]);
	double fps = atof(argv[6]);
	int w = argc > 8 ? atoi(argv[7]) : 1280, h = argc > 8 ? atoi(argv[8]) : 720;
	size_t n_plates = plates_load(argv[2], plates, 32), size = (size_t)w * h;
	uint8_t *img = malloc(size), *bg = malloc(size);
	int sock = peer_connect(argv[1]), r;
	int64_t n = 0, start = time_monotonic_usec();
	int hide_from = -1, hide_n = 0;

	if (n_plates == 0 || img == NULL || bg == NULL)
		fatalx("no plates or no memory");
	if (getenv("FRAME_PEER_HIDE") != NULL &&
	    sscanf(getenv("FRAME_PEER_HIDE"), "%d:%d", &hide_from, &hide_n) != 2)
		fatalx("FRAME_PEER_HIDE: FROM:COUNT");
	background(bg, w, h, 7);
	for (int car = 0; car < n_cars; car++) {
		const struct plate *p = &plates[car % n_plates];
		int pw = p->w / 2, ph = p->h / 2;

		printf("car %d %s\n", car, p->text);
		fflush(stdout);
		for (int k = 0; k < per_car + gap; k++) {
			memcpy(img, bg, size);
			if (k < per_car && !(k >= hide_from && k < hide_from + hide_n)) {
				/* left to right and slightly down, like a car overtaken */
				int x0 = w / 10 + k * (w * 6 / 10) / (per_car > 1 ? per_car - 1 : 1);
				int y0 = h / 2 + k * 4;

				if (x0 + pw > w)
					x0 = w - pw;
				if (y0 + ph > h)
					y0 = h - ph;
				for (int y = 0; y < ph; y++)
					for (int x = 0; x < pw; x++) {
						const uint8_t *s = p->grey + (size_t)(2 * y) * p->w + 2 * x;

						img[(size_t)(y0 + y) * w + x0 + x] = (uint8_t)((s[0] + s[1] +
						    s[p->w] + s[p->w + 1]) / 4);
					}
			}
			if (getenv("FRAME_PEER_DUMP") != NULL) {
				/* FRAME_PEER_DUMP=dir: each frame as a PGM too, to look at */
				char path[512];
				FILE *pf;

				snprintf(path, sizeof(path), "%s/%06lld.pgm", getenv("FRAME_PEER_DUMP"),
				    (long long)n);
				if ((pf = fopen(path, "wb")) != NULL) {
					fprintf(pf, "P5\n%d %d\n255\n", w, h);
					fwrite(img, 1, size, pf);
					fclose(pf);
				}
			}
			pace(start, n, fps);
			int fd = memfd_of(img, size, true);
			if (fd < 0)
				fatal_r(fd, "memfd");
			r = send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h, w), fd);
			close(fd);
			if (r < 0)
				fatal_r(r, "send frame");
		}
	}
	close(sock);
	for (size_t i = 0; i < n_plates; i++)
		free(plates[i].grey);
	free(img);
	free(bg);
	return 0;
}

static int
bad(int argc, char **argv)
{
	int w = 640, h = 480, sock = peer_connect(argv[1]), fd, n = 0;
	size_t size = (size_t)w * h;
	uint8_t *img = calloc(1, size);
	struct pollfd pfd;
	json_t *b;

	if (img == NULL)
		fatalx("no memory");
	/* unsealed memfd */
	fd = memfd_of(img, size, false);
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h, w), fd);
	close(fd);
	/* sealed but smaller than announced */
	fd = memfd_of(img, size / 2, true);
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h, w), fd);
	close(fd);
	/* sealed but larger than announced */
	fd = memfd_of(img, size, true);
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h / 2, w), fd);
	close(fd);
	/* not a memfd at all */
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h, w), fd);
	close(fd);
	/* mistyped, missing, out-of-range and hostile fields, each on a good memfd */
	fd = memfd_of(img, size, true);
	b = frame_body("front", n++, w, h, w);
	json_object_set_new(b, "width", json_string("640"));
	send_msg(sock, IPC_MSG_FRAME, b, fd);
	b = frame_body("front", n++, w, h, w);
	json_object_del(b, "stride");
	send_msg(sock, IPC_MSG_FRAME, b, fd);
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, 20000, 20000, 20000), fd);
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h, w - 1), fd);
	send_msg(sock, IPC_MSG_FRAME, frame_body("../../etc", n++, w, h, w), fd);
	b = frame_body("front", n++, w, h, w);
	json_object_set_new(b, "format", json_string("RGB3"));
	send_msg(sock, IPC_MSG_FRAME, b, fd);
	b = frame_body("front", n++, w, h, w);
	json_object_set_new(b, "gps", json_pack("{s:b,s:f,s:s}", "fix", 1, "lat", 999.0, "lon", "x"));
	send_msg(sock, IPC_MSG_FRAME, b, fd);
	/* and a good one: the connection must still be there for it */
	send_msg(sock, IPC_MSG_FRAME, frame_body("front", n++, w, h, w), fd);
	close(fd);
	/* the daemon closes a connection it gives up on: wait to see that it does not */
	pfd.fd = sock;
	pfd.events = POLLIN | POLLRDHUP;
	if (poll(&pfd, 1, 500) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLRDHUP))) {
		fprintf(stderr, "frame-peer: the daemon closed the connection\n");
		return 1;
	}
	close(sock);
	free(img);
	return 0;
}

/* ---- the match side ------------------------------------------------------ */

static FILE *out;
static const char *out_path;
static char (*seen)[33];
static size_t n_seen, cap_seen;
static uint64_t arrivals, resends, updates;

static bool
seen_has(const char *id)
{
	for (size_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i], id) == 0)
			return true;
	return false;
}

static void
seen_add(const char *id)
{
	if (n_seen == cap_seen) {
		cap_seen = cap_seen ? 2 * cap_seen : 64;
		if ((seen = realloc(seen, cap_seen * sizeof(*seen))) == NULL)
			fatalx("no memory");
	}
	snprintf(seen[n_seen++], 33, "%s", id);
}

/* Replaces the line of id if frames is more than it says; true if it did. */
static bool
line_update(const char *id, const char *plate, long long frames, const char *rest)
{
	char line[512], tmp[4096], images[16];
	long long old;
	bool done = false;
	FILE *in, *o;

	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
	if ((in = fopen(out_path, "r")) == NULL || (o = fopen(tmp, "w")) == NULL)
		fatal("%s", out_path);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, id, 32) == 0 && sscanf(line, "%*s %*s %lld %15s", &old, images) == 2 &&
		    frames > old) {
			fprintf(o, "%s %s %lld %s %s\n", id, plate, frames, images, rest);
			done = true;
		} else
			fputs(line, o);
	}
	fclose(in);
	fflush(o);
	fsync(fileno(o));
	fclose(o);
	if (rename(tmp, out_path) < 0)
		fatal("rename %s", tmp);
	fclose(out);
	if ((out = fopen(out_path, "a")) == NULL)
		fatal("%s", out_path);
	return done;
}

static bool
jpeg_at(const uint8_t *map, size_t size, json_int_t off, json_int_t len)
{
	return off >= 0 && len >= 4 && (size_t)off <= size && (size_t)len <= size - (size_t)off &&
	    map[off] == 0xFF && map[off + 1] == 0xD8 && map[off + len - 2] == 0xFF &&
	    map[off + len - 1] == 0xD9;
}

static int
on_read(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	const char *id, *plate, *camera;
	json_int_t frames, co, cl, xo, xl, first, last;
	json_t *cands, *gps;
	double conf, cand_max = 0;
	bool images = false;
	size_t size;

	if (!(m->flags & IPC_F_RELIABLE) || json_unpack(m->body,
	    "{s:s,s:s,s:s,s:F,s:o,s:I,s:I,s:I,s:o}", "id", &id, "camera", &camera, "plate", &plate,
	    "confidence", &conf, "candidates", &cands, "frames", &frames, "first_usec", &first,
	    "last_usec", &last, "gps", &gps) < 0 || strlen(id) != 32)
		return -EBADMSG;
	arrivals++;
	if (getenv("FRAME_PEER_REFUSE") != NULL && strcmp(getenv("FRAME_PEER_REFUSE"), plate) == 0) {
		char path[4096];
		FILE *rf;

		snprintf(path, sizeof(path), "%s.refused", out_path);
		if ((rf = fopen(path, "a")) != NULL) {
			fprintf(rf, "refused %s\n", id);
			fclose(rf);
		}
		return ipc_conn_refuse(c, m->seq, "refused by the test");
	}
	if (m->fd >= 0 && json_unpack(m->body, "{s:{s:[I,I],s:[I,I]}}", "images", "crop", &co,
	    &cl, "context", &xo, &xl) == 0 && ipc_memfd_check(m->fd, &size) == 0) {
		void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, m->fd, 0);

		if (map != MAP_FAILED) {
			images = jpeg_at(map, size, co, cl) && jpeg_at(map, size, xo, xl);
			munmap(map, size);
		}
	}
	/* The largest candidate confidence, for the 0..1 check of 070-ocrd. */
	{
		json_t *cand;
		size_t i;

		json_array_foreach(cands, i, cand) {
			double cc = json_number_value(json_object_get(cand, "confidence"));

			if (cc > cand_max)
				cand_max = cc;
		}
	}
	if (seen_has(id)) {
		char rest[256];

		snprintf(rest, sizeof(rest), "%s %zu %s %.4f %.4f", camera, json_array_size(cands),
		    json_is_true(json_object_get(gps, "fix")) ? "fix" : "nofix", conf, cand_max);
		if (line_update(id, plate, (long long)frames, rest)) {
			updates++;
			log_info("read %s updated (%lld frames), acknowledged", id, (long long)frames);
		} else {
			resends++;
			log_info("read %s again (resend %llu), acknowledged", id,
			    (unsigned long long)resends);
		}
	} else {
		/* commit before ACK: a kill between them must not lose the read */
		fprintf(out, "%s %s %lld %s %s %zu %s %.4f %.4f\n", id, plate, (long long)frames,
		    images ? "jpeg" : "noimages", camera, json_array_size(cands),
		    json_is_true(json_object_get(gps, "fix")) ? "fix" : "nofix", conf, cand_max);
		fflush(out);
		fsync(fileno(out));
		seen_add(id);
	}
	return ipc_conn_ack(c, m->seq);
}

static const struct ipc_handler recv_table[] = {
	{ IPC_MSG_READ, IPC_ROLE_OCR, true, true, on_read },
	{ 0 }
};
static const struct ipc_ops recv_ops = { .table = recv_table };

static int
recv_main(int argc, char **argv)
{
	struct ipc_server *srv;
	char line[256], id[64];
	sd_event *e;
	int fd, r;
	FILE *f;

	if ((f = fopen(argv[2], "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%63s", id) == 1)
				seen_add(id);
		fclose(f);
	}
	out_path = argv[2];
	if ((out = fopen(argv[2], "a")) == NULL)
		fatal("%s", argv[2]);
	unlink(argv[1]);
	if ((fd = ipc_listen(argv[1], 16)) < 0)
		fatal_r(fd, "listen %s", argv[1]);
	if ((r = sd_event_default(&e)) < 0 ||
	    (r = ipc_server_new(e, fd, IPC_ROLE_MATCH, "frame-peer", IPC_ROLE_OCR, &recv_ops, NULL,
	    &srv)) < 0)
		fatal_r(r, "server");
	return sd_event_loop(e) < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	log_init("frame-peer", true);
	if (argc >= 8 && strcmp(argv[1], "cars") == 0)
		return cars(argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "bad") == 0)
		return bad(argc - 1, argv + 1);
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return recv_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: frame-peer cars SOCKET PLATES.txt CARS FRAMES GAP FPS [W H]\n"
	    "       frame-peer bad SOCKET\n       frame-peer recv SOCKET FILE\n");
	return 2;
}
