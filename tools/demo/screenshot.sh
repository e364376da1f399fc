#!/bin/sh
# make demo-screenshot: runs the demo (tools/demo/demo.sh, 5 frames a
# second so that a busy machine reads the cars), takes the MDC page with an
# alert on it in headless Chromium (tools/demo/screenshot.js) into
# doc/demo-mdc.png (SHOT_OUT), then stops the demo.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
OUT=${SHOT_OUT:-$top_srcdir/doc/demo-mdc.png}
BROWSER=$top_srcdir/tests/browser
if [ ! -x /usr/bin/chromium ]; then
	echo "demo-screenshot: /usr/bin/chromium is missing (apt install chromium)" >&2
	exit 1
fi
if [ ! -d "$BROWSER/node_modules/playwright-core" ]; then
	(cd "$BROWSER" && npm ci --no-audit --no-fund > /dev/null 2>&1) || {
		echo "demo-screenshot: playwright-core is missing (npm ci in tests/browser)" >&2
		exit 1
	}
fi
D=$(mktemp -d "${TMPDIR:-/tmp}/alpr-shot.XXXXXX")
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DEMO_DIR=$D/demo DEMO_MDC_PORT=$PORT DEMO_FPS=${DEMO_FPS:-5} \
	top_srcdir=$top_srcdir top_builddir=$top_builddir \
	bash "$top_srcdir/tools/demo/demo.sh" > "$D/demo.out" 2>&1 < /dev/null &
demo=$!
# The demo user first (the page's login needs it).
n=0
while [ ! -f "$D/demo/user-ready" ] && [ $n -lt 600 ] && kill -0 $demo 2> /dev/null; do
	sleep 0.5
	n=$((n + 1))
done
SHOT_URL="http://127.0.0.1:$PORT/" SHOT_USER=demo SHOT_PASSWORD=demo-demo-demo-1 SHOT_OUT=$OUT \
	NODE_PATH=$BROWSER/node_modules node "$top_srcdir/tools/demo/screenshot.js"
rc=$?
kill -TERM $demo
wait $demo
grep -a '^alerts:\|^reads:' "$D/demo.out"
rm -rf "$D"
exit $rc
