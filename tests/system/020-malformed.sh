#!/bin/sh
# Every malformed message (short, long, bad magic/version/type/length/flags,
# garbage, no HELLO, descriptor and flag disagreeing, a type the socket does
# not take) closes that one connection, is logged, and the daemon stays up
# and keeps serving.
. "${top_srcdir:-.}/tests/system/lib.sh"
command -v python3 > /dev/null || skip_all "python3 is needed to craft raw messages"
cases="garbage empty short long magic version type length flags reserved notjson nohello badhello twohello fdnoflag flagnofd unknowntype"
plan 39

write_conf < /dev/null
start matchd $(bin alpr-matchd) -d -f "$T/alpr.conf"
start alertd $(bin alpr-alertd) -d -f "$T/alpr.conf"
wait_for 5 test -S "$RUN/control.sock" && wait_for 5 test -S "$RUN/alert.sock"
for c in $cases; do
	sock=control.sock
	[ "$c" = unknowntype ] && sock=alert.sock
	got=$(python3 "$top_srcdir/tests/tools/rawpeer.py" "$RUN/$sock" "$c" 2>&1)
	check "$c: connection closed" test "$got" = closed
	[ "$c" = empty ] && continue
	check "$c: matchd and alertd still running" sh -c "kill -0 $pid_matchd && kill -0 $pid_alertd"
done
check "matchd logged the protocol errors" loggrep matchd "closing connection.*bad magic"
check "matchd logged a refused role" loggrep matchd "role not admitted"
check "matchd logged a descriptor without its flag" loggrep matchd "descriptor and flag disagree"
# alertd takes HITs only with their image memfd (doc/protocol.md).
check "alertd logged the refused hit" loggrep alertd "closing connection.*(hit)"
check "matchd still answers alprctl" sh -c "$(bin alprctl) --runtime-dir '$RUN' status > /dev/null"
check "no stray descriptors: matchd has few fds" test "$(ls /proc/$pid_matchd/fd | wc -l)" -lt 20
