/*
 * store-bench DIR READS EXPIRED: storage figures for `make bench`.
 *  1. reads inserted per second, in batches of 64 as alpr-matchd commits
 *     them (synchronous=FULL: each batch is durable);
 *  2. p99 latency of those batches, and of their wait for the write lock,
 *     while another process purges EXPIRED expired reads (as the timer's
 *     `alprctl --offline purge` does next to alpr-matchd), and the purge's
 *     throughput;
 *  3. latency of a plate lookup and of an area canvass over READS reads,
 *     through policy_control() (the gate and the access-log row included).
 * Prints "name value unit" lines.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/time.h"
#include "conf/conf.h"
#include "policy/policy.h"
#include "store/store.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
make_read(struct store_read *rd, uint64_t n, int64_t when)
{
	static const char chars[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
	int i;

	memset(rd, 0, sizeof(*rd));
	snprintf(rd->id, sizeof(rd->id), "%016llx%016llx", (unsigned long long)rnd(),
	    (unsigned long long)n);
	for (i = 0; i < 7; i++)
		rd->plate[i] = chars[rnd() % (sizeof(chars) - 1)];
	rd->camera = (n & 1) ? "front" : "rear";
	rd->confidence = 0.9;
	rd->capture_usec = rd->first_usec = rd->last_usec = when;
	rd->frames = 4;
	rd->gps_fix = true;
	rd->lat = 37.85 + (double)(rnd() % 30000) / 100000.0;	/* a 33 x 26 km box */
	rd->lon = -122.2 + (double)(rnd() % 30000) / 100000.0;
	rd->candidates = "[]";
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
pct(int64_t *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp64);
	return v[(size_t)((double)(n - 1) * p)];
}

/*
 * Set-up only, and as fast as this machine allows: no sync, big batches,
 * ids in ascending order, and the reads table's indexes (as the schema
 * defines them, read back from it) dropped while filling and built once
 * at the end, by sorting.
 */
static int
populate(const char *db, uint64_t reads, uint64_t expired, int64_t now)
{
	struct store_read *rd = calloc(10000, sizeof(*rd));
	char *index_sql[16];
	struct store *s;
	sqlite3_stmt *st;
	uint64_t n = 0;
	int r, n_index = 0, i;

	if ((r = store_open(db, STORE_OPEN_CREATE | STORE_OPEN_TEST_NOSYNC, &s)) < 0)
		return r;
	(void)sqlite3_exec(store_db(s), "PRAGMA cache_size = -1048576", NULL, NULL, NULL);
	if ((r = store_prepare(s, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND"
	    " tbl_name = 'reads' AND sql IS NOT NULL", &st)) < 0)
		return r;
	while (n_index < 16 && sqlite3_step(st) == SQLITE_ROW)
		index_sql[n_index++] = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	for (i = 0; i < n_index; i++) {
		char drop[160];

		/* "CREATE INDEX name ON ...": the name is the third word. */
		if (sscanf(index_sql[i], "CREATE INDEX %100s", drop + 11) != 1)
			return -EINVAL;
		memcpy(drop, "DROP INDEX ", 11);
		if (sqlite3_exec(store_db(s), drop, NULL, NULL, NULL) != SQLITE_OK)
			return -EIO;
	}
	while (n < reads + expired) {
		size_t k = 0;

		for (i = 0; i < 10000 && n < reads + expired; i++, n++) {
			int64_t when = n < expired ?
			    now - (366 + (int64_t)(rnd() % 30)) * USEC_PER_DAY :
			    now - (int64_t)(rnd() % (364 * (uint64_t)USEC_PER_DAY));

			make_read(&rd[k], n, when);
			snprintf(rd[k].id, sizeof(rd[k].id), "%016llx%016llx", (unsigned long long)n,
			    (unsigned long long)rnd());
			k++;
		}
		if ((r = store_reads_insert(s, rd, k, NULL)) < 0)
			return r;
	}
	for (i = 0; i < n_index; i++) {
		if (sqlite3_exec(store_db(s), index_sql[i], NULL, NULL, NULL) != SQLITE_OK)
			return -EIO;
		free(index_sql[i]);
	}
	(void)store_vacuum(s);
	store_free(s);
	free(rd);
	return 0;
}

/*
 * Per batch of 64: where its time went (store_times()), and the deferred
 * checkpoint run in the gap after it (store_checkpoint_due(), as
 * alpr-matchd runs it after its ACKs).
 */
struct batch_times {
	int64_t *total, *wait, *commit, *ckpt, *gap;
};

/*
 * ALPR_BENCH_INLINE_CHECKPOINT=1: the checkpoint inside the COMMIT, as
 * before store_checkpoint_defer() (for A/B runs); ALPR_BENCH_PRAGMA: SQL
 * run on the inserter's connection after opening (e.g. a cache or mmap size).
 */
static bool ckpt_inline;

static int
inserter_open(const char *db, struct store **ret)
{
	const char *sql = getenv("ALPR_BENCH_PRAGMA");
	int r;

	if ((r = store_open(db, STORE_OPEN_CREATE, ret)) < 0)
		return r;
	store_checkpoint_defer(*ret, !ckpt_inline);
	if (sql != NULL && sqlite3_exec(store_db(*ret), sql, NULL, NULL, NULL) != SQLITE_OK)
		return -EINVAL;
	return 0;
}

/* ALPR_BENCH_PURGE_SECONDS: the phase beside the purge stops then (the purge is killed). */
static int64_t purge_stop_usec;

/*
 * batches of 64; with until > 0, as many as fit while that process runs
 * (*batches set; *status -1 if it still runs, at purge_stop_usec).
 */
static double
insert_rate(const char *db, int *batches_io, struct batch_times *bt, int64_t now, pid_t until,
    int *status, struct store_times *ret_times)
{
	int batches = *batches_io;
	struct store_read rd[64];
	struct store_times a, z;
	struct store *s;
	int64_t t0, t1;
	int b, i;

	if (inserter_open(db, &s) < 0)
		return -1;
	t0 = time_monotonic_usec();
	for (b = 0; b < batches; b++) {
		int64_t t = time_monotonic_usec();

		if (until > 0 && waitpid(until, status, WNOHANG) == until)
			break;
		if (until > 0 && purge_stop_usec > 0 && t >= purge_stop_usec) {
			*status = -1;
			break;
		}
		for (i = 0; i < 64; i++)
			make_read(&rd[i], (uint64_t)b * 64 + i + (1ULL << 40), now);
		store_times(s, &a);
		if (store_reads_insert(s, rd, 64, NULL) != 64)
			return -1;
		bt->total[b] = time_monotonic_usec() - t;
		store_times(s, &z);
		bt->wait[b] = z.lock_wait_usec - a.lock_wait_usec;
		bt->commit[b] = z.commit_usec - a.commit_usec;
		bt->ckpt[b] = z.checkpoint_usec - a.checkpoint_usec;
		t = time_monotonic_usec();
		bt->gap[b] = store_checkpoint_due(s) > 0 ? time_monotonic_usec() - t : 0;
	}
	t1 = time_monotonic_usec();
	store_times(s, ret_times);
	store_free(s);
	*batches_io = b;
	return (double)b * 64 / ((double)(t1 - t0) / 1e6);
}

/*
 * The figures of a run of batches: latency p50/p99/max; the p99 of each
 * part (the lock wait, the commit with its WAL sync, an automatic
 * checkpoint run inside the commit, and the rest: the statements); and,
 * for the slowest 1% of batches, the mean of each part: where their
 * time went.
 */
static void
report(const char *what, const struct batch_times *bt, int n, const struct store_times *t)
{
	int64_t *v = calloc((size_t)n, sizeof(*v)), cut, sum[4] = { 0 };
	int i, tail = 0;

	if (v == NULL || n == 0)
		return;
	memcpy(v, bt->total, (size_t)n * sizeof(*v));
	printf("insert_batch64_p50_%s %.2f ms\n", what, (double)pct(v, (size_t)n, 0.5) / 1000);
	printf("insert_batch64_p99_%s %.2f ms%s\n", what, (double)(cut = pct(v, (size_t)n, 0.99)) / 1000,
	    strcmp(what, "during_purge") == 0 ? " (the insert call; the target is judged with the"
	    " gap, below)" : "");
	printf("insert_batch64_max_%s %.2f ms\n", what, (double)pct(v, (size_t)n, 1.0) / 1000);
	for (i = 0; i < n; i++)
		if (bt->total[i] >= cut) {
			sum[0] += bt->wait[i];
			sum[1] += bt->commit[i];
			sum[2] += bt->ckpt[i];
			sum[3] += bt->total[i] - bt->wait[i] - bt->commit[i] - bt->ckpt[i];
			tail++;
		}
	memcpy(v, bt->wait, (size_t)n * sizeof(*v));
	printf("insert_lock_wait_p99_%s %.2f ms (max %.2f)\n", what,
	    (double)pct(v, (size_t)n, 0.99) / 1000, (double)pct(v, (size_t)n, 1.0) / 1000);
	memcpy(v, bt->commit, (size_t)n * sizeof(*v));
	printf("insert_commit_p99_%s %.2f ms (max %.2f; the WAL's sync)\n", what,
	    (double)pct(v, (size_t)n, 0.99) / 1000, (double)pct(v, (size_t)n, 1.0) / 1000);
	memcpy(v, bt->ckpt, (size_t)n * sizeof(*v));
	printf("insert_checkpoint_p99_%s %.2f ms (max %.2f; %llu run inside the inserter's commits)\n",
	    what, (double)pct(v, (size_t)n, 0.99) / 1000, (double)pct(v, (size_t)n, 1.0) / 1000,
	    (unsigned long long)(t->checkpoints - t->checkpoints_deferred));
	printf("insert_slowest_1pct_%s %d batches, mean ms: lock wait %.2f, statements %.2f,"
	    " commit %.2f, checkpoint %.2f\n", what, tail, (double)sum[0] / tail / 1000,
	    (double)sum[3] / tail / 1000, (double)sum[1] / tail / 1000, (double)sum[2] / tail / 1000);
	/*
	 * The gap: a checkpoint deferred to after the batch's commit.  Beside
	 * a batch's latency, a writer that never pauses also pays it before
	 * its next batch: "with the gap" adds it to the batch before it.
	 */
	memcpy(v, bt->gap, (size_t)n * sizeof(*v));
	printf("insert_gap_checkpoint_p99_%s %.2f ms (max %.2f; %llu deferred to after a commit)\n",
	    what, (double)pct(v, (size_t)n, 0.99) / 1000, (double)pct(v, (size_t)n, 1.0) / 1000,
	    (unsigned long long)t->checkpoints_deferred);
	for (i = 0; i < n; i++)
		v[i] = bt->total[i] + bt->gap[i];
	printf("insert_batch64_with_gap_p50_%s %.2f ms\n", what, (double)pct(v, (size_t)n, 0.5) / 1000);
	printf("insert_batch64_with_gap_p99_%s %.2f ms%s\n", what,
	    (double)pct(v, (size_t)n, 0.99) / 1000,
	    strcmp(what, "during_purge") == 0 ? " (target: under 50 ms)" : "");
	printf("insert_batch64_with_gap_max_%s %.2f ms\n", what, (double)pct(v, (size_t)n, 1.0) / 1000);
	free(v);
}

/*
 * A paced inserter beside the purge: reads arrive at rate a second
 * (Poisson) and are batched as alpr-matchd batches them (daemons/match:
 * a batch opens with its first read, or when the previous commit and its
 * checkpoint are done if it came meanwhile, and commits 5 ms later or at
 * 64 reads); the deferred checkpoint runs after each commit, and a read
 * that arrives during it waits.  A read's latency is from its arrival to
 * its batch's durable commit, the 5 ms included.  Until stop_usec or the
 * end of that process.
 */
#define PACED_DELAY_USEC 5000	/* alpr-matchd's READ_BATCH_DELAY_USEC */

static int64_t
arrival_gap(double rate)
{
	double u = ((double)(rnd() >> 11) + 1.0) / 9007199254740993.0;	/* (0, 1] */

	return (int64_t)(-log(u) / rate * 1e6);
}

static int
paced(const char *db, double rate, int64_t stop_usec, pid_t until, int *status, int64_t now)
{
	size_t cap = (size_t)(rate * (double)(stop_usec - time_monotonic_usec()) / 1e6 * 2) + 1024,
	    n = 0, got = 0;
	int64_t *lat = calloc(cap, sizeof(*lat)), *gap = calloc(cap, sizeof(*gap)), arr[64];
	/* Per read: its wait before its batch began, and its batch's parts. */
	int64_t (*part)[4] = calloc(cap, sizeof(*part)), sum[5] = { 0 }, cut, t_ins;
	struct store_times b0, b1;
	int tail = 0;
	int64_t t, t0, deadline, next, gap_sum = 0, gap_from = 0, gap_to = 0;
	struct store_read rd[64];
	struct store_times a, z;
	struct store *s;
	uint64_t id = 1ULL << 41;
	int batches = 0, k, i, gaps = 0, late = 0, ended = 0;

	if (lat == NULL || gap == NULL || part == NULL || inserter_open(db, &s) < 0)
		return -1;
	store_times(s, &a);
	t0 = time_monotonic_usec();
	next = t0 + arrival_gap(rate);
	for (;;) {
		t = time_monotonic_usec();
		if (t >= stop_usec)
			break;
		if (waitpid(until, status, WNOHANG) == until) {
			ended = 1;
			break;
		}
		if (next > t) {
			usleep((useconds_t)((next < stop_usec ? next : stop_usec) - t));
			continue;
		}
		deadline = t + PACED_DELAY_USEC;
		for (k = 0; k < 64;) {
			t = time_monotonic_usec();
			if (next <= t) {
				arr[k++] = next;
				next += arrival_gap(rate);
			} else if (next > deadline) {
				if (deadline > t)
					usleep((useconds_t)(deadline - t));
				break;
			} else
				usleep((useconds_t)(next - t));
		}
		for (i = 0; i < k; i++) {
			make_read(&rd[i], id++, now);
			/* It arrived while the last checkpoint ran: it waited for it. */
			late += arr[i] >= gap_from && arr[i] < gap_to;
		}
		store_times(s, &b0);
		t_ins = time_monotonic_usec();
		if (store_reads_insert(s, rd, (size_t)k, NULL) != k)
			return -1;
		t = time_monotonic_usec();
		store_times(s, &b1);
		for (i = 0; i < k && n < cap; i++) {
			part[n][0] = t_ins - arr[i];
			part[n][1] = b1.lock_wait_usec - b0.lock_wait_usec;
			part[n][2] = b1.commit_usec - b0.commit_usec;
			part[n][3] = b1.checkpoint_usec - b0.checkpoint_usec;
			lat[n++] = t - arr[i];
		}
		got += (size_t)k;
		batches++;
		if (store_checkpoint_due(s) > 0) {
			gap_from = t;
			gap_to = time_monotonic_usec();
			gap_sum += gap_to - gap_from;
			if ((size_t)gaps < cap)
				gap[gaps++] = gap_to - gap_from;
		}
	}
	store_times(s, &z);
	store_free(s);
	if (n == 0) {
		free(lat);
		free(gap);
		free(part);
		return ended;
	}
	printf("insert_paced_rate_during_purge %.1f reads/s offered (Poisson), %zu reads in %d"
	    " batches (%.2f a batch) over %.0f s\n", rate, got, batches, (double)got / batches,
	    (double)(time_monotonic_usec() - t0) / 1e6);
	/* Where the slowest 1% of reads' time went (before pct() sorts lat). */
	{
		int64_t *v = calloc(n, sizeof(*v));

		if (v == NULL)
			return -1;
		memcpy(v, lat, n * sizeof(*v));
		cut = pct(v, n, 0.99);
		free(v);
	}
	for (i = 0; i < (int)n; i++)
		if (lat[i] >= cut) {
			sum[0] += part[i][0];
			sum[1] += part[i][1];
			sum[2] += part[i][2];
			sum[3] += part[i][3];
			sum[4] += lat[i] - part[i][0] - part[i][1] - part[i][2] - part[i][3];
			tail++;
		}
	printf("insert_paced_read_p50_during_purge %.2f ms (arrival to durable commit, the 5 ms"
	    " batching window included)\n", (double)pct(lat, n, 0.5) / 1000);
	printf("insert_paced_read_p99_during_purge %.2f ms (what alpr-matchd's reads see at this"
	    " rate; the target is judged on the saturated figure)\n",
	    (double)pct(lat, n, 0.99) / 1000);
	printf("insert_paced_read_max_during_purge %.2f ms\n", (double)pct(lat, n, 1.0) / 1000);
	printf("insert_paced_slowest_1pct_during_purge %d reads, mean ms: before its batch began"
	    " %.2f (the 5 ms window, a commit or checkpoint before), lock wait %.2f, statements"
	    " %.2f, commit %.2f, checkpoint in it %.2f\n", tail, (double)sum[0] / tail / 1000,
	    (double)sum[1] / tail / 1000, (double)sum[4] / tail / 1000,
	    (double)sum[2] / tail / 1000, (double)sum[3] / tail / 1000);
	printf("insert_paced_checkpoints_during_purge %llu inside commits, %d after them"
	    " (mean %.2f ms, max %.2f; %d reads arrived during one and waited)\n",
	    (unsigned long long)((z.checkpoints - z.checkpoints_deferred) -
	    (a.checkpoints - a.checkpoints_deferred)), gaps,
	    gaps > 0 ? (double)gap_sum / gaps / 1000 : 0.0,
	    gaps > 0 ? (double)pct(gap, (size_t)gaps, 1.0) / 1000 : 0.0, late);
	free(lat);
	free(gap);
	free(part);
	return ended;
}

struct sink {
	int rows;
	bool ok;
	char session[65];
};

static int
sink(void *u, json_t *body, bool more, int fd)
{
	struct sink *k = u;
	json_t *rows = json_object_get(body, "rows"), *sess;

	if (rows != NULL)
		k->rows += (int)json_array_size(rows);
	if (!more) {
		k->ok = json_is_true(json_object_get(body, "ok"));
		sess = json_object_get(json_object_get(body, "result"), "session");
		if (json_is_string(sess))
			snprintf(k->session, sizeof(k->session), "%s", json_string_value(sess));
	}
	return 0;
}

static int
call(struct policy *p, const char *json, struct sink *k)
{
	struct policy_peer peer = { .uid = 0, .offline = true };
	json_t *req = json_loads(json, 0, NULL);
	int r;

	k->rows = 0;
	r = policy_control(p, req, &peer, sink, k);
	json_decref(req);
	return r < 0 || !k->ok ? -1 : 0;
}

static int
queries(const char *db, int64_t now)
{
	struct alpr_conf *conf;
	struct policy *p;
	struct store *s;
	struct sink k = { 0 };
	char req[512], plate[16];
	int64_t lat_plate[200], lat_area[50], t, lo = 0, hi = 0;
	int i, rows_area = 0, rows_plate = 0;
	sqlite3_stmt *st;

	if (store_open(db, 0, &s) < 0 || conf_defaults(&conf) < 0 || policy_new(s, conf, &p) < 0)
		return -1;
	if (call(p, "{\"op\":\"user_add\",\"args\":{\"name\":\"bench\",\"role\":\"sworn\","
	    "\"password\":\"bench password\"}}", &k) < 0 ||
	    call(p, "{\"op\":\"login\",\"args\":{\"user\":\"bench\",\"password\":"
	    "\"bench password\"}}", &k) < 0)
		return -1;
	snprintf(req, sizeof(req), "{\"op\":\"training_ack\",\"session\":\"%s\",\"args\":"
	    "{\"policy_version\":\"%s\"}}", k.session, conf->policy.policy_version);
	if (call(p, req, &k) < 0)
		return -1;
	if (store_prepare(s, "SELECT min(rowid), max(rowid) FROM reads", &st) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		lo = sqlite3_column_int64(st, 0);
		hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	for (i = 0; i < 200; i++) {
		/* A plate that exists, picked at random among the reads left. */
		if (store_prepare(s, "SELECT plate FROM reads WHERE rowid >= ? LIMIT 1", &st) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)));
		snprintf(plate, sizeof(plate), "%s", sqlite3_step(st) == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(st, 0) : "AAA0000");
		sqlite3_finalize(st);
		snprintf(req, sizeof(req), "{\"op\":\"query\",\"session\":\"%s\",\"case\":"
		    "\"24-000001\",\"reason\":\"investigation\",\"args\":{\"plate\":\"%s\"}}",
		    k.session, plate);
		t = time_monotonic_usec();
		if (call(p, req, &k) < 0)
			return -1;
		lat_plate[i] = time_monotonic_usec() - t;
		rows_plate += k.rows;
	}
	for (i = 0; i < 50; i++) {
		int64_t from = now - (int64_t)(rnd() % (300 * (uint64_t)USEC_PER_DAY));

		snprintf(req, sizeof(req), "{\"op\":\"query\",\"session\":\"%s\",\"case\":"
		    "\"24-000002\",\"reason\":\"canvass\",\"args\":{\"lat\":37.97,\"lon\":-122.05,"
		    "\"radius_m\":1000,\"from_usec\":%lld,\"to_usec\":%lld}}", k.session,
		    (long long)from, (long long)(from + 24 * 3600 * USEC_PER_SEC));
		t = time_monotonic_usec();
		if (call(p, req, &k) < 0)
			return -1;
		lat_area[i] = time_monotonic_usec() - t;
		rows_area += k.rows;
	}
	printf("plate_lookup_p50 %.2f ms (%.1f reads found on average; the access-log row and"
	    " its durable commit included)\n", (double)pct(lat_plate, 200, 0.5) / 1000,
	    rows_plate / 200.0);
	printf("plate_lookup_p99 %.2f ms (target: under 10 ms)\n", (double)pct(lat_plate, 200, 0.99) / 1000);
	printf("area_canvass_24h_1km_p50 %.2f ms (%.1f reads found on average)\n",
	    (double)pct(lat_area, 50, 0.5) / 1000, rows_area / 50.0);
	printf("area_canvass_24h_1km_p99 %.2f ms (target: under 200 ms)\n", (double)pct(lat_area, 50, 0.99) / 1000);
	policy_free(p);
	store_free(s);
	conf_free(conf);
	return 0;
}

int
main(int argc, char **argv)
{
	char db[512];
	uint64_t reads, expired;
	int64_t now = time_realtime_usec(), t_fill, t_purge;
	struct batch_times bt;
	struct store_times times;
	const char *tmpl = getenv("ALPR_BENCH_TEMPLATE");
	double paced_rate = 30, paced_seconds = 0;
	int r;
	int batches = 400, status = 0, pfd[2], max = 100000;
	bool waited = false;
	double rate;
	pid_t pid;

	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);	/* each figure as soon as it is measured */
	snprintf(db, sizeof(db), "%s/bench.db", argv[1]);
	reads = strtoull(argv[2], NULL, 10);
	expired = strtoull(argv[3], NULL, 10);
	policy_set_password_cost(1, 8192);
	ckpt_inline = getenv("ALPR_BENCH_INLINE_CHECKPOINT") != NULL &&
	    strcmp(getenv("ALPR_BENCH_INLINE_CHECKPOINT"), "1") == 0;
	/* The paced inserter runs first, while the purge has most of its work left. */
	if (expired >= 500000)
		paced_seconds = 60;
	if (getenv("ALPR_BENCH_PACED_SECONDS") != NULL)
		paced_seconds = atof(getenv("ALPR_BENCH_PACED_SECONDS"));
	if (getenv("ALPR_BENCH_PACED_RATE") != NULL)
		paced_rate = atof(getenv("ALPR_BENCH_PACED_RATE"));

	/* What one durable commit costs on this disk: the floor of every figure below. */
	{
		char path[600], buf[4096] = { 0 };
		int64_t v[20], t;
		int fd, i;

		snprintf(path, sizeof(path), "%s/fsync-probe", argv[1]);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			for (i = 0; i < 20; i++) {
				t = time_monotonic_usec();
				(void)!write(fd, buf, sizeof(buf));
				(void)fdatasync(fd);
				v[i] = time_monotonic_usec() - t;
			}
			close(fd);
			printf("fdatasync_p50 %.2f ms (this disk's cost of one durable commit)\n",
			    (double)pct(v, 20, 0.5) / 1000);
		}
	}
	t_fill = time_monotonic_usec();
	/* ALPR_BENCH_TEMPLATE=FILE: a filled database kept there and copied (for repeated runs). */
	if (tmpl != NULL && access(tmpl, R_OK) == 0) {
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", tmpl, db);
		if (system(cmd) != 0)
			return 1;
	} else if (populate(db, reads, expired, now) < 0) {
		fprintf(stderr, "populate failed\n");
		return 1;
	} else if (tmpl != NULL) {
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", db, tmpl);
		(void)!system(cmd);
	}
	printf("database_reads %llu (of which expired %llu; filled in %.0f s)\n",
	    (unsigned long long)(reads + expired), (unsigned long long)expired,
	    (double)(time_monotonic_usec() - t_fill) / 1e6);
	fflush(stdout);
	if ((bt.total = calloc((size_t)max, sizeof(int64_t))) == NULL ||
	    (bt.wait = calloc((size_t)max, sizeof(int64_t))) == NULL ||
	    (bt.commit = calloc((size_t)max, sizeof(int64_t))) == NULL ||
	    (bt.ckpt = calloc((size_t)max, sizeof(int64_t))) == NULL ||
	    (bt.gap = calloc((size_t)max, sizeof(int64_t))) == NULL)
		return 1;
	rate = insert_rate(db, &batches, &bt, now, 0, NULL, &times);
	printf("insert_rate_batched64 %.0f reads/s\n", rate);
	report("idle", &bt, batches, &times);
	fflush(stdout);

	/* The purge in another process, as the timer's would be. */
	if (pipe(pfd) < 0)
		return 1;
	if ((pid = fork()) == 0) {
		struct store_purge_stats st;
		struct store *s;
		int64_t t;
		char line[160];

		close(pfd[0]);
		if (store_open(db, 0, &s) < 0)
			_exit(1);
		t = time_monotonic_usec();
		if (store_purge(s, 365, &st) < 0)
			_exit(1);
		t = time_monotonic_usec() - t;
		snprintf(line, sizeof(line), "purge_reads %llu\npurge_throughput %.0f reads/s"
		    "\npurge_longest_step %.2f ms\n", (unsigned long long)st.reads,
		    (double)st.reads / ((double)t / 1e6), (double)st.max_batch_usec / 1000);
		(void)!write(pfd[1], line, strlen(line));
		store_free(s);
		_exit(0);
	}
	close(pfd[1]);
	t_purge = time_monotonic_usec();
	usleep(100000);
	if (paced_seconds > 0 && (r = paced(db, paced_rate, time_monotonic_usec() +
	    (int64_t)(paced_seconds * 1e6), pid, &status, now)) != 0) {
		if (r < 0) {
			fprintf(stderr, "paced inserter failed\n");
			return 1;
		}
		printf("the purge ended during the paced inserts: no saturated figures beside it"
		    " (a shorter ALPR_BENCH_PACED_SECONDS, or more expired reads)\n");
		goto purge_done;
	}
	if (getenv("ALPR_BENCH_PURGE_SECONDS") != NULL)
		purge_stop_usec = time_monotonic_usec() +
		    (int64_t)(atof(getenv("ALPR_BENCH_PURGE_SECONDS")) * 1e6);
	batches = max;
	rate = insert_rate(db, &batches, &bt, now, pid, &status, &times);
	waited = batches < max;
	if (waited && status == -1) {
		/* Stopped early: the purge's throughput from what it left. */
		struct store *s;
		sqlite3_stmt *st;
		double dt = (double)(time_monotonic_usec() - t_purge) / 1e6;

		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (store_open(db, 0, &s) == 0 && store_prepare(s, "SELECT count(*) FROM reads"
		    " WHERE capture_usec < ?", &st) == 0) {
			sqlite3_bind_int64(st, 1, now - 365 * USEC_PER_DAY);
			if (sqlite3_step(st) == SQLITE_ROW)
				printf("purge_stopped_after %.0f s: purged %llu reads, %.0f reads/s\n", dt,
				    (unsigned long long)(expired - (uint64_t)sqlite3_column_int64(st, 0)),
				    (double)(expired - (uint64_t)sqlite3_column_int64(st, 0)) / dt);
			sqlite3_finalize(st);
			store_free(s);
		}
	}
	if (batches == 0) {
		fprintf(stderr, "the purge ended before any insert\n");
		batches = 1;
	}
	printf("insert_rate_during_purge %.0f reads/s\n", rate);
	printf("insert_batches_during_purge %d\n", batches);
	report("during_purge", &bt, batches, &times);
	if (!waited)
		waitpid(pid, &status, 0);
purge_done:
	{
		char buf[512];
		ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);

		if (n > 0) {
			buf[n] = '\0';
			fputs(buf, stdout);
		}
	}
	free(bt.total);
	free(bt.wait);
	free(bt.commit);
	free(bt.ckpt);
	free(bt.gap);
	return queries(db, now) < 0 ? 1 : 0;
}
