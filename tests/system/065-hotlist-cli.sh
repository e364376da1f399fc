#!/bin/sh
# alprctl hotlist check/add front ends: a good CA DOJ file, a malformed one
# refused with its file:line:column, --skip-bad listing every skipped line,
# and manual entries refused for immigration or an expiry past the maximum.
# (import/status need alpr-matchd's control socket: their scenario comes
# with the storage.)
top_builddir=${top_builddir:-.}
ctl="$top_builddir/alprctl --runtime-dir /nonexistent"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hotlist-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
echo "1..9"

{
	echo "DATE11/28/2026 23:05"
	i=1
	while [ $i -le 2000 ]; do
		printf '%-8s%s%02d20261128\n' "$(printf 'K%05dX' $i)" CA $((i % 58 + 1))
		i=$((i + 1))
	done
	echo "TOTAL RECORD 0002000"
} > "$tmp/svs.txt"
out=$($ctl hotlist check --format svs "$tmp/svs.txt" 2>&1); rc=$?
check "a good SVS file checks" '[ $rc -eq 0 ] && echo "$out" | grep -q "^entries   2000$"'
sum=$(sha256sum "$tmp/svs.txt" | cut -c1-64)
check "its SHA-256 is the file's" 'echo "$out" | grep -q "^sha256    $sum$"'

sed '1001s/CA/ZZ/; 1500s/^K/k/' "$tmp/svs.txt" > "$tmp/bad.txt"
out=$($ctl hotlist check --format svs "$tmp/bad.txt" 2>&1); rc=$?
check "a bad record refuses the file (exit 65)" '[ $rc -eq 65 ]'
check "the error names file:line:column" \
	'echo "$out" | grep -q "bad.txt:1001:9: state: \"ZZ\" is not a state code"'
out=$($ctl hotlist check --skip-bad --format svs "$tmp/bad.txt" 2>&1); rc=$?
check "--skip-bad imports the rest" '[ $rc -eq 0 ] && echo "$out" | grep -q "^entries   1998$"'
check "--skip-bad lists every skipped line" \
	'[ $(echo "$out" | grep -c ", skipped$") -eq 2 ] && echo "$out" | grep -q "bad.txt:1500:1: plate"'

out=$($ctl hotlist add --plate 7ABC123 --category "ICE detainer" --case 1 --reason r --days 3 2>&1); rc=$?
check "a manual immigration entry is refused (R4)" '[ $rc -eq 4 ] && echo "$out" | grep -q IV.C.4'
out=$($ctl hotlist add --plate 7ABC123 --category bolo --case 1 --reason r --days 31 2>&1); rc=$?
check "a manual entry past ManualEntryMaxDays is refused" '[ $rc -eq 2 ]'
out=$($ctl hotlist add --plate 7ABC123 --category bolo --days 3 2>&1); rc=$?
check "a manual entry needs a case number and a reason" '[ $rc -eq 2 ] && echo "$out" | grep -q IV.F.3'
