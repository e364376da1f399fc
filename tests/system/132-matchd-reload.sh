#!/bin/sh
# Hot-list reload without stopping matching, at a size where it shows
# (300,000 entries a version): a real matchd on a real SQLite file, alprctl
# importing through control.sock while READs come one by one at a steady
# rate (match-peer pace: one read in ten is A<i>, one B<i>).
#  - No READ waits for the import and the index build: its longest
#    READ->ACK time is under half the reload's duration (before, the import
#    ran in matchd's loop and every READ waited for all of it).
#  - Matching uses the old list until the swap, then the new one, never a
#    mix: v1 lists the A plates, v2 the B plates.
#  - An importer killed midway leaves the old version active; the pending
#    version it left is removed at the next start.
#  - A failed index build (a damaged chunk) keeps the old index and says why.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "alprctl --offline set-up needs root"
command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI missing"
plan 14
matchd=$(bin alpr-matchd)
peer=$(bin match-peer)
N=300000
store_env
write_conf </dev/null
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# svs FILE LETTER FIRST [COUNT]: COUNT (N) plates LETTER<FIRST>, LETTER<FIRST+2>, ...
svs() {
	awk -v n=${4:-$N} -v l="$2" -v f="$3" 'BEGIN { print "DATE12/05/2026 20:00";
		for (i = 0; i < n; i++) printf "%-8sCA0120261205\n", l (f + 2 * i);
		printf "TOTAL RECORD %07d\n", n }' > "$1"
}
import="$C --json hotlist import --format svs --case 24-000001 --reason investigation"

ALPR_PASSWORD="admin password 1" $C --offline user add admin --role administrator >"$T/setup.log" 2>&1
start recv "$peer" recv "$RUN/alert.sock" "$T/hits.txt"
start matchd "$matchd" -d -f "$T/alpr.conf"
wait_for 10 test -S "$RUN/control.sock"
ALPR_PASSWORD="admin password 1" $C login admin >>"$T/setup.log" 2>&1
$C training ack >>"$T/setup.log" 2>&1
svs "$T/v1.txt" A 0
svs "$T/v2.txt" B 1
svs "$T/v3.txt" C 0 1000000	# bigger: time to catch it midway

check "version 1 (300,000 A plates) imported" sh -c "$import $T/v1.txt >/dev/null"
wait_for 60 loggrep matchd "in use lists=\[cadoj-svs v1 .* entries=$N "

# The same stream without a reload, for comparison (the machine may be busy).
(sleep 3; touch "$T/stop") &
"$peer" pace "$RUN/match.sock" 500000 200 "$T/stop" > "$T/pace0.log" 2>&1
rm -f "$T/stop"
diag "READ->ACK without a reload: $(cat "$T/pace0.log")"

# The reload under a steady stream of READs (200 a second).
start pace "$peer" pace "$RUN/match.sock" 1000 200 "$T/stop"
wait_for 30 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' $db 'SELECT count(*) FROM reads') -gt 100 ]"
t0=$(now_ms)
check "version 2 (300,000 B plates) imported while READs stream in" sh -c \
	"$import $T/v2.txt | tr -d ' \n' | grep -q '\"version\":2,\"entries\":$N,\"added\":$N,\"removed\":$N'"
t_import=$(now_ms)
wait_for 60 loggrep matchd "in use lists=\[cadoj-svs v2 "
t1=$(now_ms)
sleep 1
touch "$T/stop"
wait_for 60 sh -c "! kill -0 $pid_pace 2>/dev/null"
check "every paced READ acknowledged" grep -q "^reads=\([0-9]*\) acked=\1 " "$T/pace.log"
max=$(sed -n 's/.* max_ms=\([0-9.]*\) .*/\1/p' "$T/pace.log")
diag "import $((t_import - t0)) ms, import + index swap $((t1 - t0)) ms; READ->ACK $(cat "$T/pace.log")"
check "no READ waited for the reload (longest under half of its $((t1 - t0)) ms)" \
	awk -v m="$max" -v w=$((t1 - t0)) 'BEGIN { exit !(m < w / 2) }'

# Live hits (not retro) by read order: A plates up to the swap, B plates after.
live="FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE h.retro = 0"
a_last=$(q "SELECT max(r.rowid) $live AND r.plate GLOB 'A*'")
b_first=$(q "SELECT min(r.rowid) $live AND r.plate GLOB 'B*'")
diag "live hits: A $(q "SELECT count(*) $live AND r.plate GLOB 'A*'") up to read $a_last, B $(q "SELECT count(*) $live AND r.plate GLOB 'B*'") from read $b_first"
check "the old list matched until the swap, the new one after, never both" \
	test -n "$a_last" -a -n "$b_first" -a "$a_last" -lt "$b_first"
check "every A read before the swap and every B read after it hit" test \
	"$(q "SELECT count(*) FROM reads r WHERE (r.plate GLOB 'A*' AND r.rowid <= $a_last) OR (r.plate GLOB 'B*' AND r.rowid >= $b_first)")" = \
	"$(q "SELECT count(*) $live")"

# kill -9 in the middle of an import: the pending version is never used.
v2=$(q "SELECT id FROM hotlists WHERE active = 1 AND name = 'cadoj-svs'")
$import "$T/v3.txt" > "$T/import3.log" 2>&1 &
wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' $db 'SELECT count(*) FROM hotlist_chunks c JOIN hotlists h ON h.id = c.list_id WHERE h.active = 2')\" -gt 0 ]"
stop matchd KILL
n_in_use=$(grep -c "in use lists=\[cadoj-svs v2 " "$T/matchd.log")
check "killed midway: a pending version was left" test "$(q 'SELECT count(*) FROM hotlists WHERE active = 2')" = 1
check "the old version stays active" test "$(q "SELECT id FROM hotlists WHERE active = 1 AND name = 'cadoj-svs'")" = "$v2"
start matchd "$matchd" -d -f "$T/alpr.conf"
wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' $db 'SELECT count(*) FROM hotlists WHERE active = 2')\" = 0 ]"
check "the next start removed the pending version and its chunks" test \
	"$(q 'SELECT count(*) FROM hotlist_chunks WHERE list_id NOT IN (SELECT id FROM hotlists)')/$(q 'SELECT count(*) FROM hotlists WHERE active = 2')" = 0/0
check "matchd matches version 2 after the restart" \
	test "$(grep -c "in use lists=\[cadoj-svs v2 " "$T/matchd.log")" -gt "$n_in_use"

# A damaged chunk of the active version: the next build fails, the old index stays.
q "UPDATE hotlist_chunks SET records = substr(records, 1, 40) || X'41' || substr(records, 42) WHERE list_id = $v2 AND first = (SELECT max(first) FROM hotlist_chunks WHERE list_id = $v2)"
check "a manual entry (a change: the index is built again)" $C hotlist add --plate M7 \
	--category bolo --case 24-000002 --reason investigation --days 3
wait_for 30 loggrep matchd "cannot build lists=\[cadoj-svs v2 (id $v2), manual v1 (id [0-9]*)\]"
check "the failed build is logged with the versions and why" \
	loggrep matchd "cannot build lists=\[cadoj-svs v2 (id $v2), manual v1 (id [0-9]*)\], keeping the previous one: Bad message"
check "hotlist status says the new list is not matched, and why" sh -c \
	"$C --json hotlist status | tr -d '\n' | grep -q '\"matching\": *\"no: the reload failed (Bad message)'"
rm -f "$T/stop"
(sleep 2; touch "$T/stop") &
"$peer" pace "$RUN/match.sock" 100000 20 "$T/stop" > "$T/pace2.log" 2>&1
check "the previous index still matches (a B plate of version 2 hits)" test \
	"$(q "SELECT count(*) $live AND r.plate = 'B100005'")" = 1
[ "$n_fail" -eq 0 ]
