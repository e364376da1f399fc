#!/bin/sh
# alpr-alertd against the real alpr-matchd and its SQLite file, the page in
# real headless Chromium: a READ of a listed plate becomes a hit that
# matchd sends to alertd; the deputy logs in with the credentials alprctl
# manages and walks the hit through its states (plate confirmed, CLETS
# verified, only then an action, R5), and the database shows each
# transition with the user (tests/browser/alert-workflow.js).  Then, over
# HTTP: the export brings matchd's report files, and the login lockout is
# the one alprctl sees.  Screenshots in tests/system/074-alert-matchd.out/.
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

MPEER=${MPEER:-$top_builddir/tests/tools/match-peer}
if [ "$(id -u)" != 0 ] || [ ! -x "$MPEER" ] || ! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP needs root (alprctl --offline set-up), sqlite3 and tests/tools/match-peer"
	exit 0
fi
need_browser
OUT=$top_builddir/tests/system/074-alert-matchd.out
rm -rf "$OUT"
mkdir -p "$OUT"

start_matchd "" || { echo "1..1"; echo "not ok 1 - alpr-alertd and alpr-matchd start"; exit 1; }
{
	ALPR_PASSWORD="deputy password 1" $C user add deputy --role sworn
	# A hot list with the plates H0 and H50 (match-peer's reads 0 and 50).
	printf 'DATE11/28/2026 23:05\n%-8sCA0120261128\n%-8sCA0120261128\nTOTAL RECORD 0000002\n' \
	    H0 H50 >"$T/svs.txt"
	$C hotlist import --format svs --case 24-000001 --reason investigation "$T/svs.txt"
	ALPR_PASSWORD="deputy password 1" $C login deputy
	$C training ack
	$C logout
} >>"$T/setup.log" 2>&1
i=0
while ! grep -q "hot-list index: entries=2" "$T/matchd.log" && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done

ALERT_URL="http://127.0.0.1:$PORT/" ALERT_OUT="$OUT" ALERT_DB="$T/state/alpr.db" \
ALERT_SEND="timeout 30 '$MPEER' send '$T/run/match.sock' \"\$1\" 1 50" \
ALERT_USER=deputy ALERT_PASSWORD="deputy password 1" \
    node "$BROWSER/alert-workflow.js"
rc=$?
N=$(cat "$OUT/tap-count" 2>/dev/null || echo 0)
cp "$T/alertd.log" "$T/matchd.log" "$T/setup.log" "$OUT/"

U=http://127.0.0.1:$PORT
J=$T/jar
csrf() {
	curl -s -c "$J" -b "$J" "$U/api/state" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p'
}
post() {	# post PATH JSON: prints the HTTP status, the body goes to $T/body
	tok=$(csrf)
	curl -s -o "$T/body" -w '%{http_code}' -c "$J" -b "$J" -H "X-CSRF-Token: $tok" -d "$2" "$U$1"
}
HIT=$(sqlite3 "$T/state/alpr.db" "SELECT h.id FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE r.plate = 'H0'")
check "a wrong password is refused by matchd" \
    [ "$(post /api/login '{"user":"deputy","password":"nope"}')" = 403 ]
check "the deputy logs in over HTTP too" \
    [ "$(post /api/login '{"user":"deputy","password":"deputy password 1"}')" = 200 ]
check "the export brings matchd's report files" \
    sh -c "[ \"\$(curl -s -o '$T/exp' -w '%{http_code}' -c '$J' -b '$J' -H \"X-CSRF-Token: \$(curl -s -c '$J' -b '$J' $U/api/state | sed -n 's/.*\"csrf\":\"\\([0-9a-f]*\\)\".*/\\1/p')\" -d '{\"case\":\"24-000009\"}' $U/api/hit/$HIT/export)\" = 200 ] && grep -q '\"name\":\"hit.html\"' '$T/exp'"

# matchd has the last word: through alprctl too, no action on a hit CLETS did not confirm.
HIT2=$(sqlite3 "$T/state/alpr.db" "SELECT h.id FROM hits h JOIN reads r ON r.rowid = h.read_rowid WHERE r.plate = 'H50'")
ALPR_PASSWORD="deputy password 1" $C login deputy >>"$T/setup.log" 2>&1
check "matchd itself refuses an action on a hit CLETS did not confirm" sh -c \
    "! $C --case 24-000009 --reason hit-verification hit transition '$HIT2' DISPOSED \
    --disposition arrest >'$T/refused' 2>&1 && grep -q 'verified through CLETS' '$T/refused'"
check "... and stores nothing" [ "$(sqlite3 "$T/state/alpr.db" "SELECT state FROM hits WHERE id = '$HIT2'")" = CLETS_NOT_CONFIRMED ]
$C logout >>"$T/setup.log" 2>&1

# The lockout is matchd's, shared with alprctl.
rm -f "$J"
for i in 1 2 3 4 5 6; do
	ALPR_PASSWORD="wrong" $C login deputy >/dev/null 2>&1
done
check "after failures through alprctl the page refuses the right password" \
    [ "$(post /api/login '{"user":"deputy","password":"deputy password 1"}')" = 403 ]
check "... as a lockout" grep -qi "lock" "$T/body"
check "no plate number reaches alpr-alertd's log" sh -c "! grep -q -e H0 -e H50 '$T/alertd.log'"
echo "1..$N"
[ $rc -eq 0 ] && [ $FAILED -eq 0 ]
