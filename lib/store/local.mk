# lib/store: the SQLite database and the image files (uses lib/base).
lib_libalpr_la_SOURCES += lib/store/store.h lib/store/store-private.h lib/store/schema.c \
	lib/store/store.c lib/store/purge.c

check_PROGRAMS += tests/unit/test-store tests/tools/store-tool
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_unit_test_store_LDADD = $(TEST_LIBS) $(SQLITE_LIBS)
tests_tools_store_tool_SOURCES = tests/tools/store-tool.c
tests_tools_store_tool_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_tools_store_tool_LDADD = $(ALPR_LIBS) $(SQLITE_LIBS)
TESTS += tests/unit/test-store
dist_check_SCRIPTS += tests/system/110-store-powerloss.sh
TESTS += tests/system/110-store-powerloss.sh
dist_check_SCRIPTS += tests/system/111-store-image-sync.sh
TESTS += tests/system/111-store-image-sync.sh

# make bench: storage figures (tests/bench/store.sh says how to scale).
check_PROGRAMS += tests/tools/store-bench
tests_tools_store_bench_SOURCES = tests/tools/store-bench.c
tests_tools_store_bench_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_tools_store_bench_LDADD = $(ALPR_LIBS) $(SQLITE_LIBS) -lm
BENCHES += tests/bench/store.sh
EXTRA_DIST += tests/bench/store.sh
