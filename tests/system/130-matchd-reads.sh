#!/bin/sh
# alpr-matchd's read path end to end: a real alpr-matchd with a real SQLite
# file, a test peer sending READs on match.sock as alpr-ocrd would, and a
# test receiver on alert.sock standing in for alpr-alertd.  Checks that
# every READ is stored exactly once (resends too), that reads of listed
# plates give hits that are stored and delivered, that a bad READ is refused
# alone (the next one flows on its connection), and that kill -9 during 10,000 reads loses nothing
# and raises every hit once.
# The hot list is written straight into the store's tables with sqlite3
# (row entries, as lists were before schema step 7): no user, no import.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI missing"
plan 22
matchd=$(bin alpr-matchd)
peer=$(bin match-peer)
store_env
write_conf <<EOF2
[match]
AlertCooldownSec=300
EOF2

start recv "$peer" recv "$RUN/alert.sock" "$T/hits.txt"
wait_for 5 test -S "$RUN/alert.sock"
start matchd "$matchd" -d -f "$T/alpr.conf"
wait_for 10 test -S "$RUN/match.sock"
stop matchd

# The list: H<i> for the reads the peer makes hot (every 50th of 0..299,
# every 100th of 1000..10999).
{
	echo "BEGIN;"
	echo "INSERT INTO hotlists (id, name, source, version, imported_usec) VALUES (1, 'test', 'test', 1, 0);"
	for i in $(seq 0 50 299) $(seq 1000 100 10999); do
		echo "INSERT INTO hotlist_entries (list_id, plate, category, source, priority) VALUES (1, 'H$i', 'stolen-vehicle', 'test', 50);"
	done
	echo "COMMIT;"
} | sqlite3 "$db"
start matchd "$matchd" -d -f "$T/alpr.conf"
wait_for 10 test -S "$RUN/match.sock"

check "300 READs acknowledged" timeout 30 "$peer" send "$RUN/match.sock" 0 300 50
check "300 reads stored" test "$(q 'SELECT count(*) FROM reads')" = 300
check "one image stored per third read" test "$(q 'SELECT count(*) FROM reads WHERE crop_file IS NOT NULL')" = 100
check "resending the same 300 ids is acknowledged" timeout 30 "$peer" send "$RUN/match.sock" 0 300 50
check "resends are not stored twice" test "$(q 'SELECT count(*) FROM reads')" = 300
check "6 hits stored, one per listed read" test "$(q 'SELECT count(DISTINCT read_rowid) || count(*) FROM hits')" = 66
wait_for 10 sh -c "[ \$(cut -d' ' -f1 $T/hits.txt | sort -u | wc -l) -eq 6 ]"
check "the 6 hits reach alert.sock" test "$(cut -d' ' -f1 "$T/hits.txt" | sort -u | wc -l)" = 6
wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' $db 'SELECT count(*) FROM hits WHERE delivered_usec IS NOT NULL') -eq 6 ]"
check "alertd's ACK marks them delivered" test "$(q 'SELECT count(*) FROM hits WHERE delivered_usec IS NOT NULL')" = 6

check "a bad READ is refused alone: the next READ is stored on the same connection" \
	timeout 10 "$peer" badread "$RUN/match.sock"
check "with a log line" loggrep matchd "bad READ seq=1 .*bad plate, refused"
check "and matchd carries on" timeout 30 "$peer" send "$RUN/match.sock" 500 10 0
hit=$(q 'SELECT min(id) FROM hits')
check "hit_shown from alertd's role is recorded in the access log" sh -c \
	"$peer control $RUN/control.sock hit_shown '{\"hit\": $hit, \"quiet\": false}' >/dev/null &&
	[ \$(sqlite3 -cmd '.timeout 5000' $db \"SELECT count(*) FROM access_log WHERE op = 'hit_shown' AND user = 'alpr-alertd' AND result_ids = '[$hit]'\") -eq 1 ]"
before=$(wc -l < "$T/hits.txt")
# The last 24 hours, not the calendar day (a shift runs past midnight):
# a hit from one second before today's midnight comes again, one 25 h old
# does not.
now_usec=$(($(date +%s) * 1000000))
q "UPDATE hits SET created_usec = $((($(date -d 'today 00:00' +%s) - 1) * 1000000)) WHERE id = (SELECT min(id) FROM hits);
   UPDATE hits SET created_usec = $((now_usec - 25 * 3600000000)) WHERE id = (SELECT max(id) FROM hits)"
check "hit_resend queues the 5 unresolved hits of the last 24 hours" sh -c \
	"$peer control $RUN/control.sock hit_resend '{}' | grep -q '\"count\":5'"
wait_for 10 sh -c "[ \$(wc -l < $T/hits.txt) -ge $((before + 5)) ]"
check "and they reach alert.sock again" test "$(wc -l < "$T/hits.txt")" -eq $((before + 5))
: > "$T/hits.txt"

# kill -9 while 10,000 reads come in (the issue's figure); the peer resends what was not acknowledged.
start send "$peer" send "$RUN/match.sock" 1000 10000 100
wait_for 60 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' $db 'SELECT count(*) FROM reads') -ge 3000 ]"
stop matchd KILL
diag "reads stored at kill -9: $(q 'SELECT count(*) FROM reads')"
start matchd "$matchd" -d -f "$T/alpr.conf"
eval "wait \$pid_send"; rc=$?
check "the peer's 10,000 READs are all acknowledged after the restart" test "$rc" = 0
check "exactly 10,311 reads stored" test "$(q 'SELECT count(*) FROM reads')" = 10311
check "every expected hit stored once" \
	test "$(q "SELECT count(DISTINCT read_rowid) || '/' || count(*) FROM hits")" = 106/106
wait_for 60 sh -c "[ \$(cut -d' ' -f2 $T/hits.txt | sort -u | wc -l) -eq 100 ]"
diag "HIT messages received: $(wc -l < "$T/hits.txt"), distinct reads: $(cut -d' ' -f2 "$T/hits.txt" | sort -u | wc -l)"
check "every expected hit delivered" test "$(cut -d' ' -f2 "$T/hits.txt" | sort -u | wc -l)" = 100
# The cool-down is keyed on the text that hit the entry, not the read's
# top-1: a second read of the same car (top-1 R20001, its candidate H1000)
# makes no second alert.  A restart empties the cool-down first.
stop matchd
start matchd "$matchd" -d -f "$T/alpr.conf"
wait_for 10 test -S "$RUN/match.sock"
hits_of() { q "SELECT count(*) FROM hits h JOIN reads r ON h.read_rowid = r.rowid WHERE r.plate = '$1'"; }
timeout 10 "$peer" send "$RUN/match.sock" 20000 1 0 H1000
check "a read whose candidate is listed hits the entry" test "$(hits_of R20000)" = 1
timeout 10 "$peer" send "$RUN/match.sock" 20001 1 0 H1000
check "another read hitting it through the same candidate is stored" test "$(q "SELECT count(*) FROM reads WHERE plate = 'R20001'")" = 1
check "... and makes no second hit within the cool-down" test "$(hits_of R20001)" = 0
check "plates never reach matchd's log" sh -c "! grep -q 'H[0-9]' $T/matchd.log"
[ "$n_fail" -eq 0 ]
