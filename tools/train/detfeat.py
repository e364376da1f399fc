"""Detector features, mirrored by lib/recognize/detect.cpp (keep in step).

Stage 1: the frame shrunk to 640 px wide, local contrast normalisation
(15 px box), channels normalised grey, |Sobel-x|, |Sobel-y|, averaged over
2x2 cells, a pyramid of 15 sizes, a fixed 10x5-cell window scored by a
linear model (three filter2D passes per level).
Stage 2: each box cut to 64x32, HOG, logistic regression.
"""
import cv2
import numpy as np

WORK_W = 640
WIN_W, WIN_H = 10, 5          # cells
# 15 sizes: the window spans 20-300 px of the 640 px frame (13 stopped at
# 200, and a plate that large in split a was missed)
NLEVELS = 15
SCALES = [0.825 ** k for k in range(NLEVELS)]
HOG = cv2.HOGDescriptor((64, 32), (16, 16), (8, 8), (8, 8), 9)


def shrink(grey):
	# lib/recognize/detect.cpp does not enlarge frames narrower than WORK_W
	# (since 2026-12-05); training still does, which keeps the committed
	# detector.yml reproducible (it concerns 1 of the 58 split-a scenes, car1)
	f = WORK_W / float(grey.shape[1])
	h = max(16, int(round(grey.shape[0] * f)))
	return cv2.resize(grey, (WORK_W, h), interpolation=cv2.INTER_LINEAR), f


def channels(small):
	g = small.astype(np.float32)
	mu = cv2.boxFilter(g, -1, (15, 15), borderType=cv2.BORDER_REPLICATE)
	mu2 = cv2.boxFilter(g * g, -1, (15, 15), borderType=cv2.BORDER_REPLICATE)
	sd = np.sqrt(np.maximum(mu2 - mu * mu, 0))
	n = (g - mu) / (sd + 10.0)
	gx = np.abs(cv2.Sobel(n, cv2.CV_32F, 1, 0, ksize=3))
	gy = np.abs(cv2.Sobel(n, cv2.CV_32F, 0, 1, ksize=3))
	h, w = n.shape
	cs = (w // 2, h // 2)
	return [cv2.resize(c, cs, interpolation=cv2.INTER_AREA) for c in (n, gx, gy)]


def level(chs, s):
	h, w = chs[0].shape
	sz = (max(1, int(round(w * s))), max(1, int(round(h * s))))
	return [cv2.resize(c, sz, interpolation=cv2.INTER_LINEAR) for c in chs]


def window_feat(lv, x, y):
	return np.concatenate([c[y:y + WIN_H, x:x + WIN_W].ravel() for c in lv])


def score_map(lv, w, b):
	"""w: (3, WIN_H, WIN_W)."""
	acc = None
	for c, k in zip(lv, w):
		r = cv2.filter2D(c, cv2.CV_32F, k.astype(np.float32), anchor=(0, 0),
				 borderType=cv2.BORDER_REPLICATE)
		acc = r if acc is None else acc + r
	return acc + b


def box_of(x, y, s, f):
	"""level cell coords -> original frame box (x, y, w, h)."""
	return (2 * x / s / f, 2 * y / s / f, 2 * WIN_W / s / f, 2 * WIN_H / s / f)


def hog_feat(grey, box):
	x, y, w, h = box
	# cut with a little context, as at run time
	src = np.float32([[x, y], [x + w, y], [x, y + h]])
	dst = np.float32([[0, 0], [64, 0], [0, 32]])
	M = cv2.getAffineTransform(src, dst)
	p = cv2.warpAffine(grey, M, (64, 32), flags=cv2.INTER_LINEAR,
			   borderMode=cv2.BORDER_REPLICATE)
	return HOG.compute(p).ravel()
