#!/bin/sh
# Every daemon starts on the skeleton with a config in a temp dir, answers
# -n/--version/--help, refuses a bad config with exit 78 and file:line,
# creates its sockets, and stops cleanly on SIGTERM.
. "${top_srcdir:-.}/tests/system/lib.sh"
plan 20

write_conf <<EOF2
[camera.front]
Source=images
Path=$T
EOF2
for d in alpr-matchd alpr-ocrd alpr-alertd; do
	out=$($(bin $d) -f "$T/alpr.conf" -n 2>&1)
	check "$d -n says configuration OK" test "$out" = "configuration OK"
done
out=$($(bin alpr-captured) -f "$T/alpr.conf" -c front -n 2>&1)
check "alpr-captured -n says configuration OK" test "$out" = "configuration OK"
check "alpr-matchd --version" sh -c "$(bin alpr-matchd) --version | grep -q '^alpr-matchd [0-9]'"
check "alpr-ocrd --help lists --config" sh -c "$(bin alpr-ocrd) --help | grep -q -- '--config'"

printf '[general]\nRuntimeDirectory=%s\n[storage]\nRetentionDays=400\n' "$RUN" > "$T/bad.conf"
$(bin alpr-matchd) -f "$T/bad.conf" -n > "$T/bad.out" 2>&1
rc=$?
check "a bad config exits 78" test $rc -eq 78
check "a bad config names file:line" grep -q "bad.conf:4: RetentionDays=400: out of range" "$T/bad.out"
$(bin alpr-captured) -f "$T/alpr.conf" -c rear -n > "$T/cam.out" 2>&1
rc=$?
check "an unknown camera exits 78" test $rc -eq 78
$(bin alpr-matchd) -f "$T/alpr.conf" --no-such-option > /dev/null 2>&1
rc=$?
check "an unknown option exits 2" test $rc -eq 2

start matchd $(bin alpr-matchd) -d -f "$T/alpr.conf"
start alertd $(bin alpr-alertd) -d -f "$T/alpr.conf"
start ocrd $(bin alpr-ocrd) -d -f "$T/alpr.conf"
start captured $(bin alpr-captured) -d -f "$T/alpr.conf" -c front
for s in match.sock control.sock ocr.sock alert.sock; do
	check "socket $s exists" wait_for 5 test -S "$RUN/$s"
done
check "socket mode is 0660" test "$(stat -c %a "$RUN/control.sock")" = 660
check "alprctl status reaches matchd" sh -c "$(bin alprctl) --runtime-dir '$RUN' status | grep -q 'alpr-matchd is answering'"
check "ocrd connected to matchd" wait_for 5 loggrep matchd 'peer ocr "alpr-ocrd"'
for d in matchd ocrd captured alertd; do :; done
stop captured
stop ocrd
stop alertd
stop matchd
check "matchd logs a clean stop" loggrep matchd "stopped"
check "ocrd logs a clean stop" loggrep ocrd "stopped"
check "no daemon logged an error" sh -c "! grep -qi 'error\|fatal' '$T'/*.log"
