#!/bin/sh
# alpr-alertd against the real alpr-matchd and its SQLite file: the deputy
# logs in on the page with the credentials alprctl manages, works a hit
# through its states, and the database shows each transition with the
# user; the export brings matchd's report files; the lockout is the one
# alprctl sees.  Needs the store branch's control operations and its
# store-tool; skips until they are in the tree (ALPRCTL, MATCHD and
# STORE_TOOL may point at another build).
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

ALPRCTL=${ALPRCTL:-$top_builddir/alprctl}
MATCHD=${MATCHD:-$top_builddir/alpr-matchd}
STORE_TOOL=${STORE_TOOL:-$top_builddir/tests/tools/store-tool}
if [ "$(id -u)" != 0 ] || [ ! -x "$STORE_TOOL" ] || ! "$ALPRCTL" --help 2>&1 | grep -q "training ack" ||
    ! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP needs root, sqlite3, and alprctl/alpr-matchd with the control operations"
	exit 0
fi
mkdir -m 0700 -p "$T/state" "$T/xdg"
cat >"$T/matchd.conf" <<CONF
[general]
RuntimeDirectory=$T/run
StateDirectory=$T/state
AgencyORI=CA0070000
CONF
cp "$T/matchd.conf" "$T/alpr.conf"
printf '[alert]\nListen=127.0.0.1:%s\nAudioFile=%s/announce.wav\n' "$PORT" "$T" >>"$T/alpr.conf"
export XDG_RUNTIME_DIR="$T/xdg"
C="$ALPRCTL -f $T/matchd.conf"
ALPR_PASSWORD="admin password 1" $C --offline user add admin --role administrator >/dev/null 2>&1
"$STORE_TOOL" seed "$T/state/alpr.db" >/dev/null 2>&1
"$MATCHD" -d -f "$T/matchd.conf" >"$T/matchd.log" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -S "$T/run/control.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ALPR_PASSWORD="admin password 1" $C login admin >/dev/null 2>&1
$C training ack >/dev/null 2>&1
ALPR_PASSWORD="deputy password 1" $C user add deputy --role sworn >/dev/null 2>&1
ALPR_PASSWORD="deputy password 1" $C login deputy >/dev/null 2>&1
$C training ack >/dev/null 2>&1
$C logout >/dev/null 2>&1
start_alertd || { echo "1..1"; echo "not ok 1 - alpr-alertd starts"; exit 1; }

U=http://127.0.0.1:$PORT
J=$T/jar
csrf() {
	curl -s -c "$J" -b "$J" "$U/api/state" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p'
}
post() {	# post PATH JSON: prints the HTTP status, the body goes to $T/body
	tok=$(csrf)
	curl -s -o "$T/body" -w '%{http_code}' -c "$J" -b "$J" -H "X-CSRF-Token: $tok" -d "$2" "$U$1"
}
db() { sqlite3 "$T/state/alpr.db" "$1"; }

check "a wrong password is refused by matchd" \
    [ "$(post /api/login '{"user":"deputy","password":"nope"}')" = 403 ]
check "the deputy logs in with the credentials alprctl manages" \
    [ "$(post /api/login '{"user":"deputy","password":"deputy password 1"}')" = 200 ]
"$PEER" hits "$T/run/alert.sock" --first 1 --timeout 10 >/dev/null
check "the HIT is acknowledged although matchd lacks hit_shown" [ $? -eq 0 ]
check "a forged disposition is refused" \
    [ "$(post /api/hit/1/step '{"to":"DISPOSED","disposition":"arrest","case":"24-000009"}')" = 409 ]
check "plate matches vehicle" [ "$(post /api/hit/1/step '{"to":"VISUALLY_CONFIRMED"}')" = 200 ]
check "CLETS confirmed" [ "$(post /api/hit/1/step '{"to":"CLETS_CONFIRMED"}')" = 200 ]
check "arrest with a case number" \
    [ "$(post /api/hit/1/step '{"to":"DISPOSED","disposition":"arrest","case":"24-000009"}')" = 200 ]
got=$(db "SELECT group_concat(user || ':' || to_state || ':' || ifnull(disposition, '') || ':' || ifnull(case_number, ''), ' ') FROM (SELECT * FROM hit_events WHERE hit_id = 1 ORDER BY id)")
check "the database shows each transition with the user ($got)" \
    [ "$got" = "deputy:VISUALLY_CONFIRMED:: deputy:CLETS_CONFIRMED:: deputy:DISPOSED:arrest:24-000009" ]
check "the export brings matchd's report files" \
    sh -c "[ \"\$(curl -s -o '$T/exp' -w '%{http_code}' -c '$J' -b '$J' -H \"X-CSRF-Token: \$(curl -s -c '$J' -b '$J' $U/api/state | sed -n 's/.*\"csrf\":\"\\([0-9a-f]*\\)\".*/\\1/p')\" -d '{\"case\":\"24-000009\"}' $U/api/hit/1/export)\" = 200 ] && grep -q '\"name\":\"hit.html\"' '$T/exp'"

# The lockout is matchd's, shared with alprctl.
rm -f "$J"
for i in 1 2 3 4 5 6; do
	ALPR_PASSWORD="wrong" $C login deputy >/dev/null 2>&1
done
check "after failures through alprctl the page refuses the right password" \
    [ "$(post /api/login '{"user":"deputy","password":"deputy password 1"}')" = 403 ]
check "... as a lockout" grep -qi "lock" "$T/body"
echo "1..$N"
[ $FAILED -eq 0 ]
