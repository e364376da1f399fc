# Helpers for the alpr-captured scenarios (07x-capture-*.sh): a temp
# runtime directory, test frames made here (never real data), the test
# peer standing in for alpr-ocrd/alprctl, and TAP lines.  Sourced.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PY=/usr/bin/python3
CAPTURED=$top_builddir/alpr-captured
PEER=$top_builddir/tests/tools/capture-peer
FRAMES="$PY $top_srcdir/tests/system/capture-frames.py"

capture_setup() {
	# find_spec, not import: loading OpenCV takes seconds on a busy machine.
	if ! $PY -c 'import importlib.util as u, sys; sys.exit(u.find_spec("cv2") is None)' \
	    2>/dev/null; then
		echo "1..0 # SKIP python3-opencv is not installed"
		exit 0
	fi
	T=$(mktemp -d "${TMPDIR:-/tmp}/alpr-capture.XXXXXX")
	PIDS=""
	trap capture_cleanup EXIT
}

capture_cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 0.3
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$KEEP" ] || rm -rf "$T"
}

# A TCP port nobody listens on now.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

now_usec() {
	date +%s%6N
}

# start_captured CONF CAMERA RUNDIR LOG [env...]: runs the daemon, pid in $!.
start_captured() {
	conf=$1 cam=$2 run=$3 log=$4
	shift 4
	mkdir -p "$run"
	env "$@" "$CAPTURED" -d -f "$conf" -c "$cam" --runtime-dir "$run" 2>"$log" &
	PIDS="$PIDS $!"
}

. "$top_srcdir/tests/system/wait.sh"

# wait_log FILE PATTERN SECONDS: true once the file holds the pattern.
wait_log() { wait_for "$3" grep -q -- "$2" "$1"; }

ok() {
	if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi
}
