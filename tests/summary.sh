#!/bin/sh
# Adds up the automake .trs results below each directory given (default .)
# and prints one line: "N passed, N failed, N skipped".  Exit 1 if any failed.
passed=0 failed=0 skipped=0
for d in "${@:-.}"; do
	[ -d "$d" ] || continue
	# A tree's own results, not those of the copies under its build/,
	# nor make check-system's (tests/vm: counted when named, as .ci/run
	# does, so that "make check" is make check's alone).
	counts=$(find "$d" \( -path "$d/build" -o -path "$d/tests/vm" \) -prune -o -name '*.trs' -print0 2>/dev/null |
	    xargs -0 -r cat | awk '
		/^:test-result: (PASS|XFAIL)/ { p++ }
		/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
		/^:test-result: SKIP/ { s++ }
		END { printf "%d %d %d\n", p, f, s }')
	set -- $counts
	passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
