# daemons/capture: alpr-captured.
sbin_PROGRAMS += alpr-captured
alpr_captured_SOURCES = daemons/capture/main.c
alpr_captured_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS)
alpr_captured_LDADD = $(ALPR_LIBS)
