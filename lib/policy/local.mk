# lib/policy: the ALPR policy as code (uses base, conf, ipc, store).
lib_libalpr_la_SOURCES += lib/policy/policy.h lib/policy/policy-private.h lib/policy/roles.c \
	lib/policy/audit.c lib/policy/users.c lib/policy/control.c lib/policy/data.c \
	lib/policy/hits.c lib/policy/report.c lib/policy/client.c lib/policy/client.h \
	lib/policy/hotlists.c lib/policy/hit.h lib/policy/hit.c
lib_libalpr_la_LIBADD += -lm

check_PROGRAMS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS) $(SODIUM_CFLAGS)
tests_unit_test_policy_LDADD = $(TEST_LIBS) $(SQLITE_LIBS) $(SODIUM_LIBS)
TESTS += tests/unit/test-policy
