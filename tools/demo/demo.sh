#!/bin/bash
# make demo: runs the whole suite from the build tree, without systemd, in a
# throw-away directory.  A small supervisor starts the four daemons in the
# foreground, restarts any that dies, shows what they log, and stops them
# all on Ctrl-C (or after DEMO_SECONDS, for unattended runs).
#
# What it replays grows with the suite: today the daemons start and talk
# to each other; the sample drive, hot list and MDC page arrive with their
# daemons (see README.md).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
D=$(mktemp -d "${TMPDIR:-/tmp}/alpr-demo.XXXXXX")
chmod 0700 "$D"
mkdir -p "$D/run" "$D/state" "$D/frames"
cat > "$D/alpr.conf" <<EOF2
[general]
RuntimeDirectory=$D/run
StateDirectory=$D/state
[camera.demo]
Source=images
Path=$D/frames
FrameRate=30
Loop=yes
EOF2

daemons="matchd alertd ocrd captured"
args_matchd="" args_alertd="" args_ocrd="" args_captured="-c demo"

launch() {
	local d=$1 a
	eval "a=\$args_$d"
	# shellcheck disable=SC2086
	"$top_builddir/alpr-$d" -f "$D/alpr.conf" -d $a 2>&1 | sed -u "s/^/[$d] /" &
}

stop_all() {
	trap - INT TERM
	echo
	echo "demo: stopping"
	for d in $daemons; do pkill -TERM -f "alpr-$d -f $D/alpr.conf" 2>/dev/null; done
	sleep 0.5
	for d in $daemons; do pkill -KILL -f "alpr-$d -f $D/alpr.conf" 2>/dev/null; done
	wait 2>/dev/null
	echo "demo: $restarts restart(s); logs and database were in $D (removed)"
	rm -rf "$D"
	exit 0
}
trap stop_all INT TERM

restarts=0
echo "demo: runtime directory $D/run"
for d in $daemons; do launch "$d"; done
sleep 1
"$top_builddir/alprctl" --runtime-dir "$D/run" status
echo "demo: running; Ctrl-C stops everything"
start=$(date +%s)
while :; do
	sleep 1
	for d in $daemons; do
		if ! pgrep -f "alpr-$d -f $D/alpr.conf" > /dev/null; then
			echo "demo: alpr-$d exited, restarting it"
			restarts=$((restarts + 1))
			launch "$d"
		fi
	done
	if [ -n "${DEMO_SECONDS:-}" ] && [ $(( $(date +%s) - start )) -ge "$DEMO_SECONDS" ]; then
		stop_all
	fi
done
