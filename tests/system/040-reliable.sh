#!/bin/sh
# No message lost, none duplicated: a sender pushes COUNT reliable messages
# while the receiver, which commits each to a real SQLite file before it
# acknowledges, is killed with SIGKILL several times and restarted.  The
# sender resends what is unacknowledged after each reconnect; the receiver
# skips what it already committed.  Afterwards the file must hold exactly
# COUNT distinct messages and no duplicate.
. "${top_srcdir:-.}/tests/system/lib.sh"
command -v sqlite3 > /dev/null || skip_all "sqlite3 is needed to count"
COUNT=${COUNT:-10000}
KILLS=${KILLS:-4}
plan 6

PEER=$(bin ipc-peer)
DB=$T/recv.db
SOCK=$RUN/recv.sock
start recv "$PEER" recv "$SOCK" "$DB"
wait_for 5 test -S "$SOCK"
start send "$PEER" send "$SOCK" "$COUNT"
kills=0
committed() { sqlite3 "$DB" "SELECT count(*) FROM messages" 2>/dev/null || echo 0; }
while [ $kills -lt "$KILLS" ] && alive send; do
	# Kill mid-stream: once the next share of the messages is committed,
	# plus an odd offset so the kill lands at a different point each round.
	mark=$(( (kills + 1) * COUNT / (KILLS + 2) + kills * 37 ))
	wait_for 60 sh -c "test \$(sqlite3 '$DB' 'SELECT count(*) FROM messages' 2>/dev/null || echo 0) -ge $mark"
	stop recv KILL
	kills=$((kills + 1))
	diag "receiver killed ($kills) with $(committed) committed"
	sleep 0.2
	start recv "$PEER" recv "$SOCK" "$DB"
done
check "sender got every acknowledgement" wait_for 120 sh -c "! kill -0 $pid_send"
wait "$pid_send"
rc=$?
check "sender exited 0" test $rc -eq 0
check "receiver was killed at least 3 times ($kills)" test $kills -ge 3
check "database intact" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
total=$(sqlite3 "$DB" "SELECT count(*) FROM messages")
distinct=$(sqlite3 "$DB" "SELECT count(DISTINCT n) FROM messages")
diag "sent $COUNT, committed $total rows, $distinct distinct, $((total - distinct)) duplicates"
check "exactly $COUNT distinct messages committed ($distinct)" test "$distinct" -eq "$COUNT"
check "no duplicate ($((total - distinct)))" test "$total" -eq "$distinct"
