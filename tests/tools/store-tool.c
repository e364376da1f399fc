/*
 * store-tool: drives lib/store for the power-loss scenario and the
 * benchmarks.
 *   store-tool writer DB [N]  insert batches of 64 reads (every eighth with a
 *                             crop image) forever or N batches, printing
 *                             "committed N" after each commit
 *   store-tool syncbench DB N R  N batches of R reads, each with a 6 KB crop and
 *                             a 60 KB context image (alpr-matchd's batches),
 *                             printing p50/p99 ms of their images' sync and
 *                             of their commit (doc/benchmarks.md)
 *   store-tool check DB       integrity_check and foreign_key_check, print
 *                             "ok N" (N reads) or fail
 *   store-tool seed DB        three reads of now (7ABC123 with a crop image,
 *                             8XYZ999, 5DEF456), a hit on the first,
 *                             300 reads QQ00000..QQ00299, and two reads
 *                             400 days old (OLD0001, OLD0002) for the purge
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/latency.h"
#include "base/time.h"
#include "store/store.h"

static int
writer(const char *path, long batches)
{
	static const char jpeg[4096] = "\xff\xd8";
	struct store_read rd[64];
	struct store *s;
	int64_t total;
	unsigned i, next;
	int r;

	if ((r = store_open(path, STORE_OPEN_CREATE, &s)) < 0) {
		fprintf(stderr, "open: %s\n", strerror(-r));
		return 1;
	}
	total = store_reads_count(s);
	next = (unsigned)total;
	for (; batches != 0; batches--) {
		memset(rd, 0, sizeof(rd));
		for (i = 0; i < 64; i++, next++) {
			/* The first byte varies: a batch's images go to several directories. */
			snprintf(rd[i].id, sizeof(rd[i].id), "%02x%030x", next * 37 % 256, next);
			snprintf(rd[i].plate, sizeof(rd[i].plate), "W%u", next % 1000000);
			rd[i].camera = "front";
			rd[i].confidence = 0.8;
			rd[i].capture_usec = time_realtime_usec();
			if (i % 8 == 0) {
				rd[i].crop = jpeg;
				rd[i].crop_len = sizeof(jpeg);
			}
		}
		if ((r = store_reads_insert(s, rd, 64, NULL)) < 0) {
			fprintf(stderr, "insert: %s\n", strerror(-r));
			return 1;
		}
		total += r;
		printf("committed %lld\n", (long long)total);
		fflush(stdout);
	}
	store_free(s);
	return 0;
}

static int
syncbench(const char *path, int batches, int reads)
{
	static char crop[6 * 1024], context[60 * 1024];
	struct store_read rd[64];
	struct store_times t0, t1;
	struct store *s;
	static struct latency sync_lat, commit_lat;
	unsigned next;
	int b, i, r;

	if (batches <= 0 || reads <= 0 || reads > 64)
		return 2;
	if ((r = store_open(path, STORE_OPEN_CREATE, &s)) < 0) {
		fprintf(stderr, "open: %s\n", strerror(-r));
		return 1;
	}
	memset(crop, 0x55, sizeof(crop));
	memset(context, 0xaa, sizeof(context));
	next = (unsigned)store_reads_count(s);
	for (b = 0; b < batches; b++) {
		memset(rd, 0, sizeof(rd));
		for (i = 0; i < reads; i++, next++) {
			snprintf(rd[i].id, sizeof(rd[i].id), "%02x%030x", next * 37 % 256, next);
			snprintf(rd[i].plate, sizeof(rd[i].plate), "S%u", next % 1000000);
			rd[i].camera = "front";
			rd[i].confidence = 0.8;
			rd[i].capture_usec = time_realtime_usec();
			rd[i].crop = crop;
			rd[i].crop_len = sizeof(crop);
			rd[i].context = context;
			rd[i].context_len = sizeof(context);
		}
		store_times(s, &t0);
		if ((r = store_reads_insert(s, rd, (size_t)reads, NULL)) < 0) {
			fprintf(stderr, "insert: %s\n", strerror(-r));
			return 1;
		}
		store_times(s, &t1);
		latency_add(&sync_lat, t1.images_sync_usec - t0.images_sync_usec);
		latency_add(&commit_lat, t1.commit_usec - t0.commit_usec);
		usleep(20000);	/* a batch every ~20 ms or so, as two cameras give */
	}
	printf("batches %d of %d reads (%d images): images sync p50/p99 %.1f/%.1f ms,"
	    " commit p50/p99 %.1f/%.1f ms\n", batches, reads, 2 * reads,
	    latency_ms(&sync_lat, 50), latency_ms(&sync_lat, 99),
	    latency_ms(&commit_lat, 50), latency_ms(&commit_lat, 99));
	store_free(s);
	return 0;
}

static int
check(const char *path)
{
	sqlite3_stmt *st;
	struct store *s;
	int r, ok = 0;

	if ((r = store_open(path, 0, &s)) < 0) {
		fprintf(stderr, "open: %s\n", strerror(-r));
		return 1;
	}
	if (store_prepare(s, "PRAGMA integrity_check", &st) == 0) {
		ok = sqlite3_step(st) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
		sqlite3_finalize(st);
	}
	if (ok && store_prepare(s, "SELECT count(*) FROM pragma_foreign_key_check", &st) == 0) {
		ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
		sqlite3_finalize(st);
	}
	/* Every image a read names exists. */
	if (ok && store_prepare(s, "SELECT crop_file FROM reads WHERE crop_file IS NOT NULL",
	    &st) == 0) {
		while (ok && sqlite3_step(st) == SQLITE_ROW) {
			int fd = store_image_open(s, (const char *)sqlite3_column_text(st, 0));

			ok = fd >= 0;
			if (fd >= 0)
				close(fd);
		}
		sqlite3_finalize(st);
	}
	printf("%s %lld\n", ok ? "ok" : "bad", (long long)store_reads_count(s));
	store_free(s);
	return ok ? 0 : 1;
}

static int
seed(const char *path)
{
	static const char jpeg[] = "\xff\xd8 seeded crop \xff\xd9";
	static const char *const plates[] = { "7ABC123", "8XYZ999", "5DEF456" };
	struct store_read rd[3];
	struct store *s;
	int i, r;

	if ((r = store_open(path, STORE_OPEN_CREATE, &s)) < 0) {
		fprintf(stderr, "open: %s\n", strerror(-r));
		return 1;
	}
	memset(rd, 0, sizeof(rd));
	for (i = 0; i < 3; i++) {
		snprintf(rd[i].id, sizeof(rd[i].id), "%032x", 0xabc0 + i);
		snprintf(rd[i].plate, sizeof(rd[i].plate), "%s", plates[i]);
		rd[i].camera = "front";
		rd[i].confidence = 0.95;
		rd[i].capture_usec = time_realtime_usec() - 60 * USEC_PER_SEC;
		rd[i].gps_fix = true;
		rd[i].lat = 37.978;
		rd[i].lon = -122.031 + i * 0.1;
	}
	rd[0].crop = jpeg;
	rd[0].crop_len = sizeof(jpeg) - 1;
	if ((r = store_reads_insert(s, rd, 3, NULL)) < 0 ||
	    sqlite3_exec(store_db(s), "INSERT INTO hits (read_rowid, list_name, entry_plate,"
	    " category, source, person, description, created_usec) SELECT rowid, 'NCIC',"
	    " plate, 'stolen-vehicle', 'NCIC', 0, 'grey sedan', capture_usec FROM reads"
	    " WHERE plate = '7ABC123'", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "seed failed\n");
		return 1;
	}
	/* 300 more (QQ00000..), so that an answer streams in several messages. */
	{
		struct store_read many[300];

		memset(many, 0, sizeof(many));
		for (i = 0; i < 300; i++) {
			snprintf(many[i].id, sizeof(many[i].id), "%032x", 0x10000 + i);
			snprintf(many[i].plate, sizeof(many[i].plate), "QQ%05d", i);
			many[i].camera = "rear";
			many[i].confidence = 0.8;
			many[i].capture_usec = time_realtime_usec() - 120 * USEC_PER_SEC;
		}
		if (store_reads_insert(s, many, 300, NULL) != 300) {
			fprintf(stderr, "seed failed\n");
			return 1;
		}
		/* Two past any retention period. */
		for (i = 0; i < 2; i++) {
			snprintf(many[i].id, sizeof(many[i].id), "%032x", 0x20000 + i);
			snprintf(many[i].plate, sizeof(many[i].plate), "OLD%04d", i + 1);
			many[i].capture_usec = time_realtime_usec() - 400 * USEC_PER_DAY;
		}
		if (store_reads_insert(s, many, 2, NULL) != 2) {
			fprintf(stderr, "seed failed\n");
			return 1;
		}
	}
	store_free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "seed") == 0)
		return seed(argv[2]);
	if (argc == 3 && strcmp(argv[1], "writer") == 0)
		return writer(argv[2], -1);
	if (argc == 4 && strcmp(argv[1], "writer") == 0)
		return writer(argv[2], strtol(argv[3], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "syncbench") == 0)
		return syncbench(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return check(argv[2]);
	fprintf(stderr, "usage: store-tool writer DB [BATCHES] | syncbench DB N R | check DB | seed DB\n");
	return 2;
}
