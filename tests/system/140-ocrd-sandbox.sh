#!/bin/sh
# alpr-ocrd's recognizer workers run under their seccomp filter
# (daemons/ocr/sandbox.c): the kernel reports each worker filtered (and
# no_new_privs), the main process is not, and plates are still read through
# the whole path (frames in, one read per car out) with no worker killed
# by the filter on the way.
. "${top_srcdir:-.}/tests/system/lib.sh"
. "$top_srcdir/tests/system/ocrd-lib.sh"
plan 9

ocrd_start
check "alpr-ocrd listens on ocr.sock" wait_for 20 test -S "$RUN/ocr.sock"
check "two worker processes" wait_for 10 sh -c "test \$(pgrep -P $pid_ocrd | wc -l) -eq 2"

# /proc/PID/status: "Seccomp: 2" is filter mode.  The filter is entered after
# the models load, which takes a while on a loaded machine.
filtered() { # filtered PID: in seccomp filter mode with no_new_privs
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$1/status" &&
		grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$1/status"
}
all_filtered() {
	set -- $(pgrep -P "$pid_ocrd")
	[ $# -eq 2 ] && filtered "$1" && filtered "$2"
}
check "both workers run under the seccomp filter" wait_for 60 all_filtered
check "the main process does not" sh -c "grep -q '^Seccomp:[[:space:]]*0$' /proc/$pid_ocrd/status"

cars_pass 2 two 60
# SIGSYS is what the filter kills with; no worker may have needed a restart.
check "no worker killed or restarted" sh -c "! grep -q 'restarting' '$T/ocrd.log'"
check "daemon still up" alive ocrd
