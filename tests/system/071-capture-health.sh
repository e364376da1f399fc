#!/bin/sh
# Camera health (R11) and inspection: a black sequence is "dark", a blurred
# one "blurred", a featureless one "blank", a white one "bright", a sharp
# one "ok", a replay that ends goes "no-frames";
# the HEALTH messages say so, and the inspect REQUEST on capture-NAME.sock
# passes the sharp camera, fails the others on the right limit, and gives
# a sample frame in a sealed memfd.
. "${top_srcdir:-.}/tests/system/capture-lib.sh"
capture_setup
echo 1..12

mkdir -p "$T/black" "$T/blurred" "$T/scene" "$T/grey" "$T/white" "$T/short"
$FRAMES -m "$T/black:black:4:640:360" "$T/blurred:blurred:4:640:360" \
	"$T/scene:scene:4:640:360" "$T/grey:grey:4:640:360" "$T/white:white:4:640:360" \
	"$T/short:scene:5:320:240"
PORT=$(free_port)
cat > "$T/alpr.conf" <<CONF
[gps]
Host=127.0.0.1
Port=$PORT
[capture]
HealthIntervalSec=1
[camera.black]
Source=images
Path=$T/black
FrameRate=15
Loop=yes
[camera.blurred]
Source=images
Path=$T/blurred
FrameRate=15
Loop=yes
[camera.scene]
Source=images
Path=$T/scene
FrameRate=15
Loop=yes
[camera.grey]
Source=images
Path=$T/grey
FrameRate=15
Loop=yes
[camera.white]
Source=images
Path=$T/white
FrameRate=15
Loop=yes
[camera.short]
Source=images
Path=$T/short
FrameRate=15
CONF

for cam in black blurred scene grey white short; do
	mkdir -p "$T/$cam.run"
	"$PEER" receive "$T/$cam.run/ocr.sock" -q -t 120 > "$T/$cam.json" &
	PIDS="$PIDS $!"
	PEERS="$PEERS $!"
done
sleep 0.3
for cam in black blurred scene grey white short; do
	start_captured "$T/alpr.conf" $cam "$T/$cam.run" "$T/$cam.log"
done
# Two health intervals after the replay runs.
for cam in black blurred scene grey white short; do
	wait_log "$T/$cam.log" "replay starts" 60
done
sleep 3.5
for cam in black blurred scene; do
	"$PEER" inspect "$T/$cam.run/capture-$cam.sock" png "$T/$cam.png" > "$T/$cam.inspect"
	echo "rc $?" >> "$T/$cam.inspect"
done
kill $PEERS
wait $PEERS 2>/dev/null

$PY - "$T" <<'PY'
import json, sys
t = sys.argv[1]
def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
def states(cam):
    return [json.loads(l)["body"]["state"] for l in open("%s/%s.json" % (t, cam))
            if '"health"' in l]
def inspect(cam):
    lines = [l for l in open("%s/%s.inspect" % (t, cam))]
    return json.loads(lines[0]), json.loads(lines[1]) if len(lines) > 2 else {}
b, bl, sc, sh = states("black"), states("blurred"), states("scene"), states("short")
ok(b and set(b) == {"dark"}, "black frames: dark (%s)" % b)
ok(bl and set(bl) == {"blurred"}, "blurred frames: blurred (%s)" % bl)
ok(sc and set(sc) == {"ok"}, "sharp frames: ok (%s)" % sc)
ok(sh and sh[-1] == "no-frames", "a replay that ended: no-frames (%s)" % sh)
g, w = states("grey"), states("white")
ok(g and set(g) == {"blank"}, "featureless frames (covered lens): blank (%s)" % g)
ok(w and set(w) == {"bright"}, "overexposed frames: bright (%s)" % w)
r, s = inspect("scene")
res = r.get("result", {})
ok(r.get("ok") and res.get("passed") and res.get("frames_arriving") and
   res.get("brightness_ok") and res.get("sharpness_ok") and res.get("state") == "ok",
   "inspect of the sharp camera passes")
ok(s.get("sample_sealed") and s.get("sample_magic") == "png" and
   s.get("sample_size") == res.get("sample", {}).get("length"),
   "its sample frame is a PNG in a sealed memfd")
r, s = inspect("blurred")
res = r.get("result", {})
ok(r.get("ok") and res.get("passed") is False and res.get("sharpness_ok") is False and
   res.get("brightness_ok") is True, "inspect of the blurred camera fails on sharpness")
r, s = inspect("black")
res = r.get("result", {})
ok(r.get("ok") and res.get("passed") is False and res.get("brightness_ok") is False,
   "inspect of the black camera fails on brightness")
PY
# The sample is the camera's frame: same size, decodable.
$PY -c "import cv2,sys; im=cv2.imread('$T/scene.png',0); sys.exit(0 if im is not None and im.shape==(360,640) else 1)"
ok $? "the sample decodes to the camera's 640x360 frame"
grep -q 'camera black health: dark' "$T/black.log" && ! grep -q 'health: ok' "$T/black.log"
ok $? "the state change is logged once, with the camera's name"
