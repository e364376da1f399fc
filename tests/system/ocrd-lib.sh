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
EOC
	start recv "$PEER" recv "$RUN/match.sock" "$READS"
	start ocrd "$OCRD" -d ${OCRD_VERBOSE:+-v} -f "$T/alpr.conf"
}
nreads() { [ -f "$READS" ] && wc -l < "$READS" || echo 0; }
