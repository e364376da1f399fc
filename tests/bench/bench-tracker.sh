#!/bin/sh
# How many frames a plate needs (issue 9, "no plate missed"): the sample
# drive's frames are recognized once (alpr-recognize --json -n 20, the
# candidates alpr-ocrd's workers give; cached next to the drive), then
# alpr-ocrd's own tracker (tests/bench/ocr-track-replay) is replayed over
# them as if 30, 15, 10, 7.5, 6 or 5 frames a second of the 30 fps camera
# were recognized (every STEP-th frame, each phase), with the early-read
# rules of BENCH_EARLY ("20/3 20/0 0/0": EarlyReadConfidence / the number
# of frames agreeing on the top-1 text, OCR_EARLY_AGREE; 0/0 reads only
# at the close).  For
# each, against truth.json: of the vehicle passes in view >= 0.5 s, how
# many gave a read with the right text (top-1; O and 0 as one) or the
# right text among its candidates, the reads that match no vehicle, and
# how long after the plate came into view the right read went (p50/max ms,
# on the frame that made it due).  No timing of the machine enters these
# figures: they say what a frame rate buys, and the recognizer's limits
# (first, per vehicle: frames in view, detected, top-1 right, right text
# among the candidates).  "early": reads sent before their track closed,
# per run, the share of them whose text a later update changed, and the
# updates sent before the close because the frames came to agree on
# another text (tracker_changed).  "reads": the reads stored per run
# (their ids; a pass whose track split is read twice, and such passes are
# named "read twice").  BENCH_CLOSE is
# TrackCloseFrames (3, the default), BENCH_REJOIN TrackRejoinMs (2000, the
# default; 0 leaves a pass split by an occlusion as two reads).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DRIVE=${DRIVE:-$top_builddir/build/drive}
REPLAY=$top_builddir/tests/bench/ocr-track-replay
PY=/usr/bin/python3
if [ ! -f "$DRIVE/truth.json" ] || [ ! -x "$REPLAY" ] || [ ! -f "$top_srcdir/models/glyph-cnn.onnx" ]; then
	echo "bench-tracker: no sample drive, models or $REPLAY: skipped"
	exit 0
fi
RES=${BENCH_RESULTS:-$DRIVE/recognized.jsonl}
# Recognized again when the recognizer or a model is newer than the cache.
stale=0
for f in "$top_builddir/alpr-recognize" "$top_builddir/.libs/alpr-recognize" \
	"$top_srcdir"/models/*; do
	[ -e "$f" ] && [ "$RES" -ot "$f" ] && stale=1
done
if [ ! -s "$RES" ] || [ "$stale" = 1 ]; then
	echo "== recognizing the drive's $(ls "$DRIVE/frames" | wc -l) frames once (-> $RES)"
	"$top_builddir/alpr-recognize" --json -n 20 --threads 1 --models "$top_srcdir/models" \
		"$DRIVE"/frames/*.jpg > "$RES.tmp" && mv "$RES.tmp" "$RES" || exit 1
fi
PYTHONPATH=$top_srcdir/tests/bench $PY - "$REPLAY" "$RES" "$DRIVE/truth.json" \
	"${BENCH_EARLY:-20/3 20/0 0/0}" "${BENCH_CLOSE:-3}" "${BENCH_REJOIN:-2000}" <<'PY'
import json, subprocess, sys
from drive_truth import tie
replay, res, truth = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
close, rejoin = sys.argv[5], sys.argv[6]
fps, nf = truth['fps'], truth['frames']
fold = lambda s: s.upper().replace('O', '0')
veh = [v for v in truth['vehicles'] if v['frames_in_view'] >= (fps + 1) // 2]
plates = set(fold(v['plate']) for v in truth['vehicles'])
# Per vehicle, per frame in view: detected (a box tied to the true one,
# drive_truth.tie), its top-1 right, the right text among its candidates.
rec = [json.loads(l) for l in open(res)]
print('== per frame in view (the recognizer alone): vehicle: frames, detected, top-1 right,'
      ' right among the candidates')
line = []
for v in truth['vehicles']:
	n = det = top1 = cand = 0
	p = fold(v['plate'])
	for ft in truth['frame_truth']:
		if ft['frame'] >= len(rec):
			continue
		ties, _ = tie(rec[ft['frame']]['plates'], ft['plates'])
		for i, tp in enumerate(ft['plates']):
			if tp['vehicle'] != v['vehicle']:
				continue
			n += 1
			if i in ties:
				det += 1
				top1 += fold(ties[i]['plate']) == p
				cand += p in set(fold(c['plate']) for c in ties[i]['candidates'])
	line.append('v%d%s %d/%d/%d/%d' % (v['vehicle'], ' (night)' if v['night'] else '', n, det, top1, cand))
for i in range(0, len(line), 4):
	print('  ' + ', '.join(line[i:i + 4]))
print('== %d vehicle passes in view >= 0.5 s; TrackMinFrames=2, TrackCloseFrames=%s, TrackRejoinMs=%s' % (len(veh), close, rejoin))
print('%-22s %-9s %-13s %-13s %-11s %-10s %-17s %s' % ('recognized', 'early', 'read top-1', 'in cands',
	'false reads', 'reads', 'early (changed, upd)', 'in view -> right read p50/max ms'))
def vehicles(what, counts, step):
	"""'; WHAT v3, v5 (1 of 2)': the vehicles counted, in how many of the phases."""
	return '; %s v' % what + ', v'.join('%d%s' % (k, '' if c == step else ' (%d of %d)' % (c, step))
					for k, c in sorted(counts.items())) if counts else ''
for early in sys.argv[4].split():
	for step in (1, 2, 3, 4, 5, 6):
		conf, agree = early.split('/')
		n = top1 = cand = false = n_early = early_wrong = n_changed = n_reads = 0
		delays, missed, split = [], {}, {}
		for phase in range(step):
			out = subprocess.run([replay, str(step), str(phase), '1', conf, '2', close, agree, rejoin],
					     stdin=open(res), capture_output=True, text=True).stdout
			reads = [json.loads(l) for l in out.splitlines()]
			final, first = {}, {}
			for r in reads:
				final[r['id']] = r['plate']
				if r['id'] in first and r['early']:
					n_changed += 1	# an update before the close
				first.setdefault(r['id'], r)
			for r in first.values():
				if r['early']:
					n_early += 1
					early_wrong += final[r['id']] != r['plate']
			last = {}
			for r in reads:
				last[r['id']] = r	# what is stored: the read's last update
			n_reads += len(last)	# a pass whose track split is read twice
			for r in last.values():
				if not ({fold(r['plate'])} | set(fold(c) for c in r['cands'])) & plates:
					false += 1
			for v in veh:
				n += 1
				mine = [r for r in reads if r['last'] >= v['first_frame'] and
					r['first'] <= v['last_frame']]
				p = fold(v['plate'])
				ok = [r for r in mine if fold(r['plate']) == p]
				if ok:
					top1 += 1
					delays.append((min(r['at'] for r in ok) - v['first_frame']) * 1000.0 / fps)
				else:
					missed[v['vehicle']] = missed.get(v['vehicle'], 0) + 1
				if ok or any(p in set(fold(c) for c in r['cands']) for r in mine):
					cand += 1
				# one pass, one read: more stored reads of its text split it
				if len(set(r['id'] for r in last.values() if r in mine and
					   fold(r['plate']) == p)) > 1:
					split[v['vehicle']] = split.get(v['vehicle'], 0) + 1
		delays.sort()
		print('%-22s %-9s %-13s %-13s %-11s %-10s %-17s %s%s%s' % (
			'%.1f fps (1 in %d)' % (fps / step, step), early, '%d/%d' % (top1, n),
			'%d/%d' % (cand, n), '%.1f/run' % (false / step), '%.1f/run' % (n_reads / step),
			'%.1f (%d%%, %.1f)' % (n_early / step, 100 * early_wrong / max(n_early, 1),
					       n_changed / step),
			'%.0f/%.0f' % (delays[len(delays) // 2], delays[-1]) if delays else '-',
			vehicles('missed', missed, step), vehicles('read twice', split, step)))
PY
