# daemons/alert: alpr-alertd, the MDC page, the audible alert.
ALERT_PAGE = daemons/alert/page/index.html daemons/alert/page/app.css \
	daemons/alert/page/app.js
ALERT_CFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS) \
	$(ALSA_CFLAGS) $(ESPEAK_CFLAGS) -DPAGE_DIR=\"$(abs_top_srcdir)/daemons/alert/page\"
ALERT_SOURCES = daemons/alert/alertd.h daemons/alert/ctl.c daemons/alert/hits.c \
	daemons/alert/http.c daemons/alert/page.c daemons/alert/audio.c daemons/alert/announce.c \
	daemons/alert/lists.c
ALERT_LIBS = $(ALPR_LIBS) $(MHD_LIBS) $(ALSA_LIBS) $(ESPEAK_LIBS) -lm

sbin_PROGRAMS += alpr-alertd
alpr_alertd_SOURCES = daemons/alert/main.c $(ALERT_SOURCES)
alpr_alertd_CPPFLAGS = $(ALERT_CFLAGS)
alpr_alertd_LDADD = $(ALERT_LIBS)
EXTRA_DIST += $(ALERT_PAGE)
# The page is pulled in by .incbin, which the compiler's dependency tracking does not see.
daemons/alert/alpr_alertd-page.$(OBJEXT): $(ALERT_PAGE)

# Test peers: hits and health into alert.sock, a control stand-in, the announcement.
check_PROGRAMS += tests/tools/alert-peer tests/tools/alert-say
tests_tools_alert_peer_SOURCES = tests/tools/alert-peer.c
tests_tools_alert_peer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_tools_alert_peer_LDADD = $(ALPR_LIBS)
tests_tools_alert_say_SOURCES = tests/tools/alert-say.c daemons/alert/audio.c \
	daemons/alert/announce.c
tests_tools_alert_say_CPPFLAGS = $(ALERT_CFLAGS)
tests_tools_alert_say_LDADD = $(ALERT_LIBS)

dist_check_SCRIPTS += tests/system/alert-lib.sh
ALERT_TESTS = tests/system/070-alert-page.sh tests/system/071-alert-security.sh \
	tests/system/073-alert-reliable.sh tests/system/074-alert-matchd.sh \
	tests/system/072-alert-audio.sh tests/system/075-alert-lists.sh
dist_check_SCRIPTS += $(ALERT_TESTS)
TESTS += $(ALERT_TESTS)
EXTRA_DIST += tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/alert-page.js tests/browser/alert-workflow.js tests/browser/launch.js
BENCHES += tests/bench/alert-latency.sh
EXTRA_DIST += tests/bench/alert-latency.sh tests/browser/alert-bench.js

check_PROGRAMS += tests/unit/test-alert-hits
tests_unit_test_alert_hits_SOURCES = tests/unit/test-alert-hits.c
tests_unit_test_alert_hits_CPPFLAGS = $(ALERT_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_alert_hits_LDADD = $(ALERT_LIBS) $(CMOCKA_LIBS)
TESTS += tests/unit/test-alert-hits

# Fuzz target of the HIT message parser (libalpr's); tests/fuzz/fuzz.sh runs it.
check_PROGRAMS += tests/fuzz/fuzz-hit
tests_fuzz_fuzz_hit_SOURCES = tests/fuzz/fuzz-hit.c tests/fuzz/replay.c
tests_fuzz_fuzz_hit_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_hit_LDADD = $(ALPR_LIBS)
