#!/bin/sh
# Whole-pipeline benchmark (issue 9, make bench): the suite as `make demo`
# runs it (tools/demo/demo.sh: the four real daemons, the demo user, the
# sample hot list, the MDC page followed by tools/demo/mdc-follow.py) with
# 1, 2 and 4 cameras replaying the sample drive (1280x720) at 30 fps each,
# for BENCH_SECONDS (60) of replay.  Prints per run: frames captured,
# dropped by alpr-captured and by alpr-ocrd, frames recognized per second,
# reads, hits, CPU per daemon (ocrd with its workers) and per recognized
# frame, RSS per daemon, and the latency to alpr-alertd's push of an alert
# (p50/p99, as the MDC page's follower sees the push) from the capture of
# the read's best frame (the picture the alert shows) and from the capture
# of its last frame (the one that made the read sure: an early read goes
# on it), with where that time goes in alpr-ocrd (from its stop line):
# capture -> ocrd, queue wait, recognition, the frame that made an early
# read due -> READ sent, a closing read's last frame -> READ sent (the
# close waits TrackCloseFrames processed frames), spool append with its
# fdatasync; and alpr-matchd's group commits (its stop line): p50/p99 in
# all, syncing the batch's images, committing.  Each alert is also put
# down to the READ that made its hit
# (an early read, an update before the close, a read at the close: the
# "early"/"closing" of alpr-ocrd's read log lines, by the hit's read id),
# with its latency from that READ's last frame split into alpr-ocrd (->
# READ sent), alpr-matchd (-> hit queued) and alpr-alertd (-> pushed), and
# alpr-ocrd's stop line says how many early reads a later update changed.
# AlertCooldownSec=0, so that every matching read is an alert and a
# latency sample.
#
# The issue's target, "no plate missed", checked against the drive's truth
# (truth.json): per camera, every pass of a vehicle whose plate is in view
# for >= 0.5 s (15 frames at 30 fps) whose frames the camera played before
# its last second must give a stored read with that plate as its text
# (top-1; O and 0 count as one, as the recognizer prints 0 for both) or,
# counted apart, among its candidates.  Reads are found with alprctl
# --offline query after the suite stopped; a pass is matched by time (the
# reads of one plate more than half a drive apart are different passes).
# Missed passes are named by vehicle id (truth.json), never by plate.
#
# Then the suite's RSS (and PSS) with a hot list of BENCH_HOTLIST_ENTRIES
# (1,000,000) generated entries imported besides the sample list, with
# BENCH_HOTLIST_CAMERAS (1) cameras; BENCH_HOTLIST_ENTRIES=0 skips it.  BENCH_CAMERAS="1 2 4" picks the runs;
# BENCH_CONF_EXTRA is added to the suite's config (e.g. "[ocr]
# EarlyReadConfidence=0" to compare with reads sent only when their track
# closes).
# Needs root (the demo user) and the sample drive; says so and exits 0
# without them.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DRIVE=${DRIVE:-$top_builddir/build/drive}
PY=/usr/bin/python3
SECS=${BENCH_SECONDS:-60}
ENTRIES=${BENCH_HOTLIST_ENTRIES:-1000000}
[ -n "${BENCH_CONF_EXTRA:-}" ] && echo "== config added: $(echo "$BENCH_CONF_EXTRA" | tr '\n' ' ')"
echo "== whole pipeline: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), ${SECS} s of replay a run"
if [ ! -f "$DRIVE/truth.json" ] || [ ! -f "$top_srcdir/models/glyph-cnn.onnx" ]; then
	echo "bench-pipeline: no sample drive in $DRIVE or no models: skipped"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "bench-pipeline: the demo user needs root (alprctl --offline): skipped"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/alpr-bench-pipeline.XXXXXX")
DEMO_PID=""
# BENCH_KEEP=1 keeps the runs' directories (logs, database, query answers).
trap '[ -n "$DEMO_PID" ] && kill -TERM "$DEMO_PID" 2> /dev/null; wait
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "== kept in $T"; else rm -rf "$T"; fi' EXIT

# sample DIR > FILE: CPU ticks and RSS of each supervised process with its
# children (alpr-ocrd's workers), as JSON.
sample() {
	$PY - "$1/pids" <<'PY'
import json, os, sys
pids = {}
for line in open(sys.argv[1]):
	name, pid = line.split()
	pids[name] = int(pid)	# the latest start of each
kids = {}
for p in os.listdir('/proc'):
	if p.isdigit():
		try:
			st = open('/proc/%s/stat' % p).read()
		except OSError:
			continue
		kids.setdefault(int(st[st.rindex(')') + 2:].split()[1]), []).append(int(p))
out = {}
for name, pid in pids.items():
	ticks = rss = hwm = pss = shm = 0
	todo = [pid]
	while todo:
		p = todo.pop()
		todo += kids.get(p, [])
		try:
			f = open('/proc/%d/stat' % p).read()[1:]
			f = f[f.rindex(')') + 2:].split()
			ticks += int(f[11]) + int(f[12])
			for l in open('/proc/%d/status' % p):
				if l.startswith('VmRSS:'):
					rss += int(l.split()[1])
				elif l.startswith('VmHWM:'):
					hwm += int(l.split()[1])
				elif l.startswith('RssShmem:'):
					shm += int(l.split()[1])
			for l in open('/proc/%d/smaps_rollup' % p):
				if l.startswith('Pss:'):
					pss += int(l.split()[1])
		except (OSError, ValueError):
			pass
	out[name] = {'ticks': ticks, 'rss_kb': rss, 'hwm_kb': hwm, 'pss_kb': pss, 'shm_kb': shm}
print(json.dumps(out))
PY
}

# run NAME CAMERAS [HOTLIST]: one run; figures on stdout.
run() {
	name=$1 ncam=$2 extra=${3:-}
	D=$T/$name
	DEMO_DIR=$D DEMO_CAMERAS=$ncam DEMO_FPS=30 DEMO_DRIVE=$DRIVE DEMO_HOTLIST_EXTRA=$extra \
	DEMO_CONF_EXTRA="[match]
AlertCooldownSec=0
${BENCH_CONF_EXTRA:-}" top_srcdir=$top_srcdir top_builddir=$top_builddir \
		bash "$top_srcdir/tools/demo/demo.sh" > "$T/$name.out" 2>&1 < /dev/null &
	DEMO_PID=$!
	# The window opens when every camera's replay has started.
	n=0
	while [ "$n" -lt 600 ]; do
		[ "$(cat "$D"/log/captured_*.log 2> /dev/null | grep -c 'replay starts')" -ge "$ncam" ] && break
		kill -0 "$DEMO_PID" 2> /dev/null || break
		sleep 0.5
		n=$((n + 1))
	done
	t0=$(date +%s.%N)
	sample "$D" > "$T/$name.s0"
	sleep "$SECS"
	sample "$D" > "$T/$name.s1"
	t1=$(date +%s.%N)
	kill -TERM "$DEMO_PID"
	wait "$DEMO_PID"
	DEMO_PID=""
	# Every read stored, per camera (root: --offline, the suite has stopped).
	cams=demo
	[ "$ncam" -gt 1 ] && cams=$(seq -f 'demo%g' 1 "$ncam" | tr '\n' ' ')
	for c in $cams; do
		XDG_RUNTIME_DIR=$D/xdg "$top_builddir/alprctl" -f "$D/alpr.conf" --offline --json \
			-c BENCH-9 -r investigation \
			query --camera "$c" --limit 10000 > "$T/$name.reads-$c.json" 2>> "$T/$name.query.err"
	done
	$PY - "$name" "$ncam" "$t0" "$t1" "$T/$name.s0" "$T/$name.s1" "$D/stats.json" \
		"$(getconf CLK_TCK)" "$T/$name.out" "$DRIVE/truth.json" "$T/$name.reads-" \
		"$D/alerts.jsonl" "$D/log/ocrd.log" <<'PY'
import json, os, re, sys, time
name, ncam, t0, t1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s0, s1 = json.load(open(sys.argv[5])), json.load(open(sys.argv[6]))
truth_file, reads_prefix, alerts_file, ocrd_log = sys.argv[10:14]
try:
	st = json.load(open(sys.argv[7]))
except (OSError, ValueError):
	print('%s: the demo gave no summary; its output:' % name)
	print(open(sys.argv[9]).read()[-2000:])
	sys.exit(0)
hz, secs = float(sys.argv[8]), t1 - t0
frames, dropped = st.get('frames', 0), st.get('dropped', 0)
rec, odrop = st.get('ocrd_read', 0), st.get('ocrd_dropped', 0)
cpu = {}
for k in s1:
	cpu[k] = (s1[k]['ticks'] - s0.get(k, {'ticks': 0})['ticks']) / hz
groups = {'captured': [k for k in s1 if k.startswith('captured')]}
def g(k):
	ks = groups.get(k, [k])
	return sum(cpu.get(x, 0) for x in ks), sum(s1[x]['rss_kb'] for x in ks if x in s1) / 1024.0
def pss(k):
	return sum(s1[x].get('pss_kb', 0) for x in groups.get(k, [k]) if x in s1) / 1024.0
print('%s: %d camera(s) x 30 fps, %.0f s: frames %d captured, %d (%.0f %%) dropped by alpr-captured,'
      ' %d (%.0f %%) by alpr-ocrd; %.1f recognized/s' % (
	      name, ncam, secs, frames, dropped, 100.0 * dropped / max(frames, 1), odrop,
	      100.0 * odrop / max(frames - dropped, 1), rec / secs))
print('  reads %d, alerts %d; frame->alert latency p50 %s ms, p99 %s ms (%d alerts)' % (
	st.get('reads', 0), st.get('alerts', 0),
	'%.0f' % st['latency_ms']['p50'] if st['latency_ms']['p50'] is not None else '-',
	'%.0f' % st['latency_ms']['p99'] if st['latency_ms']['p99'] is not None else '-',
	st['latency_ms']['n']))
parts = []
total_rss = 0
for k in ('captured', 'ocrd', 'matchd', 'alertd'):
	c, r = g(k)
	total_rss += r
	parts.append('%s %.0f%% CPU %.0f MB (PSS %.0f)' % (
		k + ('(x%d)' % ncam if k == 'captured' else ''), 100.0 * c / secs, r, pss(k)))
print('  ' + ', '.join(parts) + '; suite RSS %.0f MB' % total_rss)
# RSS counts a page once in each process that maps it (the shared
# libraries, OpenCV's above all, in alpr-captured, alpr-ocrd and each of
# its workers; the frames' memfds); PSS shares such a page out among
# them, so the suite's PSS is what it takes of the machine's memory.
print('  suite PSS %.0f MB (shared memory in that RSS: %.0f MB)' % (
	sum(v.get('pss_kb', 0) for v in s1.values()) / 1024.0,
	sum(v.get('shm_kb', 0) for v in s1.values()) / 1024.0))
c, _ = g('ocrd')
print('  alpr-ocrd: %.0f ms CPU per recognized frame (workers included)' % (1000.0 * c / max(rec, 1)))
print('  matchd VmHWM %.0f MB' % (s1.get('matchd', {}).get('hwm_kb', 0) / 1024.0))

def pct(v, p):
	v = sorted(v)
	return v[min(len(v) - 1, int(p / 100.0 * len(v)))] if v else None
def ms(v):
	return '-' if v is None else '%.0f' % v
# Latency: from the alerts' raw times (tools/demo/mdc-follow.py --alerts).
best, last, alerts = [], [], []
try:
	for line in open(alerts_file):
		a = json.loads(line)
		alerts.append(a)
		if a.get('pushed_usec') and a.get('capture_usec'):
			best.append((a['pushed_usec'] - a['capture_usec']) / 1000.0)
		if a.get('pushed_usec') and a.get('last_usec'):
			last.append((a['pushed_usec'] - a['last_usec']) / 1000.0)
except OSError:
	pass
print('  alert latency p50/p99 ms: from the best frame %s/%s, from the last frame (the one that'
      ' made the read sure) %s/%s (%d alerts)' % (ms(pct(best, 50)), ms(pct(best, 99)),
						   ms(pct(last, 50)), ms(pct(last, 99)), len(last)))
stage = counts = None
try:
	for line in open(ocrd_log, errors='replace'):
		m = re.search(r'stage latency p50/p99 ms: (.*)', line)
		if m:
			stage = m.group(1)
		m = re.search(r"(closed tracks' reads: .*)", line)
		if m:
			counts = m.group(1)
except OSError:
	pass
print('  alpr-ocrd stages p50/p99 ms: %s' % (stage or 'not logged'))
print('  alpr-ocrd: %s' % (counts or 'no track counts logged'))
# alpr-matchd's stop line: each group commit's time, its images' sync, its commit.
commit = None
try:
	for line in open(os.path.join(os.path.dirname(ocrd_log), 'matchd.log'), errors='replace'):
		m = re.search(r'group commit p50/p99 ms: (.*)', line)
		if m:
			commit = m.group(1)
except OSError:
	pass
print('  alpr-matchd group commit p50/p99 ms: %s' % (commit or 'not logged'))

# Each alert by the READ that made its hit (the latest one of its id that
# alpr-ocrd logged before alpr-matchd queued the hit): an early read, an
# update before the close (the frames came to agree on another text), or a
# read at the close; per kind the latency from that READ's last frame, and
# where it went: last frame -> READ sent (alpr-ocrd), -> hit queued
# (alpr-matchd: group commit, match, hit stored), -> pushed (alpr-alertd).
# The logs' times are the local wall clock in ms.
def log_ms(line):
	h, m, sec = line[:12].split(':')
	return ((int(h) * 3600 + int(m) * 60 + float(sec)) * 1000 - time.localtime().tm_gmtoff * 1000) % 86400000
def log_lines(path, pat):
	out = []
	try:
		for line in open(path, errors='replace'):
			mm = re.search(pat, line)
			if mm and re.match(r'\d\d:\d\d:\d\d\.\d{3} ', line):
				out.append((log_ms(line), mm))
	except OSError:
		pass
	return out
def day_diff(a, b):
	d = (a - b) % 86400000
	return d - 86400000 if d > 43200000 else d
log_dir = os.path.dirname(ocrd_log)
read_lines = {}
for t, mm in log_lines(ocrd_log, r' read id=([0-9a-f]{32}) .*? (early|closing)'):
	read_lines.setdefault(mm.group(1), []).append((t, mm.group(2), ' update ' in mm.string))
queued = dict((int(mm.group(1)), t) for t, mm in log_lines(os.path.join(log_dir, 'matchd.log'),
							     r'hit (\d+) queued for alpr-alertd'))
kinds = {}
for a in alerts:
	rl = [r for r in read_lines.get(a.get('read'), []) if r[0] <= queued.get(a['hit'], 0) + 2]
	if not rl or not a.get('last_usec') or not a.get('pushed_usec'):
		continue
	t, why, upd = rl[-1]
	kind = 'closing' if why == 'closing' else 'update before the close' if upd else 'early read'
	last_ms, push_ms = (a['last_usec'] / 1000.0) % 86400000, (a['pushed_usec'] / 1000.0) % 86400000
	k = kinds.setdefault(kind, {'all': [], 'ocrd': [], 'matchd': [], 'alertd': []})
	k['all'].append(day_diff(push_ms, last_ms))
	k['ocrd'].append(day_diff(t, last_ms))
	k['matchd'].append(day_diff(queued[a['hit']], t))
	k['alertd'].append(day_diff(push_ms, queued[a['hit']]))
for kind in ('early read', 'update before the close', 'closing'):
	if kind in kinds:
		k = kinds[kind]
		print('  alerts on a %s: %d, from its last frame p50/p99 %s/%s ms (-> READ sent %s/%s,'
		      ' -> hit queued by matchd %s/%s, -> pushed %s/%s)' % (
			      kind, len(k['all']), ms(pct(k['all'], 50)), ms(pct(k['all'], 99)),
			      ms(pct(k['ocrd'], 50)), ms(pct(k['ocrd'], 99)), ms(pct(k['matchd'], 50)),
			      ms(pct(k['matchd'], 99)), ms(pct(k['alertd'], 50)), ms(pct(k['alertd'], 99))))

# No plate missed: every pass in view >= 0.5 s read, per camera.
truth = json.load(open(truth_file))
nf, fps = truth['frames'], truth['fps']
need = (fps + 1) // 2
fold = lambda s: (s or '').upper().replace('O', '0')
vehicles = [v for v in truth['vehicles'] if v['frames_in_view'] >= need]
cams = ['demo'] if ncam == 1 else ['demo%d' % i for i in range(1, ncam + 1)]
played = st.get('cameras', {})
tot_pass = tot_top1 = tot_cand = 0
missed, missed_cand = {}, {}	# vehicle: passes missed, over the cameras
split = {}			# vehicle: passes read more than once
n_reads = n_wrong = 0
for cam in cams:
	try:
		q = json.load(open(reads_prefix + cam + '.json'))
	except (OSError, ValueError):
		q = {}
	if not q.get('ok', True) or 'rows' not in q:
		print('  %s: no reads from alprctl query: %s' % (cam, q.get('error', 'no answer')))
	rows = q.get('rows', [])
	n_reads += len(rows)
	frames = played.get(cam, {}).get('frames', 0)
	truth_plates = set(fold(v['plate']) for v in truth['vehicles'])
	for r in rows:
		cands = set(fold(c.get('plate')) for c in r.get('candidates', [])) | {fold(r['plate'])}
		if not (cands & truth_plates):
			n_wrong += 1
	def passes_read(plate, top1):
		"""Reads of plate per pass, one count a pass read."""
		ts = sorted(r['capture_usec'] for r in rows if fold(r['plate']) == plate or (
			not top1 and plate in set(fold(c.get('plate')) for c in r.get('candidates', []))))
		passes = []
		for i, t in enumerate(ts):
			if i == 0 or t - ts[i - 1] > nf / 2.0 / fps * 1e6:
				passes.append(0)
			passes[-1] += 1
		return passes
	for v in vehicles:
		# passes whose in-view frames were all played at least a second before the end
		exp = sum(1 for p in range(frames // nf + 1) if p * nf + v['last_frame'] + fps <= frames)
		if exp == 0:
			continue
		plate = fold(v['plate'])
		top1 = passes_read(plate, True)
		got1, gotc = min(exp, len(top1)), min(exp, len(passes_read(plate, False)))
		twice = sum(1 for n in top1 if n > 1)
		if twice:
			k = 'v%d' % v['vehicle']
			split[k] = split.get(k, 0) + twice
		tot_pass += exp
		tot_top1 += got1
		tot_cand += gotc
		if got1 < exp:
			k = 'v%d%s' % (v['vehicle'], ' (night)' if v['night'] else '')
			missed[k] = missed.get(k, 0) + exp - got1
		if gotc < exp:
			k = 'v%d' % v['vehicle']
			missed_cand[k] = missed_cand.get(k, 0) + exp - gotc
print('  plates in view >= 0.5 s: %d passes (%d vehicles x the drive\'s loops, %d camera(s)),'
      ' read top-1: %d, missed: %d%s' % (tot_pass, len(vehicles), ncam, tot_top1,
					   tot_pass - tot_top1, ' (' + ', '.join(
					   '%s x%d' % kv for kv in missed.items()) + ')' if missed else ''))
print('  within the candidates: %d read, %d missed%s; %d reads stored, %d with no true plate'
      ' among their candidates' % (tot_cand, tot_pass - tot_cand,
				   ' (' + ', '.join('%s x%d' % kv for kv in missed_cand.items()) + ')'
				   if missed_cand else '',
				   n_reads, n_wrong))
print('  passes read more than once (one read a pass is the aim): %d%s' % (
	sum(split.values()), ' (' + ', '.join('%s x%d' % kv for kv in split.items()) + ')' if split else ''))
PY
}

for n in ${BENCH_CAMERAS:-1 2 4}; do
	run "cameras-$n" "$n"
done

if [ "$ENTRIES" -gt 0 ]; then
	# Entries like the sample list's (alpr-hotlist(5) delimited), random
	# CA-style plates; a fixed seed.
	$PY - "$ENTRIES" > "$T/big.txt" <<'PY'
import random, sys
rng = random.Random(9)
L, D = 'ABCDEFGHJKLMNPRSTUVWXYZ', '0123456789'
print('plate;state;category;priority;expiry;case;reason;description;source')
w = sys.stdout.write
for i in range(int(sys.argv[1])):
	p = rng.choice(D) + ''.join(rng.choice(L) for _ in range(3)) + ''.join(rng.choice(D) for _ in range(3))
	w('%s;CA;stolen-vehicle;60;2099-01-01;B-%07d;stolen vehicle report;bench;bench\n' % (p, i))
PY
	start=$(date +%s)
	run "hotlist-$ENTRIES" "${BENCH_HOTLIST_CAMERAS:-1}" "$T/big.txt"
	grep -a 'extra hot list' "$T/hotlist-$ENTRIES.out" | sed 's/^demo: /  /'
	echo "  (run with the import: $(( $(date +%s) - start )) s)"
fi
