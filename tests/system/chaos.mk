# Chaos and fault scenarios (issue 9): the short ones run in make check,
# the long ones (minutes, or machine-wide faults) in make check-long.
# CI runs both (.ci/run).
dist_check_SCRIPTS += tests/system/chaos-lib.sh tests/system/garbage-client.py
CHAOS_TESTS = tests/system/200-chaos-kill.sh tests/system/202-disk-full.sh
CHAOS_LONG_TESTS = tests/system/201-faults.sh tests/system/203-clock-jump.sh \
	tests/system/220-chaos-kill-long.sh
dist_check_SCRIPTS += $(CHAOS_TESTS) $(CHAOS_LONG_TESTS)
TESTS += $(CHAOS_TESTS)

.PHONY: check-long
check-long:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(CHAOS_LONG_TESTS)'
