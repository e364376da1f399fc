# Shared helpers for tests/system/NNN-name.sh scenarios (POSIX sh + bash).
# Each scenario sources this file, calls `plan N`, then `ok`/`fail`/`check`.
# Daemons run in the foreground (-d) with a config and runtime directory in
# a temp dir that is removed at exit; their stderr goes to $T/NAME.log.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
T=$(mktemp -d "${TMPDIR:-/tmp}/alpr-test.XXXXXX")
RUN=$T/run
mkdir -p "$RUN" "$T/state"
chmod 0700 "$T"
n_test=0
n_fail=0
pids=""

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
ok() { n_test=$((n_test + 1)); echo "ok $n_test - $*"; }
fail() { n_test=$((n_test + 1)); n_fail=$((n_fail + 1)); echo "not ok $n_test - $*"; }
# check "description" command...: ok if the command succeeds.
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
diag() { echo "# $*"; }

# The program as built (libtool wrappers work from the build tree).
bin() {
	for p in "$top_builddir/$1" "$top_builddir/tests/tools/$1"; do
		[ -x "$p" ] && { echo "$p"; return; }
	done
	echo "$1"
}

# A config whose directories are all inside $T; extra lines come from stdin.
# alpr-alertd's page gets a port of its own: scenarios run side by side.
write_conf() {
	{
		printf '[general]\nRuntimeDirectory=%s\nStateDirectory=%s\n' "$RUN" "$T/state"
		cat
		printf '[alert]\nListen=127.0.0.1:%s\n' $((40000 + $$ % 20000))
	} > "$T/alpr.conf"
}

# The store and alprctl side of a matchd test: $db in a private state dir,
# q SQL runs SQL on it with sqlite3 (waiting out a writer), $C is alprctl on
# the test's config with a runtime dir of its own for the session file.
store_env() {
	db=$T/state/alpr.db
	chmod 0700 "$T/state"
	mkdir -p -m 0700 "$T/xdg"
	export XDG_RUNTIME_DIR=$T/xdg
	C="$(bin alprctl) -f $T/alpr.conf"
}
q() { sqlite3 -cmd '.timeout 10000' "$db" "$1"; }

# start NAME PROGRAM ARGS...: runs it in the background, remembers its pid.
start() {
	name=$1; shift
	"$@" >> "$T/$name.log" 2>&1 &
	eval "pid_$name=$!"
	pids="$pids $!"
}

# stop NAME [SIGNAL]
stop() {
	eval "p=\$pid_$1"
	[ -n "$p" ] && kill "-${2:-TERM}" "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

alive() { eval "p=\$pid_$1"; kill -0 "$p" 2>/dev/null; }

. "$top_srcdir/tests/system/wait.sh"

# loggrep NAME PATTERN: the daemon's log has a line matching PATTERN.
loggrep() { grep -q -- "$2" "$T/$1.log"; }

cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.1
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$n_fail" -ne 0 ] || [ -n "$KEEP" ]; then
		for f in "$T"/*.log; do [ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f" | tail -n 30; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
