#!/bin/sh
# alpr-ocrd end to end, with real processes on real sockets: frame-peer
# plays alpr-captured (rendered plates on moving cars, and hostile frames)
# and alpr-matchd (commits each READ to a file before it acknowledges, and
# skips ids it has).  One car passing must give exactly one read with the
# right text; hostile frames are refused with the daemon up; a worker killed
# with SIGKILL is replaced; a receiver killed with SIGKILL mid-stream loses
# no read and gets none twice; a car hidden behind a van for longer than a
# track waits is still one read.
. "${top_srcdir:-.}/tests/system/lib.sh"
. "$top_srcdir/tests/system/ocrd-lib.sh"
plan 20

ocrd_start
check "alpr-ocrd listens on ocr.sock" wait_for 20 test -S "$RUN/ocr.sock"
workers() { pgrep -P "$pid_ocrd" | wc -l; }
check "two worker processes" wait_for 10 sh -c "test \$(pgrep -P $pid_ocrd | wc -l) -eq 2"

# Hostile frames first: each is refused alone, the connection and the daemon stay.
check "hostile frames refused, connection kept" "$PEER" bad "$RUN/ocr.sock"
check "daemon logged the refusal" loggrep ocrd "frame from .* refused"
check "daemon still up" alive ocrd

cars_pass 3 three 30
check "reads aggregate several frames and carry JPEG crop and context" \
	awk '$3 < 2 || $4 != "jpeg" || $7 != "fix" { exit 1 }' "$READS"
# READ's confidences are 0..1 (doc/protocol.md), the scale alpr-matchd
# accepts; the recognizer's own 0..100 must not leak onto the wire.
check "confidences on the wire are within 0..1, and not all tiny" \
	awk '$8 <= 0.01 || $8 > 1 || $9 > 1 { exit 1 }' "$READS"

# A worker killed with SIGKILL (as a hostile image might) is replaced.
victim=$(pgrep -P "$pid_ocrd" | head -n 1)
kill -KILL "$victim"
check "worker restart logged" wait_for 10 loggrep ocrd "killed by signal 9, restarting"
check "two workers again" wait_for 10 sh -c "test \$(pgrep -P $pid_ocrd | wc -l) -eq 2"

# The receiver is killed mid-stream and restarted: no read lost or doubled.
start cars "$PEER" cars "$RUN/ocr.sock" "$T/plates.txt" 4 12 14 5
wait_for 60 sh -c "test \$(wc -l < '$READS') -ge 4"
stop recv KILL
diag "receiver killed with $(nreads) reads committed"
sleep 4
start recv "$PEER" recv "$RUN/match.sock" "$READS"
check "capture side finished" wait_for 60 sh -c "! kill -0 $pid_cars"
check "seven reads for seven cars" wait_for 30 sh -c "test \$(wc -l < '$READS') -ge 7"
sleep 2
diag "reads: $(cut -d' ' -f2,3 "$READS" | tr '\n' ';')"
check "no read lost or duplicated: seven reads, seven distinct ids" test \
	"$(cut -d' ' -f1 "$READS" | sort -u | wc -l)" -eq 7 -a "$(nreads)" -eq 7
# This stage is about delivery; on a loaded machine few frames per car get
# read, so one misread, lost or extra character is let through here (stage
# one is exact).
close_to() { # close_to READ PLATE: at most one character edited (awk)
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (length(a) == length(b)) {
			for (i = 1; i <= length(a); i++) d += substr(a, i, 1) != substr(b, i, 1)
			exit d > 1
		}
		if (length(a) > length(b)) { t = a; a = b; b = t }
		if (length(b) != length(a) + 1) exit 1
		for (i = 1; i <= length(b); i++)
			if (substr(b, 1, i - 1) substr(b, i + 1) == a) exit 0
		exit 1 }'
}
last_four_ok() {
	set -- $(tail -n 4 "$READS" | cut -d' ' -f2)
	close_to "$1" 58294 && close_to "$2" TR5823 && close_to "$3" 58294 && close_to "$4" TR5823
}
check "the last four reads are the four cars' plates" last_four_ok

# A van hides the car in its frames 6-13 (1.6 s at 5 frames a second):
# longer than TrackCloseFrames (6), so its first track ends and sends its
# read; the car comes back with the same plate within TrackRejoinMs (3 s
# here) and its second track goes on as that read (an update), not a
# second read.
before=$(nreads)
FRAME_PEER_HIDE=6:8 "$PEER" cars "$RUN/ocr.sock" "$T/plates.txt" 1 20 14 5 > "$T/cars.txt" 2>> "$T/cars.log"
check "a car hidden for 8 frames: its read" wait_for 30 sh -c "test \$(wc -l < '$READS') -gt $before"
sleep 3
id=$(tail -n 1 "$READS" | cut -d' ' -f1)
tracks=$(grep "read id=$id " "$T/ocrd.log" | sed -n 's/.* track=\([0-9]*\).*/\1/p' | sort -u | wc -l)
diag "reads since: $(($(nreads) - before)); read $id: $tracks track(s), $(tail -n 1 "$READS" | cut -d' ' -f3) frames"
check "... from two tracks (the van ended the first)" test "$tracks" -eq 2
check "... is the only read of that car, with the frames of both sides" \
	test "$(nreads)" -eq $((before + 1)) -a "$(tail -n 1 "$READS" | cut -d' ' -f3)" -gt 6
check "daemon still up" alive ocrd
