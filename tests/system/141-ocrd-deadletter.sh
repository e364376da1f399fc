#!/bin/sh
# A READ that alpr-matchd refuses does not block alpr-ocrd's reads: frame-peer
# plays matchd and refuses every read of one plate (TR5823); ocrd tries it
# three times in all, then moves it to reads.dead in its spool directory
# (kept on disk, counted in its status), and the reads of the other cars
# (58294) go on arriving.  (A track's update of the refused read, same id,
# is refused and dead-lettered the same way.)
. "${top_srcdir:-.}/tests/system/lib.sh"
. "$top_srcdir/tests/system/ocrd-lib.sh"
plan 7

FRAME_PEER_REFUSE=TR5823
OCRD_VERBOSE=1	# the status line is logged at debug level
export FRAME_PEER_REFUSE OCRD_VERBOSE
ocrd_start
check "alpr-ocrd listens on ocr.sock" wait_for 20 test -S "$RUN/ocr.sock"
# cars 1 and 3 show 58294, car 2 TR5823 (ocrd-lib.sh's plates.txt)
"$PEER" cars "$RUN/ocr.sock" "$T/plates.txt" 3 24 14 5 > "$T/cars.txt" 2>> "$T/cars.log"
refusals() { [ -f "$READS.refused" ] && wc -l < "$READS.refused" || echo 0; }
check "the refused read was tried three times in all" wait_for 60 sh -c \
	"[ \$(wc -l < '$READS.refused' 2>/dev/null || echo 0) -ge 3 ]"
check "then dead-lettered in reads.dead" wait_for 30 loggrep ocrd "refused by alpr-matchd 3 times .*kept in reads.dead"
check "reads.dead holds it, 0600" sh -c "test -s '$T/state-ocrd/reads.dead' &&
	[ \$(stat -c %a '$T/state-ocrd/reads.dead') = 600 ]"
check "the other cars' reads arrive: two reads of 58294" wait_for 60 sh -c \
	"[ \$(grep -c ' 58294 ' '$READS' 2>/dev/null) -ge 2 ]"
# The track's update (same id, more frames) is refused and dead-lettered too.
check "never more than three tries a READ: refusals = 3 x dead letters" \
	test "$(refusals)" -eq $((3 * $(grep -c 'kept in reads.dead' "$T/ocrd.log")))
check "the status counts it" wait_for 10 loggrep ocrd "status: .*, 1 dead-lettered)"
