#!/bin/sh
# The systemd units, sysusers and tmpfiles files as `make install` puts
# them: systemd-analyze verify finds nothing (warnings such as "Unknown
# key" included), every service carries the sandbox of STYLE.md with each
# deviation commented, the socket names are the ones the daemons ask for,
# every daemon user can reach the sockets it uses, the directories get the
# modes R13 requires, and no service's exposure is above 2.0.
# Needs systemd-analyze (the systemd package), not systemd as PID 1.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/system/units-lib.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..0 # SKIP systemd-analyze not installed (Debian package systemd)"
	exit 0
fi

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
check() { _what=$1; shift; if "$@"; then ok "$_what"; else not_ok "$_what"; fi; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

if ! units_root "$root"; then
	sed 's/^/# /' "$root.install.log"
	echo "not ok 1 - make install DESTDIR="
	echo "1..1"
	exit 1
fi
ok "make install DESTDIR= installs $(echo $UNITS | wc -w) units"

# The files the package promises.
for f in alpr.target alpr-captured@.service alpr-captured@.socket alpr-ocrd.service alpr-ocrd.socket \
    alpr-matchd.service alpr-matchd.socket alpr-matchd-control.socket \
    alpr-alertd.service alpr-alertd.socket alpr-purge.service alpr-purge.timer; do
	check "$f installed" test -f "$UNITDIR/$f"
done
check "sysusers file installed" test -f "$SYSUSERS"
check "tmpfiles file installed" test -f "$TMPFILES"

# 1. systemd-analyze verify, each unit alone: rc 0 and nothing on stderr
# (an unknown key is only a warning with rc 0, so stderr is what counts).
for f in $UNITS; do
	u=$(unit_instance "$f")
	if systemd-analyze verify --man=no --root="$root" "$u" >"$tmp/out" 2>"$tmp/err" &&
	    ! [ -s "$tmp/err" ]; then
		ok "systemd-analyze verify $u"
	else
		sed 's/^/# /' "$tmp/err"
		not_ok "systemd-analyze verify $u"
	fi
done

# 2. Every service has the sandbox of STYLE.md "Hardening".  A key whose
# value differs from the house value, or that is missing, needs a comment
# saying "Deviation" in the paragraph above it.
style='Type=notify NotifyAccess=main WatchdogSec= Restart=on-failure
RestartPreventExitStatus=78 User= UMask=0077 NoNewPrivileges=yes CapabilityBoundingSet=
ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes
ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes
ProtectClock=yes ProtectHostname=yes ProtectProc=invisible RestrictNamespaces=yes
RestrictRealtime=yes RestrictSUIDSGID=yes LockPersonality=yes MemoryDenyWriteExecute=yes
SystemCallArchitectures=native SystemCallFilter=@system-service SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_UNIX PrivateNetwork=yes IPAddressDeny=any ExecReload='
for f in $UNITS; do
	case $f in *.service) ;; *) continue ;; esac
	bad=
	for kv in $style; do
		key=${kv%%=*}
		# The key's lines, and whether the comment block above says Deviation.
		res=$(awk -v key="$key" -v want="$kv" '
			/^#/ { if ($0 ~ /Deviation/) dev = 1; next }
			/^$/ { dev = 0; next }
			index($0, key "=") == 1 {
				found = 1
				if (want ~ /=$/ ? 1 : $0 == want) good = 1
				else if (dev) good = 1
			}
			END {
				if (good) print "ok"
				else if (found) print "undocumented"
				else print "missing"
			}' "$UNITDIR/$f")
		if [ "$res" != ok ]; then
			# A missing key may be named in a Deviation comment block.
			if [ "$res" = missing ] && awk -v key="$key" '
				/^#/ { blk = blk " " $0; next }
				{ if (blk ~ /Deviation/ && index(blk, key "=")) f = 1; blk = "" }
				END { exit !f }' "$UNITDIR/$f"; then
				continue
			fi
			bad="$bad $kv($res)"
		fi
	done
	if [ -z "$bad" ]; then
		ok "$f: STYLE.md sandbox, deviations commented"
	else
		not_ok "$f: STYLE.md sandbox:$bad"
	fi
done

# 3. Every name a daemon passes to daemon_listen() is a socket unit's
# FileDescriptorName=, and that unit activates the daemon's service.
names=$(cd "$top_srcdir" && grep -ho 'daemon_listen(d, "[^"]*")' daemons/*/*.c 2>/dev/null |
	sed 's/.*"\(.*\)".*/\1/' | sort -u)
for name in $names; do
	unit=$(grep -l "^FileDescriptorName=$name\$" "$UNITDIR"/alpr*.socket 2>/dev/null | head -n 1)
	if [ -z "$unit" ]; then
		not_ok "daemon_listen(\"$name\"): no socket unit has FileDescriptorName=$name"
		continue
	fi
	dir=$(grep -l "daemon_listen(d, \"$name\")" "$top_srcdir"/daemons/*/*.c | head -n 1)
	prog=$(grep -ho '\.name = "alpr-[a-z]*"' "$(dirname "$dir")"/*.c | head -n 1 | sed 's/.*"\(.*\)"/\1/')
	check "$name: $(basename "$unit") serves it to $prog" \
		grep -q "^Service=$prog.service\$" "$unit"
	check "$name: SocketMode=0660, listening as SOCK_SEQPACKET" \
		sh -c "grep -q '^SocketMode=0660\$' '$unit' && grep -q '^ListenSequentialPacket=.*/$name\$' '$unit'"
done
# alpr-captured's inspection socket is named after its camera
# (inspect.c: capture-NAME.sock): the template socket of its template unit.
unit=$UNITDIR/alpr-captured@.socket
check "capture-NAME.sock: alpr-captured@.socket serves it to alpr-captured@NAME" \
	sh -c "grep -q '\"capture-%s.sock\"' '$top_srcdir/daemons/capture/inspect.c' &&
	    grep -q '^FileDescriptorName=capture-%i.sock\$' '$unit' &&
	    grep -q '^ListenSequentialPacket=.*/capture-%i.sock\$' '$unit' &&
	    grep -q '^SocketMode=0660\$' '$unit' &&
	    grep -q '^Sockets=alpr-captured@%i.socket\$' '$UNITDIR/alpr-captured@.service'"

# 4. Users and groups: each daemon user exists, each socket group exists,
# and the daemon that connects to a socket is in its group (the design's
# data flow: capture -> ocr.sock, ocr -> match.sock, alert -> control.sock,
# match -> alert.sock).  systemd-sysusers and systemd-tmpfiles apply the
# files to the temporary root (as root only: they chown).
if [ "$(id -u)" -ne 0 ]; then
	echo "# not root: sysusers and tmpfiles are not applied to the temporary root"
else
	mkdir -p "$root/etc"
	if systemd-sysusers --root="$root" "$SYSUSERS" 2>"$tmp/err"; then
		ok "systemd-sysusers applies patrol-alpr.conf"
	else
		sed 's/^/# /' "$tmp/err"
		not_ok "systemd-sysusers applies patrol-alpr.conf"
	fi
	in_group() { awk -F: -v g="$2" -v u="$1" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) f = 1 } END { exit !f }' "$root/etc/group"; }
	for u in $(sed -n 's/^User=//p' "$UNITDIR"/alpr*.service | sort -u); do
		check "user $u exists, with a nologin shell" \
			sh -c "grep -q '^$u:.*:/usr/sbin/nologin\$' '$root/etc/passwd'"
	done
	for pair in ocr.sock:alpr-captured match.sock:alpr-ocrd control.sock:alpr-alertd \
	    alert.sock:alpr-matchd; do
		sock=${pair%%:*}
		client=${pair#*:}
		unit=$(grep -l "/$sock\$" "$UNITDIR"/alpr*.socket | head -n 1)
		group=$(sed -n 's/^SocketGroup=//p' "$unit")
		what="$client may reach $sock (groups alpr and $group)"
		if [ -n "$group" ] && in_group "$client" "$group" && in_group "$client" alpr; then
			ok "$what"
		else
			not_ok "$what"
		fi
	done
	# No other daemon may connect: only the intended client is a member.
	for g in alpr-ocr alpr-match alpr-alert; do
		members=$(awk -F: -v g="$g" '$1 == g { print $4 }' "$root/etc/group")
		check "group $g has exactly one member ($members)" \
			sh -c "case '$members' in *,*|'') exit 1 ;; esac"
	done
	if systemd-tmpfiles --root="$root" --create "$TMPFILES" 2>"$tmp/err"; then
		ok "systemd-tmpfiles creates the directories"
	else
		sed 's/^/# /' "$tmp/err"
		not_ok "systemd-tmpfiles creates the directories"
	fi
	rundir=$(awk '$1 == "d" && $5 == "alpr" { print $2 }' "$TMPFILES")
	statedir=$(awk '$1 == "d" && $4 == "alpr-matchd" { print $2 }' "$TMPFILES")
	check "runtime dir $rundir: 0710, group alpr, nothing for others" \
		sh -c "[ \"\$(stat -c %a '$root$rundir')\" = 710 ] &&
		    [ \"\$(stat -c %g '$root$rundir')\" = \"\$(awk -F: '\$1 == \"alpr\" { print \$3 }' '$root/etc/group')\" ]"
	check "state dir $statedir: 0700, owner alpr-matchd (R13)" \
		sh -c "[ \"\$(stat -c %a '$root$statedir')\" = 700 ] &&
		    [ \"\$(stat -c %u '$root$statedir')\" = \"\$(awk -F: '\$1 == \"alpr-matchd\" { print \$3 }' '$root/etc/passwd')\" ]"
fi

# 5. systemd-analyze security: every service at 2.0 or lower.
for f in $UNITS; do
	case $f in *.service) ;; *) continue ;; esac
	u=$(unit_instance "$f")
	e=$(systemd-analyze security --offline=yes --root="$root" "$u" 2>/dev/null |
		sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	check "$u: exposure ${e:-?} is 2.0 or lower" awk -v e="${e:-99}" 'BEGIN { exit !(e <= 2.0) }'
done

echo "1..$n"
exit $fail
