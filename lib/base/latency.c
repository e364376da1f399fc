/*
 * Latency samples (latency.h): a ring of the last LATENCY_RING, sorted
 * on demand for a percentile (a daemon asks once, when it stops).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/latency.h"

void
latency_add(struct latency *l, int64_t usec)
{
	if (usec < 0)
		usec = 0;
	if (usec > INT32_MAX)
		usec = INT32_MAX;
	l->ring[l->n % LATENCY_RING] = (int32_t)usec;
	l->n++;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void
latency_sort(int64_t *usec, size_t n)
{
	qsort(usec, n, sizeof(*usec), cmp_i64);
}

double
latency_ms(const struct latency *l, double pct)
{
	size_t n = l->n < LATENCY_RING ? (size_t)l->n : LATENCY_RING, k;
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
