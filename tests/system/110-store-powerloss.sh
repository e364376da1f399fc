#!/bin/sh
# Power loss at any point: a writer inserting batches of reads (with
# images) is killed with SIGKILL at a random moment, over and over.  After
# each kill the database must pass integrity_check and foreign_key_check,
# every image a read names must exist, and every batch the writer reported
# committed must still be there.
set -u
tool=${top_builddir:-.}/tests/tools/store-tool
dir=$(mktemp -d /tmp/powerloss.XXXXXX)
trap 'rm -rf "$dir"' EXIT
rounds=${POWERLOSS_ROUNDS:-15}
echo "1..$((rounds + 1))"
n=0
fails=0
last=0
while [ $n -lt $rounds ]; do
	n=$((n + 1))
	"$tool" writer "$dir/alpr.db" >"$dir/out" 2>"$dir/err" &
	pid=$!
	# Every third round may die while opening or creating the file; the
	# others after the first commit, at a random point of a later batch.
	if [ $((n % 3)) -ne 0 ]; then
		i=0
		while [ ! -s "$dir/out" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	fi
	sleep "0.$(printf '%03d' $(( $(od -An -N2 -tu2 /dev/urandom) % 300 )))"
	kill -9 $pid
	wait $pid 2>/dev/null
	reported=$(tail -n 1 "$dir/out" | sed -n 's/^committed //p')
	[ -n "$reported" ] || reported=$last
	if [ ! -e "$dir/alpr.db" ] && [ "$reported" -eq 0 ]; then
		echo "ok $n - kill -9 round $n: killed before the file existed"
		continue
	fi
	res=$("$tool" check "$dir/alpr.db")
	count=${res#ok }
	if [ "${res%% *}" = ok ] && [ "$count" -ge "$reported" ] && [ "$count" -ge "$last" ]; then
		echo "ok $n - kill -9 round $n: intact, $count reads >= $reported committed"
	else
		echo "not ok $n - kill -9 round $n: check says '$res', writer reported $reported"
		fails=$((fails + 1))
	fi
	last=${count:-$last}
done
if [ "$last" -gt 0 ]; then
	echo "ok $((rounds + 1)) - reads accumulated across kills ($last)"
else
	echo "not ok $((rounds + 1)) - the writer never committed anything"
fi
