# tools/alprctl: the administration client.
bin_PROGRAMS += alprctl
alprctl_SOURCES = tools/alprctl/main.c
alprctl_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS)
alprctl_LDADD = $(ALPR_LIBS)
alprctl_SOURCES += tools/alprctl/hotlist.c tools/alprctl/alprctl.h
alprctl_LDADD += $(SQLITE_LIBS)

# End to end: alpr-matchd's control socket driven by alprctl.
dist_check_SCRIPTS += tests/system/120-control.sh
TESTS += tests/system/120-control.sh
