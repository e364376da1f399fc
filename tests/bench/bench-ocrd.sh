#!/bin/sh
# alpr-ocrd figures: 1280x720 frames read per second with 1 and 2 workers,
# reads per second and the resident memory of the daemon and its workers.
# frame-peer sends cars of rendered plates at FPS (above what the workers
# manage, so the workers never wait and the excess is dropped, newest wins)
# to a real alpr-ocrd whose reads go to frame-peer's match side.
# ALPR_MODEL_DIR overrides the tree's models/.  BENCH_FRAMES, BENCH_FPS.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MODELS=${ALPR_MODEL_DIR:-$top_srcdir/models}
FRAMES=${BENCH_FRAMES:-240}
FPS=${BENCH_FPS:-40}
PEER=$top_builddir/tests/tools/frame-peer
OCRD=$top_builddir/alpr-ocrd
echo "== alpr-ocrd ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ ! -f "$MODELS/glyph-cnn.onnx" ]; then
	echo "no recognizer models in $MODELS: skipped"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/alpr-bench.XXXXXX")
trap 'kill $ocrd $recv 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/run" "$T/state"
grep -E '^(58294|tr5823|k38275)\.png' "$top_srcdir/tests/data/plates/plates.txt" |
	sed "s|^|$top_srcdir/tests/data/plates/|" > "$T/plates.txt"
cars=$((FRAMES / 16))
for w in 1 2; do
	printf '[general]\nRuntimeDirectory=%s\nStateDirectory=%s\n[ocr]\nWorkers=%s\nModelDirectory=%s\n' \
		"$T/run" "$T/state" "$w" "$MODELS" > "$T/alpr.conf"
	rm -f "$T/reads.txt" "$T/run/"*.sock
	"$PEER" recv "$T/run/match.sock" "$T/reads.txt" 2> "$T/recv.log" &
	recv=$!
	"$OCRD" -d -f "$T/alpr.conf" 2> "$T/ocrd.log" &
	ocrd=$!
	n=0
	while [ ! -S "$T/run/ocr.sock" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
	sleep 1	# the workers load their models
	start=$(date +%s.%N)
	# 12 frames of each car, 4 empty: a new plate every 16 frames
	"$PEER" cars "$T/run/ocr.sock" "$T/plates.txt" $cars 12 4 "$FPS" > /dev/null 2>> "$T/peer.log"
	end=$(date +%s.%N)
	rss=0
	for p in $ocrd $(pgrep -P $ocrd); do
		rss=$((rss + $(awk '/^VmRSS/ { print $2 }' /proc/$p/status)))
	done
	sleep 2	# let the last tracks close
	kill $ocrd; wait $ocrd
	kill $recv; wait $recv 2>/dev/null
	line=$(grep 'stopping:' "$T/ocrd.log")
	done_frames=$(echo "$line" | sed -E 's/.* ([0-9]+) read, .*/\1/')
	dropped=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped.*/\1/')
	reads=$(wc -l < "$T/reads.txt")
	awk -v w="$w" -v f="$done_frames" -v d="$dropped" -v s="$start" -v e="$end" -v r="$reads" \
	    -v c="$cars" -v rss="$rss" 'BEGIN {
		t = e - s
		printf "workers=%d: %.1f frames/s read (%d of %d sent in %.1f s, %d dropped), " \
		    "%.2f reads/s (%d reads for %d cars), RSS %.0f MB (daemon + workers)\n",
		    w, f / t, f, f + d, t, d, r / t, r, c, rss / 1024 }'
done
