#!/bin/sh
# The stale-list banner: alpr-alertd asks the real alpr-matchd how old the
# active hot lists are (control op hotlist_age) and the page's state says
# so: no list loaded, a list older than MaxListAgeHours (its age and the
# limit), and no banner once a fresh version is imported.  In Chromium the
# banner is drawn (tests/system/075-alert-lists.out/ keeps a screenshot).
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP needs root (alprctl --offline set-up), curl and jq"
	exit 0
fi
start_matchd "[match]
MaxListAgeHours=24" || { echo "1..1"; echo "not ok 1 - alpr-alertd and alpr-matchd start"; exit 1; }

U=http://127.0.0.1:$PORT
J=$T/jar
state() { curl -s -c "$J" -b "$J" "$U/api/state"; }
login() {
	tok=$(state | jq -r .csrf)
	curl -s -o /dev/null -c "$J" -b "$J" -H "X-CSRF-Token: $tok" \
	    -d '{"user":"admin","password":"admin password 1"}' "$U/api/login"
}
# lists_until JQ-FILTER: each /api/state asks matchd again; wait for its answer.
lists_until() {
	i=0
	while [ $i -lt 100 ]; do
		state | jq -e ".lists | $1" >/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	state | jq -c .lists >&2
	return 1
}
svs() {	# svs DAYS-AGO FILE: an SVS file dated DAYS-AGO days back
	{
		echo "DATE$(date -d "-$1 days" '+%m/%d/%Y %H:%M')"
		printf '%-8sCA0120261128\n' H0 H50
		echo "TOTAL RECORD 0000002"
	} >"$2"
}

login
check "with no hot list loaded the page is told so" lists_until '.known and .none'
svs 3 "$T/old.txt"
$C hotlist import --format svs --case 24-000001 --reason investigation "$T/old.txt" >>"$T/setup.log" 2>&1
check "a list 3 days old is stale past MaxListAgeHours=24" \
    lists_until '(.none | not) and (.stale | length) == 1 and .max_age_hours == 24'
check "... with its age in hours" lists_until '.stale[0].age_hours >= 71 and .stale[0].age_hours <= 73'
check "a manual entry is no list that ages" sh -c "$C hotlist add --plate R7 --category bolo \
    --case 24-000001 --reason investigation --days 3 >>'$T/setup.log' 2>&1"
check "... and the banner still names the stale list only" \
    lists_until '(.stale | length) == 1 and (.stale[0].source != "manual")'

if [ -x /usr/bin/chromium ] && command -v node >/dev/null &&
    [ -d "$BROWSER/node_modules/playwright-core" ]; then
	OUT=$top_builddir/tests/system/075-alert-lists.out
	rm -rf "$OUT"
	mkdir -p "$OUT"
	ALERT_URL="$U/" ALERT_OUT="$OUT" node -e '
const { launch } = require(process.argv[1] + "/launch");
(async () => {
  const { ctx, close } = await launch(process.env.ALERT_OUT, { width: 1280, height: 600 });
  let text = "";
  try {
    const p = await ctx.newPage();
    await p.goto(process.env.ALERT_URL);
    await p.fill("#login-user", "admin");
    await p.fill("#login-password", "admin password 1");
    await p.click("#login-button");
    await p.waitForSelector("#stale:not([hidden])", { timeout: 20000 });
    text = await p.textContent("#stale");
    await p.screenshot({ path: process.env.ALERT_OUT + "/stale-banner.png" });
  } finally { await close(); }
  console.log(text);
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$BROWSER" >"$T/banner.txt" 2>&1
	check "Chromium draws the banner with the list's age and the limit ($(cat "$T/banner.txt"))" \
	    grep -q "out of date: .* 7[123] h old (limit 24 h)" "$T/banner.txt"
else
	echo "# Chromium or playwright-core missing: the banner is checked in /api/state only"
fi

svs 0 "$T/new.txt"
$C hotlist import --format svs --case 24-000001 --reason investigation "$T/new.txt" >>"$T/setup.log" 2>&1
check "a fresh version of the list ends the banner" lists_until '(.none | not) and (.stale | length) == 0'
echo "1..$N"
[ $FAILED -eq 0 ]
