#!/bin/sh
# make security-report: `systemd-analyze security` exposure of every
# service of the suite, as installed (0 safest, 10 unsafe; target 2.0 or
# lower).  Offline: this machine need not run systemd.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/system/units-lib.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
units_root "$tmp/root" || { cat "$tmp/root.install.log"; exit 1; }
rc=0
printf '%-32s %8s  %s\n' unit exposure verdict
for f in $UNITS; do
	case $f in *.service) ;; *) continue ;; esac
	u=$(unit_instance "$f")
	line=$(systemd-analyze security --offline=yes --root="$tmp/root" "$u" 2>/dev/null |
		sed -n 's/^→ Overall exposure level for [^:]*: //p')
	set -- $line
	printf '%-32s %8s  %s\n' "$u" "${1:-?}" "${2:-?}"
	# 2.0 or lower is the target; awk compares the decimals.
	awk -v e="${1:-99}" 'BEGIN { exit !(e > 2.0) }' && rc=1
done
exit $rc
