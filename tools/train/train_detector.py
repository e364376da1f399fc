#!/usr/bin/python3
"""Train the two-stage plate detector (see detfeat.py) and write
models/detector.yml for lib/recognize/detect.cpp.

Training data: the development scenes of one split, mirrored, plus plate
crops of the same split pasted into those scenes at random sizes and places
(more positives than the scenes alone hold).  Negatives: random windows,
then windows the model itself scores high (two mining rounds).

Usage: train_detector.py --data ../shared/data --split a \
	--out models/detector.yml
"""
import argparse
import os
import random
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detfeat as df    # noqa: E402
import devdata    # noqa: E402


def logistic(X, y, l2, epochs=300):
	X = torch.from_numpy(np.asarray(X, np.float32))
	y = torch.from_numpy(np.asarray(y, np.float32))
	mu = X.mean(0)
	sd = X.std(0) + 1e-3
	Xn = (X - mu) / sd
	w = torch.zeros(X.shape[1], requires_grad=True)
	b = torch.zeros(1, requires_grad=True)
	pos = float(y.sum())
	pw = torch.tensor((len(y) - pos) / max(pos, 1.0))
	opt = torch.optim.LBFGS([w, b], lr=0.5, max_iter=epochs,
				line_search_fn='strong_wolfe')

	def closure():
		opt.zero_grad()
		z = Xn.mv(w) + b
		loss = torch.nn.functional.binary_cross_entropy_with_logits(
			z, y, pos_weight=pw) + l2 * (w * w).sum()
		loss.backward()
		return loss
	opt.step(closure)
	# fold the standardisation into the weights
	wf = (w / sd).detach().numpy()
	bf = float(b.detach() - (w * mu / sd).sum().detach())
	return wf, bf


def paste(grey, crop, rng, boxes):
	H, W = grey.shape
	for _ in range(20):
		w = int(W * rng.uniform(0.03, 0.2))
		h = int(w * crop.shape[0] / crop.shape[1])
		x = rng.randint(0, W - w - 1)
		y = rng.randint(H // 4, H - h - 1)
		b = (x, y, w, h)
		if all(devdata.iou(b, o) == 0 for o in boxes):
			break
	else:
		return None
	c = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
	f = rng.uniform(0.5, 1.2)
	c = np.clip(c.astype(np.float32) * f, 0, 255).astype(np.uint8)
	if rng.random() < 0.5:
		c = cv2.GaussianBlur(c, (3, 3), 0)
	grey[y:y + h, x:x + w] = c
	# the crops hold a margin of bumper around the plate
	return (x + 0.06 * w, y + 0.1 * h, 0.88 * w, 0.8 * h)


def frames(data, split, rng, npaste):
	crops = [cv2.imread(p, cv2.IMREAD_GRAYSCALE)
		 for p, _, _ in devdata.crops(data, split)]
	byimg = {}
	for path, box, text in devdata.scenes(data, split):
		byimg.setdefault(path, []).append(box)
	out = []
	for path, boxes in sorted(byimg.items()):
		g = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
		out.append((g, list(boxes)))
		out.append((cv2.flip(g, 1),
			    [(g.shape[1] - x - w, y, w, h) for x, y, w, h in boxes]))
		for _ in range(npaste):
			g2 = g.copy()
			b2 = list(boxes)
			for _ in range(2):
				nb = paste(g2, rng.choice(crops), rng, b2)
				if nb:
					b2.append(nb)
			out.append((g2, b2))
	return out


def pyramid(g):
	small, f = df.shrink(g)
	chs = df.channels(small)
	return f, [df.level(chs, s) for s in df.SCALES]


def stage1_boxes(levels, f, w, b, k):
	cands = []
	for lv, s in zip(levels, df.SCALES):
		h, wd = lv[0].shape
		if h < df.WIN_H or wd < df.WIN_W:
			continue
		sm = df.score_map(lv, w, b)
		sm = sm[:h - df.WIN_H + 1, :wd - df.WIN_W + 1]
		mx = cv2.dilate(sm, np.ones((3, 3), np.uint8))
		ys, xs = np.nonzero((sm >= mx))
		for y, x in zip(ys, xs):
			cands.append((float(sm[y, x]), df.box_of(x, y, s, f), s, x, y))
	cands.sort(key=lambda c: -c[0])
	out = []
	for c in cands:
		if all(devdata.iou(c[1], o[1]) < 0.5 for o in out):
			out.append(c)
		if len(out) >= k:
			break
	return out


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument('--data', default='../shared/data')
	ap.add_argument('--split', default='a', choices=('a', 'b', 'all'))
	ap.add_argument('--paste', type=int, default=2)
	ap.add_argument('--eval', default=None, help='split to report on')
	ap.add_argument('--seed', type=int, default=1)
	ap.add_argument('--out', required=True)
	args = ap.parse_args()
	rng = random.Random(args.seed)
	cv2.setNumThreads(1)
	torch.set_num_threads(1)
	t0 = time.time()
	fr = frames(args.data, args.split, rng, args.paste)
	pyrs = [pyramid(g) for g, _ in fr]
	print('%d training frames (%.0f s)' % (len(fr), time.time() - t0), flush=True)
	P, N = [], []
	for (g, boxes), (f, levels) in zip(fr, pyrs):
		for bx, by, bw, bh in boxes:
			cx, cy = (bx + bw / 2.0) * f / 2, (by + bh / 2.0) * f / 2
			wc = bw * f / 2
			for lv, s in zip(levels, df.SCALES):
				ratio = df.WIN_W / (wc * s)
				if ratio < 0.8 or ratio > 1.25:
					continue
				for dx in (-0.5, 0, 0.5):
					x = int(round(cx * s - df.WIN_W / 2.0 + dx))
					y = int(round(cy * s - df.WIN_H / 2.0))
					h, w = lv[0].shape
					if x < 0 or y < 0 or x + df.WIN_W > w or y + df.WIN_H > h:
						continue
					P.append(df.window_feat(lv, x, y))
		for _ in range(150):
			k = rng.randrange(len(levels))
			lv, s = levels[k], df.SCALES[k]
			h, w = lv[0].shape
			if h <= df.WIN_H or w <= df.WIN_W:
				continue
			x = rng.randrange(w - df.WIN_W)
			y = rng.randrange(h - df.WIN_H)
			bb = df.box_of(x, y, s, f)
			if any(devdata.iou(bb, o) > 0.3 for o in boxes):
				continue
			N.append(df.window_feat(lv, x, y))
	print('stage 1: %d positive, %d negative windows' % (len(P), len(N)))
	w1, b1 = None, None
	for rnd in range(3):
		X = P + N
		y = [1] * len(P) + [0] * len(N)
		w1, b1 = logistic(X, y, 1e-3)
		w1 = w1.reshape(3, df.WIN_H, df.WIN_W)
		if rnd == 2:
			break
		added = 0
		for (g, boxes), (f, levels) in zip(fr, pyrs):
			for sc, bb, s, x, yy in stage1_boxes(levels, f, w1, b1, 30):
				if any(devdata.iou(bb, o) > 0.3 for o in boxes):
					continue
				lv = levels[df.SCALES.index(s)]
				N.append(df.window_feat(lv, x, yy))
				added += 1
		print('round %d: mined %d hard negatives' % (rnd, added), flush=True)
	# stage 2
	HP, HN = [], []
	for (g, boxes), (f, levels) in zip(fr, pyrs):
		for bb in boxes:
			for _ in range(3):
				j = (bb[0] + rng.gauss(0, 0.05) * bb[2],
				     bb[1] + rng.gauss(0, 0.08) * bb[3],
				     bb[2] * rng.uniform(0.9, 1.1), bb[3] * rng.uniform(0.9, 1.1))
				HP.append(df.hog_feat(g, j))
		for sc, bb, s, x, yy in stage1_boxes(levels, f, w1, b1, 40):
			v = max([devdata.iou(bb, o) for o in boxes] + [0])
			if v > 0.5:
				HP.append(df.hog_feat(g, bb))
			elif v < 0.3:
				HN.append(df.hog_feat(g, bb))
	print('stage 2: %d positive, %d negative patches' % (len(HP), len(HN)))
	w2, b2 = logistic(HP + HN, [1] * len(HP) + [0] * len(HN), 1e-2)
	fs = cv2.FileStorage(args.out, cv2.FILE_STORAGE_WRITE)
	fs.write('work_width', df.WORK_W)
	fs.write('scales', np.asarray(df.SCALES, np.float32).reshape(1, -1))
	fs.write('w1', w1.reshape(3 * df.WIN_H, df.WIN_W).astype(np.float32))
	fs.write('b1', float(b1))
	fs.write('w2', w2.reshape(1, -1).astype(np.float32))
	fs.write('b2', float(b2))
	fs.release()
	print('wrote %s (%.0f s)' % (args.out, time.time() - t0))
	if args.eval:
		evaluate(args.data, args.eval, w1, b1, w2, b2)


def detect(g, w1, b1, w2, b2, k=40):
	f, levels = pyramid(g)
	out = []
	for sc, bb, s, x, y in stage1_boxes(levels, f, w1, b1, k):
		v = float(df.hog_feat(g, bb).dot(w2) + b2)
		out.append((v + sc, bb))
	out.sort(key=lambda c: -c[0])
	res = []
	for c in out:
		if all(devdata.iou(c[1], o[1]) < 0.3 for o in res):
			res.append(c)
	return res


def evaluate(data, split, w1, b1, w2, b2):
	hits = {1: 0, 3: 0, 5: 0, 10: 0}
	n = 0
	t = []
	for path, box, text in devdata.scenes(data, split):
		g = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
		t0 = time.time()
		res = detect(g, w1, b1, w2, b2)
		t.append(time.time() - t0)
		n += 1
		for k in hits:
			if any(devdata.iou(bb, box) > 0.4 for _, bb in res[:k]):
				hits[k] += 1
	print('split %s: %d plates, recall %s, median %.0f ms (python)'
	      % (split, n, ' '.join('@%d %.1f%%' % (k, 100.0 * v / n)
				     for k, v in sorted(hits.items())),
		 1000 * float(np.median(t))))


if __name__ == '__main__':
	main()
