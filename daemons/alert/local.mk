# daemons/alert: alpr-alertd.
sbin_PROGRAMS += alpr-alertd
alpr_alertd_SOURCES = daemons/alert/main.c
alpr_alertd_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS)
alpr_alertd_LDADD = $(ALPR_LIBS)
