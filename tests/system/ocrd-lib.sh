# Helpers for alpr-ocrd's scenarios (sourced after lib.sh): frame-peer plays
# alpr-captured and alpr-matchd, alpr-ocrd runs with two workers on the
# rendered plates 58294 and TR5823 (tests/data/plates).
MODELS=${ALPR_MODEL_DIR:-$top_srcdir/models}
[ -f "$MODELS/glyph-cnn.onnx" ] || skip_all "no recognizer models in $MODELS"
PEER=$(bin frame-peer)
OCRD=$(bin alpr-ocrd)
READS=$T/reads.txt
# The list names them by absolute path so the test runs from any build dir.
for p in 58294 tr5823; do
	grep "^$p.png" "$top_srcdir/tests/data/plates/plates.txt" |
		sed "s|^|$top_srcdir/tests/data/plates/|"
done > "$T/plates.txt"

# ocrd_start: the match-side receiver, then alpr-ocrd (pids: recv, ocrd).
ocrd_start() {
	write_conf <<EOC
[ocr]
Workers=2
ModelDirectory=$MODELS
TrackCloseFrames=6
TrackCloseMs=5000
# 070's hidden car comes back 1.8 s after its last frame: room for a slow
# machine (the same plate passes again 5 s later at the earliest)
TrackRejoinMs=3000
EOC
	start recv "$PEER" recv "$RUN/match.sock" "$READS"
	start ocrd "$OCRD" -d ${OCRD_VERBOSE:+-v} -f "$T/alpr.conf"
}
nreads() { [ -f "$READS" ] && wc -l < "$READS" || echo 0; }

# cars_pass N WORDS SECONDS: N cars pass, one after the other, 12 frames each
# at 5 frames/s; checks that they give N reads ("WORDS" names the number),
# exactly, each with its car's plate.
cars_pass() {
	"$PEER" cars "$RUN/ocr.sock" "$T/plates.txt" "$1" 12 14 5 > "$T/cars.txt" 2>> "$T/cars.log"
	check "$2 reads for $2 cars" wait_for "$3" sh -c "test \$(wc -l < '$READS') -ge $1"
	sleep 2
	diag "reads: $(cut -d' ' -f2,3,4 "$READS" | tr '\n' ';')"
	check "exactly $2 reads" test "$(nreads)" -eq "$1"
	check "each read has the car's plate" test "$(cut -d' ' -f2 "$READS" | tr '\n' ' ')" = \
		"$(cut -d' ' -f3 "$T/cars.txt" | tr '\n' ' ')"
}
