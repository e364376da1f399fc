#!/bin/bash
# The wall clock jumps backwards a day and forwards two hours under the
# running suite (a test-only offset, $ALPR_TEST_CLOCK_FILE, read by
# lib/base/time.c; timers run on CLOCK_MONOTONIC and must not care).
# Reads with known plates keep flowing: none may be lost or stored twice,
# every expected hit is stored, delivered and on display once, and no
# daemon dies.  Then alpr-alertd's own cool-down (AlertCooldownSec=300):
# a hit of a plate and entry, the clock two hours on, the same plate and
# entry again: still a repeat within the cool-down, not a new alert.
# Prints what it injected and what was lost (0).
. "$(dirname "$0")/chaos-lib.sh"
command -v sqlite3 > /dev/null || skip_all "sqlite3 CLI missing"
command -v curl > /dev/null || skip_all "curl missing"
plan 11
export ALPR_TEST_CLOCK_FILE=$T/clock-offset
echo 0 > "$ALPR_TEST_CLOCK_FILE"
chaos_conf ""
chaos_hotlist 2000
check "the suite starts" chaos_start_core
feed_start 0 100
acked=0
feed_wait 60 || acked=1
for off in -86400 7200 0; do
	echo "$off" > "$ALPR_TEST_CLOCK_FILE"
	diag "injected: the wall clock now reads ${off} s off the real one"
	feed_start $n_sent 100
	feed_start $n_sent 100
	feed_wait 60 || acked=1
done
check "every READ acknowledged" test "$acked" = 0
check "$n_sent reads stored, each once" \
	test "$(q "SELECT count(*) || '/' || count(DISTINCT id) FROM reads")" = "$n_sent/$n_sent"
want=$(expected_hits $n_sent)
check "$want expected hits, each stored once" \
	test "$(q "SELECT count(DISTINCT read_rowid) || '/' || count(*) FROM hits")" = "$want/$want"
check "the day-old reads carry the clock they were stored by" \
	test "$(q "SELECT count(*) FROM reads WHERE stored_usec < (strftime('%s','now') - 43200) * 1000000")" = 200
wait_for 60 sh -c "[ \$(sqlite3 -cmd '.timeout 10000' $DB 'SELECT count(*) FROM hits WHERE delivered_usec IS NOT NULL') -eq $want ]"
check "every hit delivered" test "$(q 'SELECT count(*) FROM hits WHERE delivered_usec IS NOT NULL')" = "$want"
wait_for 60 all_hits_shown
check "every hit on display exactly once" all_hits_shown
check "no daemon died" test "$(sv_starts matchd)/$(sv_starts alertd)" = 1/1
check "PRAGMA integrity_check: ok" test "$(q 'PRAGMA integrity_check')" = ok
# alertd's cool-down across a jump: its own hits (ids far above matchd's),
# sent as matchd would, after the checks above that compare with the store.
APEER=$(bin alert-peer)
"$APEER" hits "$RUN/alert.sock" --first 900001 --plate 7CLK123 --entry 424242 > /dev/null
check "alpr-alertd shows a hit of 7CLK123 / entry 424242" \
	wait_for 30 grep -q 'hit=900001 priority=.*on display$' "$T/alertd.log"
echo 7200 > "$ALPR_TEST_CLOCK_FILE"
diag "injected: the wall clock two hours on between two hits of one plate and entry"
"$APEER" hits "$RUN/alert.sock" --first 900002 --plate 7CLK123 --entry 424242 > /dev/null
wait_for 30 grep -q 'hit=900002 priority=' "$T/alertd.log"
check "the second, two wall-clock hours later, is still within the cool-down" \
	grep -q 'hit=900002 priority=.*repeat within the cool-down' "$T/alertd.log"
echo 0 > "$ALPR_TEST_CLOCK_FILE"
diag "lost: reads $((n_sent - $(q 'SELECT count(*) FROM reads'))) of $n_sent, hits $((want - $(q 'SELECT count(*) FROM hits'))) of $want"
[ "$n_fail" -eq 0 ]
