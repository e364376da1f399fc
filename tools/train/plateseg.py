"""Plate segmentation shared by the training scripts.

This mirrors lib/recognize/segment.cpp step for step: the training patches
must be cut exactly the way the C++ recognizer cuts them at run time.  If you
change a constant here, change it there too (and retrain).
"""
import cv2
import numpy as np

PLATE_H = 100          # plates are scaled to this height before segmentation
PATCH_W, PATCH_H = 24, 32
MAX_PLATE_W = 400

# (polarity, method, block, offset); polarity 0 = dark text on light.
BINARISATIONS = []
for pol in (0, 1):
	BINARISATIONS.append((pol, 'otsu', 0, 0))
	for block in (15, 31, 51):
		for off in (2, 8):
			BINARISATIONS.append((pol, 'adapt', block, off))


def normalise_plate(grey):
	"""Scale a plate crop to PLATE_H rows (width capped)."""
	h, w = grey.shape[:2]
	s = PLATE_H / float(h)
	nw = max(8, min(MAX_PLATE_W, int(round(w * s))))
	return cv2.resize(grey, (nw, PLATE_H), interpolation=cv2.INTER_AREA
			  if s < 1 else cv2.INTER_LINEAR)


def binarise(img, b):
	pol, method, block, off = b
	src = img if pol == 0 else 255 - img
	if method == 'otsu':
		_, bw = cv2.threshold(src, 0, 255,
				      cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
	else:
		bw = cv2.adaptiveThreshold(src, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
					   cv2.THRESH_BINARY_INV, block, off)
	return bw   # text = 255


def components(bw):
	n, lab, st, cen = cv2.connectedComponentsWithStats(bw, connectivity=8)
	H, W = bw.shape
	out = []
	for i in range(1, n):
		x, y, w, h, a = st[i]
		if h < 0.2 * H or h > 0.85 * H:
			continue
		if w < 2 or w > 1.6 * h:
			continue
		if a < 0.12 * w * h:
			continue
		out.append((int(x), int(y), int(w), int(h)))
	return out


# Runs longer than this share of the height are cut from a second try at a
# dark-text binarisation (segment.cpp's RUN_CUT; see hypotheses()).
RUN_CUT = 0.3


def longest_run(bw):
	"""The longest horizontal run of text pixels."""
	best = 0
	for r in bw:
		d = np.diff(np.concatenate(([0], (r > 0).astype(np.int8), [0])))
		s, e = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
		if len(s):
			best = max(best, int((e - s).max()))
	return best


def cut_long_runs(bw, max_run):
	"""bw without its horizontal runs longer than max_run."""
	out = bw.copy()
	for y, r in enumerate(bw):
		d = np.diff(np.concatenate(([0], (r > 0).astype(np.int8), [0])))
		for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
			if e - s > max_run:
				out[y, s:e] = 0
	return out


def group_row(ccs):
	"""Largest group of components of similar height on one line."""
	best = []
	best_key = (0, 0)
	for (x, y, w, h) in ccs:
		cy = y + h / 2.0
		mem = [c for c in ccs
		       if abs(c[3] - h) <= 0.2 * h and
		       abs(c[1] + c[3] / 2.0 - cy) <= 0.25 * h]
		key = (len(mem), sum(c[3] for c in mem))
		if key > best_key:
			best_key, best = key, mem
	best = sorted(best, key=lambda c: c[0])
	return best


def split_wide(row, bw):
	if not row:
		return row
	rh = float(np.median([c[3] for c in row]))
	out = []
	for (x, y, w, h) in row:
		if w <= 0.85 * rh:
			out.append((x, y, w, h))
			continue
		k = max(2, int(round(w / (0.6 * rh))))
		prof = (bw[y:y + h, x:x + w] > 0).sum(axis=0)
		cuts = [0]
		for i in range(1, k):
			c = int(round(i * w / float(k)))
			lo = max(cuts[-1] + 1, c - int(0.15 * w / k) - 1)
			hi = min(w - 1, c + int(0.15 * w / k) + 1)
			if hi > lo:
				c = lo + int(np.argmin(prof[lo:hi]))
			cuts.append(c)
		cuts.append(w)
		for i in range(k):
			a, b = cuts[i], cuts[i + 1]
			if b - a >= 2:
				out.append((x + a, y, b - a, h))
	return out


def merge_overlapping(row):
	"""Merge boxes whose x ranges overlap by most of the narrower one."""
	out = []
	for c in row:
		if out:
			p = out[-1]
			ov = min(p[0] + p[2], c[0] + c[2]) - max(p[0], c[0])
			if ov > 0.6 * min(p[2], c[2]):
				x0, y0 = min(p[0], c[0]), min(p[1], c[1])
				x1 = max(p[0] + p[2], c[0] + c[2])
				y1 = max(p[1] + p[3], c[1] + c[3])
				out[-1] = (x0, y0, x1 - x0, y1 - y0)
				continue
		out.append(c)
	return out


def hypotheses(img):
	"""One row hypothesis per binarisation: (binarisation, boxes, top, bottom)."""
	hyps = []
	for b in BINARISATIONS:
		bw = binarise(img, b)
		row = group_row(components(bw))
		# glyphs joined to a dark rim or frame band (segment.cpp)
		max_run = int(RUN_CUT * bw.shape[0])
		if b[0] == 0 and longest_run(bw) > max_run:
			row2 = group_row(components(cut_long_runs(bw, max_run)))
			if len(row2) > len(row):
				row = row2
		if len(row) < 2:
			continue
		row = merge_overlapping(split_wide(row, bw))
		top = float(np.median([c[1] for c in row]))
		bot = float(np.median([c[1] + c[3] for c in row]))
		hyps.append((b, row, top, bot))
	return hyps


CHARS = '0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ'   # O is read as 0
NOISE = len(CHARS)


def label_of(ch):
	ch = '0' if ch == 'O' else ch
	return CHARS.find(ch)


def patch(img, pol, box, top, bot, jitter=None):
	"""Cut one glyph window: row-height tall, fixed aspect, dark text.

	jitter = (dx, dy, scale, angle) in row heights / factor / radians,
	training only."""
	x, y, w, h = box
	rh = max(4.0, bot - top)
	cx = x + w / 2.0
	cy = (top + bot) / 2.0
	wh = 1.2 * rh
	ang = 0.0
	if jitter is not None:
		cx += jitter[0] * rh
		cy += jitter[1] * rh
		wh *= jitter[2]
		ang = jitter[3]
	ww = wh * PATCH_W / PATCH_H
	sx = PATCH_W / ww
	sy = PATCH_H / wh
	c, s = np.cos(ang), np.sin(ang)
	A = np.array([[sx * c, sx * s], [-sy * s, sy * c]])
	t = np.array([PATCH_W / 2.0, PATCH_H / 2.0]) - A.dot([cx, cy])
	M = np.hstack([A, t[:, None]]).astype(np.float64)
	p = cv2.warpAffine(img, M, (PATCH_W, PATCH_H), flags=cv2.INTER_LINEAR,
			   borderMode=cv2.BORDER_REPLICATE)
	p = p.astype(np.float32)
	if pol:
		p = 255.0 - p
	m, s = p.mean(), p.std()
	return (p - m) / (s + 8.0)
