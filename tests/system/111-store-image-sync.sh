#!/bin/sh
# The write order that makes a committed read's images survive a power
# loss (kill -9 in 110 cannot take the page cache away, so the order is
# checked on the system calls): a writer stores batches of reads with
# images under strace, and before each sync of the WAL (the commit that
# names the files) every image file renamed into place since the last one
# must have had its data synced (fdatasync/fsync), every directory a file
# was renamed into or made in its entry synced (fsync of the directory),
# and images/ itself before the first commit.  A syncfs() would cover them
# all; lib/store syncs only what the batch wrote.
set -u
tool=${top_builddir:-.}/tests/tools/store-tool
if ! command -v strace > /dev/null 2>&1; then
	echo "1..0 # SKIP strace missing"
	exit 0
fi
dir=$(mktemp -d /tmp/imagesync.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "1..3"
# -y: each descriptor with the path it names (the file's new name after
# the rename); -f: the libtool wrapper runs the real binary as a child, and
# lib/store syncs the files from threads (a call counts when it returns).
# LeakSanitizer cannot run under ptrace (make check-asan): leaks are
# not what this test is about.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
if strace -f -qq -y -e trace=mkdir,rename,fsync,fdatasync,syncfs -o "$dir/trace" \
	"$tool" writer "$dir/alpr.db" 6 > "$dir/out" 2> "$dir/err" &&
	[ "$(tail -n 1 "$dir/out")" = "committed 384" ]; then
	echo "ok 1 - the writer committed 6 batches of 64 reads under strace"
else
	echo "not ok 1 - the writer failed: $(tail -n 2 "$dir/err" | tr '\n' ' ')"
	exit 0
fi
python3 - "$dir" "$dir/trace" <<'PY'
import os, re, sys
top, trace = sys.argv[1], sys.argv[2]
images = os.path.join(top, 'images')
files, dirs = set(), set()	# renamed or made, not yet synced
bad, commits, renamed = [], 0, 0
unfinished = {}	# pid: (call, args) of a call another thread's line cut in two
for line in open(trace):
	m = re.match(r'(\d+) +(\w+)\((.*) <unfinished \.\.\.>$', line)
	if m:
		unfinished[m.group(1)] = (m.group(2), m.group(3))
		continue
	m = re.match(r'(\d+) +<\.\.\. (\w+) resumed>.*\) += (-?\d+)', line)
	if m:
		call, args = unfinished.pop(m.group(1), (m.group(2), ''))
		if m.group(3) != '0':
			continue
	else:
		m = re.match(r'\d+ +(\w+)\((.*)\) += (-?\d+)', line)
		if not m or m.group(3) != '0':
			continue
		call, args = m.group(1), m.group(2)
	paths = re.findall(r'"([^"]*)"|\d+<([^>]*)>', args)
	paths = [a or b for a, b in paths]
	if call == 'mkdir':
		dirs.add(os.path.dirname(paths[0]))
	elif call == 'rename' and paths[1].startswith(images + '/'):
		files.add(paths[1])
		renamed += 1
		dirs.add(os.path.dirname(paths[1]))
	elif call == 'syncfs':
		files.clear()
		dirs.clear()
	elif call in ('fsync', 'fdatasync'):
		p = paths[0]
		if p.endswith('-wal'):
			commits += 1
			if files or dirs:
				bad.append('commit %d: %d files, directories %s not synced before it' % (
					commits, len(files), sorted(os.path.relpath(d, top) for d in dirs)))
		else:
			files.discard(p)
			dirs.discard(p)
if commits >= 6 and renamed == 6 * 8:
	print('ok 2 - 6 commits of 8 images each seen (%d WAL syncs, %d files)' % (commits, renamed))
else:
	print('not ok 2 - expected 6 commits of 8 images: %d WAL syncs, %d files' % (commits, renamed))
if bad:
	print('not ok 3 - an image or its directory entry was not synced before its commit')
	for b in bad[:5]:
		print('# ' + b)
else:
	print('ok 3 - every image and directory entry synced before the commit that names it')
PY
