#!/bin/sh
# alpr-alertd's HTTP side refuses what it must: a non-loopback Listen=
# without TLS, requests without a session or CSRF token, a foreign Host or
# Origin; logins lock after repeated failures (decided on the control
# socket, so the lockout is the one alprctl sees).
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

if ! command -v curl >/dev/null; then
	echo "1..0 # SKIP curl missing"
	exit 0
fi
URL=http://127.0.0.1:$PORT
J=$T/jar

# status METHOD PATH [curl args]: the HTTP status code only.
status() {
	m=$1 p=$2
	shift 2
	curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
csrf() {
	curl -s -c "$J" -b "$J" "$URL/api/state" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p'
}

# 1. Non-loopback addresses need TLS.
alert_conf "Listen=0.0.0.0:$PORT"
sed -i "/^Listen=127/d" "$T/alpr.conf"
"$ALERTD" -d -f "$T/alpr.conf" --runtime-dir "$T/run" >"$T/bind.log" 2>&1
rc=$?
check "Listen=0.0.0.0 without TLS exits 78 (EX_CONFIG)" [ $rc -eq 78 ]
check "the refusal says why" grep -q "not a loopback address" "$T/bind.log"
alert_conf "Listen=0.0.0.0:$PORT
TLSCertificate=$T/none.pem
TLSKey=$T/none.key"
sed -i "/^Listen=127/d" "$T/alpr.conf"
"$ALERTD" -d -f "$T/alpr.conf" --runtime-dir "$T/run" >"$T/bind2.log" 2>&1
check "TLS keys that cannot be read do not start a plain-HTTP server" [ $? -ne 0 ]

alert_conf ""
start_control
start_alertd || { echo "not ok - alpr-alertd starts"; cat "$T/alertd.log" >&2; exit 1; }

# 2. No session: nothing but the static page and /api/state.
check "the page itself loads without a session" [ "$(status GET /)" = 200 ]
check "GET /api/events without a session is refused" [ "$(status GET /api/events)" = 401 ]
check "GET /img/<id> without a session is refused" \
    [ "$(status GET /img/0123456789abcdef0123456789abcdef)" = 401 ]
check "POST without a session is refused" \
    [ "$(status POST /api/hit/1/step -H 'Content-Type: application/json' -d '{"to":"misread"}')" = 401 ]

# 3. A session but no (or a wrong) CSRF token.
C=$(csrf)
# A wrong token that provably differs from the real one: its last digit flipped
# (the real token may end in any hex digit, so a fixed digit could match it).
case $C in
*0) BAD=${C%?}1 ;;
*) BAD=${C%?}0 ;;
esac
check "the wrong token differs from the real one" test -n "$C" -a "$BAD" != "$C"
check "login without the CSRF token is refused" \
    [ "$(status POST /api/login -b "$J" -d '{"user":"deputy1","password":"secret"}')" = 403 ]
check "login with a wrong CSRF token is refused" \
    [ "$(status POST /api/login -b "$J" -H "X-CSRF-Token: $BAD" -d '{"user":"deputy1","password":"secret"}')" = 403 ]
check "a foreign Origin is refused even with the token" \
    [ "$(status POST /api/login -b "$J" -H "X-CSRF-Token: $C" -H 'Origin: http://evil.example' -d '{"user":"deputy1","password":"secret"}')" = 403 ]
check "a foreign Host (DNS rebinding) is refused" \
    [ "$(status GET /api/state -H 'Host: evil.example')" = 421 ]
check "the control socket saw none of these logins" \
    sh -c "! grep -q '\"op\":\"login\"' '$T/control.log'"

# 4. A real login; then step and audio POSTs need the token too.
check "login with session and token succeeds" \
    [ "$(status POST /api/login -b "$J" -c "$J" -H "X-CSRF-Token: $C" -d '{"user":"deputy1","password":"secret"}')" = 200 ]
check "the session cookie is HttpOnly and SameSite=Strict" \
    sh -c "curl -s -D - -o /dev/null '$URL/api/state' | grep -i '^set-cookie:' | grep -q 'HttpOnly; SameSite=Strict'"
C2=$(csrf)
check "login rotates the CSRF token (a new session)" test -n "$C2" -a "$C2" != "$C"
"$PEER" hits "$T/run/alert.sock" --first 7 >/dev/null
check "a step without the token is refused" \
    [ "$(status POST /api/hit/7/step -b "$J" -d '{"to":"MISREAD"}')" = 403 ]
check "the old pre-login token no longer works" \
    [ "$(status POST /api/hit/7/step -b "$J" -H "X-CSRF-Token: $C" -d '{"to":"MISREAD"}')" = 403 ]
check "a forged disposition on a new hit is refused (409)" \
    [ "$(status POST /api/hit/7/step -b "$J" -H "X-CSRF-Token: $C2" -d '{"to":"DISPOSED","disposition":"arrest","case":"A1"}')" = 409 ]
check "an unknown step name is refused" \
    [ "$(status POST /api/hit/7/step -b "$J" -H "X-CSRF-Token: $C2" -d '{"to":"arrested"}')" = 400 ]
check "a case number with markup is refused" \
    [ "$(status POST /api/hit/7/export -b "$J" -H "X-CSRF-Token: $C2" -d '{"case":"<script>"}')" = 400 ]
check "a body that is not JSON is refused" \
    [ "$(status POST /api/hit/7/step -b "$J" -H "X-CSRF-Token: $C2" -d 'to=MISREAD')" = 400 ]
check "a disposition outside the policy's list is refused" \
    [ "$(status POST /api/hit/7/step -b "$J" -H "X-CSRF-Token: $C2" -d '{"to":"DISPOSED","disposition":"detain-for-ice","case":"A1"}')" = 400 ]
check "no refused step reached the control socket" \
    sh -c "! grep -q '\"op\":\"hit_transition\"' '$T/control.log'"
check "a legal step with the token is recorded" \
    [ "$(status POST /api/hit/7/step -b "$J" -H "X-CSRF-Token: $C2" -d '{"to":"MISREAD"}')" = 200 ]
check "... and reached the control socket with the user's session" \
    grep -q '"op":"hit_transition","session":"stub-session-token".*"to":"MISREAD"' "$T/control.log"

# 5. Logout ends the session.
check "logout" [ "$(status POST /api/logout -b "$J" -c "$J" -H "X-CSRF-Token: $C2")" = 200 ]
check "after logout the event stream is refused" [ "$(status GET /api/events -b "$J")" = 401 ]

# 6. No current training: no session (R2).
rm -f "$J"
C=$(csrf)
check "a user without current training is refused at login" \
    [ "$(status POST /api/login -b "$J" -c "$J" -H "X-CSRF-Token: $C" -d '{"user":"untrained","password":"secret"}')" = 403 ]
check "... saying why" grep -q "training" "$T/body"
check "... and gets no session" [ "$(status GET /api/events -b "$J")" = 401 ]
check "... and matchd's session is closed again" grep -q '"op":"logout","session":"stub-session-token"' "$T/control.log"

# 7. Lockout after repeated failures, decided on the control socket.
rm -f "$J"
for i in 1 2 3; do
	C=$(csrf)
	status POST /api/login -b "$J" -c "$J" -H "X-CSRF-Token: $C" -d '{"user":"deputy1","password":"hunter2"}' >/dev/null
done
C=$(csrf)
check "after repeated failures the right password is refused too (lockout)" \
    [ "$(status POST /api/login -b "$J" -c "$J" -H "X-CSRF-Token: $C" -d '{"user":"deputy1","password":"secret"}')" = 403 ]
check "the lockout is reported" grep -q locked "$T/body"
check "passwords never reach alpr-alertd's log" sh -c "! grep -q -e secret -e hunter2 '$T/alertd.log'"

echo "1..$N"
[ $FAILED -eq 0 ]
