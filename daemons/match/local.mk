# daemons/match: alpr-matchd.
sbin_PROGRAMS += alpr-matchd
alpr_matchd_SOURCES = daemons/match/main.c
alpr_matchd_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS)
alpr_matchd_LDADD = $(ALPR_LIBS)
