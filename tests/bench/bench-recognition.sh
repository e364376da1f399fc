#!/bin/sh
# Recognition benchmark (run by `make bench` from the build directory).
# DATA_DIR overrides ../shared/data; SPLIT=a|b|all (default all).
# Prints accuracy and per-image CPU time over us-scenes and us-plates.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
data=${DATA_DIR:-$top/../shared/data}
if [ ! -d "$data/us-plates" ]; then
	echo "bench-recognition: no data at $data, skipped"
	exit 0
fi
# one OpenMP thread for Tesseract: the recognizer is one core's worth
OMP_THREAD_LIMIT=1 exec /usr/bin/python3 "$here/bench-recognition.py" \
	--data "$data" --split "${SPLIT:-all}" --bin ./alpr-recognize \
	--models "$top/models" --cpu-time "$@"
