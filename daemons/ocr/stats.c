/*
 * Stage latencies of alpr-ocrd (capture to ocrd, queue wait, recognition,
 * frame to read sent, spool append), run in the main process on its own
 * clock readings.  Each stage keeps its last OCR_LAT_RING samples; the
 * daemon prints their p50/p99 when it stops, which is what
 * tests/bench/bench-pipeline.sh reads to say where a frame's time goes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ocrd.h"

void
ocr_lat_add(struct ocr_lat *l, int64_t usec)
{
	if (usec < 0)
		usec = 0;
	if (usec > INT32_MAX)
		usec = INT32_MAX;
	l->ring[l->n % OCR_LAT_RING] = (int32_t)usec;
	l->n++;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

double
ocr_lat_ms(const struct ocr_lat *l, double pct)
{
	size_t n = l->n < OCR_LAT_RING ? (size_t)l->n : OCR_LAT_RING, k;
	int32_t *s;
	double v;

	if (n == 0 || (s = malloc(n * sizeof(*s))) == NULL)
		return -1;
	memcpy(s, l->ring, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_i32);
	k = (size_t)(pct / 100.0 * (double)n);
	v = s[k < n ? k : n - 1] / 1000.0;
	free(s);
	return v;
}
