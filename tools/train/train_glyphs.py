#!/usr/bin/python3
"""Train the glyph classifier and export it to ONNX for cv::dnn.

Input: 1x32x24 normalised glyph windows (see plateseg.patch); output: 36
logits (35 characters with O folded into 0, then noise).  The export uses
opset 11 and torch.flatten (a dynamic reshape breaks OpenCV 4.6's FC layer).

Usage: train_glyphs.py --data build/train/glyphs-a.npz --epochs 10 \
	--out models/glyph-cnn.onnx
"""
import argparse
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


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument('--data', required=True, nargs='+')
	ap.add_argument('--epochs', type=int, default=10)
	ap.add_argument('--per-epoch', type=int, default=60000,
		help='samples drawn per epoch')
	ap.add_argument('--seed', type=int, default=1)
	ap.add_argument('--out', required=True)
	args = ap.parse_args()
	torch.set_num_threads(1)
	torch.manual_seed(args.seed)
	Xs, Ys = [], []
	for p in args.data:
		d = np.load(p)
		Xs.append(d['X'].astype(np.float32))
		Ys.append(d['Y'])
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
	opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
	sched = torch.optim.lr_scheduler.OneCycleLR(
		opt, max_lr=3e-3,
		total_steps=args.epochs * ((min(args.per_epoch, len(ti)) + 127) // 128))
	for ep in range(args.epochs):
		t0 = time.time()
		net.train()
		order = ti[torch.randperm(len(ti))][:args.per_epoch]
		tot = 0.0
		for i in range(0, len(order), 128):
			b = order[i:i + 128]
			out = net(augment(X[b]))
			loss = F.cross_entropy(out, Y[b], weight=w, label_smoothing=0.05)
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
