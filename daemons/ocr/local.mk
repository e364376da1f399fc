# daemons/ocr: alpr-ocrd.
sbin_PROGRAMS += alpr-ocrd
alpr_ocrd_SOURCES = daemons/ocr/main.c
alpr_ocrd_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS)
alpr_ocrd_LDADD = $(ALPR_LIBS)
