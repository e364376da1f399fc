# tests: unit tests (cmocka, TAP), system scenarios (sh, TAP), fuzz replays.
# Every test prints TAP; .ci/run turns the results into "N passed, N failed".
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir;
TEST_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS) \
	-DTOP_SRCDIR=\"$(abs_top_srcdir)\"
TEST_LIBS = $(ALPR_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test-conf tests/unit/test-ipc
tests_unit_test_conf_SOURCES = tests/unit/test-conf.c
tests_unit_test_conf_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_conf_LDADD = $(TEST_LIBS)
tests_unit_test_ipc_SOURCES = tests/unit/test-ipc.c
tests_unit_test_ipc_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_ipc_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test-conf tests/unit/test-ipc

# Helpers the system scenarios drive.
check_PROGRAMS += tests/tools/ipc-peer
tests_tools_ipc_peer_SOURCES = tests/tools/ipc-peer.c
tests_tools_ipc_peer_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_tools_ipc_peer_LDADD = $(ALPR_LIBS) $(SQLITE_LIBS)

dist_check_SCRIPTS += tests/system/lib.sh tests/system/wait.sh
SYSTEM_TESTS = tests/system/010-daemons.sh tests/system/020-malformed.sh \
	tests/system/030-notify.sh tests/system/040-reliable.sh tests/system/050-man.sh \
	tests/system/060-journal.sh
dist_check_SCRIPTS += $(SYSTEM_TESTS)
TESTS += $(SYSTEM_TESTS)

# Fuzz targets: a plain main() replays the checked-in corpus under make
# check; `make fuzz` builds libFuzzer binaries with clang and runs them.
FUZZ_TARGETS = tests/fuzz/fuzz-ipc tests/fuzz/fuzz-conf
check_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_ipc_SOURCES = tests/fuzz/fuzz-ipc.c tests/fuzz/replay.c
tests_fuzz_fuzz_ipc_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_ipc_LDADD = $(ALPR_LIBS)
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz-conf.c tests/fuzz/replay.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_conf_LDADD = $(ALPR_LIBS)
dist_check_SCRIPTS += tests/fuzz/fuzz.sh
TESTS += tests/fuzz/fuzz.sh
EXTRA_DIST += tests/fuzz/corpus

.PHONY: fuzz bench check-asan
fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} $(SHELL) $(top_srcdir)/tests/fuzz/fuzz.sh --libfuzzer

# The whole test suite again under AddressSanitizer and UBSan, in a copy
# of the tracked tree (automake refuses a second build of a configured tree).
# Memory errors, leaks (LeakSanitizer, at each process's exit) and
# undefined behaviour fail the run (tests/lsan.supp: the libraries' own
# leaks, each explained there).  verify_asan_link_order=0 lets the
# LD_PRELOAD V4L2 fake of 074-capture-v4l2 load before the ASan runtime.
check-asan:
	rm -rf build/asan && mkdir -p build/asan
	cd $(top_srcdir) && git ls-files -z | xargs -0 tar -c | tar -x -C build/asan
	cd build/asan && ./bootstrap >/dev/null 2>&1 && \
	./configure --quiet --enable-sanitizers $(CHECK_ASAN_FLAGS) && \
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:verify_asan_link_order=0} \
	LSAN_OPTIONS=$${LSAN_OPTIONS:-suppressions=$$PWD/tests/lsan.supp:print_suppressions=0} \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) check

bench: all $(check_PROGRAMS) $(BENCHES)
	@for b in $(BENCHES); do \
		top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(top_srcdir)/$$b || exit 1; \
	done

EXTRA_DIST += tests/summary.sh tests/lsan.supp tests/tools/rawpeer.py tests/tools/notify-listen.py \
	tests/tools/journal-listen.py
BENCHES += tests/bench/bench-ipc.sh
EXTRA_DIST += tests/bench/bench-ipc.sh
