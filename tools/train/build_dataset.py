#!/usr/bin/python3
"""Build the glyph-classifier training set.

Reads the development crops in place (../shared/data/us-plates) for one
split, and writes a .npz of 24x32 normalised glyph windows with labels
(35 characters, O folded into 0, plus a noise class):

  1. real glyphs: every binarisation whose character row has exactly as many
     boxes as the ground truth has characters is aligned to it in order;
     components left over become noise;
  2. synthetic plates: the aligned glyphs form a bank; each synthetic plate
     takes the background of a real crop (its own glyphs inpainted away),
     a new string in a common US format, glyphs from the bank scaled to the
     row, then perspective, blur, noise, night/IR and JPEG looks; the
     run-time segmentation is run on it and its boxes are labelled by
     overlap with the glyphs placed; --separators and --hard-looks add
     marks between groups and harder looks (off: measured worse);
  3. --fonts N: plates drawn from Debian fonts (fontplate.py), at plate
     proportions for --font-plate-wh of them; --small-blur P shrinks a
     share P of them to a far plate's width, blurs them horizontally and
     enlarges them back (a far plate in a moving car; 0.25 in `make
     models-glyphs-tune`, models/README.md);
  4. --edge-windows S: noise windows where reader.cpp's add_windows()
     looks for missed glyphs beside rows aligned to the ground truth
     (pitch_windows() mirrors it: change both together).
--fonts-only leaves out 1 and 2 (a set to add to another: `make
models-glyphs-tune`, models/README.md).

Usage: build_dataset.py --data ../shared/data --split a --synth 12000 \
	--out build/train/glyphs-a.npz
"""
import argparse
import os
import random
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devdata    # noqa: E402
import plateseg as ps    # noqa: E402

FORMATS = [('#@@@###', 6), ('@@@####', 3), ('###@@@', 2), ('@@@###', 3),
	   ('@@####', 1), ('####@@', 1), ('###@###', 1), ('@@@@###', 1),
	   ('##@@###', 1), ('@#####', 1), ('#####', 1), ('@@@@', 1),
	   ('@@@@@@', 1), ('@@@@@@@', 1), ('*****', 1), ('******', 2),
	   ('*******', 2)]
LETTERS = 'ABCDEFGHIJKLMNPQRSTUVWXYZ'
DIGITS = '0123456789'


def rand_string(rng):
	fmts, w = zip(*FORMATS)
	f = rng.choices(fmts, weights=w)[0]
	out = ''
	for c in f:
		if c == '#':
			out += rng.choice(DIGITS)
		elif c == '@':
			out += rng.choice(LETTERS)
		else:
			out += rng.choice(LETTERS + DIGITS)
	return out


def jit(rng, strong=1.0):
	return (rng.gauss(0, 0.04 * strong), rng.gauss(0, 0.04 * strong),
		rng.uniform(0.92, 1.1), rng.gauss(0, 0.05 * strong))


def load_grey(path):
	img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
	if img is None:
		raise SystemExit('cannot read %s' % path)
	return ps.normalise_plate(img)


def real_samples(items, rng, X, Y, bank, plates):
	aligned = 0
	for path, state, text in items:
		img = load_grey(path)
		chars = [c for c in text]
		got = False
		for b, row, top, bot in ps.hypotheses(img):
			pol = b[0]
			if len(row) == len(chars):
				got = True
				for box, ch in zip(row, chars):
					lab = ps.label_of(ch)
					if lab < 0:
						continue
					X.append(ps.patch(img, pol, box, top, bot))
					Y.append(lab)
					for _ in range(2):
						X.append(ps.patch(img, pol, box, top, bot,
								  jit(rng)))
						Y.append(lab)
				if b[1] == 'otsu' or len(bank) < 0:
					bw = ps.binarise(img, b)
					for box, ch in zip(row, chars):
						x, y, w, h = box
						bank.append((ch, pol, img[y:y + h, x:x + w].copy(),
							     bw[y:y + h, x:x + w].copy(),
							     bot - top))
					mask = np.zeros_like(img)
					for x, y, w, h in row:
						mask[y:y + h, x:x + w] = \
							np.maximum(mask[y:y + h, x:x + w],
								   bw[y:y + h, x:x + w])
					mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
					bg = cv2.inpaint(img, mask, 3, cv2.INPAINT_TELEA)
					plates.append((bg, pol, top, bot,
						       row[0][0], row[-1][0] + row[-1][2]))
			else:
				# boxes far from any ground-truth position: noise
				pass
			# components outside the row are noise
			bw = ps.binarise(img, b)
			rowset = set(row)
			for c in ps.components(bw):
				if c in rowset or rng.random() > 0.3:
					continue
				if any(devdata.iou(c, r) > 0.2 for r in row):
					continue
				X.append(ps.patch(img, pol, c, top, bot, jit(rng)))
				Y.append(ps.NOISE)
			# half-way between two glyphs: noise
			for i in range(len(row) - 1):
				if rng.random() > 0.15:
					continue
				a, c = row[i], row[i + 1]
				mid = ((a[0] + a[2] + c[0]) / 2.0 - 1, a[1], 2, a[3])
				X.append(ps.patch(img, pol, mid, top, bot))
				Y.append(ps.NOISE)
		aligned += got
	return aligned


def pitch_windows(row):
	"""The windows reader.cpp's add_windows() proposes beside a row: one
	and two pitches beyond each end and in gaps wider than a pitch (three
	offsets each), as (box, inside) with inside true for gap windows."""
	if len(row) < 3:
		return []
	cs = [x + w / 2.0 for x, y, w, h in row]
	pitches = sorted(b - a for a, b in zip(cs, cs[1:]))
	pitch = pitches[(len(pitches) + 1) // 4]
	w = sorted(b[2] for b in row)[len(row) // 2]
	if pitch < 4:
		return []
	centres = []
	for k in (1, 2):
		centres += [(cs[0] - k * pitch, False), (cs[-1] + k * pitch, False)]
	for a, c in zip(cs, cs[1:]):
		n = int(round((c - a) / pitch)) - 1
		if n <= 3:
			centres += [(a + (c - a) * k / (n + 1.0), True)
				    for k in range(1, n + 1)]
	return [((cx + j * 0.15 * pitch - w / 2.0, row[0][1], w, row[0][3]), g)
		for cx, g in centres for j in (-1, 0, 1)]


def edge_samples(items, rng, X, Y, share):
	"""Noise windows where the reader looks for glyphs the binarisations
	missed, on rows aligned to the whole ground truth: there is no
	character there (a seal, a sticker, the rim, a dash or an emblem)."""
	for path, state, text in items:
		img = load_grey(path)
		for b, row, top, bot in ps.hypotheses(img):
			if len(row) != len(text):
				continue
			for box, gap in pitch_windows(row):
				cx = box[0] + box[2] / 2.0
				if cx < box[2] * 0.3 or cx > img.shape[1] - box[2] * 0.3:
					continue
				if rng.random() > share:
					continue
				if any(devdata.iou(box, r) > 0.2 for r in row):
					continue
				X.append(ps.patch(img, b[0], box, top, bot,
						  jit(rng, 0.5)))
				Y.append(ps.NOISE)


def augment(img, rng, hard=False):
	h, w = img.shape
	# perspective
	d = 0.06 * h
	src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
	dst = src + np.float32([[rng.uniform(-d, d), rng.uniform(-d, d)]
				for _ in range(4)])
	M = cv2.getPerspectiveTransform(src, dst)
	img = cv2.warpPerspective(img, M, (w, h), borderMode=cv2.BORDER_REPLICATE)
	f = img.astype(np.float32)
	look = rng.random()
	if look < 0.2:      # night: dark, low contrast
		f = f * rng.uniform(0.2, 0.5) + rng.uniform(0, 20)
	elif look < 0.35:   # IR: washed out, high contrast
		f = np.clip((f - 128) * rng.uniform(1.2, 1.8) + 140, 0, 255)
	elif look < 0.5:    # haze
		f = f * rng.uniform(0.5, 0.8) + rng.uniform(40, 90)
	elif hard and look < 0.62:  # very low contrast, dark or grey
		f = f * rng.uniform(0.12, 0.3) + rng.uniform(10, 110)
	# uneven illumination
	gx = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0), w)
	f = f * gx[None, :]
	img = np.clip(f, 0, 255).astype(np.uint8)
	r = rng.random()
	if r < 0.3:
		k = rng.choice([3, 5])
		img = cv2.GaussianBlur(img, (k, k), 0)
	elif hard and r < 0.42:     # strong defocus
		img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1.8, 3.2))
	elif r < (0.57 if hard else 0.45):
		k = rng.choice([3, 5, 7, 9] if hard else [3, 5, 7])
		kern = np.zeros((k, k), np.float32)
		kern[k // 2, :] = 1.0 / k
		img = cv2.filter2D(img, -1, kern)
	if rng.random() < 0.4:     # low resolution
		s = rng.uniform(0.3, 0.6)
		small = cv2.resize(img, (max(8, int(w * s)), max(4, int(h * s))),
				   interpolation=cv2.INTER_AREA)
		img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
	if rng.random() < 0.5:
		n = np.random.normal(0, rng.uniform(2, 10), img.shape)
		img = np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)
	if rng.random() < 0.4:
		q = rng.randint(20, 70)
		ok, enc = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, q])
		img = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
	return img, M


def compose(rng, bank_by, plates, sep_p=0.0):
	bg, pol, top, bot, x0, x1 = rng.choice(plates)
	img = bg.copy()
	h, w = img.shape
	text = rand_string(rng)
	rh = bot - top
	gap = rh * rng.uniform(0.06, 0.16)
	glyphs = []
	for ch in text:
		cands = bank_by.get((ps.label_of(ch), pol))
		if not cands:
			cands = bank_by.get((ps.label_of(ch), 1 - pol))
		if not cands:
			return None
		g = rng.choice(cands)
		s = rh / float(g[4])
		gw = max(2, int(round(g[2].shape[1] * s)))
		gh = max(2, int(round(g[2].shape[0] * s)))
		glyphs.append((ch, cv2.resize(g[2], (gw, gh)),
			       cv2.resize(g[3], (gw, gh)), g[1]))
	# a separator (dot, bullet, dash or small emblem) between two groups
	sep, sepw = None, 0.0
	if sep_p > 0 and len(glyphs) >= 4 and rng.random() < sep_p:
		sep = rng.randint(2, len(glyphs) - 2)
		sepw = rh * rng.uniform(0.3, 0.75)
	total = sum(g[1].shape[1] for g in glyphs) + gap * (len(glyphs) - 1) \
		+ sepw
	if total > w - 4:
		return None
	cx = (x0 + x1) / 2.0 + rng.uniform(-0.05, 0.05) * w
	x = max(2.0, min(w - 2 - total, cx - total / 2.0))
	boxes = []
	f = img.astype(np.float32)
	for i, (ch, gi, gm, gpol) in enumerate(glyphs):
		if i == sep:
			box = draw_separator(f, rng, glyph_ink(glyphs[0], pol),
					     x - gap, sepw + gap, top, rh)
			if box is not None:
				boxes.append((box, None))
			x += sepw
		gh, gw = gi.shape
		y = int(round(top + rng.uniform(-0.03, 0.03) * rh))
		y = max(0, min(h - gh, y))
		xi = int(round(x))
		a = cv2.GaussianBlur(gm.astype(np.float32) / 255.0, (3, 3), 0)
		ink = gi.astype(np.float32)
		if gpol != pol:
			ink = 255.0 - ink
		region = f[y:y + gh, xi:xi + gw]
		f[y:y + gh, xi:xi + gw] = region * (1 - a) + ink * a
		boxes.append(((xi, y, gw, gh), ch))
		x += gw + gap
	img = np.clip(f, 0, 255).astype(np.uint8)
	return img, boxes


def glyph_ink(g, pol):
	"""Mean ink grey of a scaled bank glyph, in the plate's polarity."""
	ch, gi, gm, gpol = g
	sel = gi[gm > 127]
	v = float(sel.mean()) if sel.size else (40.0 if gpol == 0 else 215.0)
	return 255.0 - v if gpol != pol else v


def draw_separator(f, rng, ink, x, span, top, rh):
	"""Draw a separator mark centred in [x, x + span) of a plate row
	(top, height rh) in float image f, in grey ink; return its box."""
	h, w = f.shape
	cx = x + span / 2.0
	kind = rng.random()
	m = np.zeros((h, w), np.uint8)
	if kind < 0.45:     # dot or bullet, near the middle or the foot
		r = max(1, int(round(rh * rng.uniform(0.05, 0.14))))
		cy = top + rh * rng.choice([0.5, 0.5, 0.8])
		cv2.circle(m, (int(round(cx)), int(round(cy))), r, 255, -1,
			   cv2.LINE_AA)
	elif kind < 0.6:    # dash
		hw = rh * rng.uniform(0.1, 0.2)
		hh = max(1.0, rh * rng.uniform(0.04, 0.08))
		cy = top + rh * 0.5
		cv2.rectangle(m, (int(cx - hw), int(cy - hh)),
			      (int(cx + hw), int(cy + hh)), 255, -1)
	else:               # small emblem: a star, heart, disc or shield
		s = rh * rng.uniform(0.2, 0.4)
		cy = top + rh * rng.uniform(0.35, 0.65)
		n = rng.choice([5, 6, 8, 3])
		pts = []
		for k in range(2 * n):
			a = np.pi * k / n + rng.uniform(-0.2, 0.2)
			rad = s if k % 2 == 0 else s * rng.uniform(0.4, 1.0)
			pts.append((cx + rad * np.sin(a), cy - rad * np.cos(a)))
		cv2.fillPoly(m, [np.int32(np.round(pts))], 255, cv2.LINE_AA)
		if rng.random() < 0.4:      # outlined, with a hole
			cv2.circle(m, (int(round(cx)), int(round(cy))),
				   max(1, int(s * 0.4)), 0, -1, cv2.LINE_AA)
	ys, xs = np.nonzero(m)
	if len(xs) == 0:
		return None
	a = m.astype(np.float32) / 255.0
	f[:] = f * (1 - a) + ink * a
	return (float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
		float(ys.max() - ys.min() + 1))


def synth_samples(n, rng, bank, plates, X, Y, sep_p=0.0, hard=False):
	bank_by = {}
	for g in bank:
		bank_by.setdefault((ps.label_of(g[0]), g[1]), []).append(g)
	made = 0
	tries = 0
	while made < n and tries < 5 * n:
		tries += 1
		r = compose(rng, bank_by, plates, sep_p)
		if r is None:
			continue
		img, boxes = r
		label_plate(img, boxes, rng, X, Y, hard)
		made += 1
		if made % 1000 == 0:
			print('  %d plates' % made, flush=True)
	return made


def small_blur(img, rng):
	"""A far plate in a moving car: shrunk to 50-110 px wide, blurred
	horizontally by 3-6 px at that size (a stroke's width or more), and
	enlarged back."""
	h, w = img.shape
	sw = rng.randint(50, 110)
	sh = max(8, int(round(h * sw / float(w))))
	small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
	k = rng.randint(3, 6)
	kern = np.full((1, k), 1.0 / k, np.float32)
	small = cv2.filter2D(small, -1, kern, borderType=cv2.BORDER_REPLICATE)
	return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def label_plate(img, boxes, rng, X, Y, hard=False, min_iou=0.5, blur_p=0.0):
	"""Augment a plate with known glyph boxes, segment it as at run time,
	and label the boxes found by overlap with the glyphs placed."""
	img, M = augment(img, rng, hard)
	if blur_p > 0 and rng.random() < blur_p:
		img = small_blur(img, rng)
	tb = []
	for (x, y, w, h), ch in boxes:
		pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
		q = cv2.perspectiveTransform(pts[None], M)[0]
		bx0, by0 = q.min(axis=0)
		bx1, by1 = q.max(axis=0)
		tb.append(((bx0, by0, bx1 - bx0, by1 - by0), ch))
	hyps = ps.hypotheses(img)
	rng.shuffle(hyps)
	for b, row, top, bot in hyps[:4]:
		for box in row:
			best, ch = 0.0, None
			for t, c in tb:
				v = devdata.iou(box, t)
				if v > best:
					best, ch = v, c
			if best > 0.3 and ch is None:   # on a separator mark
				X.append(ps.patch(img, b[0], box, top, bot))
				Y.append(ps.NOISE)
			elif best > min_iou:
				X.append(ps.patch(img, b[0], box, top, bot))
				Y.append(ps.label_of(ch))
			elif best < 0.3 and rng.random() < 0.5:
				X.append(ps.patch(img, b[0], box, top, bot))
				Y.append(ps.NOISE)


STATES = ['CALIFORNIA', 'TEXAS', 'FLORIDA', 'NEW YORK', 'ILLINOIS', 'OHIO',
	  'GEORGIA', 'ARIZONA', 'NEVADA', 'OREGON', 'VIRGINIA', 'WASHINGTON']


def font_samples(n, rng, X, Y, plate_wh=0.0, blur_p=0.0):
	import fontplate
	fonts = fontplate.fonts()
	for _ in range(n):
		# no I: a sans-serif I is a bare bar, what a 1 is on most US
		# plates (with it, real 1s read as I)
		text = ''.join(c if c != 'I' else rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')
			       for c in rand_string(rng))
		pol = rng.random() < 0.2
		ink, paper = rng.randint(0, 90), rng.randint(150, 255)
		if pol:
			ink, paper = paper, ink
		H = rng.randint(70, 170)
		W = int(H * rng.uniform(1.8, 2.3))
		# plate proportions (stamped fonts are condensed: an H about
		# half as wide as high) for most, the font as it is for some
		wh = rng.uniform(0.4, 0.75) if rng.random() < plate_wh else None
		img, boxes = fontplate.render(
			text, rng.choice(fonts),
			top_text=rng.choice(STATES) if rng.random() < 0.7 else None,
			size=(W, H), ink=ink, paper=paper,
			char_h=rng.uniform(0.36, 0.5), spacing=rng.uniform(0.04, 0.2)
			if wh is None else rng.uniform(0.1, 0.25), glyph_wh=wh)
		img = cv2.resize(img, (int(W * 100.0 / H), 100))
		s = 100.0 / H
		boxes = [((x * s, y * s, w * s, h * s), ch)
			 for (x, y, w, h), ch in boxes]
		# a box holding two glyphs overlaps either by up to one half
		label_plate(img, boxes, rng, X, Y,
			    min_iou=0.5 if wh is None else 0.65, blur_p=blur_p)
	return len(fonts)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument('--data', default='../shared/data')
	ap.add_argument('--split', default='a', choices=('a', 'b', 'all'))
	ap.add_argument('--synth', type=int, default=12000)
	ap.add_argument('--fonts', type=int, default=2500,
			help='plates rendered from Debian fonts')
	ap.add_argument('--separators', type=float, default=0.0,
			help='share of synthetic plates with a dot, dash or emblem '
			'between two groups (0.35 measured worse, models/README.md)')
	ap.add_argument('--hard-looks', action='store_true',
			help='add strong defocus and very low contrast looks')
	ap.add_argument('--font-plate-wh', type=float, default=0.0,
			help='share of font plates drawn at plate proportions '
			'(fontplate.render glyph_wh 0.4-0.75)')
	ap.add_argument('--small-blur', type=float, default=0.0,
			help='share of font plates shrunk to 50-110 px wide, '
			'blurred horizontally by 3-6 px and enlarged back')
	ap.add_argument('--edge-windows', type=float, default=0.0,
			help='share of the reader\'s pitch windows beside aligned '
			'rows of the real crops added as noise')
	ap.add_argument('--fonts-only', action='store_true',
			help='only the font plates (a set to add to another)')
	ap.add_argument('--seed', type=int, default=1)
	ap.add_argument('--out', required=True)
	args = ap.parse_args()
	rng = random.Random(args.seed)
	np.random.seed(args.seed)
	cv2.setNumThreads(1)
	items = devdata.crops(args.data, args.split)
	X, Y, bank, plates = [], [], [], []
	n = 0
	if not args.fonts_only:
		n = real_samples(items, rng, X, Y, bank, plates)
	nreal = len(X)
	print('crops %d, aligned %d, real samples %d, bank %d glyphs, %d backgrounds'
	      % (len(items), n, nreal, len(bank), len(plates)))
	m = 0
	if not args.fonts_only:
		m = synth_samples(args.synth, rng, bank, plates, X, Y,
				  args.separators, args.hard_looks)
	nsyn = len(X)
	print('synthetic plates %d, samples %d' % (m, nsyn - nreal))
	nf = font_samples(args.fonts, rng, X, Y, args.font_plate_wh,
			  args.small_blur)
	nfont = len(X)
	print('font plates %d (%d fonts), samples %d' % (args.fonts, nf, nfont - nsyn))
	if args.edge_windows > 0:
		edge_samples(items, rng, X, Y, args.edge_windows)
	print('pitch windows beside the rows (noise): %d' % (len(X) - nfont))
	X = np.asarray(X, np.float16)
	Y = np.asarray(Y, np.int64)
	print('class counts', np.bincount(Y, minlength=ps.NOISE + 1).tolist())
	os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
	np.savez_compressed(args.out, X=X, Y=Y, nreal=nreal)


if __name__ == '__main__':
	main()
