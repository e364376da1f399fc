#!/bin/sh
# Fuzz targets.  Under make check: replay the checked-in corpus through the
# gcc-built replayers, then, where clang's libFuzzer is installed, build the
# real fuzzers and run each for a fixed number of runs from a fixed seed
# (FUZZ_RUNS, default 20000, at most a minute each).  `make fuzz` (--libfuzzer) runs each for
# FUZZ_SECONDS instead and keeps what it finds in the corpus directory.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
corpus=$top_srcdir/tests/fuzz/corpus
targets="ipc conf ocr hit"
n=0
echo "1..8"
for t in $targets; do
	n=$((n + 1))
	if "$top_builddir/tests/fuzz/fuzz-$t" "$corpus/$t" > /dev/null 2>&1; then
		echo "ok $n - corpus replay: $t ($(ls "$corpus/$t" | wc -l) inputs)"
	else
		echo "not ok $n - corpus replay: $t"
	fi
done

CLANG=${CLANG:-clang}
if ! command -v "$CLANG" > /dev/null 2>&1; then
	for t in $targets; do n=$((n + 1)); echo "ok $n - libFuzzer $t # SKIP no clang"; done
	exit 0
fi
out=${FUZZ_OUT:-$top_builddir/build/fuzz}
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -I$top_srcdir/lib -I$top_builddir
	-DALPR_RUNTIME_DIR=\"/run/alpr\" -DALPR_STATE_DIR=\"/var/lib/alpr\"
	-DALPR_SYSCONF_DIR=\"/etc/alpr\" -DALPR_DATA_DIR=\"/usr/share/patrol-alpr\"
	$(pkg-config --cflags jansson inih libsystemd)"
src_ipc="$top_srcdir/tests/fuzz/fuzz-ipc.c $top_srcdir/lib/ipc/msg.c"
src_conf="$top_srcdir/tests/fuzz/fuzz-conf.c $top_srcdir/lib/conf/conf.c $top_srcdir/lib/conf/keys.c"
src_ocr="$top_srcdir/tests/fuzz/fuzz-ocr.c $top_srcdir/daemons/ocr/frames.c $top_srcdir/lib/base/latency.c
	$top_srcdir/lib/ipc/msg.c
	$top_srcdir/lib/base/log.c $top_srcdir/lib/base/time.c -I$top_srcdir/lib/recognize
	-I$top_srcdir/daemons/ocr"
src_hit="$top_srcdir/tests/fuzz/fuzz-hit.c $top_srcdir/lib/policy/hit.c"
libs="$(pkg-config --libs jansson inih libsystemd)"
for t in $targets; do
	n=$((n + 1))
	eval "src=\$src_$t"
	# shellcheck disable=SC2086
	if ! $CLANG $flags -o "$out/fuzz-$t" $src $libs > "$out/build-$t.log" 2>&1; then
		echo "not ok $n - libFuzzer $t: build failed"
		sed 's/^/# /' "$out/build-$t.log" | head -20
		continue
	fi
	if [ "$1" = --libfuzzer ]; then
		args="-max_total_time=${FUZZ_SECONDS:-60} $corpus/$t"
	else
		mkdir -p "$out/$t"
		args="-runs=${FUZZ_RUNS:-20000} -max_total_time=60 -seed=1 $out/$t $corpus/$t"
	fi
	# shellcheck disable=SC2086
	if "$out/fuzz-$t" -max_len=4096 -artifact_prefix="$out/crash-$t-" $args > "$out/run-$t.log" 2>&1; then
		echo "ok $n - libFuzzer $t: $(grep -o 'Done [0-9]* runs' "$out/run-$t.log" | head -1)"
	else
		echo "not ok $n - libFuzzer $t: see $out/run-$t.log"
		grep -A5 'ERROR' "$out/run-$t.log" | sed 's/^/# /' | head -20
	fi
done
