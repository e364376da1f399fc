#!/bin/sh
# alpr-captured replay sources through to a receiver on ocr.sock: a folder
# of frames at 30 fps arrives complete, in order, with the metadata of
# doc/protocol.md, each as a sealed memfd (no copy can alias it); a video
# file replays the same way; a fixed camera is tagged with its configured
# place, a mobile one without gpsd with {"fix": false}.
. "${top_srcdir:-.}/tests/system/capture-lib.sh"
capture_setup
echo 1..11

# The bad folder gets corrupt files too: each costs that frame only.
mkdir -p "$T/frames" "$T/bad"
$FRAMES -m "$T/frames:scene:40:320:240" "$T/drive.avi:video:20:320:240" \
	"$T/bad:scene:3:320:240"
head -c 5000 /dev/urandom > "$T/bad/frame-0001b.png"
printf '\211PNG\r\n\032\n' > "$T/bad/frame-0000b.png"
PORT=$(free_port)
# The receivers here check completeness and order, not back-pressure
# (072 does): a queue deep enough for every frame, so that a receiver
# starved of CPU on a loaded machine delays frames instead of losing them.
cat > "$T/alpr.conf" <<CONF
[capture]
QueueFrames=64
[gps]
Host=127.0.0.1
Port=$PORT
[camera.front]
Source=images
Path=$T/frames
FrameRate=30
[camera.post]
Source=images
Path=$T/frames
FrameRate=30
Mode=fixed
Latitude=38.581572
Longitude=-121.4944
[camera.bad]
Source=images
Path=$T/bad
FrameRate=30
[camera.dash]
Source=video
Path=$T/drive.avi
FrameRate=30
CONF

for cam in front post dash bad; do
	mkdir -p "$T/$cam"
	n=40; [ $cam = dash ] && n=20; [ $cam = bad ] && n=3
	"$PEER" receive "$T/$cam/ocr.sock" -n $n -t 120 > "$T/$cam.json" &
	PIDS="$PIDS $!"
	eval "peer_$cam=$!"
done
sleep 0.3
T0=$(now_usec)
for cam in front post dash bad; do
	start_captured "$T/alpr.conf" $cam "$T/$cam" "$T/$cam.log"
done
wait $peer_front $peer_post $peer_dash $peer_bad
T1=$(now_usec)

$PY - "$T" "$T0" "$T1" <<'PY'
import json, sys
t, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(cam):
    return [json.loads(l) for l in open("%s/%s.json" % (t, cam))]
def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        sys.stdout.flush()

front = [l for l in load("front") if l["type"] == "frame"]
ok(len(front) == 40, "all 40 frames of the folder arrive (got %d)" % len(front))
ok([f["meta"]["frame"] for f in front] == list(range(1, 41)) and
   [round(f["mean"] - front[0]["mean"]) for f in front] == list(range(40)),
   "in folder order, numbered 1..40")
ok(all(f["sealed"] and f["size"] == 320 * 240 for f in front),
   "each frame is a memfd sealed against writing and resizing, of width*height bytes")
m = [f["meta"] for f in front]
ok(all(x["camera"] == "front" and x["width"] == 320 and x["height"] == 240 and
       x["stride"] == 320 and x["format"] == "GREY" for x in m),
   "camera, width, height, stride and format as configured")
cap = [x["capture_usec"] for x in m]
mono = [x["mono_usec"] for x in m]
ok(t0 <= cap[0] and cap[-1] <= t1 and all(b > a for a, b in zip(cap, cap[1:]))
   and all(b > a for a, b in zip(mono, mono[1:])),
   "capture times are wall-clock within the run and increasing")
rate = 39e6 / (mono[-1] - mono[0])
ok(8 <= rate <= 40, "paced at FrameRate=30, not faster (measured %.1f fps; slower only on a starved machine)" % rate)
ok(all(x["gps"] == {"fix": False} for x in m), "mobile camera without gpsd: {\"fix\": false}")
post = [l["meta"]["gps"] for l in load("post") if l["type"] == "frame"]
ok(len(post) >= 30 and all(g["fix"] and abs(g["lat"] - 38.581572) < 1e-9 and
                           abs(g["lon"] + 121.4944) < 1e-9 and g.get("fixed") for g in post),
   "fixed camera: every frame tagged with the configured place")
dash = [l for l in load("dash") if l["type"] == "frame"]
ok(len(dash) == 20 and all(f["sealed"] for f in dash) and
   all(abs(f["mean"] - dash[0]["mean"] - i) < 1.5 for i, f in enumerate(dash)),
   "video file: 20 frames decoded in order (got %d)" % len(dash))
bad = [l for l in load("bad") if l["type"] == "frame"]
ok(len(bad) == 3 and [f["meta"]["frame"] for f in bad] == [1, 2, 3],
   "corrupt files in a folder are skipped, the good frames go on (%d)" % len(bad))
PY
grep -q 'cannot decode ".*frame-0001b.png"' "$T/bad.log"
ok $? "a corrupt file is logged by name"

