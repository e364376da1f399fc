#!/bin/sh
# Bench: alpr-alertd's hit-to-page latency (p50/p99 over 1,000 hits, seen
# in headless Chromium) and its memory.  Prints figures; exits 0 when it
# could not run (no Chromium), saying so.
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

BROWSER=$top_srcdir/tests/browser
if [ ! -x /usr/bin/chromium ] || [ ! -d "$BROWSER/node_modules/playwright-core" ]; then
	echo "alertd bench skipped: chromium or playwright-core (npm ci in tests/browser) missing"
	exit 0
fi
alert_conf ""
start_control
start_alertd || { echo "alertd bench: alpr-alertd did not start" >&2; exit 1; }
ALERT_URL="http://127.0.0.1:$PORT/" ALERT_SOCK="$T/run/alert.sock" ALERT_PEER="$PEER" \
ALERT_OUT="$T" ALERT_PID=$ALERTD_PID ALERT_HITS=${ALERT_HITS:-1000} \
    node "$BROWSER/alert-bench.js"
