#!/bin/sh
# HITs are acknowledged only once on display and recorded as shown by
# alpr-matchd: with the control socket down the sender keeps them; once it
# is up they are recorded and acknowledged.  A killed alpr-alertd gets the
# unacknowledged hits again from the sender when it comes back.
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

alert_conf ""
start_alertd || { echo "not ok - alpr-alertd starts"; exit 1; }

# 1. No control socket: displayed, not acknowledged.
"$PEER" hits "$T/run/alert.sock" --first 1 --count 3 --timeout 15 >"$T/peer.out" 2>&1 &
PEER_PID=$!
PIDS="$PIDS $PEER_PID"
i=0
while [ "$(grep -c 'on display' "$T/alertd.log")" -lt 3 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
check "hits are on display while matchd is away" \
    sh -c "[ \$(grep -c 'on display' '$T/alertd.log') -eq 3 ]"
check "... but not acknowledged (the sender still waits)" kill -0 $PEER_PID
# The stand-in refuses the first hit_resend, as a busy matchd would.
ALERT_PEER_REFUSE_RESEND=1
export ALERT_PEER_REFUSE_RESEND
start_control
unset ALERT_PEER_REFUSE_RESEND
wait $PEER_PID
rc=$?
check "once the control socket is up, they are recorded and acknowledged" [ $rc -eq 0 ]
check "each was recorded as shown" \
    sh -c "[ \$(grep -c '\"op\":\"hit_shown\"' '$T/control.log') -eq 3 ]"
check "matchd was asked to resend unresolved hits on connect" grep -q '"op":"hit_resend"' "$T/control.log"
i=0
while ! grep -q 'unresolved hits sent again by matchd: 0' "$T/alertd.log" && [ $i -lt 300 ]; do
	sleep 0.05
	i=$((i + 1))
done
check "a refused hit_resend is asked again until matchd says yes" \
    sh -c "[ \$(grep -c '\"op\":\"hit_resend\"' '$T/control.log') -eq 2 ] &&
	grep -q 'unresolved hits sent again by matchd: 0' '$T/alertd.log'"

# 2. alertd killed with hits unacknowledged: they come again.
kill $(echo $PIDS | awk '{print $NF}') 2>/dev/null	# the control stand-in
sleep 0.3
"$PEER" hits "$T/run/alert.sock" --first 10 --count 2 --timeout 10 >"$T/peer2.out" 2>&1 &
PEER_PID=$!
PIDS="$PIDS $PEER_PID"
sleep 0.7
kill -9 $ALERTD_PID
wait $ALERTD_PID 2>/dev/null
: >"$T/alertd.log"
start_alertd || { echo "not ok - alpr-alertd restarts"; exit 1; }
start_control
wait $PEER_PID
check "after kill -9 and restart the sender's hits are shown and acknowledged" [ $? -eq 0 ]
check "... both of them, on the new alertd" \
    sh -c "[ \$(grep -c 'hit=1[01] priority=1: on display' '$T/alertd.log') -eq 2 ]"

echo "1..$N"
[ $FAILED -eq 0 ]
