"""Access to the development data (read in place, never copied).

The split is a stable hash of the file name, so `a` (training) and `b`
(evaluation) never change and never depend on the order of a directory.
"""
import csv
import os
import zlib


def split_of(name):
	return 'a' if zlib.crc32(os.path.basename(name).encode()) % 2 == 0 else 'b'


def want(name, split):
	return split == 'all' or split_of(name) == split


def iou(a, b):
	"""Intersection over union of two (x, y, w, h) boxes."""
	x0, y0 = max(a[0], b[0]), max(a[1], b[1])
	x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
	if x1 <= x0 or y1 <= y0:
		return 0.0
	i = (x1 - x0) * (y1 - y0)
	return i / float(a[2] * a[3] + b[2] * b[3] - i)


def crops(data, split):
	"""[(path, state, plate)] of us-plates in the split."""
	d = os.path.join(data, 'us-plates')
	out = []
	with open(os.path.join(d, 'groundtruth.csv')) as f:
		for row in csv.reader(f):
			if len(row) < 3 or not want(row[0], split):
				continue
			out.append((os.path.join(d, row[0]), row[1].strip().lower(),
				    row[2].strip().upper()))
	return sorted(out)


def scenes(data, split):
	"""[(path, (x, y, w, h), plate)] of us-scenes in the split."""
	d = os.path.join(data, 'us-scenes')
	out = []
	for n in sorted(os.listdir(d)):
		if not n.endswith('.txt') or not want(n[:-4] + '.jpg', split):
			continue
		with open(os.path.join(d, n)) as f:
			for line in f:
				p = line.rstrip('\n').split('\t')
				if len(p) < 6:
					continue
				out.append((os.path.join(d, p[0]),
					    tuple(int(v) for v in p[1:5]), p[5].upper()))
	return out
