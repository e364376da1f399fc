#!/bin/sh
# sd_notify as systemd would see it, on a NOTIFY_SOCKET this test owns:
# READY=1 with STATUS=, WATCHDOG=1 from the loop at half WATCHDOG_USEC
# (and none while the process is stopped, so systemd would restart a hung
# daemon), RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM; and a
# reload with a bad config keeps the running one.
. "${top_srcdir:-.}/tests/system/lib.sh"
command -v python3 > /dev/null || skip_all "python3 is needed for the notify socket"
plan 10

write_conf < /dev/null
N=$T/notify.sock
python3 "$top_srcdir/tests/tools/notify-listen.py" "$N" 600 > "$T/notify.out" &
pids="$pids $!"
wait_for 5 grep -q listening "$T/notify.out"
NOTIFY_SOCKET=$N WATCHDOG_USEC=400000 start matchd $(bin alpr-matchd) -d -f "$T/alpr.conf"
check "READY=1 sent" wait_for 5 grep -q " READY=1" "$T/notify.out"
check "STATUS= sent" grep -q " STATUS=serving" "$T/notify.out"
sleep 1.2
w=$(grep -c " WATCHDOG=1" "$T/notify.out")
check "WATCHDOG=1 at about half the interval (got $w in ~1.2 s)" test "$w" -ge 3
kill -STOP "$pid_matchd"
before=$(grep -c " WATCHDOG=1" "$T/notify.out")
sleep 1
after=$(grep -c " WATCHDOG=1" "$T/notify.out")
kill -CONT "$pid_matchd"
check "no WATCHDOG=1 while the loop is stopped" test "$before" -eq "$after"
check "WATCHDOG=1 again after SIGCONT" wait_for 2 sh -c "test \$(grep -c ' WATCHDOG=1' '$T/notify.out') -gt $after"
kill -HUP "$pid_matchd"
check "RELOADING=1 on SIGHUP" wait_for 3 grep -q " RELOADING=1" "$T/notify.out"
check "READY=1 again after the reload" wait_for 3 sh -c "test \$(grep -c ' READY=1' '$T/notify.out') -ge 2"
printf '[storage]\nRetentionDays=9999\n' >> "$T/alpr.conf"
kill -HUP "$pid_matchd"
check "a bad config on reload is refused, the daemon keeps running" \
	sh -c "sleep 0.5; grep -q 'keeping the running configuration' '$T/matchd.log' && kill -0 $pid_matchd"
kill -TERM "$pid_matchd"
check "STOPPING=1 on SIGTERM" wait_for 3 grep -q " STOPPING=1" "$T/notify.out"
wait "$pid_matchd"
check "exit status 0 after SIGTERM" test $? -eq 0
