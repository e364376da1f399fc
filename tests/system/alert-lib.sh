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

# need_browser: Chromium, node and playwright-core, or the scenario skips.
BROWSER=$top_srcdir/tests/browser
need_browser() {
	if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null; then
		echo "1..0 # SKIP chromium or node missing (packaging/deps.txt: chromium)"
		exit 0
	fi
	if [ ! -d "$BROWSER/node_modules/playwright-core" ]; then
		(cd "$BROWSER" && npm ci --no-audit --no-fund >/dev/null 2>&1) || {
			echo "1..0 # SKIP playwright-core not installed (npm ci in tests/browser)"
			exit 0
		}
	fi
}

# start_matchd EXTRA-CONF: the real alpr-matchd with its SQLite file, with
# alpr-alertd (started first: matchd connects to its alert.sock) on the
# same runtime directory; an administrator "admin" (password "admin
# password 1") is logged in for alprctl ($C), with training acknowledged.
# Needs root (alprctl --offline).
ALPRCTL=${ALPRCTL:-$top_builddir/alprctl}
MATCHD=${MATCHD:-$top_builddir/alpr-matchd}
start_matchd() {
	mkdir -m 0700 -p "$T/state" "$T/xdg"
	printf '[general]\nRuntimeDirectory=%s\nStateDirectory=%s\nAgencyORI=CA0070000\n%s\n' \
	    "$T/run" "$T/state" "$1" >"$T/alpr.conf"
	printf '[alert]\nListen=127.0.0.1:%s\nAudioFile=%s/announce.wav\n' "$PORT" "$T" >>"$T/alpr.conf"
	export XDG_RUNTIME_DIR="$T/xdg"
	C="$ALPRCTL -f $T/alpr.conf"
	ALPR_PASSWORD="admin password 1" $C --offline user add admin --role administrator \
	    >"$T/setup.log" 2>&1
	start_alertd || return 1
	"$MATCHD" -d -f "$T/alpr.conf" >"$T/matchd.log" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	while [ ! -S "$T/run/control.sock" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	{
		ALPR_PASSWORD="admin password 1" $C login admin
		$C training ack
	} >>"$T/setup.log" 2>&1
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
