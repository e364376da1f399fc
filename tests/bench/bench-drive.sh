#!/bin/sh
# Per-vehicle accuracy on the sample drive (issue 4): every frame of
# build/drive through alpr-recognize (one process, one core), detections
# tied to the ground-truth plate of their frame by box overlap (IoU > 0.3),
# candidates summed over each vehicle's pass, the pass's best text against
# the truth.  Prints frame-level top-1, detection rate, per-vehicle
# accuracy (day and night), false detections and ms per frame.
#
# The association to passes is by the ground truth here, not by alpr-ocrd's
# tracker: it measures the reader, not the "one read per pass" of the
# tracker (tests/bench/bench-tracker.sh replays the tracker over the same
# frames, tests/bench/bench-pipeline.sh checks the stored reads).  How a
# detection is tied to a true plate: tests/bench/drive_truth.py, shared
# with bench-tracker.sh.
#
# DRIVE_STRIDE=N uses every Nth frame (default 1).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DRIVE=${DRIVE:-$top_builddir/build/drive}
PY=/usr/bin/python3
echo "== sample drive, per vehicle ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ ! -f "$DRIVE/truth.json" ]; then
	echo "bench-drive: no sample drive in $DRIVE (make generates it; needs python3-opencv): skipped"
	exit 0
fi
REC=$top_builddir/alpr-recognize
if [ ! -x "$REC" ]; then
	echo "bench-drive: alpr-recognize is not built in this tree (branch recognize): skipped"
	exit 0
fi
MODELS=""
[ -d "$top_srcdir/models" ] && MODELS="--models $top_srcdir/models"
T=$(mktemp -d "${TMPDIR:-/tmp}/alpr-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
stride=${DRIVE_STRIDE:-1}
ls "$DRIVE/frames" | awk -v s="$stride" '(NR - 1) % s == 0' | sed "s|^|$DRIVE/frames/|" > "$T/files"
echo "frames: $(wc -l < "$T/files") of $(ls "$DRIVE/frames" | wc -l) (stride $stride)"
# shellcheck disable=SC2046,SC2086
if ! taskset -c 0 "$REC" $MODELS --json -n 10 $(cat "$T/files") > "$T/out.json" 2> "$T/err"; then
	echo "bench-drive: alpr-recognize failed: $(tail -1 "$T/err")"
	exit 1
fi
PYTHONPATH=$top_srcdir/tests/bench $PY - "$DRIVE/truth.json" "$T/out.json" <<'PY'
import json, os, sys
from drive_truth import tie
truth = json.load(open(sys.argv[1]))
byfile = {f['file']: f for f in truth['frame_truth']}

n_gt = n_found = n_top1 = n_false = n_frames = 0
ms = []
votes = {}
for line in open(sys.argv[2]):
	r = json.loads(line)
	f = byfile.get(os.path.basename(r['file']))
	if f is None:
		continue
	n_frames += 1
	ms.append(r.get('processing_time_ms', 0))
	ties, false = tie(r.get('plates', []), f['plates'])
	n_false += len(false)
	for bi, p in ties.items():
		g = f['plates'][bi]
		n_found += 1
		n_top1 += p['plate'] == g['plate']
		v = votes.setdefault(g['vehicle'], {})
		for c in p.get('candidates') or [{'plate': p['plate'], 'confidence': p['confidence']}]:
			v[c['plate']] = v.get(c['plate'], 0) + max(0.0, c['confidence'])
	n_gt += len(f['plates'])
ok = {True: [0, 0], False: [0, 0]}
missed = wrong = 0
for v in truth['vehicles']:
	if v['first_frame'] is None:
		continue
	c = votes.get(v['vehicle'])
	best = max(c, key=c.get) if c else None
	k = ok[v['night']]
	k[1] += 1
	if best == v['plate']:
		k[0] += 1
	elif best is None:
		missed += 1
	else:
		wrong += 1
pv = ok[True][0] + ok[False][0]
nv = ok[True][1] + ok[False][1]
ms.sort()
pct = lambda a, b: 100.0 * a / b if b else 0.0
print('plates in view: %d in %d frames; detected %.1f%%, read right (top-1) %.1f%% of all' % (
	n_gt, n_frames, pct(n_found, n_gt), pct(n_top1, n_gt)))
print('false detections: %d (%.2f per frame)' % (n_false, n_false / float(max(1, n_frames))))
print('per-vehicle accuracy: %d/%d = %.1f%% (day %d/%d, night/IR %d/%d); %d passes never read, %d read wrong' % (
	pv, nv, pct(pv, nv), ok[False][0], ok[False][1], ok[True][0], ok[True][1], missed, wrong))
if ms:
	print('ms per frame (one core): median %.1f, p95 %.1f' % (ms[len(ms) // 2], ms[int(len(ms) * 0.95) - 1]))
PY
echo "pipeline (capture -> ocrd -> matchd, one read per pass, against the truth): tests/bench/bench-pipeline.sh"
