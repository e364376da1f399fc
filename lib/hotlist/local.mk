# lib/hotlist: hot-list parsers and the matching index (uses lib/base).
lib_libalpr_la_SOURCES += lib/hotlist/hotlist.h lib/hotlist/internal.h lib/hotlist/entry.c \
	lib/hotlist/parse.c lib/hotlist/index.c

check_PROGRAMS += tests/unit/test-hotlist-parse tests/unit/test-hotlist-match
tests_unit_test_hotlist_parse_SOURCES = tests/unit/test-hotlist-parse.c
tests_unit_test_hotlist_parse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_hotlist_parse_LDADD = $(TEST_LIBS)
tests_unit_test_hotlist_match_SOURCES = tests/unit/test-hotlist-match.c
tests_unit_test_hotlist_match_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_hotlist_match_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test-hotlist-parse tests/unit/test-hotlist-match
