"""Plates rendered from Debian fonts (no real glyphs): for the unit-test
plates in tests/data/plates and as a small share of the training data, so
that clean printed plates of every supported format read as well.

Fonts: DejaVu Sans (Condensed) Bold always; Bebas Neue, OSP-DIN and Roboto
Condensed when installed (fonts-bebas-neue, fonts-opendin,
fonts-roboto-unhinted).
"""
import glob
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_GLOBS = [
	'/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf',
	'/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
	'/usr/share/fonts/*/bebas-neue/*.[ot]tf',
	'/usr/share/fonts/*/*/BebasNeue*.[ot]tf',
	'/usr/share/fonts/*/opendin/*.ttf',
	'/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf',
	'/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/RobotoCondensed-Bold.ttf',
]
STATE_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'


def fonts():
	out = []
	for g in FONT_GLOBS:
		out += sorted(glob.glob(g))
	return [f for f in dict.fromkeys(out) if os.path.exists(f)]


def render(text, font_path, top_text=None, bottom_text=None, size=(320, 156),
	   ink=30, paper=225, char_h=0.42, spacing=0.12, rng=None):
	"""Returns (grey uint8 image, [((x, y, w, h), ch)])."""
	W, H = size
	img = Image.new('L', (W, H), paper)
	d = ImageDraw.Draw(img)
	# plate border
	d.rounded_rectangle((3, 3, W - 4, H - 4), radius=10, outline=ink, width=3)
	target = char_h * H
	font = ImageFont.truetype(font_path, 20)
	box = font.getbbox('H')
	fs = max(8, int(round(20 * target / float(box[3] - box[1]))))
	font = ImageFont.truetype(font_path, fs)
	widths = []
	for ch in text:
		b = font.getbbox(ch)
		widths.append(b[2] - b[0])
	gap = spacing * target
	total = sum(widths) + gap * (len(text) - 1)
	if total > W - 16:      # squeeze horizontally by shrinking the font
		k = (W - 16) / float(total)
		fs = max(8, int(fs * k))
		font = ImageFont.truetype(font_path, fs)
		widths = [font.getbbox(ch)[2] - font.getbbox(ch)[0] for ch in text]
		gap *= k
		total = sum(widths) + gap * (len(text) - 1)
	x = (W - total) / 2.0
	hb = font.getbbox('H')
	y = (H - (hb[3] - hb[1])) / 2.0 - hb[1] + 0.04 * H
	boxes = []
	for ch, w in zip(text, widths):
		b = font.getbbox(ch)
		d.text((x - b[0], y), ch, fill=ink, font=font)
		boxes.append(((int(x), int(y + b[1]), int(w), int(b[3] - b[1])), ch))
		x += w + gap
	if top_text:
		sf = ImageFont.truetype(STATE_FONT, int(0.13 * H))
		tb = sf.getbbox(top_text)
		d.text(((W - (tb[2] - tb[0])) / 2.0 - tb[0], 0.06 * H - tb[1] + 4),
		       top_text, fill=ink, font=sf)
	if bottom_text:
		sf = ImageFont.truetype(STATE_FONT, int(0.09 * H))
		tb = sf.getbbox(bottom_text)
		d.text(((W - (tb[2] - tb[0])) / 2.0 - tb[0], 0.82 * H - tb[1]),
		       bottom_text, fill=ink, font=sf)
	return np.asarray(img, dtype=np.uint8).copy(), boxes
