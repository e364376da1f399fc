#!/bin/sh
# Back-pressure: alpr-ocrd stalls (says HELLO, then never reads).  The
# capture loop must keep running (it still answers inspection), count the
# frames it drops (newest wins), keep its memory bounded, and hand the
# socket only a few frames (each pins a memfd of the frame's size).
. "${top_srcdir:-.}/tests/system/capture-lib.sh"
capture_setup
echo 1..6

mkdir -p "$T/frames" "$T/run"
$FRAMES "$T/frames" scene 6 1280 720
PORT=$(free_port)
cat > "$T/alpr.conf" <<CONF
[gps]
Host=127.0.0.1
Port=$PORT
[capture]
HealthIntervalSec=1
[camera.front]
Source=images
Path=$T/frames
FrameRate=120
Loop=yes
CONF

"$PEER" stall "$T/run/ocr.sock" 90 > "$T/stall.out" &
PIDS="$PIDS $!"
sleep 0.3
start_captured "$T/alpr.conf" front "$T/run" "$T/captured.log"
CPID=$!
wait_log "$T/captured.log" "replay starts" 60
sleep 2
rss1=$(awk '/^VmRSS/ {print $2}' /proc/$CPID/status)
"$PEER" inspect "$T/run/capture-front.sock" jpeg > "$T/i1"
sleep 3
rss2=$(awk '/^VmRSS/ {print $2}' /proc/$CPID/status)
"$PEER" inspect "$T/run/capture-front.sock" jpeg > "$T/i2"
echo "rss $rss1 kB -> $rss2 kB" >&2

kill -0 $CPID 2>/dev/null
ok $? "alpr-captured keeps running while the receiver stalls"
$PY - "$T" "$rss1" "$rss2" <<'PY'
import json, sys
t, rss1, rss2 = sys.argv[1], int(sys.argv[2] or 0), int(sys.argv[3] or 0)
def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
a = json.loads(open(t + "/i1").readline())["result"]
b = json.loads(open(t + "/i2").readline())["result"]
ok(b["frames"] - a["frames"] > 150,
   "frames keep being captured (%d in 3 s at 120 fps)" % (b["frames"] - a["frames"]))
ok(b["dropped"] > a["dropped"] > 0 and b["dropped"] - a["dropped"] > 100,
   "the frames the socket cannot take are dropped and counted (%d, then %d)" %
   (a["dropped"], b["dropped"]))
ok(a["frames_arriving"] and b["frames_arriving"],
   "inspection answers and sees frames arriving")
# Each frame in flight pins its memfd: the socket may hold only a few.
held = b["frames"] - b["dropped"]
ok(0 < held <= 16, "only %d frames were handed to the stalled receiver (QueueFrames=4)" % held)
ok(rss1 > 0 and rss2 - rss1 < 16 * 1024,
   "memory stays bounded (RSS %d kB, 3 s later %d kB)" % (rss1, rss2))
PY
