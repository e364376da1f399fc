# tools/drive: the sample drive (issue 9), generated at build time by the
# project's own code into build/drive/ (frames, ground truth, hot list,
# gpsfake route); never committed.  `make demo`, tests/bench/bench-drive.sh
# and tests/system/090-drive.sh use it.
DRIVE_PY = /usr/bin/python3
DRIVE_SEED = 9
DRIVE_FRAMES = 300
DRIVE_VEHICLES = 12
DRIVE_DIR = build/drive
noinst_DATA += $(DRIVE_DIR)/truth.json
# Without python3-opencv the drive is left out with a message, not an error:
# the suite builds without it; the demo and the benchmark say it is missing.
$(DRIVE_DIR)/truth.json: $(top_srcdir)/tools/drive/gen-drive.py \
		$(wildcard $(top_srcdir)/tools/train/fontplate.py)
	@if $(DRIVE_PY) -c 'import cv2, numpy' 2>/dev/null; then \
		echo "  GEN      $(DRIVE_DIR) (sample drive)"; \
		$(DRIVE_PY) $(top_srcdir)/tools/drive/gen-drive.py --out $(DRIVE_DIR) \
			--seed $(DRIVE_SEED) --frames $(DRIVE_FRAMES) \
			--vehicles $(DRIVE_VEHICLES) >/dev/null; \
	else \
		echo "drive: $(DRIVE_PY) has no cv2/numpy (python3-opencv, python3-numpy):" \
			"the sample drive is not generated"; \
	fi
.PHONY: drive
drive: $(DRIVE_DIR)/truth.json
EXTRA_DIST += tools/drive/gen-drive.py
dist_check_SCRIPTS += tests/system/090-drive.sh
TESTS += tests/system/090-drive.sh
BENCHES += tests/bench/bench-drive.sh
EXTRA_DIST += tests/bench/bench-drive.sh tests/bench/drive_truth.py
