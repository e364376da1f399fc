#!/usr/bin/python3
"""Generate the sample drive: a road scene seen from a patrol car's plate
camera, with cars carrying rendered US plates, deterministic from a seed.

Writes into OUT:
  frames/frame-NNNNN.jpg   1280x720 JPEG frames, in replay (name) order
  truth.json               per frame: plate, state, box, corners of every
                           plate inside the frame whose characters no
                           nearer car covers (hides()); per vehicle pass:
                           plate, state, first and last frame, hot-list role
  truth.tsv                the same per-frame boxes, one a line, for shells
  hotlist.txt              a sample hot list in the delimited format
                           (alpr-hotlist(5)) naming some of the drive's cars
  route.nmea               a gpsfake route (RMC+GGA at 1 Hz, valid
                           checksums, dated --date) for the drive

Everything but the dates (--date, default today UTC) depends on --seed
alone: the same seed gives the same bytes.

Plates are drawn by the recognizer's training renderer
(tools/train/fontplate.py, Debian fonts, no real glyphs) at plate
proportions (PLATE_GLYPH_WH) when it is in the tree, else by a small
OpenCV Hershey-font fallback below.

Usage: gen-drive.py --out build/drive [--seed 9] [--frames 300]
	[--vehicles 12] [--date YYYY-MM-DD]
"""
import argparse
import datetime
import json
import math
import os
import random
import sys

import cv2
import numpy as np

W, H = 1280, 720
FPS = 30
HORIZON = 250
VP_X = 640

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'train'))
try:
	import fontplate	# noqa: E402  (tools/train, the recognizer's)
	PLATE_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf'
	if not os.path.exists(PLATE_FONT):
		fontplate = None
except ImportError:
	fontplate = None

# State, printed name, slogan, format (# digit, @ letter), paper, ink,
# banner colour (BGR); CA weighted most: the sheriff's office is there.
STATES = [
	('CA', 'California', 'DMV.CA.GOV', '#@@@###', (235, 235, 235), (110, 40, 20), (40, 40, 190), 10),
	('AZ', 'ARIZONA', 'GRAND CANYON STATE', '@@@####', (200, 225, 235), (60, 60, 120), (60, 90, 170), 2),
	('NV', 'NEVADA', 'HOME MEANS NEVADA', '###@@@', (235, 225, 205), (120, 60, 20), (140, 80, 30), 2),
	('OR', 'OREGON', '', '###@@@', (225, 235, 225), (40, 60, 30), (60, 110, 40), 1),
	('TX', 'TEXAS', 'THE LONE STAR STATE', '@@@####', (235, 235, 235), (30, 30, 30), (120, 50, 30), 2),
	('WA', 'WASHINGTON', '', '@@@####', (235, 235, 240), (100, 40, 30), (100, 40, 30), 1),
	('NY', 'NEW YORK', 'EMPIRE STATE', '@@@####', (225, 240, 245), (110, 50, 20), (30, 150, 220), 1),
]
# No I, O, Q: most states leave them out of serial plates.
LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ'
DIGITS = '0123456789'
# One character for another an OCR confuses it with (hot-list near miss).
CONFUSE = {'8': 'B', 'B': '8', '5': 'S', 'S': '5', '2': 'Z', 'Z': '2',
	   '0': 'D', 'D': '0', '6': 'G', 'G': '6'}

PLATE_W, PLATE_H = 320, 156
# Glyph width / height of an H on the drive's plates: stamped plate fonts
# are condensed (California's ~0.45-0.5, its W no wider than high).  The
# font as it is (DejaVu Sans Condensed Bold: H 1.0, W 1.35, J below the
# baseline) gave glyphs a third of the plate high and W, M read as two.
PLATE_GLYPH_WH = 0.5


def plate_text(rng, fmt):
	return ''.join(rng.choice(DIGITS) if c == '#' else rng.choice(LETTERS) for c in fmt)


def render_plate(text, st, rng):
	"""A colour plate image (PLATE_H x PLATE_W x 3)."""
	code, name, slogan, _, paper, ink, banner, _ = st
	if fontplate is not None:
		g, _ = fontplate.render(text, PLATE_FONT, top_text=name, bottom_text=slogan or None,
					size=(PLATE_W, PLATE_H), ink=30, paper=225,
					glyph_wh=PLATE_GLYPH_WH)
	else:
		img = np.full((PLATE_H, PLATE_W), 225, np.uint8)
		cv2.rectangle(img, (3, 3), (PLATE_W - 4, PLATE_H - 4), 30, 3)
		f = cv2.FONT_HERSHEY_DUPLEX
		(tw, th), _ = cv2.getTextSize(text, f, 2.6, 7)
		k = min(1.0, (PLATE_W - 24) / float(tw))
		(tw, th), _ = cv2.getTextSize(text, f, 2.6 * k, 7)
		cv2.putText(img, text, ((PLATE_W - tw) // 2, (PLATE_H + th) // 2 + 6), f,
			    2.6 * k, 30, 7, cv2.LINE_AA)
		(nw, nh), _ = cv2.getTextSize(name, f, 0.8, 2)
		cv2.putText(img, name, ((PLATE_W - nw) // 2, 12 + nh), f, 0.8, 30, 2, cv2.LINE_AA)
		g = img
	# Grey to colour: ink where dark, paper where light; the banner (the
	# top fifth, the state name) in the state's banner colour.
	a = np.clip((225.0 - g.astype(np.float32)) / 195.0, 0, 1)[..., None]
	inkc = np.empty((PLATE_H, PLATE_W, 3), np.float32)
	inkc[:] = ink
	inkc[:int(0.26 * PLATE_H)] = banner
	out = np.asarray(paper, np.float32) * (1 - a) + inkc * a
	# Bolt holes
	for x in (PLATE_W // 4, 3 * PLATE_W // 4):
		cv2.circle(out, (x, 12), 4, (90, 90, 90), -1, cv2.LINE_AA)
	return np.clip(out, 0, 255).astype(np.uint8)


def background(rng):
	"""Sky/buildings gradient, road and verges: drawn once."""
	img = np.zeros((H, W, 3), np.uint8)
	t = np.linspace(0, 1, HORIZON, dtype=np.float32)[:, None]
	sky = (1 - t) * np.array([210, 160, 110], np.float32) + t * np.array([235, 220, 205], np.float32)
	img[:HORIZON] = sky[:, None, :].astype(np.uint8)
	x = 0
	while x < W:
		bw = rng.randint(50, 140)
		bh = rng.randint(40, 170)
		c = rng.randint(90, 170)
		col = (c, c + rng.randint(-10, 10), c + rng.randint(0, 25))
		cv2.rectangle(img, (x, HORIZON - bh), (x + bw, HORIZON), col, -1)
		for wy in range(HORIZON - bh + 8, HORIZON - 10, 16):
			for wx in range(x + 6, x + bw - 10, 14):
				cv2.rectangle(img, (wx, wy), (wx + 6, wy + 8), (c - 40, c - 35, c - 20), -1)
		x += bw + rng.randint(0, 12)
	t = np.linspace(0, 1, H - HORIZON, dtype=np.float32)[:, None]
	ground = (1 - t) * np.array([110, 130, 120], np.float32) + t * np.array([70, 95, 80], np.float32)
	img[HORIZON:] = ground[:, None, :].astype(np.uint8)
	road = np.array([[VP_X - 30, HORIZON], [VP_X + 30, HORIZON], [W + 500, H], [-500, H]], np.int32)
	cv2.fillPoly(img, [road], (88, 90, 92))
	for side in (-1, 1):
		cv2.line(img, (VP_X + side * 28, HORIZON), (VP_X + side * (W // 2 + 480), H),
			 (200, 200, 200), 3, cv2.LINE_AA)
	noise = np.random.RandomState(rng.randint(0, 2 ** 31)).normal(0, 2.5, img.shape)
	return np.clip(img + noise, 0, 255).astype(np.uint8)


def lane_marks(img, frame):
	"""Dashed lane lines that flow toward the camera as the car drives."""
	for side in (-1, 1):
		for k in range(12):
			# Distance along the road, 1/z spacing, moving with time.
			d0 = ((k + (frame * 0.08)) % 12) / 12.0
			d1 = d0 + 0.035
			y0 = HORIZON + (H - HORIZON) * d0 ** 2
			y1 = HORIZON + (H - HORIZON) * min(1.0, d1 ** 2)
			def xat(y):
				return VP_X + side * 0.55 * (y - HORIZON) * (W / 2.0) / (H - HORIZON) * 1.6
			w = max(1, int(1 + 10 * d0))
			cv2.line(img, (int(xat(y0)), int(y0)), (int(xat(y1)), int(y1)), (215, 215, 215), w)


class Vehicle:
	pass


ROLES = ['stolen-vehicle', 'felony-vehicle', 'wanted', 'near-miss', 'state-mismatch',
	 'wildcard-bolo']


def schedule(rng, n_frames, n_vehicles):
	"""Vehicle passes: lanes, timing, sizes, looks.  Each lane's time is cut
	into equal slots, one car per slot, so that no pass is cut short by the
	end of the drive and no car hides another's plate for long."""
	lanes = [0, -1, 1]
	per_lane = [sum(1 for i in range(n_vehicles) if i % 3 == k) for k in range(3)]
	vs = []
	for i in range(n_vehicles):
		v = Vehicle()
		v.lane = lanes[i % 3]
		slot = n_frames // per_lane[i % 3]
		v.length = min(rng.randint(42, 72), slot - 3)
		v.start = (i // 3) * slot + rng.randint(0, slot - 3 - v.length)
		v.end = v.start + v.length - 1
		v.approach = rng.random() < 0.6	# growing (closing in) or shrinking
		# Car width in px, far and near: the side lanes stay nearer the
		# horizon so that their plates stay in the frame.
		if v.lane == 0:
			v.w0, v.w1 = rng.uniform(240, 330), rng.uniform(620, 820)
		else:
			v.w0, v.w1 = rng.uniform(220, 290), rng.uniform(430, 520)
		v.plate_k = rng.uniform(0.19, 0.25)	# plate width / car width
		v.roll = rng.uniform(-4, 4)	# degrees
		v.yaw = rng.uniform(-0.09, 0.09)	# one side shorter
		v.blur = rng.choice([0, 0, 0.6, 0.9, 1.3])
		v.motion = rng.random() < 0.2
		v.colour = tuple(rng.randint(30, 220) for _ in range(3))
		v.height_k = rng.uniform(0.62, 0.8)	# car height / width
		v.st = rng.choices(STATES, weights=[s[7] for s in STATES])[0]
		v.role = None
		vs.append(v)
	vs.sort(key=lambda v: (v.start, v.lane))
	for i, v in enumerate(vs):
		v.id = i + 1
	# One car per hot-list role, spread over the drive (day and night).
	for role, v in zip(ROLES, rng.sample(vs, len(ROLES))):
		v.role = role
		if role == 'state-mismatch' and v.st[0] == 'CA':
			v.st = rng.choice([s for s in STATES if s[0] != 'CA'])
	# Distinct plates (a repeat would make the per-vehicle truth ambiguous);
	# the near miss needs a character OCR confuses with another.
	seen = set()
	for v in vs:
		v.state = v.st[0]
		while True:
			v.plate = plate_text(rng, v.st[3])
			if v.plate in seen:
				continue
			if v.role == 'near-miss' and not any(c in CONFUSE for c in v.plate):
				continue
			break
		seen.add(v.plate)
	return vs


def geometry(v, frame):
	"""Car box (x, y, w, h) in the frame, and the plate's four corners."""
	t = (frame - v.start) / float(max(1, v.end - v.start))
	if not v.approach:
		t = 1 - t
	t = t * t * (3 - 2 * t) * 0.4 + t * 0.6	# a little easing
	w = v.w0 + (v.w1 - v.w0) * t
	bottom = HORIZON + 0.42 * w
	cx = VP_X + v.lane * 0.95 * w
	h = v.height_k * w
	car = (cx - w / 2, bottom - h, w, h)
	pw = v.plate_k * w
	ph = pw * PLATE_H / PLATE_W
	pcx = cx + v.lane * 0.04 * w
	pcy = bottom - 0.28 * h
	a = math.radians(v.roll)
	ca, sa = math.cos(a), math.sin(a)
	corners = []
	for (dx, dy) in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
		# Yaw: one side of the plate a little shorter than the other.
		yk = 1 + v.yaw * dx
		x = dx * pw / 2
		y = dy * ph / 2 * yk
		corners.append((pcx + x * ca - y * sa, pcy + x * sa + y * ca))
	return car, corners


def draw_car(img, v, car, night):
	x, y, w, h = car
	col = v.colour if not night else tuple(int(c * 0.3) for c in v.colour)
	x0, y0, x1, y1 = int(x), int(y), int(x + w), int(y + h)
	# Body, shaded darker toward the bottom.
	cv2.rectangle(img, (x0, y0 + int(0.35 * h)), (x1, y1 - int(0.08 * h)), col, -1)
	dark = tuple(int(c * 0.7) for c in col)
	cv2.rectangle(img, (x0, y0 + int(0.75 * h)), (x1, y1 - int(0.08 * h)), dark, -1)
	# Cabin and rear window.
	cab = np.array([[x0 + 0.12 * w, y0 + 0.36 * h], [x0 + 0.22 * w, y0],
			[x1 - 0.22 * w, y0], [x1 - 0.12 * w, y0 + 0.36 * h]], np.int32)
	cv2.fillPoly(img, [cab], col)
	win = np.array([[x0 + 0.18 * w, y0 + 0.33 * h], [x0 + 0.25 * w, y0 + 0.05 * h],
			[x1 - 0.25 * w, y0 + 0.05 * h], [x1 - 0.18 * w, y0 + 0.33 * h]], np.int32)
	cv2.fillPoly(img, [win], (40, 35, 30) if not night else (10, 10, 10))
	# Lights and wheels.
	lc = (30, 30, 200) if not night else (60, 60, 255)
	cv2.rectangle(img, (x0 + int(0.04 * w), y0 + int(0.42 * h)),
		      (x0 + int(0.18 * w), y0 + int(0.52 * h)), lc, -1)
	cv2.rectangle(img, (x1 - int(0.18 * w), y0 + int(0.42 * h)),
		      (x1 - int(0.04 * w), y0 + int(0.52 * h)), lc, -1)
	for wx in (x0 + int(0.06 * w), x1 - int(0.22 * w)):
		cv2.rectangle(img, (wx, y1 - int(0.12 * h)), (wx + int(0.16 * w), y1), (20, 20, 20), -1)


def paste_plate(img, plate_img, corners, v, night):
	"""Warp the plate onto the frame, only within its bounding box."""
	xs = [c[0] for c in corners]
	ys = [c[1] for c in corners]
	bx0, by0 = max(0, int(min(xs)) - 4), max(0, int(min(ys)) - 4)
	bx1, by1 = min(W, int(max(xs)) + 5), min(H, int(max(ys)) + 5)
	if bx1 <= bx0 or by1 <= by0:
		return
	src = np.float32([[0, 0], [PLATE_W, 0], [PLATE_W, PLATE_H], [0, PLATE_H]])
	dst = np.float32([[x - bx0, y - by0] for x, y in corners])
	m = cv2.getPerspectiveTransform(src, dst)
	size = (bx1 - bx0, by1 - by0)
	warped = cv2.warpPerspective(plate_img, m, size, flags=cv2.INTER_AREA)
	mask = cv2.warpPerspective(np.full((PLATE_H, PLATE_W), 255, np.uint8), m, size,
				   flags=cv2.INTER_LINEAR)
	roi = img[by0:by1, bx0:bx1]
	a = (mask.astype(np.float32) / 255.0)[..., None]
	roi[:] = (warped * a + roi * (1 - a)).astype(np.uint8)
	if v.blur > 0:
		roi[:] = cv2.GaussianBlur(roi, (0, 0), v.blur)
	if v.motion:
		k = np.zeros((1, 5), np.float32)
		k[:] = 1 / 5.0
		roi[:] = cv2.filter2D(roi, -1, k)


def inside(corners):
	return all(1 <= x < W - 1 and 1 <= y < H - 1 for x, y in corners)


def box_of(corners):
	xs = [c[0] for c in corners]
	ys = [c[1] for c in corners]
	x0, y0 = int(math.floor(min(xs))), int(math.floor(min(ys)))
	return [x0, y0, int(math.ceil(max(xs))) - x0, int(math.ceil(max(ys))) - y0]


# The plate's characters lie within this share of its width and height from
# each edge inward (fontplate.render at PLATE_GLYPH_WH: the glyphs span 38-281
# of the 320 px, the top quarter holds the state's name).
GLYPH_MX, GLYPH_MY = 0.1, 0.2


def hides(car, b):
	"""True if the car's box (x, y, w, h) covers part of the characters of
	the plate whose box is b: a nearer car over the rim alone leaves every
	character visible and the plate readable (it was counted out of view
	from the first pixel of overlap, then read by the recognizer for
	frames on end)."""
	x, y, w, h = car
	gx0, gx1 = b[0] + GLYPH_MX * b[2], b[0] + (1 - GLYPH_MX) * b[2]
	gy0, gy1 = b[1] + GLYPH_MY * b[3], b[1] + (1 - GLYPH_MY) * b[3]
	return not (gx1 <= x or gx0 >= x + w or gy1 <= y or gy0 >= y + h)


def hotlist(vs, rng, date):
	"""The sample hot list: one entry of each kind the demo shows, plus
	some entries for cars that do not pass."""
	by_role = {v.role: v for v in vs if v.role}
	expiry = (date + datetime.timedelta(days=180)).isoformat()
	lines = ['plate;state;category;priority;expiry;case;reason;description;source']
	entries = []

	def add(plate, state, cat, prio, case, reason, desc):
		lines.append(';'.join([plate, state, cat, str(prio), expiry, case, reason, desc,
				       'demo']))
		entries.append({'plate': plate, 'state': state, 'category': cat})

	for i in range(3):
		add(plate_text(rng, '#@@@###'), 'CA', 'stolen-vehicle', 60, 'DEMO-%04d' % i,
		    'stolen vehicle report', 'sedan')
	v = by_role.get('stolen-vehicle')
	if v:
		add(v.plate, v.state, 'stolen-vehicle', 60, 'DEMO-1001', 'stolen vehicle report',
		    'sedan, colour as seen')
	v = by_role.get('felony-vehicle')
	if v:
		add(v.plate, v.state, 'felony-vehicle', 80, 'DEMO-1002', 'vehicle used in armed robbery',
		    'suspect vehicle')
	v = by_role.get('wanted')
	if v:
		add(v.plate, v.state, 'wanted', 70, 'DEMO-1003', 'registered owner has a felony warrant',
		    'match the driver to the description')
	v = by_role.get('near-miss')
	if v:
		# One character swapped for one OCR confuses it with: only an
		# OCR-tolerant match finds it.
		i = [k for k, c in enumerate(v.plate) if c in CONFUSE][0]
		p = v.plate[:i] + CONFUSE[v.plate[i]] + v.plate[i + 1:]
		v.listed = p
		add(p, v.state, 'stolen-plate', 50, 'DEMO-1004', 'stolen plate', 'plate only')
	v = by_role.get('state-mismatch')
	if v:
		# Same characters, another state: the alert must say the state
		# does not match.
		other = 'CA'
		v.listed_state = other
		add(v.plate, other, 'stolen-vehicle', 60, 'DEMO-1005', 'stolen vehicle report',
		    'listed in another state')
	v = by_role.get('wildcard-bolo')
	if v:
		p = v.plate[:3] + '?' + v.plate[4:6] + '*'
		v.listed = p
		add(p, '', 'bolo', 40, 'DEMO-1006', 'witness saw a partial plate', 'hit and run')
	return '\n'.join(lines) + '\n', entries


def nmea_sentence(body):
	c = 0
	for ch in body:
		c ^= ord(ch)
	return '$%s*%02X\r\n' % (body, c)


def route(date, seconds, seed):
	"""RMC and GGA at 1 Hz along a loop in Martinez, CA, about 12 m/s."""
	lat0, lon0 = 38.0194, -122.1341
	rng = random.Random(seed)
	heading = rng.uniform(0, 360)
	lat, lon = lat0, lon0
	out = []
	t0 = datetime.datetime(date.year, date.month, date.day, 8, 0, 0)
	for s in range(seconds):
		t = t0 + datetime.timedelta(seconds=s)
		heading = (heading + 3.0) % 360	# a slow loop
		speed = 12.0
		lat += speed * math.cos(math.radians(heading)) / 111320.0
		lon += speed * math.sin(math.radians(heading)) / (111320.0 * math.cos(math.radians(lat)))

		def dm(v, pos, neg, w):
			h = pos if v >= 0 else neg
			v = abs(v)
			d = int(v)
			return '%0*d%07.4f' % (w, d, (v - d) * 60), h
		la, lh = dm(lat, 'N', 'S', 2)
		lo, oh = dm(lon, 'E', 'W', 3)
		hms = t.strftime('%H%M%S') + '.00'
		out.append(nmea_sentence('GPRMC,%s,A,%s,%s,%s,%s,%.1f,%.1f,%s,,,A' % (
			hms, la, lh, lo, oh, speed * 1.943844, heading, t.strftime('%d%m%y'))))
		out.append(nmea_sentence('GPGGA,%s,%s,%s,%s,%s,1,09,0.9,%.1f,M,-28.0,M,,' % (
			hms, la, lh, lo, oh, 12.0)))
	return ''.join(out)


def main():
	ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
	ap.add_argument('--out', required=True)
	ap.add_argument('--seed', type=int, default=9)
	ap.add_argument('--frames', type=int, default=300)
	ap.add_argument('--vehicles', type=int, default=12)
	ap.add_argument('--night-from', type=float, default=0.7,
			help='share of the drive after which frames have the IR night look')
	ap.add_argument('--date', default=None, help='YYYY-MM-DD for the route and expiries')
	ap.add_argument('--quality', type=int, default=85)
	args = ap.parse_args()
	if args.frames < 60 or args.vehicles < 6 or args.vehicles > 3 * (args.frames // 45):
		ap.error('need frames >= 60 and 6 <= vehicles <= 3 * (frames / 45)')
	date = (datetime.date.fromisoformat(args.date) if args.date
		else datetime.datetime.now(datetime.timezone.utc).date())

	rng = random.Random(args.seed)
	nprng = np.random.RandomState(args.seed)
	bg = background(rng)
	vs = schedule(rng, args.frames, args.vehicles)
	plates = {v.id: render_plate(v.plate, v.st, rng) for v in vs}
	hl_text, hl_entries = hotlist(vs, random.Random(args.seed + 1), date)
	night_from = int(args.frames * args.night_from)

	fdir = os.path.join(args.out, 'frames')
	os.makedirs(fdir, exist_ok=True)
	if os.path.exists(os.path.join(args.out, 'truth.json')):
		os.unlink(os.path.join(args.out, 'truth.json'))
	for f in os.listdir(fdir):
		if f.startswith('frame-') and f.endswith('.jpg'):
			os.unlink(os.path.join(fdir, f))
	truth_frames = []
	seen = {v.id: [] for v in vs}
	noise = nprng.normal(0, 7, (H, W)).astype(np.float32)
	for fr in range(args.frames):
		night = fr >= night_from
		img = bg.copy()
		if night:
			img = (img * 0.22).astype(np.uint8)
		lane_marks(img, fr)
		live = [v for v in vs if v.start <= fr <= v.end]
		geo = {v.id: geometry(v, fr) for v in live}
		# Far cars first, so a near one covers them.
		live.sort(key=lambda v: geo[v.id][0][2])
		recs = []
		for k, v in enumerate(live):
			car, corners = geo[v.id]
			draw_car(img, v, car, night)
			p = plates[v.id]
			if night:
				# Retro-reflective under IR: paper bright, ink dark.
				gp = cv2.cvtColor(p, cv2.COLOR_BGR2GRAY)
				gp = cv2.normalize(gp, None, 15, 245, cv2.NORM_MINMAX)
				p = cv2.cvtColor(gp, cv2.COLOR_GRAY2BGR)
			paste_plate(img, p, corners, v, night)
			b = box_of(corners)
			hidden = any(hides(geo[u.id][0], b) for u in live[k + 1:])
			if inside(corners) and not hidden:
				recs.append({'vehicle': v.id, 'plate': v.plate, 'state': v.state, 'box': b,
					     'corners': [[round(x, 1), round(y, 1)] for x, y in corners]})
				seen[v.id].append(fr)
		if night:
			g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
			g += np.roll(noise, fr * 37, axis=1)
			img = np.clip(g, 0, 255).astype(np.uint8)
		name = 'frame-%05d.jpg' % fr
		cv2.imwrite(os.path.join(fdir, name), img, [cv2.IMWRITE_JPEG_QUALITY, args.quality])
		truth_frames.append({'frame': fr, 'file': name, 'night': night,
				     'plates': sorted(recs, key=lambda r: r['vehicle'])})

	vehicles = []
	for v in vs:
		fs = seen[v.id]
		e = {'vehicle': v.id, 'plate': v.plate, 'state': v.state,
		     'first_frame': fs[0] if fs else None, 'last_frame': fs[-1] if fs else None,
		     'frames_in_view': len(fs), 'night': bool(fs) and fs[0] >= night_from,
		     'hotlist': v.role}
		if getattr(v, 'listed', None):
			e['listed_plate'] = v.listed
		if getattr(v, 'listed_state', None):
			e['listed_state'] = v.listed_state
		vehicles.append(e)
	truth = {'generator': 'tools/drive/gen-drive.py', 'seed': args.seed, 'frames': args.frames,
		 'fps': FPS, 'width': W, 'height': H, 'night_from_frame': night_from,
		 'plate_renderer': 'tools/train/fontplate.py' if fontplate else 'opencv-hershey',
		 'vehicles': vehicles, 'hotlist': hl_entries, 'frame_truth': truth_frames}
	with open(os.path.join(args.out, 'truth.tsv'), 'w') as f:
		f.write('# frame\tfile\tvehicle\tplate\tstate\tx\ty\tw\th\n')
		for t in truth_frames:
			for r in t['plates']:
				f.write('%d\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\n' % (
					t['frame'], t['file'], r['vehicle'], r['plate'], r['state'],
					*r['box']))
	with open(os.path.join(args.out, 'hotlist.txt'), 'w') as f:
		f.write(hl_text)
	with open(os.path.join(args.out, 'route.nmea'), 'w', newline='') as f:
		f.write(route(date, max(120, args.frames // FPS + 60), args.seed))
	# Last: its presence says the drive is complete (make's target).
	with open(os.path.join(args.out, 'truth.json'), 'w') as f:
		json.dump(truth, f, indent=1, sort_keys=True)
		f.write('\n')
	print('gen-drive: %d frames, %d vehicles, %d hot-list entries in %s' % (
		args.frames, len(vs), len(hl_entries), args.out))


if __name__ == '__main__':
	main()
