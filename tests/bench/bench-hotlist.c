/*
 * Hot-list benchmark: import (parse) of a generated list, index load time
 * and memory, matching throughput and latency for reads with 10
 * candidates, and a retro-match of a small new list against many reads.
 * Prints "name value unit" figures.  Run by tests/bench/hotlist.sh; each
 * mode runs in its own process so the RSS figures are the mode's own.
 *
 *   bench-hotlist gen FILE N WILD [V] write a delimited list (V 2: 1% changed)
 *   bench-hotlist import FILE        parse it
 *   bench-hotlist store-import DB FILE  import it into the store as alprctl
 *                                    hotlist import does (parse, diff, insert, commit)
 *   bench-hotlist store-load DB      build matchd's index from the store
 *   bench-hotlist match N WILD READS load N entries, match READS reads
 *   bench-hotlist retro N READS      N-entry list against READS reads
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/latency.h"
#include "base/time.h"
#include "hotlist/hotlist-store.h"
#include "store/store.h"

static const char alnum[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
static const char *const states[] = { "CA", "CA", "CA", "CA", "CA", "CA", "CA", "NV", "OR", "AZ" };
static const int cats[] = { HOTLIST_CAT_STOLEN_VEHICLE, HOTLIST_CAT_STOLEN_PLATE,
	HOTLIST_CAT_FELONY_VEHICLE, HOTLIST_CAT_BOLO, HOTLIST_CAT_WANTED };

static uint64_t
mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* Entry i: a 7-character plate (CA style "1ABC234" mostly), or a pattern. */
static void
entry_plate(uint64_t i, bool wild, char *out)
{
	uint64_t v = mix(i);
	int k;

	for (k = 0; k < 7; k++, v /= 33)
		out[k] = alnum[v % 33];
	out[7] = '\0';
	if (wild) {
		/* "AB*123", "7?XY12?", ...: partial plates as BOLOs give them */
		out[2 + v % 3] = v & 8 ? '*' : '?';
		if (v & 16)
			out[5] = '?';
	}
}

/* CPU time of this process: the fair "one core" figure on a shared machine. */
static int64_t
cpu_usec(void)
{
	return time_now_usec(CLOCK_PROCESS_CPUTIME_ID);
}

static double
rss_mb(const char *key)
{
	char line[256];
	double kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			kb = atof(line + strlen(key) + 1);
	fclose(f);
	return kb / 1024;
}

static int
gen(const char *path, uint64_t n, uint64_t wild, int version)
{
	FILE *f = fopen(path, "w");
	char plate[16];
	uint64_t i;

	if (!f)
		return 1;
	fprintf(f, "plate;state;category;expiry;case\n");
	for (i = 0; i < n; i++) {
		bool w = i < wild;

		entry_plate(i, w, plate);
		/* a next version: one entry in 100 has another case number */
		fprintf(f, "%s;%s;%s;%s;%s%07llu\n", plate, w ? "" : states[i % 10],
		    hotlist_category_name(cats[i % 5]), i % 3 ? "2030-01-01" : "",
		    version > 1 && i % 100 == 7 ? "D" : i % 4 ? "" : "C", (unsigned long long)i);
	}
	return fclose(f) == 0 ? 0 : 1;
}

/* Stands for the store's insert: the importer streams, it holds no list. */
static int
count_entry(const struct hotlist_entry *e, void *userdata)
{
	uint64_t *n = userdata;

	*n += e->plate[0] != '\0';
	return 0;
}

static int
import(const char *path)
{
	uint64_t n_seen = 0;
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_DELIMITED, .on_entry = count_entry,
		.userdata = &n_seen };
	struct hotlist *l = NULL;
	char *err = NULL;
	int64_t t0 = time_monotonic_usec(), c0 = cpu_usec(), t1, c1;
	int r;

	r = hotlist_parse_file(path, &o, &l, &err, NULL);
	t1 = time_monotonic_usec();
	c1 = cpu_usec();
	if (r < 0) {
		fprintf(stderr, "bench-hotlist: %s\n", err ? err : strerror(-r));
		return 1;
	}
	printf("import.entries %zu (streamed %llu)\n", l->n_entries, (unsigned long long)n_seen);
	printf("import.parse_time %.3f s wall, %.3f s cpu (target < 10)\n",
	    (double)(t1 - t0) / 1e6, (double)(c1 - c0) / 1e6);
	printf("import.rss %.0f MB peak (file mapped, entries streamed)\n", rss_mb("VmHWM:"));
	hotlist_free(l);
	return 0;
}

static int
open_store(const char *db, struct store **ret)
{
	int r;

	if ((r = store_open(db, STORE_OPEN_CREATE, ret)) < 0)
		fprintf(stderr, "bench-hotlist: %s: %s\n", db, strerror(-r));
	return r;
}

/*
 * As lib/policy's hotlist.import runs it in alpr-matchd: the file mapped
 * and parsed straight into one transaction (the diff against the active
 * version, the version row, the entries), synchronous=FULL as in service.
 */
static int
store_import(const char *db, const char *path)
{
	struct hotlist_parse_opts o = { .format = HOTLIST_FMT_DELIMITED, .source = "bench" };
	struct hotlist_version v;
	struct hotlist *l = NULL;
	struct store *s = NULL;
	struct stat sb;
	char *err = NULL;
	void *map;
	int64_t t0, t1, t2, c0, c1;
	int r, fd;

	if (open_store(db, &s) < 0)
		return 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) < 0 ||
	    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		perror(path);
		return 1;
	}
	t0 = time_monotonic_usec();
	c0 = cpu_usec();
	if ((r = hotlist_store_import_buffer(s, path, map,
	    (size_t)sb.st_size, &o, "bench", &v, &l, &err, NULL)) < 0) {
		fprintf(stderr, "bench-hotlist: import: %s\n", err ? err : strerror(-r));
		return 1;
	}
	/* Staged in short transactions, activated, old versions pruned: all in the call. */
	t1 = time_monotonic_usec();
	c1 = cpu_usec();
	t2 = t1;
	printf("store_import.version %lld: entries %zu, added %zu, removed %zu, unchanged %zu\n",
	    (long long)v.version, v.n_entries, v.added, v.removed, v.unchanged);
	printf("store_import.time %.3f s wall, %.3f s cpu (target < 10): parse+diff+insert"
	    " %.3f s wall %.3f s cpu, commit %.3f s wall\n", (double)(t2 - t0) / 1e6,
	    (double)(cpu_usec() - c0) / 1e6, (double)(t1 - t0) / 1e6, (double)(c1 - c0) / 1e6,
	    (double)(t2 - t1) / 1e6);
	printf("store_import.rss %.0f MB peak\n", rss_mb("VmHWM:"));
	munmap(map, (size_t)sb.st_size);
	close(fd);
	hotlist_free(l);
	store_free(s);
	return 0;
}

/* alpr-matchd's start: the index from the store's active lists. */
static int
store_load(const char *db)
{
	struct hotlist_index_opts o = { .max_substitutions = 1 };
	struct hotlist_index *x = NULL;
	struct hotlist_index_stats st;
	struct store *s = NULL;
	int64_t t0, t1, t2, c0;
	double base;
	int r;

	if (open_store(db, &s) < 0)
		return 1;
	base = rss_mb("VmRSS:");
	t0 = time_monotonic_usec();
	c0 = cpu_usec();
	if ((r = hotlist_index_new(&o, &x)) < 0 ||
	    (r = hotlist_store_fill_index(s, store_now(s), x)) < 0) {
		fprintf(stderr, "bench-hotlist: load: %s\n", strerror(-r));
		return 1;
	}
	t1 = time_monotonic_usec();
	if ((r = hotlist_index_finish(x)) < 0)
		return 1;
	t2 = time_monotonic_usec();
	hotlist_index_get_stats(x, &st);
	printf("store_load.entries %zu (wildcards %zu)\n", st.n_entries, st.n_wildcards);
	printf("store_load.time %.3f s wall, %.3f s cpu (target < 2): rows %.3f, build %.3f\n",
	    (double)(t2 - t0) / 1e6, (double)(cpu_usec() - c0) / 1e6, (double)(t1 - t0) / 1e6,
	    (double)(t2 - t1) / 1e6);
	printf("store_load.rss %.0f MB (index and SQLite cache %.0f MB; target < 400)\n",
	    rss_mb("VmRSS:"), rss_mb("VmRSS:") - base);
	hotlist_index_free(x);
	store_free(s);
	return 0;
}

/*
 * Reads: 10 candidates each (top-1 + 9 alternatives); one read in 100
 * carries a listed plate, one in 100 an OCR variant of one, the rest are
 * cars not on any list.
 */
static char (*make_reads(uint64_t n_reads, uint64_t n_entries, uint64_t wild))[11][8]
{
	char (*reads)[11][8] = malloc(n_reads * sizeof(*reads));
	uint64_t j, v;
	int c, k;

	if (!reads)
		return NULL;
	for (j = 0; j < n_reads; j++) {
		for (c = 0; c < 11; c++) {
			v = mix(j * 11 + (uint64_t)c + (UINT64_C(1) << 40));
			for (k = 0; k < 7; k++, v /= 33)
				reads[j][c][k] = alnum[v % 33];
			reads[j][c][7] = '\0';
		}
		if (j % 100 == 0)
			entry_plate(wild + mix(j) % (n_entries - wild), false, reads[j][0]);
		else if (j % 100 == 1) {
			/* an OCR confusion (one of 0/O, 8/B, 5/S, 2/Z) in a listed plate */
			static const char from[] = "0O8B5S2Z", to[] = "O0B8S5Z2";
			char *p = reads[j][3], *hit;

			entry_plate(wild + mix(j) % (n_entries - wild), false, p);
			for (k = 0; k < 7; k++)
				if ((hit = strchr(from, p[k]))) {
					p[k] = to[hit - from];
					break;
				}
		}
	}
	return reads;
}

static int
load_and_match(uint64_t n, uint64_t wild, uint64_t n_reads)
{
	struct hotlist_index_opts o = { .max_substitutions = 1 };
	struct hotlist_index *x = NULL;
	struct hotlist_index_stats st;
	struct hotlist_entry e = { 0 };
	struct hotlist_hit hits[32];
	char (*reads)[11][8];
	int64_t *lat, t0, t1, t, c0, c1;
	uint64_t i, j, n_hits = 0;
	double base;
	int r, c;

	if (!(reads = make_reads(n_reads, n, wild)) || !(lat = malloc(n_reads * sizeof(*lat))))
		return 1;
	base = rss_mb("VmRSS:");
	t0 = time_monotonic_usec();
	c0 = cpu_usec();
	if ((r = hotlist_index_new(&o, &x)) < 0 || hotlist_index_reserve(x, n) < 0)
		return 1;
	/* As matchd gets rows from the store: one entry at a time. */
	for (i = 0; i < n; i++) {
		entry_plate(i, i < wild, e.plate);
		memcpy(e.state, i < wild ? "" : states[i % 10], 3);
		e.category = (uint8_t)cats[i % 5];
		e.priority = 0;
		e.id = (int64_t)i;
		e.expiry_usec = i % 3 ? INT64_C(1893456000) * USEC_PER_SEC : 0;
		e.source = i % 2 ? "ncic" : "cadoj-svs";
		if ((r = hotlist_index_add(x, &e, 1)) < 0) {
			fprintf(stderr, "bench-hotlist: add %llu: %s\n", (unsigned long long)i,
			    strerror(-r));
			return 1;
		}
	}
	if ((r = hotlist_index_finish(x)) < 0)
		return 1;
	t1 = time_monotonic_usec();
	c1 = cpu_usec();
	hotlist_index_get_stats(x, &st);
	printf("load.entries %zu (wildcards %zu)\n", st.n_entries, st.n_wildcards);
	printf("load.time %.3f s wall, %.3f s cpu (target < 2)\n", (double)(t1 - t0) / 1e6,
	    (double)(c1 - c0) / 1e6);
	printf("load.index_bytes %.0f MB\n", (double)st.bytes / 1048576);
	printf("load.rss %.0f MB (index %.0f MB over the reads buffer; target < 400)\n",
	    rss_mb("VmRSS:"), rss_mb("VmRSS:") - base);

	t0 = time_monotonic_usec();
	c0 = cpu_usec();
	for (j = 0; j < n_reads; j++) {
		struct hotlist_read rd = { .n_plates = 11, .state = "CA",
			.now_usec = INT64_C(1795000000) * USEC_PER_SEC };

		for (c = 0; c < 11; c++)
			rd.plates[c] = reads[j][c];
		t = time_monotonic_usec();
		if ((r = hotlist_index_match(x, &rd, hits, 32)) < 0)
			return 1;
		lat[j] = time_monotonic_usec() - t;
		n_hits += (uint64_t)r;
	}
	t1 = time_monotonic_usec();
	c1 = cpu_usec();
	latency_sort(lat, n_reads);
	printf("match.reads %llu (11 plates each: top-1 + 10 candidates), hits %llu\n",
	    (unsigned long long)n_reads, (unsigned long long)n_hits);
	printf("match.rate %.0f reads/s wall, %.0f reads/s per cpu second (one core; "
	    "target >= 100000)\n", (double)n_reads / ((double)(t1 - t0) / 1e6),
	    (double)n_reads / ((double)(c1 - c0) / 1e6));
	printf("match.p50 %lld us\n", (long long)lat[n_reads / 2]);
	printf("match.p99 %lld us\n", (long long)lat[n_reads * 99 / 100]);
	printf("match.max %lld us\n", (long long)lat[n_reads - 1]);
	hotlist_index_free(x);
	free(reads);
	free(lat);
	return 0;
}

/* A new 1,000-entry list (with some patterns) against stored reads. */
static int
retro(uint64_t n, uint64_t n_reads)
{
	struct hotlist_index_opts o = { .max_substitutions = 1 };
	struct hotlist_index *x = NULL;
	struct hotlist_entry e = { .category = HOTLIST_CAT_BOLO, .source = "bolo" };
	struct hotlist_hit hits[32];
	char (*reads)[11][8];
	int64_t t0, t1, c0;
	uint64_t i, j, n_hits = 0;
	int r, c;

	if (!(reads = make_reads(n_reads, n, n / 100)))
		return 1;
	t0 = time_monotonic_usec();
	c0 = cpu_usec();
	if (hotlist_index_new(&o, &x) < 0)
		return 1;
	for (i = 0; i < n; i++) {
		entry_plate(i, i < n / 100, e.plate);
		e.id = (int64_t)i;
		if (hotlist_index_add(x, &e, 2) < 0)
			return 1;
	}
	if (hotlist_index_finish(x) < 0)
		return 1;
	for (j = 0; j < n_reads; j++) {
		struct hotlist_read rd = { .n_plates = 11, .now_usec = INT64_C(1795000000) *
			USEC_PER_SEC };

		for (c = 0; c < 11; c++)
			rd.plates[c] = reads[j][c];
		if ((r = hotlist_index_match(x, &rd, hits, 32)) < 0)
			return 1;
		n_hits += (uint64_t)r;
	}
	t1 = time_monotonic_usec();
	printf("retro.entries %llu, reads %llu, hits %llu\n", (unsigned long long)n,
	    (unsigned long long)n_reads, (unsigned long long)n_hits);
	printf("retro.time %.3f s wall, %.3f s cpu (matching only, reads in memory; "
	    "target < 10)\n", (double)(t1 - t0) / 1e6, (double)(cpu_usec() - c0) / 1e6);
	hotlist_index_free(x);
	free(reads);
	return 0;
}

int
main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
		    argc == 6 ? atoi(argv[5]) : 1);
	if (argc == 3 && strcmp(argv[1], "import") == 0)
		return import(argv[2]);
	if (argc == 4 && strcmp(argv[1], "store-import") == 0)
		return store_import(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "store-load") == 0)
		return store_load(argv[2]);
	if (argc == 5 && strcmp(argv[1], "match") == 0)
		return load_and_match(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
		    strtoull(argv[4], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "retro") == 0)
		return retro(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: bench-hotlist gen FILE N WILD [V] | import FILE |"
	    " store-import DB FILE | store-load DB | match N WILD READS | retro N READS\n");
	return 2;
}
