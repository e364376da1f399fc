#!/bin/sh
# Hot lists through alpr-matchd: a real matchd with a real SQLite file,
# alprctl importing a CA DOJ SVS file and adding a manual entry through
# control.sock (session, training, PERM_HOTLIST, case and purpose), the
# index rebuilt and swapped, and READs of listed plates giving hits that
# are stored and delivered to a test receiver on alert.sock.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "alprctl --offline set-up needs root"
command -v sqlite3 >/dev/null || skip_all "sqlite3 CLI missing"
plan 25
matchd=$(bin alpr-matchd)
peer=$(bin match-peer)
store_env
write_conf </dev/null

ALPR_PASSWORD="admin password 1" $C --offline user add admin --role administrator >"$T/setup.log" 2>&1
ALPR_PASSWORD="deputy password 1" $C --offline user add deputy --role sworn >>"$T/setup.log" 2>&1
start recv "$peer" recv "$RUN/alert.sock" "$T/hits.txt"
start matchd "$matchd" -d -f "$T/alpr.conf"
wait_for 10 test -S "$RUN/control.sock"
ALPR_PASSWORD="admin password 1" $C login admin >>"$T/setup.log" 2>&1
$C training ack >>"$T/setup.log" 2>&1

{
	echo "DATE11/28/2026 23:05"
	for i in $(seq 0 50 299); do printf '%-8sCA0120261128\n' "H$i"; done
	echo "TOTAL RECORD 0000006"
} > "$T/svs.txt"
check "import without a session is refused" sh -c \
	"XDG_RUNTIME_DIR=$T/none $C hotlist import --format svs --case 24-000001 --reason investigation $T/svs.txt >/dev/null 2>&1; [ \$? -ne 0 ]"
check "import with a prohibited purpose is refused" sh -c \
	"! $C hotlist import --format svs --case 24-000001 --reason immigration $T/svs.txt >/dev/null 2>&1"
check "nothing stored by the refused imports" test "$(q 'SELECT (SELECT count(*) FROM hotlist_entries) + (SELECT count(*) FROM hotlist_chunks) + (SELECT count(*) FROM hotlists)')" = 0
check "alprctl hotlist import" $C hotlist import --format svs --case 24-000001 \
	--reason investigation "$T/svs.txt"
check "the list is stored as version 1 with 6 entries" \
	test "$(q "SELECT version || '/' || entries || '/' || sha256 FROM hotlists WHERE active = 1")" = \
	"1/6/$(sha256sum "$T/svs.txt" | cut -c1-64)"
check "hotlist status lists it" sh -c "$C --json hotlist status | grep -q '\"version\": *1'"
check "a manual immigration entry is refused by matchd" sh -c \
	"! $C hotlist add --plate R7 --category bolo --case 24-000001 --reason immigration --days 3 >/dev/null 2>&1"
check "a manual entry is added" $C hotlist add --plate R7 --category bolo --case 24-000001 \
	--reason investigation --days 3
# The index is built aside and swapped in after the answer: wait for it.
wait_for 20 loggrep matchd "hot-list index: in use .* entries=7 "
check "matchd rebuilt its index" loggrep matchd "hot-list index: in use .* entries=7 "

check "300 READs acknowledged" timeout 30 "$peer" send "$RUN/match.sock" 0 300 50
check "7 hits stored: 6 listed plates and the manual entry" \
	test "$(q 'SELECT count(*) FROM hits')" = 7
wait_for 10 sh -c "[ \$(wc -l < $T/hits.txt) -ge 7 ]"
check "the 7 hits reach alert.sock" test "$(cut -d' ' -f1 "$T/hits.txt" | sort -u | wc -l)" = 7

# Retro-match: a new entry meets the reads of the last RetroWindowHours.
n_retro=$(grep -c "retro-match done" "$T/matchd.log")
check "a manual entry for an earlier read" $C hotlist add --plate R9 --category stolen-plate \
	--case 24-000002 --reason investigation --days 3
wait_for 20 sh -c "[ \$(grep -c 'retro-match done' $T/matchd.log) -gt $n_retro ]"
check "gives one retro hit" test "$(q "SELECT count(*) FROM hits WHERE retro = 1")" = 1
{
	echo "DATE11/29/2026 01:00"
	for i in 0 50 100; do printf '%-8sCA0120261129\n' "H$i"; done
	echo "TOTAL RECORD 0000003"
} > "$T/svs2.txt"
check "a new version of the list" sh -c "$C --json hotlist import --format svs --case 24-000001 \
	--reason investigation $T/svs2.txt | tr -d ' \n' | grep -q '\"version\":2,\"entries\":3,\"added\":0,\"removed\":3,\"unchanged\":3'"
sleep 1
check "carried-over entries raise no second hit" test "$(q 'SELECT count(*) FROM hits')" = 8

# What matched: an entry one OCR confusion (O for 0) away from read H150.
check "a manual entry H15O" $C hotlist add --plate H15O --category bolo --case 24-000003 \
	--reason investigation --days 3
wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' $db \"SELECT count(*) FROM hits WHERE match_type = 'ocr'\")\" = 1 ]"
check "its retro hit is an OCR match" test "$(q "SELECT count(*) FROM hits WHERE match_type = 'ocr' AND retro = 1")" = 1
check "the hit stores the candidate and the position that differs" \
	test "$(q "SELECT match_candidate || ' ' || match_differs FROM hits WHERE match_type = 'ocr'")" = "H150 [3]"
wait_for 10 grep -q " H15O " "$T/hits.txt"
check "the HIT says what matched" grep -q " H15O H150 \[3\]$" "$T/hits.txt"
# A deputy (the role that views hits) sees it in alprctl.
mkdir -m 0700 "$T/xdg-deputy"
D="env XDG_RUNTIME_DIR=$T/xdg-deputy $C"
ALPR_PASSWORD="deputy password 1" $D login deputy >>"$T/setup.log" 2>&1
$D training ack >>"$T/setup.log" 2>&1
hit=$(q "SELECT id FROM hits WHERE match_type = 'ocr'")
check "alprctl hit show gives the candidate with the differing character marked" sh -c \
	"$D hit show $hit --case 24-000003 --reason hit-verification | grep -qx 'match_marked: H15\[0\]'"
# Reload under load: a new version (500 more plates) imported while 5,000
# READs stream in.  Each read is matched by the index of its moment, the
# old one until the swap, and retro-match covers the reads stored before
# it: every listed read ends with exactly one hit, none lost, none twice.
{
	echo "DATE11/30/2026 01:00"
	for i in 0 50 100; do printf '%-8sCA0120261130\n' "H$i"; done
	for i in $(seq 1000 10 5990); do printf '%-8sCA0120261130\n' "H$i"; done
	echo "TOTAL RECORD 0000503"
} > "$T/svs3.txt"
n_retro=$(grep -c "retro-match done" "$T/matchd.log")
reads_before=$(q 'SELECT count(*) FROM reads')
"$peer" send "$RUN/match.sock" 1000 5000 10 > "$T/send3.log" 2>&1 &
send_pid=$!
wait_for 30 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' $db 'SELECT count(*) FROM reads') -gt $((reads_before + 200)) ]"
check "a new version imported while reads stream in" sh -c "$C --json hotlist import --format svs \
	--case 24-000001 --reason investigation $T/svs3.txt | tr -d ' \n' | grep -q '\"entries\":503'"
wait "$send_pid"
check "all 5,000 READs acknowledged and stored" \
	test "$(q 'SELECT count(*) FROM reads')" = $((reads_before + 5000))
wait_for 30 sh -c "[ \$(grep -c 'retro-match done' $T/matchd.log) -gt $n_retro ]"
listed="r.plate GLOB 'H[1-5][0-9][0-9]0'"
diag "listed reads hit live: $(q "SELECT count(*) FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE $listed AND h.retro = 0"), by retro-match: $(q "SELECT count(*) FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE $listed AND h.retro = 1")"
check "each of the 500 listed reads has exactly one hit" test \
	"$(q "SELECT count(*) || '/' || count(DISTINCT h.read_rowid) FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE $listed")" = "500/500"
# A batch's reads and their hits go in one transaction: one commit (one
# sync) per batch, hits or not (it was two with hits).
stop matchd
line=$(grep -o "reads: batches=[0-9]* commits=[0-9]*" "$T/matchd.log")
diag "$line"
check "one commit per batch of reads, their hits in it" sh -c \
	"echo '$line' | awk -F'[= ]' '\$3 > 0 && \$3 == \$5 { ok = 1 } END { exit !ok }'"
[ "$n_fail" -eq 0 ]
