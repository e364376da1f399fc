# lib/hotlist: hot-list parsers and the matching index (uses lib/base).
lib_libalpr_la_SOURCES += lib/hotlist/hotlist.h lib/hotlist/internal.h lib/hotlist/entry.c \
	lib/hotlist/parse.c lib/hotlist/index.c lib/hotlist/cooldown.c lib/hotlist/chunk.c \
	lib/hotlist/hotlist-store.h lib/hotlist/store.c

check_PROGRAMS += tests/unit/test-hotlist-parse tests/unit/test-hotlist-match
tests_unit_test_hotlist_parse_SOURCES = tests/unit/test-hotlist-parse.c
tests_unit_test_hotlist_parse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_hotlist_parse_LDADD = $(TEST_LIBS) $(SQLITE_LIBS)
tests_unit_test_hotlist_match_SOURCES = tests/unit/test-hotlist-match.c
tests_unit_test_hotlist_match_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_hotlist_match_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test-hotlist-parse tests/unit/test-hotlist-match

# make bench: figures for a 5,000,000-entry list (HOTLIST_BENCH_SCALE shrinks it).
check_PROGRAMS += tests/bench/bench-hotlist
tests_bench_bench_hotlist_SOURCES = tests/bench/bench-hotlist.c
tests_bench_bench_hotlist_CPPFLAGS = $(AM_CPPFLAGS)
tests_bench_bench_hotlist_LDADD = $(ALPR_LIBS) $(SQLITE_LIBS)
BENCHES += tests/bench/bench-hotlist.sh
EXTRA_DIST += tests/bench/bench-hotlist.sh

# alprctl hotlist front ends (tools/alprctl/hotlist.c).
dist_check_SCRIPTS += tests/system/065-hotlist-cli.sh
TESTS += tests/system/065-hotlist-cli.sh
dist_man_MANS += man/alpr-hotlist.5
EXTRA_DIST += lib/hotlist/hotlist-store.h
