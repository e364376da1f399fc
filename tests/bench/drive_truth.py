"""How the benchmarks that read the sample drive (bench-drive.sh,
bench-tracker.sh) tie the recognizer's detections to the drive's ground
truth (build/drive/truth.json, tools/drive/gen-drive.py): one place for
it, so that their per-frame figures count alike."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
				'..', '..', 'tools', 'train'))
from devdata import iou    # noqa: E402

MIN_IOU = 0.3	# a detection overlapping a true plate less is a false one


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
