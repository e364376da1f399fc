#!/usr/bin/python3
"""make demo's follower: what the deputy sees, as lines in a terminal.

Logs in to the MDC page of alpr-alertd the way the page itself does
(GET /api/state for the session cookie and CSRF token, POST /api/login)
and reads its event stream (/api/events): one ALERT line per hit as it is
pushed, with the latency from the capture of the read's best frame to the
push.  Follows the daemons' logs in --log-dir for READ lines (ids only:
the daemons never log plates) and, with --verbose, every other line.

On SIGTERM it prints the closing summary (frames, reads, alerts, latency)
from what it saw and from the daemons' final log lines, writes --stats and
exits.  With --once it writes --done-file once the camera's replay has
finished and nothing has happened for --quiet seconds, so that the
supervisor (tools/demo/demo.sh) stops the suite.

--alerts FILE gets one JSON object per alert (hit and entry ids, category,
match, latency; the plates too, for tests/system/091-demo.sh to compare
with the drive's ground truth).

Only the Python standard library: it runs wherever the demo does.
"""
import argparse
import glob
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse

DAEMONS = ('ocrd', 'matchd', 'alertd')	# and captured_CAMERA, one per camera
READ_RE = re.compile(r'read id=([0-9a-f]{32}) camera=(\S+) frames=(\d+)')
FINISHED_RE = re.compile(r'camera (\S+): replay finished after (\d+) frames')
CAPTURED_RE = re.compile(r'camera (\S+): (\d+) frames, (\d+) sent, (\d+) dropped')
OCRD_RE = re.compile(r'stopping: (\d+) frames received, (\d+) read, (\d+) dropped')

lock = threading.Lock()
state = {
	'reads': 0, 'read_ids': set(), 'alerts': [], 'hit_ids': set(),
	'finished': {}, 'capturers': set(), 'captured': {}, 'ocrd': None, 'health': {},
	'last_event': time.monotonic(), 'logged_in': False,
}


def out(line):
	with lock:
		sys.stdout.write(line + '\n')
		sys.stdout.flush()


def percentile(values, p):
	s = sorted(values)
	if not s:
		return None
	return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


# ---- the MDC page, as its own JavaScript uses it ---------------------------

class Page:
	def __init__(self, url, user, password):
		u = urllib.parse.urlsplit(url)
		self.host, self.port = u.hostname, u.port or 80
		self.user, self.password = user, password
		self.cookie = None
		self.csrf = None

	def request(self, method, path, body=None, timeout=10):
		c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
		h = {}
		if self.cookie:
			h['Cookie'] = self.cookie
		if body is not None:
			h['Content-Type'] = 'application/json'
			h['X-CSRF-Token'] = self.csrf or ''
		c.request(method, path, body=json.dumps(body) if body is not None else None,
			  headers=h)
		r = c.getresponse()
		set_cookie = r.getheader('Set-Cookie')
		if set_cookie:
			self.cookie = set_cookie.split(';', 1)[0]
		data = r.read()
		c.close()
		try:
			return r.status, json.loads(data) if data else {}
		except ValueError:
			return r.status, {}

	def login(self):
		"""True once logged in; the state (hits on display) is returned."""
		status, st = self.request('GET', '/api/state')
		if status != 200:
			return None
		self.csrf = st.get('csrf')
		if st.get('user'):
			return st
		status, st = self.request('POST', '/api/login',
					  {'user': self.user, 'password': self.password})
		if status != 200:
			return None
		status, st = self.request('GET', '/api/state')
		self.csrf = st.get('csrf')
		return st if status == 200 and st.get('user') else None

	def events(self):
		"""Yields (event, data) from /api/events until the stream ends."""
		c = http.client.HTTPConnection(self.host, self.port, timeout=60)
		c.request('GET', '/api/events', headers={'Cookie': self.cookie or '',
							  'Accept': 'text/event-stream'})
		r = c.getresponse()
		if r.status != 200:
			c.close()
			return
		ev, data = None, []
		while True:
			raw = r.fp.readline()
			if not raw:
				break
			line = raw.decode('utf-8', 'replace').rstrip('\r\n')
			if line == '':
				if ev is not None and data:
					yield ev, '\n'.join(data)
				ev, data = None, []
			elif line.startswith('event:'):
				ev = line[6:].strip()
			elif line.startswith('data:'):
				data.append(line[5:].lstrip())
		c.close()


def on_hit(hit, pushed_usec, alerts_file):
	"""One ALERT line per hit id, however often it is pushed."""
	read = hit.get('read') or {}
	entry = hit.get('entry') or {}
	match = hit.get('match') or {}
	with lock:
		if hit.get('id') in state['hit_ids']:
			return
		state['hit_ids'].add(hit.get('id'))
		state['last_event'] = time.monotonic()
	lat = None
	if pushed_usec is not None and read.get('capture_usec'):
		lat = (pushed_usec - read['capture_usec']) / 1000.0
	a = {
		'hit': hit.get('id'), 'read': read.get('id'), 'entry': entry.get('id'),
		'category': entry.get('category'),
		'priority': hit.get('priority'), 'match': match.get('type'),
		'state_check': hit.get('state_check'), 'retro': hit.get('retro'),
		'quiet': hit.get('quiet'), 'read_plate': read.get('plate'),
		'read_state': read.get('state'), 'entry_plate': entry.get('plate'),
		'entry_state': entry.get('state'), 'camera': read.get('camera'),
		'latency_ms': lat,
		# raw times for tests/bench/bench-pipeline.sh's stage figures: the
		# best frame's capture, the last frame's (the one that made the
		# read sure, for an early read), and the push as seen here
		'capture_usec': read.get('capture_usec'), 'last_usec': read.get('last_usec'),
		'pushed_usec': pushed_usec,
	}
	with lock:
		state['alerts'].append(a)
		if alerts_file:
			with open(alerts_file, 'a') as f:
				f.write(json.dumps(a) + '\n')
	extra = []
	if a['match'] and a['match'] != 'exact':
		extra.append('%s match to %s' % (a['match'], a['entry_plate']))
	if a['state_check'] == 'mismatch':
		extra.append('STATE MISMATCH (listed %s)' % (a['entry_state'] or '-'))
	if hit.get('person'):
		extra.append('person: the vehicle, not necessarily its driver')
	if a['quiet']:
		extra.append('repeat within the cool-down, not announced')
	out('ALERT  hit=%s %s %s %s priority=%s camera=%s%s%s' % (
		a['hit'], (a['category'] or '?').upper(), read.get('state') or '--', a['read_plate'],
		a['priority'], a['camera'],
		'' if lat is None else ' latency=%.0f ms' % lat,
		''.join('; ' + e for e in extra)))


def follow_page(args):
	page = Page(args.url, args.user, os.environ.get(args.password_env, ''))
	said = False
	# No login before the user exists: failed logins count towards lockout.
	while args.ready_file and not os.path.exists(args.ready_file):
		time.sleep(0.2)
	while True:
		try:
			st = page.login()
		except OSError:
			st = None
		if st is None:
			if not said and not state['logged_in'] and time.monotonic() - start > 30:
				out('       [follow] cannot log in to the MDC page yet; still trying')
				said = True
			time.sleep(1)
			continue
		if not state['logged_in']:
			out('       [follow] logged in to the MDC page as "%s"' % args.user)
			state['logged_in'] = True
		# Hits put on display while the stream was down: no latency for them.
		for h in reversed(st.get('hits') or []):
			on_hit(h, None, args.alerts)
		try:
			for ev, data in page.events():
				now = time.time() * 1e6
				try:
					o = json.loads(data)
				except ValueError:
					continue
				if ev == 'hit':
					on_hit(o, now, args.alerts)
				elif ev == 'health':
					with lock:
						for c in o.get('cameras') or []:
							state['health'][c.get('camera')] = c
		except (OSError, http.client.HTTPException):
			pass
		time.sleep(0.5)


# ---- the daemons' logs ----------------------------------------------------

def follow_logs(args):
	files = {}
	while True:
		busy = False
		for path in sorted(glob.glob(os.path.join(args.log_dir, '*.log'))):
			name = os.path.basename(path)[:-4]
			if name not in DAEMONS and not name.startswith('captured'):
				continue
			if name not in files:
				try:
					files[name] = open(path, 'r', errors='replace')
				except OSError:
					continue
			f = files[name]
			while True:
				pos = f.tell()
				line = f.readline()
				if not line:
					break
				if not line.endswith('\n'):
					f.seek(pos)	# a line still being written
					break
				busy = True
				log_line(name, line.rstrip('\n'), args.verbose)
		if not busy:
			time.sleep(0.1)


def log_line(name, line, verbose):
	m = READ_RE.search(line)
	if m and name == 'ocrd':
		with lock:
			if m.group(1) in state['read_ids']:
				return
			state['read_ids'].add(m.group(1))
			state['reads'] += 1
			state['last_event'] = time.monotonic()
		out('READ   id=%s camera=%s frames=%s' % m.groups())
		return
	if name.startswith('captured'):
		state['capturers'].add(name)
	m = FINISHED_RE.search(line)
	if m and name.startswith('captured'):
		with lock:
			state['finished'][m.group(1)] = int(m.group(2))
			state['last_event'] = time.monotonic()
	# alsa-lib's own complaints (no sound card here) only when verbose.
	if verbose or ('ALSA lib' not in line and (
			'warning' in line or 'error' in line or 'finished' in line or
			'exited' in line or 'cannot' in line)):
		out('       [%s] %s' % (name, line))


# ---- the summary ------------------------------------------------------------

def summary(args):
	# The daemons' last words (written as they stopped) first.
	for path in sorted(glob.glob(os.path.join(args.log_dir, '*.log'))):
		name = os.path.basename(path)[:-4]
		if name != 'ocrd' and not name.startswith('captured'):
			continue
		# A daemon restarted by the supervisor logs its counts at each stop.
		with open(path, errors='replace') as f:
			for line in f:
				m = CAPTURED_RE.search(line)
				if m and name.startswith('captured'):
					old = state['captured'].get(m.group(1), (0, 0, 0))
					state['captured'][m.group(1)] = tuple(
						a + int(b) for a, b in zip(old, m.groups()[1:]))
				m = OCRD_RE.search(line)
				if m and name == 'ocrd':
					old = state['ocrd'] or (0, 0, 0)
					state['ocrd'] = tuple(a + int(b) for a, b in zip(old, m.groups()))
	with lock:
		alerts = list(state['alerts'])
		lat = [a['latency_ms'] for a in alerts if a['latency_ms'] is not None]
		stats = {
			'reads': state['reads'], 'alerts': len(alerts),
			'hit_ids': sorted(a['hit'] for a in alerts),
			'categories': {},
			'latency_ms': {'p50': percentile(lat, 50), 'p99': percentile(lat, 99),
				       'max': max(lat) if lat else None, 'n': len(lat)},
			'replay_finished_frames': sum(state['finished'].values()),
		}
		for a in alerts:
			stats['categories'][a['category']] = stats['categories'].get(a['category'], 0) + 1
		if state['captured']:
			stats['cameras'] = {k: dict(zip(('frames', 'sent', 'dropped'), v))
					    for k, v in state['captured'].items()}
			stats['frames'], stats['sent'], stats['dropped'] = (
				sum(v[i] for v in state['captured'].values()) for i in range(3))
		if state['ocrd']:
			stats['ocrd_received'], stats['ocrd_read'], stats['ocrd_dropped'] = state['ocrd']
		health = dict(state['health'])
	if 'frames' in stats:
		f = stats['frames']
		frames = '%d captured, %d sent to alpr-ocrd, %d dropped (%.0f %%)%s' % (
			f, stats['sent'], stats['dropped'], 100.0 * stats['dropped'] / f if f else 0,
			' by %d cameras' % len(stats['cameras']) if len(stats['cameras']) > 1 else '')
	elif health:
		frames = ', '.join('camera %s: %s frames, %s dropped (last health report)' % (
			k, v.get('frames'), v.get('dropped')) for k, v in health.items())
	else:
		frames = 'not reported'
	if 'ocrd_received' in stats:
		frames += '; alpr-ocrd recognized %d of them' % (
			stats['ocrd_received'] - stats['ocrd_dropped'])
	print('frames:    ' + frames)
	print('reads:     %d' % stats['reads'])
	print('alerts:    %d%s' % (stats['alerts'], ' (' + ', '.join(
		'%s %d' % (k, v) for k, v in sorted(stats['categories'].items())) + ')'
		if stats['categories'] else ''))
	if lat:
		print('latency:   best frame captured -> alert pushed by alpr-alertd: p50 %.0f ms,'
		      ' p99 %.0f ms, max %.0f ms over %d alerts' % (
			      stats['latency_ms']['p50'], stats['latency_ms']['p99'],
			      stats['latency_ms']['max'], len(lat)))
	else:
		print('latency:   no alert seen live')
	sys.stdout.flush()
	if args.stats:
		with open(args.stats, 'w') as f:
			json.dump(stats, f, indent=1)


start = time.monotonic()


def main():
	ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
	ap.add_argument('--url', required=True, help='the MDC page, http://127.0.0.1:PORT/')
	ap.add_argument('--user', required=True)
	ap.add_argument('--password-env', default='DEMO_PASSWORD',
			help='environment variable holding the password')
	ap.add_argument('--log-dir', required=True, help='where the daemons log (NAME.log)')
	ap.add_argument('--ready-file', help='log in only once this file exists')
	ap.add_argument('--alerts', help='append one JSON line per alert here')
	ap.add_argument('--stats', help='write the summary as JSON here')
	ap.add_argument('--once', action='store_true',
			help='write --done-file when the replay finished and all is quiet')
	ap.add_argument('--done-file')
	ap.add_argument('--quiet', type=float, default=8.0)
	ap.add_argument('--verbose', action='store_true')
	args = ap.parse_args()

	# Ctrl-C goes to the supervisor; it stops the suite, then sends TERM.
	signal.signal(signal.SIGINT, signal.SIG_IGN)
	done = threading.Event()
	signal.signal(signal.SIGTERM, lambda *_: done.set())
	for fn in (follow_page, follow_logs):
		threading.Thread(target=fn, args=(args,), daemon=True).start()
	said = False
	while not done.wait(0.5):
		if args.once and not said and state['capturers'] and \
				len(state['finished']) >= len(state['capturers']) and \
				time.monotonic() - state['last_event'] > args.quiet:
			said = True
			out('       [follow] replay finished, nothing new for %.0f s' % args.quiet)
			if args.done_file:
				open(args.done_file, 'w').close()
	time.sleep(0.3)	# the log thread's last lines
	summary(args)


if __name__ == '__main__':
	main()
