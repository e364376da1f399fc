#!/bin/sh
# The sample drive generator (tools/drive/gen-drive.py): the same seed gives
# the same bytes, the declared frames and vehicles are there, every
# ground-truth plate lies inside its frame with a plate's contrast under
# its box, the route's NMEA checksums hold, and the hot list names the six
# kinds of entry the demo shows and parses with alprctl's own parser.
. "${top_srcdir:-.}/tests/system/lib.sh"
PY=/usr/bin/python3
GEN=$top_srcdir/tools/drive/gen-drive.py
$PY -c 'import cv2, numpy' 2>/dev/null || skip_all "python3-opencv is not installed"
plan 8

# Small drives (72 frames, 6 cars) keep this short; the built drive
# ($top_builddir/build/drive) is checked too when make has made it.
for d in a b; do
	$PY "$GEN" --out "$T/$d" --seed 4 --frames 90 --vehicles 6 --date 2026-01-02 > /dev/null ||
		fail "generator ran ($d)"
done
$PY "$GEN" --out "$T/c" --seed 5 --frames 90 --vehicles 6 --date 2026-01-02 > /dev/null
sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
if [ "$(sums "$T/a")" = "$(sums "$T/b")" ]; then ok "same seed, same bytes"
else fail "same seed, same bytes"; fi
if [ "$(sums "$T/a")" != "$(sums "$T/c")" ]; then ok "another seed, another drive"
else fail "another seed, another drive"; fi

# verify DIR FRAMES VEHICLES: prints one line per fault, nothing if sound.
verify() {
	$PY - "$@" <<'PY'
import json, os, sys, functools
import cv2
d, nf, nv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = json.load(open(os.path.join(d, 'truth.json')))
files = sorted(f for f in os.listdir(os.path.join(d, 'frames')) if f.endswith('.jpg'))
bad = []
if t['frames'] != nf or len(files) != nf or len(t['frame_truth']) != nf:
	bad.append('frames: %d declared, %d files, %d truth' % (t['frames'], len(files), len(t['frame_truth'])))
if len(t['vehicles']) != nv:
	bad.append('vehicles: %d, want %d' % (len(t['vehicles']), nv))
for v in t['vehicles']:
	# A pass must stay in view 0.5 s at least (issue 9's "no plate missed").
	if v['first_frame'] is None or v['frames_in_view'] < t['fps'] // 2:
		bad.append('vehicle %d in view %d frames' % (v['vehicle'], v['frames_in_view']))
counted = {}
for fr in t['frame_truth']:
	img = None
	for p in fr['plates']:
		x, y, w, h = p['box']
		counted[p['vehicle']] = counted.get(p['vehicle'], 0) + 1
		if x < 0 or y < 0 or w < 20 or h < 8 or x + w > t['width'] or y + h > t['height']:
			bad.append('%s: box %s outside' % (fr['file'], p['box']))
			continue
		if img is None:
			img = cv2.imread(os.path.join(d, 'frames', fr['file']), cv2.IMREAD_GRAYSCALE)
			if img.shape != (t['height'], t['width']):
				bad.append('%s: size %s' % (fr['file'], img.shape))
		if img[y:y + h, x:x + w].std() < 25:
			bad.append('%s: no plate contrast under %s' % (fr['file'], p['box']))
for v in t['vehicles']:
	if counted.get(v['vehicle'], 0) != v['frames_in_view']:
		bad.append('vehicle %d: frames disagree' % v['vehicle'])
roles = sorted(v['hotlist'] for v in t['vehicles'] if v['hotlist'])
want = sorted(['stolen-vehicle', 'felony-vehicle', 'wanted', 'near-miss', 'state-mismatch', 'wildcard-bolo'])
if roles != want:
	bad.append('hot-list roles %s' % roles)
n = 0
for line in open(os.path.join(d, 'route.nmea'), newline=''):
	body, _, ck = line.strip()[1:].partition('*')
	n += 1
	if '%02X' % functools.reduce(lambda a, c: a ^ ord(c), body, 0) != ck:
		bad.append('route: bad checksum: %s' % line.strip())
if n < 2 * (nf // t['fps'] + 1):
	bad.append('route: %d sentences' % n)
print('\n'.join(bad[:10]))
PY
}
out=$(verify "$T/a" 90 6)
if [ -z "$out" ]; then ok "small drive: frames, vehicles, boxes, roles, route"
else fail "small drive: frames, vehicles, boxes, roles, route"; echo "$out" | sed 's/^/# /'; fi

# A plate counts as out of view when a nearer car covers any of its
# characters, not when it covers the rim beside them: the drive's v5 was
# counted hidden from the first pixel of overlap while the recognizer read
# it, whole and larger than before, for 22 frames.
out=$($PY - "$GEN" <<'PY'
import importlib.util, sys
sys.argv = [sys.argv[1]]
spec = importlib.util.spec_from_file_location('gd', sys.argv[0])
gd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gd)
plate = [1000, 300, 100, 50]
bad = []
for car, hidden in (((200, 50, 805, 500), False),	# the left rim, 5 px
		    ((1095, 50, 400, 500), False),	# the right rim
		    ((200, 340, 2000, 200), False),	# the bottom rim (slogan)
		    ((200, 50, 815, 500), True),	# 15 px: the first character
		    ((1040, 0, 20, 330), True),		# the middle, from above
		    ((0, 0, 900, 700), False)):		# beside it
	if gd.hides(car, plate) != hidden:
		bad.append('car %s over plate %s: hidden %s, want %s' % (car, plate, not hidden, hidden))
print('\n'.join(bad))
PY
) || out="$out (python failed: $?)"
if [ -z "$out" ]; then ok "a car over a plate's rim alone leaves it in view"
else fail "a car over a plate's rim alone leaves it in view"; echo "$out" | sed 's/^/# /'; fi

B=$top_builddir/build/drive
if [ -f "$B/truth.json" ]; then
	out=$(verify "$B" 300 12)
	if [ -z "$out" ]; then ok "built drive: 300 frames, 12 vehicles, boxes, roles, route"
	else fail "built drive: 300 frames, 12 vehicles, boxes, roles, route"; echo "$out" | sed 's/^/# /'; fi
else
	ok "# SKIP the build made no drive (see make's output)"
fi

# The hot list against the hot-list parser, when alprctl has it.
ALPRCTL=$(bin alprctl)
write_conf < /dev/null
if "$ALPRCTL" -f "$T/alpr.conf" hotlist --help 2>&1 | grep -q 'hotlist check'; then
	"$ALPRCTL" -f "$T/alpr.conf" --json hotlist check --format delimited "$T/a/hotlist.txt" > "$T/check.json" 2> "$T/check.err"
	check "hot list parses (alprctl hotlist check --format delimited)" [ $? -eq 0 ]
	n=$(grep -c . "$T/a/hotlist.txt")
	if grep -q "\"entries\": *$((n - 1))[,}]" "$T/check.json"; then
		ok "every line of the hot list is an entry"
	else
		fail "every line of the hot list is an entry"; sed 's/^/# /' "$T/check.json" "$T/check.err"
	fi
	# A broken copy must be refused (the check above could not fail otherwise).
	sed '2s/;[0-9]*;/;high;/' "$T/a/hotlist.txt" > "$T/bad.txt"
	if "$ALPRCTL" -f "$T/alpr.conf" hotlist check --format delimited "$T/bad.txt" > /dev/null 2>&1; then
		fail "a bad priority is refused"
	else ok "a bad priority is refused"; fi
else
	ok "# SKIP alprctl has no hotlist check on this tree"
	ok "# SKIP alprctl has no hotlist check on this tree"
	ok "# SKIP alprctl has no hotlist check on this tree"
fi
exit 0
