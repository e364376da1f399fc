"""How the benchmarks that read the sample drive (bench-drive.sh,
bench-tracker.sh) tie the recognizer's detections to the drive's ground
truth (build/drive/truth.json, tools/drive/gen-drive.py): one place for
it, so that their per-frame figures count alike."""

MIN_IOU = 0.3	# a detection overlapping a true plate less is a false one


def iou(a, b):
	"""Intersection over union of two (x, y, w, h) boxes."""
	x0, y0 = max(a[0], b[0]), max(a[1], b[1])
	x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
	if x1 <= x0 or y1 <= y0:
		return 0.0
	i = (x1 - x0) * (y1 - y0)
	return i / float(a[2] * a[3] + b[2] * b[3] - i)


def tie(plates, truth_plates, min_iou=MIN_IOU):
	"""Ties one frame's detections (alpr-recognize --json "plates", in its
	order) to the frame's true plates (truth.json frame_truth "plates"):
	each detection to the true plate it overlaps most, if more than
	min_iou; a true plate keeps its first detection.  Returns ({index of
	the true plate: its detection}, [detections tied to no true plate])."""
	ties, false = {}, []
	for p in plates:
		best, bi = 0.0, None
		for i, g in enumerate(truth_plates):
			o = iou(p['box'], g['box'])
			if o > best:
				best, bi = o, i
		if bi is None or best <= min_iou:
			false.append(p)
		else:
			ties.setdefault(bi, p)
	return ties, false
