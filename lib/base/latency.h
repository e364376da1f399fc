/*
 * A stage's latency for a daemon's stop line: its last LATENCY_RING
 * samples, and their percentiles.  alpr-ocrd's stages and alpr-matchd's
 * group commit print p50/p99 of these when they stop, which is what
 * tests/bench/bench-pipeline.sh reads to say where an alert's time goes.
 */
#ifndef ALPR_BASE_LATENCY_H
#define ALPR_BASE_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#define LATENCY_RING 8192		/* samples kept a stage */

struct latency {
	int32_t ring[LATENCY_RING];	/* µs */
	uint64_t n;			/* samples ever added */
};

void latency_add(struct latency *l, int64_t usec);
/* The pct-th percentile of the kept samples in ms, -1 without any. */
double latency_ms(const struct latency *l, double pct);
/* Sorts a benchmark's own samples (µs, any count) for its percentiles. */
void latency_sort(int64_t *usec, size_t n);

#endif
