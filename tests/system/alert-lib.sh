# Helpers for alpr-alertd's scenarios (sourced).  Starts the daemon and a
# control-socket stand-in in a temporary runtime directory and cleans up
# whatever it started, by pid.
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$(pwd)}
ALERTD=$top_builddir/alpr-alertd
PEER=$top_builddir/tests/tools/alert-peer
SAY=$top_builddir/tests/tools/alert-say

T=$(mktemp -d "${TMPDIR:-/tmp}/alpr-alert.XXXXXX")
mkdir -p "$T/run"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT

# A port of our own per scenario, so scenarios may run side by side.
PORT=$((20000 + $$ % 20000))

# alert_conf EXTRA-LINES: the [alert] section for this run.
alert_conf() {
	printf '[alert]\nListen=127.0.0.1:%s\nAudioFile=%s/announce.wav\n%s\n' \
	    "$PORT" "$T" "$1" > "$T/alpr.conf"
}

start_control() {
	"$PEER" control "$T/run/control.sock" deputy1 secret "$T/control.log" &
	PIDS="$PIDS $!"
}

start_alertd() {
	"$ALERTD" -d -f "$T/alpr.conf" --runtime-dir "$T/run" >"$T/alertd.log" 2>&1 &
	ALERTD_PID=$!
	PIDS="$PIDS $ALERTD_PID"
	i=0
	while [ $i -lt 100 ]; do
		curl -s -o /dev/null "http://127.0.0.1:$PORT/" && [ -S "$T/run/alert.sock" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

N=0
FAILED=0
check() {	# check "what" command...
	what=$1
	shift
	N=$((N + 1))
	if "$@"; then
		echo "ok $N - $what"
	else
		echo "not ok $N - $what"
		FAILED=$((FAILED + 1))
	fi
}
