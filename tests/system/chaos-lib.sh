# Shared by the chaos and fault scenarios (tests/system/2NN-*.sh, bash):
# the whole suite from the build tree under a tiny supervisor that
# restarts whatever dies (as systemd's Restart= does), a read feeder with
# known plates and known hits, and the checks that nothing was lost.
#
# Every wait is for a condition with a generous deadline, never a bare
# sleep, so that the scenarios hold on a loaded 2-core machine.
. "$(dirname "$0")/lib.sh"

MATCHD=$(bin alpr-matchd)
ALERTD=$(bin alpr-alertd)
OCRD=$(bin alpr-ocrd)
CAPTURED=$(bin alpr-captured)
PEER=$(bin match-peer)
DB=$T/state/alpr.db
db=$DB	# lib.sh's q() runs SQL on it
PORT=$((40000 + $$ % 20000))
chmod 0700 "$T/state"
sv_names=""
sv_pids=""
feeders=""
n_sent=0
HOT_EVERY=${HOT_EVERY:-25}

# chaos_conf EXTRA: the suite's config, all of it inside $T.
chaos_conf() {
	cat > "$T/alpr.conf" <<EOF
[general]
RuntimeDirectory=$RUN
StateDirectory=$T/state
[alert]
Listen=127.0.0.1:$PORT
AudioFile=$T/announce.wav
[match]
AlertCooldownSec=300
$1
EOF
}

# sv NAME PROGRAM ARGS...: runs PROGRAM, and again each time it dies, until
# sv_stop_all.  Its pid is in $T/NAME.pid; each start appends "=== start"
# to $T/NAME.log, so the log tells one life from the next.  While
# $T/NAME.hold exists, a dead NAME is not restarted.
sv() {
	local name=$1
	shift
	(
		n=0
		while [ ! -e "$T/sv.stop" ]; do
			n=$((n + 1))
			echo "=== start $n" >> "$T/$name.log"
			"$@" >> "$T/$name.log" 2>&1 &
			echo $! > "$T/$name.pid"
			wait $!
			echo "=== exit rc=$?" >> "$T/$name.log"
			[ -e "$T/sv.stop" ] && break
			sleep 0.2
			while [ -e "$T/$name.hold" ] && [ ! -e "$T/sv.stop" ]; do sleep 0.1; done
		done
	) 2>> "$T/sv.log" &	# bash's "Killed" notes go there, not into the TAP
	sv_pids="$sv_pids $!"
	sv_names="$sv_names $name"
}

sv_pid() { cat "$T/$1.pid" 2>/dev/null; }
sv_alive() { local p; p=$(sv_pid "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# Lives so far: how often NAME was started.
sv_starts() { grep -c '^=== start' "$T/$1.log" 2>/dev/null || echo 0; }

# sv_kill NAME SIGNAL: signals the running instance; 0 if there was one.
sv_kill() {
	local p
	p=$(sv_pid "$1") && [ -n "$p" ] && kill "-$2" "$p" 2>/dev/null
}

# sv_wait_restart NAME STARTS: waits until NAME has been started more
# than STARTS times and its new instance runs.
sv_wait_restart() {
	wait_for 60 sh -c "[ \$(grep -c '^=== start' '$T/$1.log') -gt $2 ] && kill -0 \$(cat '$T/$1.pid')"
}

sv_stop_all() {
	local n p i
	[ -n "$sv_pids" ] || return 0
	touch "$T/sv.stop"
	for n in $sv_names; do sv_kill "$n" TERM; done
	for i in $(seq 100); do
		p=""
		for n in $sv_names; do sv_alive "$n" && p=1; done
		[ -z "$p" ] && break
		sleep 0.1
	done
	for n in $sv_names; do sv_kill "$n" KILL; done
	for p in $sv_pids $feeders; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	sv_pids=""
}
trap 'sv_stop_all; cleanup' EXIT

# The database with its schema and a hot list of H<i> for every multiple
# of HOT_EVERY below $1, written before matchd starts (as 130 does).
chaos_hotlist() {
	"$MATCHD" -d -f "$T/alpr.conf" >> "$T/matchd-init.log" 2>&1 &
	local p=$!
	wait_for 60 test -S "$RUN/match.sock"
	kill -TERM $p
	wait $p
	{
		echo "BEGIN;"
		echo "INSERT INTO hotlists (id, name, source, version, imported_usec) VALUES (1, 'chaos', 'test', 1, $(date +%s)000000);"
		for i in $(seq 0 "$HOT_EVERY" $(($1 - 1))); do
			echo "INSERT INTO hotlist_entries (list_id, plate, category, source, priority) VALUES (1, 'H$i', 'stolen-vehicle', 'test', 50);"
		done
		echo "COMMIT;"
	} | sqlite3 "$DB"
}

# matchd and alertd under the supervisor; waits until both serve.
chaos_start_core() {
	sv matchd "$MATCHD" -d -f "$T/alpr.conf"
	sv alertd "$ALERTD" -d -f "$T/alpr.conf"
	wait_for 60 test -S "$RUN/control.sock" &&
	wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
}

# The camera and the recognizer too, replaying the sample drive slowly,
# when the build made the drive and the models are there.
DRIVE=${ALPR_DRIVE:-$top_builddir/build/drive}
MODELS=${ALPR_MODEL_DIR:-$top_srcdir/models}
chaos_have_camera() { [ -d "$DRIVE/frames" ] && [ -f "$MODELS/glyph-cnn.onnx" ]; }
chaos_camera_conf() {
	printf '[ocr]\nWorkers=1\nModelDirectory=%s\n[camera.chaos]\nSource=images\nPath=%s\nFrameRate=%s\nLoop=yes\nLatitude=38.0194\nLongitude=-122.1341\n' \
		"$MODELS" "$1" "${2:-2}"
}
chaos_start_camera() {
	sv ocrd "$OCRD" -d -f "$T/alpr.conf"
	sv captured "$CAPTURED" -d -f "$T/alpr.conf" -c chaos
}

# feed_start FIRST COUNT: one match-peer (alpr-ocrd's stand-in, which
# keeps unacknowledged READs and resends them) sends reads FIRST..; it
# exits 0 once matchd acknowledged them all.  Read i has plate H<i> (on
# the hot list) when i is a multiple of HOT_EVERY.
feed_start() {
	"$PEER" send "$RUN/match.sock" "$1" "$2" "$HOT_EVERY" >> "$T/feed.log" 2>&1 &
	feeders="$feeders $!"
	n_sent=$((n_sent + $2))
}

# feed_wait SECONDS: every feeder done; 0 if all exited 0.
feed_wait() {
	local p rc=0 t=$(($1 * 10))
	for p in $feeders; do
		while kill -0 "$p" 2>/dev/null && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
		kill -0 "$p" 2>/dev/null && { rc=1; continue; }
		wait "$p" || rc=1
	done
	feeders=""
	return $rc
}

# Hits the reads 0..$1-1 must give: one per multiple of HOT_EVERY.
expected_hits() { echo $(( ($1 + HOT_EVERY - 1) / HOT_EVERY )); }

# Hit ids on display in alertd's last life, one per line, as often as
# shown there; and how many times a hit was shown twice within one life.
shown_last_life() {
	awk '/^=== start/ { life++ }
	/hit=[0-9]+ priority=.*on display/ {
		match($0, /hit=[0-9]+/); id = substr($0, RSTART + 4, RLENGTH - 4)
		seen[life " " id]++; ids[life] = ids[life] " " id
	}
	END { n = split(ids[life], a, " "); for (i = 1; i <= n; i++) print a[i] }' "$T/alertd.log" | sort -n
}
shown_twice_in_a_life() {
	awk '/^=== start/ { life++ }
	/hit=[0-9]+ priority=.*on display/ {
		match($0, /hit=[0-9]+/); if (seen[life " " substr($0, RSTART, RLENGTH)]++) d++
	}
	END { print d + 0 }' "$T/alertd.log"
}

# Every hit stored is on display exactly once in alertd's current life.
all_hits_shown() {
	[ "$(shown_last_life | tr '\n' ' ')" = "$(q 'SELECT id FROM hits ORDER BY id' | tr '\n' ' ')" ]
}

matchd_status() { "$PEER" control "$RUN/control.sock" status '{}'; }

# The ids of the reads alpr-ocrd produced (spooled and logged) in all its
# lives, and how many of them are not stored.
ocrd_read_ids() { sed -n 's/.* read id=\([0-9a-f]\{32\}\) camera=chaos .*/\1/p' "$T/ocrd.log" | sort -u; }
ocrd_reads_missing() {
	ocrd_read_ids > "$T/ocrd-ids"
	q "SELECT id FROM reads WHERE camera = 'chaos'" | sort -u > "$T/stored-ids"
	comm -23 "$T/ocrd-ids" "$T/stored-ids" | wc -l
}
ocrd_reads_all_stored() { [ "$(ocrd_reads_missing)" -eq 0 ]; }

# ocrd_kill_before_ack: alpr-matchd killed and held down, alpr-ocrd
# produces a read that cannot be acknowledged (nor be in matchd's socket
# queue), gets kill -9, matchd comes back: the read must come back from
# ocrd's spool and be stored.
ocrd_kill_before_ack() {
	local before starts mstarts mpid
	starts=$(sv_starts ocrd)
	mstarts=$(sv_starts matchd)
	touch "$T/matchd.hold"
	mpid=$(sv_pid matchd)
	sv_kill matchd KILL
	echo "kill -9 alpr-matchd (pid $mpid), held down until alpr-ocrd has a read" >> "$T/injected.log"
	# SIGKILL lands when the process leaves the kernel (a commit's
	# fdatasync on a busy disk can hold it there for seconds): only the
	# reads logged after its death are sure to be unacknowledged.
	# The supervisor may have been starting a new life as the hold came
	# (the pid file then named the old one): any life found is killed too,
	# and the pid file must stay on a dead one for half a second.
	wait_for 60 sh -c "p=\$(cat '$T/matchd.pid'); if kill -0 \$p; then kill -KILL \$p; exit 1; fi;
		sleep 0.5; [ \"\$(cat '$T/matchd.pid')\" = \$p ] && ! kill -0 \$p" ||
		diag "alpr-matchd pid $(sv_pid matchd) still alive 60 s after kill -9"
	[ "$(sv_pid matchd)" = "$mpid" ] || echo "kill -9 alpr-matchd (pid $(sv_pid matchd)), a life started as it was held" >> "$T/injected.log"
	before=$(ocrd_read_ids | wc -l)
	wait_for 120 sh -c "[ \$(sed -n 's/.* read id=\([0-9a-f]*\) camera=chaos .*/\1/p' '$T/ocrd.log' | sort -u | wc -l) -gt $before ]"
	local got=$(( $(ocrd_read_ids | wc -l) - before )) opid
	opid=$(sv_pid ocrd)
	sv_kill ocrd KILL
	echo "kill -9 alpr-ocrd (pid $opid) with $got unacknowledged read(s), alpr-matchd restarts" >> "$T/injected.log"
	# Dead before matchd returns, or it would hand its reads over itself.
	wait_for 60 sh -c "! kill -0 $opid" || diag "alpr-ocrd pid $opid still alive 60 s after kill -9"
	rm -f "$T/matchd.hold"
	check "alpr-ocrd produced a read while alpr-matchd was down ($got)" test "$got" -gt 0
	sv_wait_restart ocrd "$starts"
	sv_wait_restart matchd "$mstarts"
	wait_for 60 grep -q 'reads from the spool sent again' "$T/ocrd.log"
	check "the restarted alpr-ocrd sent its spooled reads again" \
		grep -q 'reads from the spool sent again' "$T/ocrd.log"
}

# chaos_kill_run SECONDS: 200-chaos-kill and its long form 220.  The
# whole suite runs; reads with known plates flow in (a batch of 25 every
# half second) while a random daemon gets kill -9 every 1-3 s.  Then:
# every read stored once, every expected hit stored once, delivered and on
# display once, the database sound, the suite back without a person.
chaos_kill_run() {
	local secs=$1 seed=${CHAOS_SEED:-$$} end i=0 victims name kills=0 t0
	command -v sqlite3 > /dev/null || skip_all "sqlite3 CLI missing"
	command -v curl > /dev/null || skip_all "curl missing"
	if chaos_have_camera; then plan 14; else plan 10; fi
	RANDOM=$seed
	diag "seed $seed (CHAOS_SEED=$seed repeats the same kills)"
	victims="matchd alertd"
	if chaos_have_camera; then
		chaos_conf "$(chaos_camera_conf "$DRIVE/frames" 2)"
		victims="$victims ocrd captured"
	else
		chaos_conf ""
		diag "no sample drive or models: alpr-captured and alpr-ocrd left out"
	fi
	chaos_hotlist 100000
	check "the suite starts under the supervisor" chaos_start_core
	chaos_have_camera && chaos_start_camera
	set -- $victims
	t0=$(date +%s)
	end=$((t0 + secs))
	# The killer: a random daemon, kill -9, every 1-3 s.
	(
		RANDOM=$seed	# a subshell draws its own numbers otherwise
		while [ "$(date +%s)" -lt $end ]; do
			sleep "$((1 + RANDOM % 2)).$((RANDOM % 10))"
			eval "name=\${$((1 + RANDOM % $#))}"
			if sv_kill "$name" KILL; then
				echo "$(($(date +%s) - t0)) s: kill -9 alpr-$name" >> "$T/injected.log"
			fi
		done
	) &
	feeders=""
	killer=$!
	while [ "$(date +%s)" -lt $end ]; do
		feed_start $i 25
		i=$((i + 25))
		sleep 0.5
	done
	wait $killer
	# The last one killed may not run again yet (the supervisor waits
	# 0.2 s): each daemon's life after its last kill first, or the checks
	# below could look at the life that was killed.
	for name in $victims; do
		sv_wait_restart "$name" "$(grep -c "alpr-$name\$" "$T/injected.log")"
	done
	kills=$(grep -c 'kill -9' "$T/injected.log" 2>/dev/null || echo 0)
	diag "injected: $kills kill -9 in ${secs} s:$(for n in $victims; do printf ' alpr-%s %s' $n "$(grep -c "alpr-$n\$" "$T/injected.log")"; done)"
	check "every READ acknowledged after the chaos" feed_wait 120
	local stored hits want shown
	stored=$(q "SELECT count(*) FROM reads WHERE camera = 'front'")
	want=$(expected_hits $n_sent)
	check "$n_sent reads sent, each stored exactly once (stored $stored)" \
		test "$stored" = "$n_sent" -a "$(q "SELECT count(DISTINCT id) FROM reads WHERE camera = 'front'")" = "$n_sent"
	hits=$(q "SELECT count(DISTINCT read_rowid) || '/' || count(*) FROM hits")
	check "$want expected hits, each stored exactly once ($hits)" test "$hits" = "$want/$want"
	wait_for 90 sh -c "[ \$(sqlite3 -cmd '.timeout 10000' $DB 'SELECT count(*) FROM hits WHERE delivered_usec IS NOT NULL') -eq $want ]"
	check "every hit delivered to alpr-alertd" test "$(q 'SELECT count(*) FROM hits WHERE delivered_usec IS NOT NULL')" = "$want"
	wait_for 60 all_hits_shown
	shown=$(shown_last_life | sort -u | wc -l)
	check "every hit on display exactly once in the running alpr-alertd ($shown)" all_hits_shown
	all_hits_shown || awk '/^=== start/ { n = 0 } { l[n++] = $0 }
		END { for (i = 0; i < n && i < 40; i++) print "# alertd, last life: " l[i] }' "$T/alertd.log"
	check "no hit shown twice by one alpr-alertd" test "$(shown_twice_in_a_life)" = 0
	check "PRAGMA integrity_check: ok" test "$(q 'PRAGMA integrity_check')" = ok
	check "every daemon runs again, unattended" sh -c "$(for n in $victims; do printf 'kill -0 $(cat %s/%s.pid) && ' "$T" $n; done) true"
	check "matchd answers and the MDC page serves" sh -c \
		"$PEER control $RUN/control.sock status '{}' > /dev/null && curl -sf -o /dev/null http://127.0.0.1:$PORT/"
	diag "restarts:$(for n in $victims; do printf ' alpr-%s %s' $n $(($(sv_starts $n) - 1)); done)"
	local ocrd_lost=""
	if chaos_have_camera; then
		ocrd_kill_before_ack
		wait_for 120 ocrd_reads_all_stored
		local produced missing
		produced=$(ocrd_read_ids | wc -l)
		missing=$(ocrd_reads_missing)
		check "every read alpr-ocrd produced is stored ($((produced - missing)) of $produced)" \
			test "$missing" -eq 0
		check "each stored once" test "$(q "SELECT count(*) - count(DISTINCT id) FROM reads")" = 0
		diag "reads of the replayed drive through alpr-ocrd: $(q "SELECT count(*) FROM reads WHERE camera = 'chaos'"), $(grep -c ' read id=.* update' "$T/ocrd.log") updates, $(grep -c 'reads from the spool sent again' "$T/ocrd.log") replays of the spool"
		ocrd_lost=", alpr-ocrd's reads $missing of $produced"
	fi
	diag "lost: reads $((n_sent - stored)) of $n_sent, hits $((want - ${hits%%/*})) of $want, not shown $((want - shown))$ocrd_lost"
	[ "$n_fail" -eq 0 ]
}
