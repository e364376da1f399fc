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
	   ink=30, paper=225, char_h=0.42, spacing=0.12, rng=None, glyph_wh=None):
	"""Returns (grey uint8 image, [((x, y, w, h), ch)]).

	glyph_wh: None (the training set's plates): the font as it is, shrunk
	as a whole when the text is too wide for the plate.  A number: plate
	proportions, as stamped plates have them: every glyph drawn into the
	cap height (a J's descender too) at char_h of the plate, and the row
	condensed so that an H is glyph_wh as wide as high (plate fonts are
	about 0.5; DejaVu Sans Condensed Bold is 1.0, its W 1.35)."""
	W, H = size
	img = Image.new('L', (W, H), paper)
	d = ImageDraw.Draw(img)
	# plate border
	d.rounded_rectangle((3, 3, W - 4, H - 4), radius=10, outline=ink, width=3)
	target = char_h * H
	if glyph_wh is not None:
		boxes = _plate_row(img, text, font_path, target, glyph_wh,
				   spacing, ink)
		_state_text(d, W, H, ink, top_text, bottom_text)
		return np.asarray(img, dtype=np.uint8).copy(), boxes
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
	_state_text(d, W, H, ink, top_text, bottom_text)
	return np.asarray(img, dtype=np.uint8).copy(), boxes


def _plate_row(img, text, font_path, target, glyph_wh, spacing, ink):
	"""The character row at plate proportions (render()'s glyph_wh)."""
	W, H = img.size
	font = ImageFont.truetype(font_path, 200)
	hb = font.getbbox('H')
	sx = glyph_wh * (hb[3] - hb[1]) / float(hb[2] - hb[0])
	masks = []
	for ch in text:
		b = font.getbbox(ch)
		m = Image.new('L', (b[2] - b[0], b[3] - b[1]), 0)
		ImageDraw.Draw(m).text((-b[0], -b[1]), ch, fill=255, font=font)
		masks.append((m, (b[2] - b[0]) * sx / float(hb[3] - hb[1])))
	gap = spacing * target
	total = sum(r * target for _, r in masks) + gap * (len(text) - 1)
	k = min(1.0, (W - 16) / float(total))
	th = target * k
	gap *= k
	x = (W - total * k) / 2.0
	y = int(round((H - th) / 2.0 + 0.04 * H))
	boxes = []
	for ch, (m, r) in zip(text, masks):
		w = max(1, int(round(r * th)))
		h = max(1, int(round(th)))
		img.paste(ink, (int(round(x)), y, int(round(x)) + w, y + h),
			  m.resize((w, h), Image.LANCZOS))
		boxes.append(((int(round(x)), y, w, h), ch))
		x += r * th + gap
	return boxes


def _state_text(d, W, H, ink, top_text, bottom_text):
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
