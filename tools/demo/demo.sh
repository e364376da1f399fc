#!/bin/bash
# make demo: runs the whole suite from the build tree, without systemd, in a
# throw-away directory.  A small supervisor starts the four daemons in the
# foreground, restarts any that dies, shows what they log (reads and alerts
# picked out), and stops them all on Ctrl-C (or after DEMO_SECONDS, for
# unattended runs), then prints a summary.
#
# It replays the sample drive that make generates into build/drive
# (tools/drive/gen-drive.py) as camera "demo", with its GPS route through a
# private gpsd fed by gpsfake, and the drive's sample hot list imported.
# Pieces land on main one by one: whatever this tree lacks (a daemon that
# does not do its part yet, an alprctl command, gpsd, the drive) is said,
# once, and the demo goes on without it.
#
# What the deputy would see is printed by tools/demo/mdc-follow.py, logged
# in to the MDC page like the page itself: one ALERT line per hit as
# alpr-alertd pushes it, READ lines (ids) from alpr-ocrd, and the closing
# summary (frames, reads, alerts, frame-to-alert latency).
#
# Environment: DEMO_ONCE=1 (play the drive once, stop when all is quiet,
# print the summary), DEMO_SECONDS (stop after so long), DEMO_LOOP=no (play
# the drive once, keep running), DEMO_FPS (replay rate, default 30; 0 as
# fast as alpr-ocrd takes frames), DEMO_DIR (runtime directory, database and
# logs there, kept afterwards; default a throw-away one), DEMO_CAMERAS=N
# (N cameras replaying the drive), DEMO_HOTLIST_EXTRA=FILE (a delimited hot
# list imported besides the sample), DEMO_CONF_EXTRA (more alpr.conf
# lines; the last three for tests/bench/bench-pipeline.sh), DEMO_MDC_PORT (MDC
# page port; default a free one), DEMO_VERBOSE=1 (every log line, debug too).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DRIVE=${DEMO_DRIVE:-$top_builddir/build/drive}
PY=/usr/bin/python3
ALPRCTL=$top_builddir/alprctl
if [ -n "${DEMO_DIR:-}" ]; then
	D=$(mkdir -p "$DEMO_DIR" && cd "$DEMO_DIR" && pwd) || exit 1
	KEEP=1
else
	D=$(mktemp -d "${TMPDIR:-/tmp}/alpr-demo.XXXXXX")
	KEEP=0
fi
chmod 0700 "$D"
rm -rf "$D/run" "$D/state" "$D/log" "$D/xdg"	# a kept DEMO_DIR starts afresh
mkdir -p "$D/run" "$D/state" "$D/frames" "$D/log"
# Logs go to the files below, never to a journal this shell may be writing to.
unset JOURNAL_STREAM
ONCE=${DEMO_ONCE:-0}
[ "$ONCE" = 1 ] && DEMO_LOOP=no
CONF=$D/alpr.conf
missing=""

say() { echo "demo: $*"; }
# lacking WHAT: remembers a missing piece for the summary and says it.
lacking() { missing="$missing
  - $*"; say "NOT THERE YET: $*"; }
# has_string PROGRAM TEXT: the built program (or its libtool-built binary,
# or the library) contains TEXT, i.e. this tree's code does that part.
has_string() {
	grep -aqsF "$2" "$top_builddir/$1" "$top_builddir/.libs/$1" \
		"$top_builddir/lib/.libs/libalpr.so" 2>/dev/null
}
free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the sample drive ------------------------------------------------------
n_frames=0 n_vehicles=0
if [ -f "$DRIVE/truth.json" ]; then
	FRAMES=$DRIVE/frames
	read -r n_frames n_vehicles n_listed <<EOF
$($PY -c 'import json, sys; t = json.load(open(sys.argv[1])); print(t["frames"], len(t["vehicles"]), sum(1 for v in t["vehicles"] if v["hotlist"]))' "$DRIVE/truth.json")
EOF
	say "sample drive: $n_frames frames, $n_vehicles vehicle passes ($n_listed on the sample hot list) from $DRIVE"
else
	FRAMES=$D/frames
	lacking "the sample drive ($DRIVE/truth.json): make generates it with /usr/bin/python3 and python3-opencv; the camera replays an empty folder"
fi

# ---- GPS: gpsd fed by gpsfake on a private port, or a fixed position -------
GPS_CONF="" CAM_POS="" GPSFAKE_PID=""
if command -v gpsfake > /dev/null 2>&1 && [ -x /usr/sbin/gpsd ] && [ -f "$DRIVE/route.nmea" ]; then
	gps_port=$(free_port)
	# -c 0.5: an RMC and a GGA a second, one fix a second; the log loops.
	gpsfake -P "$gps_port" -c 0.5 -q "$DRIVE/route.nmea" > "$D/log/gpsfake.log" 2>&1 &
	GPSFAKE_PID=$!
	GPS_CONF="[gps]
Host=127.0.0.1
Port=$gps_port"
	say "gpsd+gpsfake on 127.0.0.1:$gps_port replaying $DRIVE/route.nmea"
else
	if command -v gpsfake > /dev/null 2>&1 && [ -x /usr/sbin/gpsd ]; then
		say "no route with the drive, using a built-in track: a fixed location (Martinez, CA)"
	else
		say "gpsd missing, using a built-in track: a fixed location (Martinez, CA)"
	fi
	CAM_POS="Latitude=38.0194
Longitude=-122.1341"
fi

MDC_PORT=${DEMO_MDC_PORT:-$(free_port)}
cat > "$CONF" <<EOF2
[general]
RuntimeDirectory=$D/run
StateDirectory=$D/state
$GPS_CONF
[alert]
Listen=127.0.0.1:$MDC_PORT
[ocr]
ModelDirectory=$top_srcdir/models
EOF2
# One camera "demo", or DEMO_CAMERAS=N cameras demo1..demoN replaying the
# same drive (tests/bench/bench-pipeline.sh).
ncam=${DEMO_CAMERAS:-1}
cams=demo
[ "$ncam" -gt 1 ] && cams=$(seq -f 'demo%g' 1 "$ncam" | tr '\n' ' ')
for c in $cams; do
	cat >> "$CONF" <<EOF2
[camera.$c]
Source=images
Path=$FRAMES
FrameRate=${DEMO_FPS:-30}
Loop=${DEMO_LOOP:-yes}
$CAM_POS
EOF2
done
# DEMO_CONF_EXTRA: more configuration lines (the benchmark's [match]).
[ -n "${DEMO_CONF_EXTRA:-}" ] && printf '%s\n' "$DEMO_CONF_EXTRA" >> "$CONF"

# ---- the supervisor ---------------------------------------------------------
# Each supervised process: its name, program and arguments.  Its pid goes
# into $D/pids as "NAME PID" at every start (for the benchmark's figures).
capturers=""
for c in $cams; do
	capturers="$capturers captured_$c"
	eval "prog_captured_$c=captured args_captured_$c=\"-c $c\""
done
daemons="matchd alertd ocrd$capturers"
# shellcheck disable=SC2034  # read through eval in launch()
prog_matchd=matchd prog_alertd=alertd prog_ocrd=ocrd
# shellcheck disable=SC2034
args_matchd="" args_alertd="" args_ocrd=""
restarts=0
FOLLOW_PID=""
verbose_flag=""
[ "${DEMO_VERBOSE:-0}" = 1 ] && verbose_flag=-d

launch() {
	local d=$1 a prog
	eval "a=\$args_$d prog=\$prog_$d"
	# shellcheck disable=SC2086
	"$top_builddir/alpr-$prog" -f "$CONF" ${verbose_flag} $a >> "$D/log/$d.log" 2>&1 &
	eval "pid_$d=$!"
	echo "$d $!" >> "$D/pids"
}

stop_all() {
	trap - INT TERM
	echo
	say "stopping"
	for d in $capturers ocrd alertd matchd; do
		eval "p=\${pid_$d:-}"
		[ -n "$p" ] && kill -TERM "$p" 2> /dev/null
	done
	for d in $capturers ocrd alertd matchd; do
		eval "p=\${pid_$d:-}"
		[ -n "$p" ] || continue
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2> /dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	if [ -n "$GPSFAKE_PID" ]; then
		# gpsfake may ignore TERM; its gpsd is its child.
		kids=$(ps -o pid= --ppid "$GPSFAKE_PID" 2> /dev/null)
		# shellcheck disable=SC2086
		kill "$GPSFAKE_PID" $kids 2> /dev/null
		sleep 0.3
		# shellcheck disable=SC2086
		kill -KILL "$GPSFAKE_PID" $kids 2> /dev/null
		wait "$GPSFAKE_PID" 2> /dev/null
	fi
	summary
	if [ "$KEEP" = 1 ]; then
		say "logs and database kept in $D"
	else
		rm -rf "$D"
	fi
	exit 0
}

summary() {
	echo "================ demo summary ================"
	echo "ran:       $(( $(date +%s) - start )) s, $restarts daemon restart(s)"
	echo "drive:     $n_frames frames, $n_vehicles vehicle passes"
	# The follower's part: frames, reads, alerts, latency (and --stats).
	if [ -n "$FOLLOW_PID" ]; then
		kill -TERM "$FOLLOW_PID" 2> /dev/null
		wait "$FOLLOW_PID" 2> /dev/null
	fi
	if [ -n "$missing" ]; then
		echo "not there yet:$missing"
	fi
}
trap stop_all INT TERM

start=$(date +%s)
say "runtime directory $D/run"
for d in $daemons; do : > "$D/log/$d.log"; done
rm -f "$D/done" "$D/user-ready" "$D/alerts.jsonl" "$D/stats.json" "$D/pids"
DEMO_USER=demo DEMO_PASSWORD=demo-demo-demo-1 DEMO_ADMIN_PASSWORD=demo-admin-pass-1
# shellcheck disable=SC2046
DEMO_PASSWORD=$DEMO_PASSWORD $PY "$top_srcdir/tools/demo/mdc-follow.py" \
	--url "http://127.0.0.1:$MDC_PORT/" --user "$DEMO_USER" --log-dir "$D/log" \
	--alerts "$D/alerts.jsonl" --stats "$D/stats.json" --done-file "$D/done" \
	--ready-file "$D/user-ready" \
	$([ "$ONCE" = 1 ] && echo --once) $([ "${DEMO_VERBOSE:-0}" = 1 ] && echo --verbose) &
FOLLOW_PID=$!
# The camera comes last, once the user and the hot list are in: the drive's
# first cars are matched live, not only by the retro-match of the import.
for d in matchd alertd ocrd; do launch "$d"; done
for _ in $(seq 1 240); do	# up to 60 s: a loaded machine starts slowly
	[ -S "$D/run/control.sock" ] && [ -S "$D/run/alert.sock" ] && break
	sleep 0.25
done
"$ALPRCTL" -f "$CONF" status 2>&1 | sed 's/^/demo: status: /'

# ---- what this tree's daemons do ------------------------------------------
if grep -q 'MDC page on' "$D/log/alertd.log" 2> /dev/null || has_string alpr-alertd 'MDC page on'; then
	say "MDC page: http://127.0.0.1:$MDC_PORT/  (log in as the demo user)"
else
	lacking "the MDC page (alpr-alertd here serves no page: branch alert)"
fi
has_string alpr-captured 'replay' ||
	lacking "image replay in alpr-captured (branch capture): no frames flow"
has_string alpr-ocrd 'read id=' ||
	lacking "plate reading in alpr-ocrd (branches recognize, ocrd): no reads"
has_string alpr-matchd 'hotlist' ||
	lacking "hot-list matching and storage in alpr-matchd (branches hotlist, store): no hits"

# ---- the demo user, with training acknowledged (policy IV.G) --------------
# Root creates the first administrator offline (same policy code, logged the
# same way); the administrator then adds the deputy who logs in on the page.
export XDG_RUNTIME_DIR="$D/xdg"	# alprctl keeps its session here, not in yours
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
ctl() { "$ALPRCTL" -f "$CONF" "$@" >> "$D/log/user.log" 2>&1; }
if [ "$(id -u)" -ne 0 ]; then
	lacking "the demo user: creating the first administrator needs root (alprctl --offline)"
elif ALPR_PASSWORD=$DEMO_ADMIN_PASSWORD ctl --offline user add demo-admin --role administrator &&
	ALPR_PASSWORD=$DEMO_ADMIN_PASSWORD ctl login demo-admin && ctl training ack &&
	ALPR_PASSWORD=$DEMO_PASSWORD ctl user add "$DEMO_USER" --role sworn && ctl logout &&
	ALPR_PASSWORD=$DEMO_PASSWORD ctl login "$DEMO_USER" && ctl training ack; then
	say "demo user \"$DEMO_USER\" (password $DEMO_PASSWORD), training acknowledged"
	: > "$D/user-ready"
else
	lacking "the demo user: alprctl said: $(tail -1 "$D/log/user.log")"
fi

# ---- the sample hot list --------------------------------------------------
if [ ! -f "$DRIVE/hotlist.txt" ]; then
	:
elif "$ALPRCTL" -f "$CONF" hotlist --help 2>&1 | grep -q 'hotlist import'; then
	if "$ALPRCTL" -f "$CONF" hotlist import --format delimited --source demo \
		--case DEMO-0001 --reason investigation "$DRIVE/hotlist.txt" \
		> "$D/log/hotlist.log" 2> "$D/log/hotlist.err"; then
		say "sample hot list imported: $(grep -a '^entries' "$D/log/hotlist.log" | tr -s ' ')"
	else
		lacking "the hot-list import: alprctl hotlist import said: $(tail -1 "$D/log/hotlist.err")"
	fi
else
	lacking "hot-list import (alprctl hotlist import: branch hotlist)"
fi
if [ -n "${DEMO_HOTLIST_EXTRA:-}" ]; then
	if "$ALPRCTL" -f "$CONF" hotlist import --format delimited --source extra \
		--case DEMO-0002 --reason investigation "$DEMO_HOTLIST_EXTRA" \
		> "$D/log/hotlist-extra.log" 2> "$D/log/hotlist-extra.err"; then
		say "extra hot list imported: $(grep -a '^entries' "$D/log/hotlist-extra.log" | tr -s ' ')"
	else
		say "the extra hot list was refused: $(tail -1 "$D/log/hotlist-extra.err")"
	fi
fi

for d in $capturers; do launch "$d"; done
if [ "$ONCE" = 1 ]; then
	say "running; the drive plays once, then all stops (Ctrl-C stops it sooner)"
else
	say "running; Ctrl-C stops everything${DEMO_SECONDS:+ (or after $DEMO_SECONDS s)}"
fi
while :; do
	sleep 1
	for d in $daemons; do
		eval "p=\$pid_$d"
		if ! kill -0 "$p" 2> /dev/null; then
			wait "$p" 2> /dev/null
			say "alpr-$d exited ($(tail -1 "$D/log/$d.log" | cut -c1-120)), restarting it"
			restarts=$((restarts + 1))
			sleep 0.5
			launch "$d"
		fi
	done
	if [ -n "${DEMO_SECONDS:-}" ] && [ $(( $(date +%s) - start )) -ge "$DEMO_SECONDS" ]; then
		stop_all
	fi
	[ -f "$D/done" ] && stop_all
done
