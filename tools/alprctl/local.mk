# tools/alprctl: the administration client.
bin_PROGRAMS += alprctl
alprctl_SOURCES = tools/alprctl/main.c
alprctl_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS)
alprctl_LDADD = $(ALPR_LIBS)
