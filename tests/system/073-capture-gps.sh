#!/bin/sh
# GPS tags through a real gpsd fed by gpsfake (gpsd, gpsd-clients) from an
# NMEA log written here (valid checksums, today's date, a private port):
# the fixes on frames are positions of the log; with gpsd killed mid-run
# frames keep flowing tagged {"fix": false} and HEALTH says gps "absent";
# with gpsd back, fixes return without a restart of alpr-captured.
. "${top_srcdir:-.}/tests/system/capture-lib.sh"
if ! command -v gpsfake >/dev/null 2>&1 || ! [ -x /usr/sbin/gpsd ]; then
	echo "1..0 # SKIP gpsd/gpsfake are not installed"
	exit 0
fi
capture_setup
echo 1..7

# 300 GGA+RMC pairs moving north-west near Sacramento, one per 0.2 s.
$PY - "$T/drive.nmea" "$T/positions" <<'PY'
import sys, time
from functools import reduce
def nmea(body):
    return "$%s*%02X\r\n" % (body, reduce(lambda a, c: a ^ ord(c), body, 0))
t0 = time.gmtime()
date = time.strftime("%d%m%y", t0)
base = t0.tm_hour * 3600 + t0.tm_min * 60 + t0.tm_sec
out, pos = [], []
for i in range(300):
    s = (base + i) % 86400
    hms = "%02d%02d%02d.00" % (s // 3600, s // 60 % 60, s % 60)
    latm, lonm = 34.0 + i * 0.01, 29.0 + i * 0.01
    lat, lon = "38%07.4f" % latm, "121%07.4f" % lonm
    out.append(nmea("GPGGA,%s,%s,N,%s,W,1,08,0.9,10.0,M,-30.0,M,," % (hms, lat, lon)))
    out.append(nmea("GPRMC,%s,A,%s,N,%s,W,025.0,315.0,%s,,,A" % (hms, lat, lon, date)))
    pos.append("%.7f %.7f" % (38 + latm / 60, -(121 + lonm / 60)))
open(sys.argv[1], "w", newline="").write("".join(out))
open(sys.argv[2], "w").write("\n".join(pos) + "\n")
PY

mkdir -p "$T/frames" "$T/run"
$FRAMES "$T/frames" scene 4 160 120
PORT=$(free_port)
cat > "$T/alpr.conf" <<CONF
[gps]
Host=127.0.0.1
Port=$PORT
MaxFixAgeSec=2
[capture]
HealthIntervalSec=1
[camera.front]
Source=images
Path=$T/frames
FrameRate=20
Loop=yes
CONF

start_gpsfake() {
	gpsfake -P "$PORT" -c 0.1 -q "$T/drive.nmea" >> "$T/gpsfake.log" 2>&1 &
	GPID=$!
	PIDS="$PIDS $GPID"
}
# gpsfake sometimes ignores TERM (system-test-recipes.md): TERM, then KILL,
# for it and for the gpsd it started.
stop_gpsfake() {
	kids=$(ps -o pid= --ppid "$GPID" 2>/dev/null)
	kill "$GPID" $kids 2>/dev/null
	sleep 0.5
	kill -9 "$GPID" $kids 2>/dev/null
}

start_gpsfake
"$PEER" receive "$T/run/ocr.sock" -t 120 > "$T/out.json" &
PEER_PID=$!
PIDS="$PIDS $PEER_PID"
sleep 0.3
start_captured "$T/alpr.conf" front "$T/run" "$T/captured.log"
CPID=$!
wait_log "$T/out.json" '"fix":true' 60
ok $? "frames get GPS fixes from gpsd"
wait_log "$T/out.json" '"gps":"fix"' 10
sleep 0.5
stop_gpsfake
T_KILL=$(now_usec)
sleep 4
T_BACK=$(now_usec)
start_gpsfake
n=0
until [ "$(grep -c '"fix":true' "$T/out.json")" -gt "$(grep -c '"fix":true' "$T/out.json.before" 2>/dev/null || echo 0)" ] && [ $n -gt 0 ]; do
	[ $n -eq 0 ] && cp "$T/out.json" "$T/out.json.before"
	n=$((n + 1))
	[ $n -gt 250 ] && break
	sleep 0.1
done
sleep 1
kill -0 "$CPID" 2>/dev/null
alive=$?
stop_gpsfake
kill "$PEER_PID"
wait "$PEER_PID" 2>/dev/null

$PY - "$T" "$T_KILL" "$T_BACK" <<'PY'
import json, sys
t, tkill, tback = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
log = [tuple(map(float, l.split())) for l in open(t + "/positions")]
lines = [json.loads(l) for l in open(t + "/out.json")]
frames = [l["meta"] for l in lines if l["type"] == "frame"]
fixes = [f["gps"] for f in frames if f["gps"]["fix"]]
def in_log(g):
    return any(abs(g["lat"] - a) < 1e-6 and abs(g["lon"] - b) < 1e-6 for a, b in log)
# A report from GGA alone has no speed or heading: those are left out, never guessed.
moving = [g for g in fixes if "speed" in g]
ok(fixes and moving and all(in_log(g) and g["mode"] in (2, 3) and 0 <= g["age_ms"] <= 2000
                            for g in fixes) and
   all(abs(g["speed"] - 25.0 * 0.514444) < 0.01 and abs(g["heading"] - 315) < 0.01
       for g in moving),
   "every fix on a frame is a position, speed and heading of the log (%d fixes)" % len(fixes))
gone = [f for f in frames if tkill + 300000 < f["capture_usec"] < tback]
ok(len(gone) >= 40 and all(f["gps"] == {"fix": False} for f in gone),
   "gpsd killed: frames keep flowing, tagged {\"fix\": false} (%d frames)" % len(gone))
back = [f for f in frames if f["capture_usec"] > tback and f["gps"]["fix"]]
ok(back and in_log(back[-1]["gps"]), "gpsd back: fixes return (%d frames)" % len(back))
health = [l["body"]["gps"] for l in lines if l["type"] == "health"]
ok("fix" in health and "absent" in health[health.index("fix"):],
   "HEALTH reports gps fix, then absent")
# Frames may be dropped under load (newest wins), but never stop for GPS.
cap = [f["capture_usec"] for f in frames]
gap = max(b - a for a, b in zip(cap, cap[1:]))
ok(gap < 1000000, "frames keep coming through the outage (longest gap %d ms)" % (gap // 1000))
PY
ok $alive "alpr-captured ran through the outage (same process)"
