#!/usr/bin/env python3
"""Recognition benchmark: run alpr-recognize over the development data and
print accuracy, speed and memory.

  tests/bench/bench-recognition.py [--data ../shared/data] [--split all|a|b]
	[--bin ./alpr-recognize] [--models models] [-n 10]

Scenes (us-scenes): top-1 and top-N on the first plate whose box overlaps the
ground truth (IoU > 0.4), detection recall (any reported plate with IoU > 0.4),
and top-1 of the best plate regardless of box.  Crops (us-plates, --crop):
top-1, top-N, and state accuracy.  "O=0" columns count O and 0 as one
character (the ground truth mixes them).  Times are processing_time_ms as
alpr-recognize reports it (decode excluded), one thread.

--split a/b selects the halves used by tools/train (a stable hash of the file
name): models trained on `a` must be judged on `b`.  Only the standard
library is used.
"""
import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
				'..', '..', 'tools', 'train'))
from devdata import iou, want    # noqa: E402  (the training's split and overlap)


def o0(s):
	return s.replace('O', '0')


def run(args, files, crop):
	cmd = [args.bin, '--json', '-n', str(args.n), '--threads', '1']
	if args.cpu_time:
		cmd.append('--cpu-time')
	if args.models:
		cmd += ['--models', args.models]
	if crop:
		cmd.append('--crop')
	before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
	p = subprocess.run(cmd + files, stdout=subprocess.PIPE, text=True)
	rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
	out = {}
	for line in p.stdout.splitlines():
		o = json.loads(line)
		out[o['file']] = o
	return out, max(rss, before)


def pct(a, n):
	return 100.0 * a / n if n else 0.0


def times(res):
	t = sorted(o['processing_time_ms'] for o in res.values()
		   if 'processing_time_ms' in o)
	if not t:
		return 0, 0
	return statistics.median(t), t[min(len(t) - 1, int(0.95 * len(t)))]


def stages(res):
	"""'detect 9.1, read 50.2, state 30.0' (medians of stage_ms)."""
	st = [o['stage_ms'] for o in res.values() if 'stage_ms' in o]
	if not st:
		return '-'
	return ', '.join('%s %.1f' % (k, statistics.median(s[k] for s in st))
			 for k in ('detect', 'read', 'state'))


def scenes(args):
	d = os.path.join(args.data, 'us-scenes')
	gt = []
	for n in sorted(os.listdir(d)):
		if n.endswith('.txt') and want(n[:-4] + '.jpg', args.split):
			with open(os.path.join(d, n)) as f:
				for line in f:
					p = line.rstrip('\n').split('\t')
					if len(p) >= 6:
						gt.append((os.path.join(d, p[0]),
							   [int(v) for v in p[1:5]], p[5]))
	res, rss = run(args, [g[0] for g in gt], False)
	det = t1 = tn = t1o = tno = best1 = 0
	wrong = []
	for path, box, text in gt:
		o = res.get(path, {})
		plates = o.get('plates', [])
		if plates and o0(plates[0]['plate']) == o0(text):
			best1 += 1
		hit = [p for p in plates if iou(p['box'], box) > 0.4]
		if not hit:
			wrong.append((os.path.basename(path), text, '(not found)'))
			continue
		det += 1
		p = hit[0]
		cands = [c['plate'] for c in p['candidates']]
		t1 += p['plate'] == text
		tn += text in cands
		t1o += o0(p['plate']) == o0(text)
		tno += o0(text) in [o0(c) for c in cands]
		if o0(p['plate']) != o0(text):
			rank = [o0(c) for c in cands]
			wrong.append((os.path.basename(path), text, p['plate'] +
				      (' (right text is candidate %d)'
				       % (rank.index(o0(text)) + 1)
				       if o0(text) in rank else '')))
	n = len(gt)
	med, p95 = times(res)
	print('us-scenes split %s: %d plates' % (args.split, n))
	print('  detection (IoU>0.4) %.1f%%' % pct(det, n))
	print('  top-1 %.1f%% (O=0 %.1f%%), top-%d %.1f%% (O=0 %.1f%%)'
	      % (pct(t1, n), pct(t1o, n), args.n, pct(tn, n), pct(tno, n)))
	print('  best plate of the image, top-1 O=0 %.1f%%' % pct(best1, n))
	print('  ms per image: median %.1f, p95 %.1f; max RSS %.0f MB'
	      % (med, p95, rss / 1024.0))
	print('  median CPU ms per stage: %s' % stages(res))
	if args.verbose:
		for w in wrong:
			print('    %s want %s got %s' % w)


def crops(args):
	d = os.path.join(args.data, 'us-plates')
	gt = []
	with open(os.path.join(d, 'groundtruth.csv')) as f:
		for row in csv.reader(f):
			if len(row) >= 3 and want(row[0], args.split):
				gt.append((os.path.join(d, row[0]), row[1].lower(),
					   row[2].upper()))
	res, rss = run(args, [g[0] for g in gt], True)
	t1 = tn = t1o = tno = st = stn = 0
	wrong = []
	for path, state, text in gt:
		plates = res.get(path, {}).get('plates', [])
		if not plates:
			wrong.append((os.path.basename(path), text, ''))
			continue
		p = plates[0]
		cands = [c['plate'] for c in p['candidates']]
		t1 += p['plate'] == text
		tn += text in cands
		t1o += o0(p['plate']) == o0(text)
		tno += o0(text) in [o0(c) for c in cands]
		if p.get('state'):
			stn += 1
			st += p['state'] == state
		if o0(p['plate']) != o0(text):
			wrong.append((os.path.basename(path), text, p['plate']))
	n = len(gt)
	med, p95 = times(res)
	print('us-plates split %s (--crop): %d crops' % (args.split, n))
	print('  top-1 %.1f%% (O=0 %.1f%%), top-%d %.1f%% (O=0 %.1f%%)'
	      % (pct(t1, n), pct(t1o, n), args.n, pct(tn, n), pct(tno, n)))
	print('  state: %d guessed, %.1f%% of all crops right'
	      % (stn, pct(st, n)))
	print('  ms per crop: median %.1f, p95 %.1f; max RSS %.0f MB'
	      % (med, p95, rss / 1024.0))
	if args.verbose:
		for w in wrong:
			print('    %s want %s got %s' % w)


def main():
	here = os.path.dirname(os.path.abspath(__file__))
	top = os.path.dirname(os.path.dirname(here))
	ap = argparse.ArgumentParser()
	ap.add_argument('--data', default=os.path.join(top, '..', 'shared', 'data'))
	ap.add_argument('--split', default='all', choices=('all', 'a', 'b'))
	ap.add_argument('--bin', default='./alpr-recognize')
	ap.add_argument('--models', default=None)
	ap.add_argument('-n', type=int, default=10)
	ap.add_argument('--only', choices=('scenes', 'crops'))
	ap.add_argument('--cpu-time', action='store_true',
		help='time as thread CPU time (loaded machines)')
	ap.add_argument('-v', '--verbose', action='store_true')
	args = ap.parse_args()
	if not os.path.isdir(args.data):
		print('no data at %s' % args.data, file=sys.stderr)
		return 77
	if args.only != 'crops':
		scenes(args)
	if args.only != 'scenes':
		crops(args)
	return 0


if __name__ == '__main__':
	sys.exit(main())
