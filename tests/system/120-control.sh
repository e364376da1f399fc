#!/bin/sh
# The control socket end to end: a real alpr-matchd on a real Unix socket
# with a real SQLite file, driven by alprctl.  Set-up runs offline as root
# (the only way in before the first administrator exists); then every
# rule is tried through the daemon: forged and missing sessions, wrong
# passwords, missing training, missing case number, prohibited purposes,
# disposition before CLETS, an out-of-state recipient, tampered exports.
set -u
b=${top_builddir:-.}
ctl=$b/alprctl
matchd=$b/alpr-matchd
tool=$b/tests/tools/store-tool
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP alprctl --offline set-up needs root"
	exit 0
fi
d=$(mktemp -d /tmp/control.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -m 0700 "$d/run" "$d/state" "$d/xdg"
cat >"$d/alpr.conf" <<CONF
[general]
RuntimeDirectory=$d/run
StateDirectory=$d/state
AgencyORI=CA0070000
CONF
export XDG_RUNTIME_DIR="$d/xdg"
n=0
fails=0
check() {	# check EXPECTED-EXIT "what" command...
	want=$1; what=$2; shift 2
	"$@" >"$d/out" 2>"$d/err"
	got=$?
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what (exit $got, wanted $want)"
		sed 's/^/# /' "$d/out" "$d/err"
		fails=$((fails + 1))
	fi
}
grep_out() {	# grep_out PATTERN "what": in the last command's output
	n=$((n + 1))
	if grep -q -- "$1" "$d/out" "$d/err"; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		sed 's/^/# /' "$d/out" "$d/err"
	fi
}
C="$ctl -f $d/alpr.conf"

ALPR_PASSWORD="admin password 1" check 0 "offline: root adds the first administrator" \
	$C --offline user add admin --role administrator
"$tool" seed "$d/state/alpr.db" || echo "# seed failed"
stat -c %a "$d/state/alpr.db" | grep -qx 600 && echo "ok 2 - database is 0600" ||
	echo "not ok 2 - database is 0600"
n=2
"$matchd" -d -f "$d/alpr.conf" 2>"$d/matchd.log" &
pid=$!
i=0
while [ ! -S "$d/run/control.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check 0 "status answers over control.sock" $C status
grep_out "reads: 305" "status counts the seeded reads"

# No session, a forged one.
check 1 "query without a session is refused" $C query --plate 7ABC123 -c 24-000001 -r investigation
grep_out "log in first" "the refusal says to log in"
printf '%064d' 7 >"$d/xdg/alprctl/session" 2>/dev/null || { mkdir -p "$d/xdg/alprctl"; printf '%064d' 7 >"$d/xdg/alprctl/session"; }
check 1 "query with a forged session is refused" $C query --plate 7ABC123 -c 24-000001 -r investigation
grep_out "no valid session" "forged session named"

# Logins.
ALPR_PASSWORD="wrong password" check 1 "wrong password refused" $C login admin
ALPR_PASSWORD="admin password 1" check 0 "administrator logs in" $C login admin
check 0 "session file is 0600" sh -c "stat -c %a $d/xdg/alprctl/session | grep -qx 600"
ALPR_PASSWORD="deputy password 1" check 1 "an untrained administrator cannot add users" $C user add deputy --role sworn
grep_out "training ack" "the refusal says what to do"
check 0 "training acknowledged" $C training ack
ALPR_PASSWORD="deputy password 1" check 0 "administrator adds a deputy" $C user add deputy --role sworn
ALPR_PASSWORD="analyst password" check 0 "administrator adds an analyst" $C user add analyst --role analyst
check 1 "the administrator may not query reads" $C query --plate 7ABC123 -c 24-000001 -r investigation
ALPR_PASSWORD="deputy password 1" check 0 "deputy logs in" $C login deputy
check 1 "untrained deputy refused" $C query --plate 7ABC123 -c 24-000001 -r investigation
check 0 "deputy acknowledges training" $C training ack

# The gate.
check 1 "no case number refused" $C query --plate 7ABC123 -r investigation
check 1 "prohibited purpose refused" $C query --plate 7ABC123 -c 24-000001 -r immigration
check 1 "disguised prohibited purpose refused" $C query --plate 7ABC123 -c 24-000001 -r investigation -n "for I.C.E. removal"
grep_out "prohibited" "the refusal names the prohibition"
check 0 "a proper query" $C --json query --plate 7ABC123 -c 24-000001 -r investigation
grep_out '"plate":"7ABC123"' "the read comes back"
check 0 "a canvass" $C --json query --lat 37.978 --lon -122.031 --radius 500 \
	--from "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M)" --until "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M)" \
	-c 24-000002 -r canvass
grep_out '"count":1' "the canvass finds only the read within 500 m"

check 0 "a query answered in several messages" sh -c "$C --json query --pattern 'QQ*' -c 24-000001 -r investigation >$d/q.json"
check 0 "all 300 rows arrived" sh -c "grep -o '\"QQ0[0-9]*\"' $d/q.json | sort -u | wc -l | grep -qx 300"

# Hit workflow.
check 1 "disposition before CLETS refused" $C hit transition 1 DISPOSED --disposition arrest -c 24-000003
check 0 "visual confirmation" $C hit transition 1 VISUALLY_CONFIRMED
check 0 "CLETS confirmation" $C hit transition 1 CLETS_CONFIRMED
check 0 "disposition with a case number" $C hit transition 1 DISPOSED --disposition vehicle-recovered -c 24-000003
check 0 "hit export" $C hit export 1 --to "$d/hit1" -c 24-000003 -r evidence
check 0 "hit export verifies" $C evidence verify "$d/hit1"
check 0 "the crop image came along" test -s "$d/hit1/images/0000000000000000000000000000abc0-crop.jpg"
echo tampered >>"$d/hit1/hit.json"
check 5 "a tampered export fails verification" $C evidence verify "$d/hit1"

# Holds, evidence, sharing.
ALPR_PASSWORD="analyst password" check 0 "analyst logs in" $C login analyst
check 0 "analyst acknowledges training" $C training ack
check 0 "hold created" $C hold create --kind evidence --justification "burglary series, partial plate" \
	--review "$(date -u -d '+30 days' +%Y-%m-%d)" -c 24-000004 -r evidence 0000000000000000000000000000abc1
check 1 "share to an out-of-state agency refused" $C share --to-agency NV0020000 --hold 1 --to "$d/share-nv" -c 24-000004 -r investigation
check 0 "share to a California agency" $C share --to-agency CA0010000 --hold 1 --to "$d/share-ca" -c 24-000004 -r investigation
check 0 "evidence export with a manifest" $C evidence export --hold 1 --to "$d/ev" -c 24-000004 -r evidence

# The purge through matchd: started in the daemon's event loop, which keeps
# answering; the two expired reads go.
ALPR_PASSWORD="admin password 1" check 0 "administrator logs in again" $C login admin
check 0 "purge through matchd" $C purge
grep_out "started" "the purge runs in the daemon"
i=0
while ! $C status 2>/dev/null | grep -q "reads: 303" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
check 0 "matchd answers and the expired reads are gone" sh -c "$C status | grep -q 'reads: 303'"

# Audit: offline as root (the same code, logged the same way), with no
# user's session cached.
mkdir -m 0700 "$d/xdg-root"
export XDG_RUNTIME_DIR="$d/xdg-root"
check 0 "offline audit verify: chain intact" $C --offline audit verify
grep_out "intact: yes" "verify reports intact"
check 0 "audit memorandum" $C --offline audit report --year "$(date -u +%Y)" --to "$d/audit"
check 0 "memorandum in Markdown and HTML" test -s "$d/audit/audit-$(date -u +%Y).md" -a -s "$d/audit/audit-$(date -u +%Y).html"
check 0 "the memorandum counts the prohibited attempts" grep -q "2 of them for a prohibited purpose" "$d/audit/audit-$(date -u +%Y).md"
check 0 "plates never reach matchd's log" sh -c "! grep -q 7ABC123 $d/matchd.log"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
check 0 "offline query needs a session too (root sees no data)" sh -c "$C --offline query --plate 7ABC123 -c 24-1 -r investigation; test \$? = 1"
echo "1..$n"
echo "# matchd log:"; sed 's/^/#   /' "$d/matchd.log" | tail -5
[ $fails -eq 0 ]
