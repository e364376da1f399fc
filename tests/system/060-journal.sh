#!/bin/sh
# Under systemd (JOURNAL_STREAM names the daemon's stderr) each log line is
# a journal entry with our structured fields.  journald is not running
# here, so a private mount namespace puts a listening socket of this test
# at /run/systemd/journal/socket, where sd_journal_send() writes.
. "${top_srcdir:-.}/tests/system/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root for a private mount namespace"
command -v unshare > /dev/null && command -v python3 > /dev/null || skip_all "needs unshare and python3"
unshare -m true 2>/dev/null || skip_all "unshare -m is not permitted here"
plan 6

write_conf <<EOF2
[camera.front]
Source=images
Path=$T
EOF2
J=$T/journal.out
mkdir -p /run/systemd/journal
cat > "$T/inner.sh" <<EOF2
mount -t tmpfs tmpfs /run/systemd/journal || exit 1
python3 "$top_srcdir/tests/tools/journal-listen.py" /run/systemd/journal/socket "$J" 120 &
l=\$!
for i in \$(seq 400); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
: > "$T/stderr"
JOURNAL_STREAM=\$(stat -c %d:%i "$T/stderr") $(bin alpr-captured) -f "$T/alpr.conf" -c front 2>> "$T/stderr" &
p=\$!
# Stop once the start is in the journal (slow machines take a while).
for i in \$(seq 400); do grep -q "^MESSAGE=started" "$J" 2>/dev/null && break; sleep 0.05; done
kill -TERM \$p
wait \$p
for i in \$(seq 100); do grep -q "^MESSAGE=stopped" "$J" 2>/dev/null && break; sleep 0.05; done
kill \$l
wait
EOF2
unshare -m sh "$T/inner.sh" > "$T/inner.log" 2>&1
check "journal entries were written" grep -q "^MESSAGE=" "$J"
check "entries carry ALPR_DAEMON" grep -q "^ALPR_DAEMON=alpr-captured" "$J"
check "entries carry the camera" grep -q "^ALPR_CAMERA=front" "$J"
check "entries carry a syslog priority" grep -q "^PRIORITY=6" "$J"
check "the stop is logged" grep -q "^MESSAGE=stopped" "$J"
check "nothing went to stderr while the journal took it" test ! -s "$T/stderr"
