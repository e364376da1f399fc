# daemons/capture: alpr-captured, with a thin C++ wrapper (cv.cpp) for OpenCV.
sbin_PROGRAMS += alpr-captured
alpr_captured_SOURCES = daemons/capture/main.c daemons/capture/capture.h \
	daemons/capture/frame.c daemons/capture/replay.c daemons/capture/v4l2.c \
	daemons/capture/gps.c daemons/capture/health.c daemons/capture/inspect.c \
	daemons/capture/cv.h daemons/capture/cv.cpp
alpr_captured_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(OPENCV_CFLAGS) \
	$(V4L2_CFLAGS) $(GPS_CFLAGS)
alpr_captured_LDADD = $(ALPR_LIBS) $(OPENCV_LIBS) $(V4L2_LIBS) $(GPS_LIBS) -lm
