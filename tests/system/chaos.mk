# Chaos and fault scenarios (issue 9): the short ones run in make check,
# the long ones (minutes) in make check-long.  CI runs both (.ci/run).
dist_check_SCRIPTS += tests/system/chaos-lib.sh
CHAOS_TESTS = tests/system/200-chaos-kill.sh tests/system/202-disk-full.sh
dist_check_SCRIPTS += $(CHAOS_TESTS)
TESTS += $(CHAOS_TESTS)
