#!/usr/bin/python3
"""Train the glyph classifier and export it to ONNX for cv::dnn.

Input: 1x32x24 normalised glyph windows (see plateseg.patch); output: 36
logits (35 characters with O folded into 0, then noise).  The export uses
opset 11 and torch.flatten (a dynamic reshape breaks OpenCV 4.6's FC layer).

Usage: train_glyphs.py --data build/train/glyphs-a.npz --epochs 10 \
	--out models/glyph-cnn.onnx
"""
import argparse
import copy
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NCLASS = 36


class GlyphNet(nn.Module):
	def __init__(self):
		super().__init__()
		self.c1 = nn.Conv2d(1, 16, 3, padding=1)
		self.b1 = nn.BatchNorm2d(16)
		self.c2 = nn.Conv2d(16, 32, 3, padding=1)
		self.b2 = nn.BatchNorm2d(32)
		self.c3 = nn.Conv2d(32, 64, 3, padding=1)
		self.b3 = nn.BatchNorm2d(64)
		self.f1 = nn.Linear(64 * 4 * 3, 128)
		self.drop = nn.Dropout(0.3)
		self.f2 = nn.Linear(128, NCLASS)

	def forward(self, x):
		x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
		x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)
		x = F.max_pool2d(F.relu(self.b3(self.c3(x))), 2)
		x = torch.flatten(x, 1)
		x = self.drop(F.relu(self.f1(x)))
		return self.f2(x)


def augment(x):
	n = x.shape[0]
	# random contrast, noise, shift by one pixel, erase a strip
	x = x * torch.empty(n, 1, 1, 1).uniform_(0.7, 1.3)
	x = x + torch.randn_like(x) * torch.empty(n, 1, 1, 1).uniform_(0, 0.3)
	dx = int(torch.randint(-1, 2, (1,)))
	dy = int(torch.randint(-1, 2, (1,)))
	x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
	return x


def load_onnx(net, path):
	"""Start from a trained model: the ONNX file's weights (batch norms
	folded into the convolutions by the export, so they start as the
	identity and stay frozen)."""
	import cv2
	src = cv2.dnn.readNetFromONNX(path)
	blobs = {}
	for name in src.getLayerNames():
		b = src.getLayer(name).blobs
		if b:
			blobs[name.split('/')[-2]] = b
	with torch.no_grad():
		for key, mod in (('c1', net.c1), ('c2', net.c2), ('c3', net.c3),
				 ('f1', net.f1), ('f2', net.f2)):
			w, b = blobs[key]
			mod.weight.copy_(torch.from_numpy(w).reshape(mod.weight.shape))
			mod.bias.copy_(torch.from_numpy(b).reshape(-1))
		for bn in (net.b1, net.b2, net.b3):
			bn.weight.fill_(1.0)
			bn.bias.zero_()
			bn.running_mean.zero_()
			bn.running_var.fill_(1.0 - bn.eps)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument('--data', required=True, nargs='+')
	ap.add_argument('--epochs', type=int, default=10)
	ap.add_argument('--per-epoch', type=int, default=60000,
		help='samples drawn per epoch')
	ap.add_argument('--seed', type=int, default=1)
	ap.add_argument('--init', help='start from this ONNX model (fine-tune)')
	ap.add_argument('--max-lr', type=float, default=3e-3)
	ap.add_argument('--distill', type=float, default=0.0,
		help='with --init: on the first --data file, this share of the '
		'loss is the cross-entropy with the initial model\'s own '
		'probabilities (keeps what it reads right while the other '
		'files teach it more)')
	ap.add_argument('--out', required=True)
	args = ap.parse_args()
	torch.set_num_threads(1)
	torch.manual_seed(args.seed)
	Xs, Ys = [], []
	nkeep = 0
	for p in args.data:
		d = np.load(p)
		Xs.append(d['X'].astype(np.float32))
		Ys.append(d['Y'])
		if not nkeep:
			nkeep = len(Ys[0])
	X = torch.from_numpy(np.concatenate(Xs))[:, None]
	Y = torch.from_numpy(np.concatenate(Ys))
	n = X.shape[0]
	perm = torch.randperm(n)
	nval = min(3000, n // 20)
	vi, ti = perm[:nval], perm[nval:]
	# class weights: noise is plentiful, rare letters are not
	cnt = torch.bincount(Y[ti], minlength=NCLASS).float().clamp(min=1)
	w = (cnt.sum() / cnt / NCLASS).clamp(0.5, 3.0)
	net = GlyphNet()
	if args.init:
		load_onnx(net, args.init)
		net.eval()
		with torch.no_grad():
			pv = net(X[vi]).argmax(1)
		print('initial val %.4f' % float((pv == Y[vi]).float().mean()),
		      flush=True)
	teacher = None
	if args.init and args.distill > 0:
		teacher = copy.deepcopy(net).eval()
	keep = torch.zeros(n, dtype=torch.bool)
	keep[:nkeep] = True
	opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
	sched = torch.optim.lr_scheduler.OneCycleLR(
		opt, max_lr=args.max_lr,
		total_steps=args.epochs * ((min(args.per_epoch, len(ti)) + 127) // 128))
	for ep in range(args.epochs):
		t0 = time.time()
		net.train()
		if args.init:   # the folded batch norms stay the identity
			for bn in (net.b1, net.b2, net.b3):
				bn.eval()
		order = ti[torch.randperm(len(ti))][:args.per_epoch]
		tot = 0.0
		for i in range(0, len(order), 128):
			b = order[i:i + 128]
			xb = augment(X[b])
			out = net(xb)
			if teacher is None:
				loss = F.cross_entropy(out, Y[b], weight=w,
						       label_smoothing=0.05)
			else:
				per = F.cross_entropy(out, Y[b], weight=w,
						      label_smoothing=0.05,
						      reduction='none')
				k = keep[b]
				if k.any():
					with torch.no_grad():
						t = F.softmax(teacher(xb[k]), 1)
					soft = -(t * F.log_softmax(out[k], 1)).sum(1)
					per[k] = (args.distill * soft +
						  (1 - args.distill) * per[k])
				loss = per.mean()
			opt.zero_grad()
			loss.backward()
			opt.step()
			sched.step()
			tot += float(loss) * len(b)
		net.eval()
		with torch.no_grad():
			pv = net(X[vi]).argmax(1)
		acc = float((pv == Y[vi]).float().mean())
		print('epoch %d loss %.4f val %.4f (%.0f s)'
		      % (ep, tot / len(order), acc, time.time() - t0), flush=True)
	net.eval()
	dummy = torch.zeros(1, 1, 32, 24)
	torch.onnx.export(net, dummy, args.out, opset_version=11,
			  input_names=['input'], output_names=['logits'],
			  dynamic_axes={'input': {0: 'n'}, 'logits': {0: 'n'}})
	print('wrote', args.out)


if __name__ == '__main__':
	main()
