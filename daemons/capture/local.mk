# daemons/capture: alpr-captured, with a thin C++ wrapper (cv.cpp) for OpenCV.
sbin_PROGRAMS += alpr-captured
alpr_captured_SOURCES = daemons/capture/main.c daemons/capture/capture.h \
	daemons/capture/frame.c daemons/capture/replay.c daemons/capture/v4l2.c \
	daemons/capture/gps.c daemons/capture/health.c daemons/capture/inspect.c \
	daemons/capture/cv.h daemons/capture/cv.cpp
alpr_captured_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(OPENCV_CFLAGS) \
	$(V4L2_CFLAGS) $(GPS_CFLAGS)
# Only the OpenCV modules cv.cpp uses are linked (opencv4.pc names all of
# them, and loading ~250 libraries slowed every start by seconds).
alpr_captured_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
alpr_captured_LDADD = $(ALPR_LIBS) $(OPENCV_LIBS) $(V4L2_LIBS) $(GPS_LIBS) -lm

# Tests: a peer standing in for alpr-ocrd and alprctl, and the scenarios.
check_PROGRAMS += tests/tools/capture-peer
tests_tools_capture_peer_SOURCES = tests/tools/capture-peer.c
tests_tools_capture_peer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_tools_capture_peer_LDADD = $(ALPR_LIBS)
# The V4L2 camera this host lacks, faked at libv4l2's API (see its comment).
check_LTLIBRARIES += tests/tools/libfake-v4l2.la
tests_tools_libfake_v4l2_la_SOURCES = tests/tools/fake-v4l2.c
tests_tools_libfake_v4l2_la_LDFLAGS = -module -avoid-version -rpath /nowhere -ldl

CAPTURE_TESTS = tests/system/070-capture-replay.sh tests/system/071-capture-health.sh \
	tests/system/072-capture-backpressure.sh tests/system/073-capture-gps.sh \
	tests/system/074-capture-v4l2.sh
dist_check_SCRIPTS += $(CAPTURE_TESTS) tests/system/capture-lib.sh \
	tests/system/capture-frames.py
TESTS += $(CAPTURE_TESTS)
BENCHES += tests/bench/capture.sh
dist_noinst_DATA += tests/bench/capture.sh
