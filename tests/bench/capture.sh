#!/bin/sh
# Bench: frames/s through alpr-captured -> ocr.sock for a looping replay of
# 1280x720 and 1920x1080 frames at FrameRate=0 (as fast as the receiver
# takes them), the capture process's CPU per frame, and its RSS.  The
# receiver (capture-peer -q) checks each memfd's seals but reads no pixel.
# Run by `make bench` from the build directory.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/system/capture-lib.sh"
SECONDS_RUN=${BENCH_SECONDS:-4}
HZ=$(getconf CLK_TCK)
capture_setup >/dev/null

cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}
field() {
	$PY -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['result'][sys.argv[2]])" "$@"
}

for size in 1280x720 1920x1080; do
	w=${size%x*} h=${size#*x}
	d="$T/$size"
	mkdir -p "$d/frames" "$d/run"
	$FRAMES "$d/frames" scene 8 "$w" "$h"
	cat > "$d/alpr.conf" <<CONF
[gps]
Host=127.0.0.1
Port=$(free_port)
[capture]
HealthIntervalSec=1
[camera.bench]
Source=images
Path=$d/frames
FrameRate=0
Loop=yes
CONF
	"$PEER" receive "$d/run/ocr.sock" -q -t $((SECONDS_RUN + 30)) > "$d/peer.json" &
	PEER_PID=$!
	PIDS="$PIDS $PEER_PID"
	sleep 0.3
	start_captured "$d/alpr.conf" bench "$d/run" "$d/captured.log"
	CPID=$!
	wait_for "$d/captured.log" "replay starts" 20
	sleep 1	# the first pass decodes; the loop then resends the sealed memfds
	"$PEER" inspect "$d/run/capture-bench.sock" png > "$d/i1"
	c1=$(cpu_ticks $CPID)
	sleep "$SECONDS_RUN"
	"$PEER" inspect "$d/run/capture-bench.sock" png > "$d/i2"
	c2=$(cpu_ticks $CPID)
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$CPID/status)
	hwm=$(awk '/^VmHWM/ {print $2}' /proc/$CPID/status)
	kill $CPID $PEER_PID
	wait $CPID $PEER_PID 2>/dev/null
	f1=$(field "$d/i1" frames) f2=$(field "$d/i2" frames)
	x1=$(field "$d/i1" dropped) x2=$(field "$d/i2" dropped)
	sent=$(( (f2 - f1) - (x2 - x1) ))
	awk -v s="$size" -v sent="$sent" -v drop="$((x2 - x1))" -v t="$SECONDS_RUN" \
	    -v cpu="$((c2 - c1))" -v hz="$HZ" -v rss="$rss" -v hwm="$hwm" 'BEGIN {
		fps = sent / t
		cpf = sent > 0 ? cpu / hz / sent * 1e6 : 0
		fmt = "capture %s replay -> ocr.sock: %.0f frames/s (%d sent, %d dropped in %d s), "
		fmt = fmt "CPU %.1f us/frame (%.0f%% of a core), one core: %.0f frames/s, "
		fmt = fmt "RSS %d kB (peak %d kB)\n"
		printf fmt, s, fps, sent, drop, t, cpf, 100 * cpu / hz / t, \
		    (cpf > 0 ? 1e6 / cpf : 0), rss, hwm
	}'
done
