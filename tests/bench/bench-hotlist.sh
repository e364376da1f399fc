#!/bin/sh
# Hot-list benchmark (make bench): a generated list of 5,000,000 entries
# of which 10,000 are wildcard patterns; import (parse), index load time
# and RSS (parse only, into the store, and matchd's load from the store),
# matching rate and p99 latency for reads with 10 candidates, and
# a retro-match of a 1,000-entry list against 1,000,000 reads.
# HOTLIST_BENCH_SCALE=0.01 shrinks every size for a quick run.
set -e
bin=${top_builddir:-.}/tests/bench/bench-hotlist
scale=${HOTLIST_BENCH_SCALE:-1}
n=$(awk "BEGIN { printf \"%d\", 5000000 * $scale }")
wild=$(awk "BEGIN { printf \"%d\", 10000 * $scale }")
reads=$(awk "BEGIN { printf \"%d\", 1000000 * $scale }")
retro_n=1000
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-hotlist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== hot lists: $n entries ($wild wildcards), $reads reads (scale $scale; $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg))"
"$bin" gen "$tmp/list.csv" "$n" "$wild"
echo "import.file_size $(( $(stat -c %s "$tmp/list.csv") / 1048576 )) MB"
"$bin" import "$tmp/list.csv"
# Into the store as alprctl hotlist import does, then the next version
# (1% of the entries changed) against it, then matchd's start.
"$bin" store-import "$tmp/alpr.db" "$tmp/list.csv"
"$bin" gen "$tmp/list.csv" "$n" "$wild" 2
"$bin" store-import "$tmp/alpr.db" "$tmp/list.csv"
rm -f "$tmp/list.csv"
"$bin" store-load "$tmp/alpr.db"
echo "store.file_size $(( $(stat -c %s "$tmp/alpr.db") / 1048576 )) MB"
"$bin" match "$n" "$wild" "$reads"
"$bin" retro "$retro_n" "$reads"
