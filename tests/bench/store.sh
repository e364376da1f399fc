#!/bin/sh
# Storage figures: batched insert rate, p99 insert latency during a
# concurrent purge, purge throughput, plate lookup and area canvass latency.
# The sizes are 5,000,000 reads with 1,000,000 expired; by default
# this runs 200,000 + 50,000 to stay within a few minutes on a
# shared machine (500,000 + 100,000 took 8 minutes here, most of it filling).  ALPR_BENCH_FULL=1 runs the full size;
# ALPR_BENCH_READS / ALPR_BENCH_EXPIRED set any size.  For repeated runs
# (doc/benchmarks.md): ALPR_BENCH_TEMPLATE=FILE keeps the filled database
# there and copies it on later runs; ALPR_BENCH_PURGE_SECONDS=N stops the
# phase beside the purge after N s (the purge is killed; its throughput
# is what it removed).  Beside the purge two inserters run one after the
# other: first a paced one (ALPR_BENCH_PACED_RATE reads/s, default 30,
# Poisson arrivals, batched as alpr-matchd batches them; for
# ALPR_BENCH_PACED_SECONDS, default 60 with 500,000 expired reads or more
# as with ALPR_BENCH_FULL=1, 0 otherwise), then the saturated one (batches of 64 back to back), whose
# p99 the target is judged on (doc/benchmarks.md, storage).
# ALPR_BENCH_INLINE_CHECKPOINT=1 runs the checkpoint inside the commit as
# before store_checkpoint_defer(); ALPR_BENCH_PRAGMA=SQL runs SQL on the
# inserters' connections.
set -e
b=${top_builddir:-.}
if [ "${ALPR_BENCH_FULL:-0}" = 1 ]; then
	reads=5000000 expired=1000000
else
	reads=${ALPR_BENCH_READS:-200000} expired=${ALPR_BENCH_EXPIRED:-50000}
fi
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/store-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "# storage benchmark: $reads current reads + $expired expired (ALPR_BENCH_FULL=1 for 5M + 1M) in $dir"
# The machine's load says how far to trust the figures.
echo "store: load_before $(cut -d' ' -f1-3 /proc/loadavg)"
"$b/tests/tools/store-bench" "$dir" "$reads" "$expired" | sed -u 's/^/store: /'
echo "store: load_after $(cut -d' ' -f1-3 /proc/loadavg)"
