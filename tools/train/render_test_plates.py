#!/usr/bin/python3
"""Render the unit-test plates (tests/data/plates): one plate per supported
US format, from Debian's DejaVu font only (no development data), with a
state name on top so the state guess is tested too.

Usage: render_test_plates.py --out tests/data/plates
"""
import argparse
import os
import sys

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fontplate    # noqa: E402

FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf'
PLATES = [
	('7ABC123', 'ca', 'CALIFORNIA'),
	('8MKR527', 'ca', 'CALIFORNIA'),
	('ABC1234', 'tx', 'TEXAS'),
	('KDL7259', 'ny', 'NEW YORK'),
	('ABC123', 'nv', 'NEVADA'),
	('482HTV', 'az', 'ARIZONA'),
	('AB12345', 'il', 'ILLINOIS'),
	('36RM482', 'ga', 'GEORGIA'),
	('481K572', 'fl', 'FLORIDA'),
	('HPWD482', 'oh', 'OHIO'),
	('5829KB', 'wa', 'WASHINGTON'),
	('TR5823', 'or', 'OREGON'),
	('K38275', 'va', 'VIRGINIA'),
	('58294', None, None),
	# a 0 where the format has a letter: O and 0 are one glyph class,
	# printed as 0 whatever the format
	('H0T482', 'ca', 'CALIFORNIA'),
]
# plates whose glyphs at these positions touch a bar down to the border, so
# no binarisation isolates them and the reader must find them by pitch
BARRED = {
	'6TRK305': (1, 4),
}


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument('--out', required=True)
	args = ap.parse_args()
	os.makedirs(args.out, exist_ok=True)
	with open(os.path.join(args.out, 'plates.txt'), 'w') as m:
		m.write('# file\tplate\tstate (- if none); rendered by '
			'tools/train/render_test_plates.py\n')
		for text, state, name in PLATES + [(t, None, None) for t in BARRED]:
			img, boxes = fontplate.render(text, FONT, top_text=name)
			for i in BARRED.get(text, ()):
				(x, y, w, h), _ = boxes[i]
				cv2.rectangle(img, (x + w // 2 - 2, y + h - 2),
					      (x + w // 2 + 2, img.shape[0] - 1), 30, -1)
			img = cv2.GaussianBlur(img, (3, 3), 0)
			f = '%s.png' % text.lower()
			cv2.imwrite(os.path.join(args.out, f), img,
				    [cv2.IMWRITE_PNG_COMPRESSION, 9])
			m.write('%s\t%s\t%s\n' % (f, text, state or '-'))
			if text == PLATES[0][0]:    # a JPEG for the decoder tests
				cv2.imwrite(os.path.join(args.out, 'plate.jpg'), img,
					    [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == '__main__':
	main()
