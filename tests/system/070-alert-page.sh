#!/bin/sh
# The MDC page in real headless Chromium: login, a hit injected into
# alert.sock on the page within 500 ms, the workflow buttons, forged steps
# refused, day and night screenshots (kept in tests/system/070-alert-page.out/).
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

need_browser
OUT=$top_builddir/tests/system/070-alert-page.out
rm -rf "$OUT"
mkdir -p "$OUT"

alert_conf ""
start_control
start_alertd || { echo "1..1"; echo "not ok 1 - alpr-alertd starts"; cat "$T/alertd.log" >&2; exit 1; }
"$PEER" health "$T/run/alert.sock" front ok fix

ALERT_URL="http://127.0.0.1:$PORT/" ALERT_SOCK="$T/run/alert.sock" ALERT_PEER="$PEER" \
ALERT_OUT="$OUT" ALERT_RECORD="cat '$T/control.log'" \
    node "$BROWSER/alert-page.js"
rc=$?
N=$(cat "$OUT/tap-count" 2>/dev/null || echo 0)
cp "$T/alertd.log" "$OUT/"
check "no plate number reaches alpr-alertd's log" \
    sh -c "! grep -q -e 7ABC123 -e 8XYZ987 '$T/alertd.log'"
echo "1..$N"
[ $rc -eq 0 ] && [ $FAILED -eq 0 ]
