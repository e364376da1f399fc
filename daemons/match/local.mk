# daemons/match: alpr-matchd.
sbin_PROGRAMS += alpr-matchd
alpr_matchd_SOURCES = daemons/match/main.c daemons/match/matchd.h daemons/match/reads.c \
	daemons/match/hits.c daemons/match/lists.c
alpr_matchd_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS)
alpr_matchd_LDADD = $(ALPR_LIBS) $(SQLITE_LIBS) -lpthread

check_PROGRAMS += tests/tools/match-peer
tests_tools_match_peer_SOURCES = tests/tools/match-peer.c
tests_tools_match_peer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_tools_match_peer_LDADD = $(ALPR_LIBS)
dist_check_SCRIPTS += tests/system/130-matchd-reads.sh
TESTS += tests/system/130-matchd-reads.sh
dist_check_SCRIPTS += tests/system/131-matchd-hotlist.sh
TESTS += tests/system/131-matchd-hotlist.sh
dist_check_SCRIPTS += tests/system/132-matchd-reload.sh
TESTS += tests/system/132-matchd-reload.sh
