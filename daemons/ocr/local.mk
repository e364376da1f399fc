# daemons/ocr: alpr-ocrd.  The recognizer runs in forked worker processes of
# the same binary, hence RECOGNIZE_LIBS; jpeg.cpp makes the C++ driver link it.
sbin_PROGRAMS += alpr-ocrd
alpr_ocrd_SOURCES = daemons/ocr/ocrd.h daemons/ocr/main.c daemons/ocr/frames.c \
	daemons/ocr/worker.c daemons/ocr/tracker.c daemons/ocr/reads.c daemons/ocr/jpeg.cpp \
	daemons/ocr/sandbox.c daemons/ocr/spool.c
alpr_ocrd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib/recognize $(SYSTEMD_CFLAGS) \
	$(JANSSON_CFLAGS) $(OPENCV_CFLAGS) $(SECCOMP_CFLAGS) $(ZLIB_CFLAGS)
alpr_ocrd_LDADD = $(ALPR_LIBS) $(RECOGNIZE_LIBS) $(IMAGE_LIBS) $(SECCOMP_LIBS) $(ZLIB_LIBS)
# Only the libraries it uses are loaded: opencv4.pc names every module, and
# imgcodecs alone maps ~55 MB of others into ocrd and each of its workers.
alpr_ocrd_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed

# Tests: the capture and match ends of alpr-ocrd in one test peer, and the
# scenarios that drive real alpr-ocrd processes with it.
check_PROGRAMS += tests/tools/frame-peer
tests_tools_frame_peer_SOURCES = tests/tools/frame-peer.c
nodist_EXTRA_tests_tools_frame_peer_SOURCES = dummy.cxx
tests_tools_frame_peer_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize
tests_tools_frame_peer_LDADD = $(ALPR_LIBS) $(RECOGNIZE_LIBS)
dist_check_SCRIPTS += tests/system/070-ocrd.sh tests/system/140-ocrd-sandbox.sh \
	tests/system/141-ocrd-deadletter.sh \
	tests/system/ocrd-lib.sh
TESTS += tests/system/070-ocrd.sh tests/system/140-ocrd-sandbox.sh \
	tests/system/141-ocrd-deadletter.sh
BENCHES += tests/bench/bench-ocrd.sh
EXTRA_DIST += tests/bench/bench-ocrd.sh

# The tracker alone (includes tracker.c; frames.c for the frame references;
# the recognizer's plate syntax for early reads).
check_PROGRAMS += tests/unit/test-ocr-tracker
tests_unit_test_ocr_tracker_SOURCES = tests/unit/test-ocr-tracker.c daemons/ocr/frames.c
nodist_EXTRA_tests_unit_test_ocr_tracker_SOURCES = dummy.cxx
tests_unit_test_ocr_tracker_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-I$(top_srcdir)/daemons/ocr
tests_unit_test_ocr_tracker_LDADD = $(TEST_LIBS) $(RECOGNIZE_LIBS)
TESTS += tests/unit/test-ocr-tracker

# Fuzz target of ocrd's decoders (FRAME body, worker answer); tests/fuzz/fuzz.sh runs it.
check_PROGRAMS += tests/fuzz/fuzz-ocr
tests_fuzz_fuzz_ocr_SOURCES = tests/fuzz/fuzz-ocr.c tests/fuzz/replay.c daemons/ocr/frames.c
tests_fuzz_fuzz_ocr_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-I$(top_srcdir)/daemons/ocr
tests_fuzz_fuzz_ocr_LDADD = $(ALPR_LIBS)

# The workers' seccomp filter: forbidden syscalls kill, the recognizer runs.
check_PROGRAMS += tests/unit/test-ocr-sandbox
tests_unit_test_ocr_sandbox_SOURCES = tests/unit/test-ocr-sandbox.c tests/unit/rec-test.h \
	daemons/ocr/sandbox.c
nodist_EXTRA_tests_unit_test_ocr_sandbox_SOURCES = dummy.cxx
tests_unit_test_ocr_sandbox_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-I$(top_srcdir)/daemons/ocr $(SECCOMP_CFLAGS)
tests_unit_test_ocr_sandbox_LDADD = $(TEST_LIBS) $(RECOGNIZE_LIBS) $(SECCOMP_LIBS)
TESTS += tests/unit/test-ocr-sandbox

# The tracker replayed over recognizer results computed once
# (tests/bench/bench-tracker.sh): how many frames a plate needs, without
# the machine's load in the figures.
check_PROGRAMS += tests/bench/ocr-track-replay
tests_bench_ocr_track_replay_SOURCES = tests/bench/ocr-track-replay.c daemons/ocr/tracker.c \
	daemons/ocr/frames.c
nodist_EXTRA_tests_bench_ocr_track_replay_SOURCES = dummy.cxx
tests_bench_ocr_track_replay_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-I$(top_srcdir)/daemons/ocr
tests_bench_ocr_track_replay_LDADD = $(ALPR_LIBS) $(RECOGNIZE_LIBS)
BENCHES += tests/bench/bench-tracker.sh
EXTRA_DIST += tests/bench/bench-tracker.sh

# The frame scheduling (worker.c included for its statics; no worker runs).
check_PROGRAMS += tests/unit/test-ocr-sched
tests_unit_test_ocr_sched_SOURCES = tests/unit/test-ocr-sched.c tests/unit/rec-stub.h \
	daemons/ocr/frames.c
tests_unit_test_ocr_sched_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-I$(top_srcdir)/daemons/ocr
tests_unit_test_ocr_sched_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test-ocr-sched
