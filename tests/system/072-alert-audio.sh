#!/bin/sh
# The audible alert: the announcement spells the plate in the APCO (or
# NATO) alphabet, as espeak-ng's own phonemes show; the audio is a tone plus
# speech, non-silent, of a plausible length; alpr-alertd writes it for a
# hit, not again for a repeat within the cool-down, and again until the
# deputy acknowledges it.
. "${top_srcdir:-.}/tests/system/alert-lib.sh"

if ! command -v sox >/dev/null || ! command -v espeak-ng >/dev/null; then
	echo "1..0 # SKIP sox or espeak-ng missing"
	exit 0
fi

# stat FILE KEY: a number from `sox FILE -n stat`.
stat_of() {
	sox "$1" -n stat 2>&1 | sed -n "s/^$2: *//p"
}
# phonemes WORD: what espeak-ng (the program, not our library call) says WORD is.
phonemes() {
	espeak-ng -q -x -v en-us "$1" | tr -d ' \n'
}

"$SAY" 7ABC123 CA stolen_vehicle 1 apco "$T/apco.wav" >"$T/apco.txt"
check "APCO text spells the plate" \
    grep -q '^text: Stolen vehicle. California. Seven, Adam, Boy, Charles, One, Two, Three.$' "$T/apco.txt"
ph=$(sed -n 's/^phonemes: //p' "$T/apco.txt" | tr -d ' ')
ok=yes
for w in Adam Boy Charles Seven; do
	case $ph in *"$(phonemes $w)"*) ;; *) ok=no; echo "# no phonemes of $w in $ph" ;; esac
done
check "the synthesiser's phonemes spell Seven Adam Boy Charles" [ $ok = yes ]
rms=$(stat_of "$T/apco.wav" "RMS     amplitude")
len=$(stat_of "$T/apco.wav" "Length (seconds)")
echo "# APCO announcement: $len s, RMS $rms"
check "the announcement WAV is not silent" awk "BEGIN { exit !($rms > 0.02) }"
check "the announcement lasts 4-15 s (tone and seven spelled characters)" \
    awk "BEGIN { exit !($len > 4 && $len < 15) }"

"$SAY" 4XYZ9 NV wanted_person 2 nato "$T/nato.wav" >"$T/nato.txt"
check "NATO text spells the plate" \
    grep -q '^text: Wanted person. Nevada. Four, X-ray, Yankee, Zulu, Nine.$' "$T/nato.txt"
ph=$(sed -n 's/^phonemes: //p' "$T/nato.txt" | tr -d ' ')
case $ph in *"$(phonemes Yankee)"*"$(phonemes Zulu)"*) r=0 ;; *) r=1 ;; esac
check "the synthesiser's phonemes spell Yankee Zulu" [ $r -eq 0 ]

# The tone differs by priority: priority 1 sounds longer before the words.
"$SAY" 1 CA x 1 apco "$T/p1.wav" >/dev/null
"$SAY" 1 CA x 3 apco "$T/p3.wav" >/dev/null
l1=$(stat_of "$T/p1.wav" "Length (seconds)")
l3=$(stat_of "$T/p3.wav" "Length (seconds)")
check "priority 1 has a longer tone than priority 3 ($l1 s vs $l3 s)" awk "BEGIN { exit !($l1 > $l3 + 0.5) }"

# The daemon: AudioFile= instead of ALSA.
alert_conf "RepeatIntervalSec=2"
start_control
start_alertd || { echo "not ok - alpr-alertd starts"; cat "$T/alertd.log" >&2; exit 1; }
written() { grep -c "announcement written" "$T/alertd.log"; }

"$PEER" hits "$T/run/alert.sock" --first 1 --plate 7ABC123 --entry 5 >/dev/null
i=0
while [ "$(written)" -eq 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "alpr-alertd writes the announcement of a hit" [ -s "$T/announce.wav" ]
rms=$(stat_of "$T/announce.wav" "RMS     amplitude")
check "the daemon's announcement is not silent (RMS $rms)" awk "BEGIN { exit !($rms > 0.02) }"
n1=$(written)
"$PEER" hits "$T/run/alert.sock" --first 2 --plate 7ABC123 --entry 5 >/dev/null
sleep 0.5
check "the same plate and entry within the cool-down is not announced again" \
    sh -c "! grep -q 'hit=2: announcement' '$T/alertd.log'"
check "... but it is recorded as shown" grep -q '"op":"hit_shown","args":{"hit":2,"quiet":true}' "$T/control.log"

# Repeat until acknowledged: the unacknowledged hit is announced again.
sleep 2.5
n2=$(written)
check "an unacknowledged hit is announced again ($n1 -> $n2)" [ "$n2" -gt "$n1" ]
J=$T/jar
C=$(curl -s -c "$J" -b "$J" "http://127.0.0.1:$PORT/api/state" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p')
curl -s -o /dev/null -c "$J" -b "$J" -H "X-CSRF-Token: $C" -d '{"user":"deputy1","password":"secret"}' \
    "http://127.0.0.1:$PORT/api/login"
C=$(curl -s -c "$J" -b "$J" "http://127.0.0.1:$PORT/api/state" | sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p')
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$J" -H "X-CSRF-Token: $C" -d '{}' \
    "http://127.0.0.1:$PORT/api/hit/1/ack")
check "the page's Silence acknowledges the hit" [ "$code" = 200 ]
n3=$(written)
sleep 2.5
check "an acknowledged hit is not announced again" [ "$(written)" -eq "$n3" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$J" -H "X-CSRF-Token: $C" -d '{"mute":true}' \
    "http://127.0.0.1:$PORT/api/audio")
"$PEER" hits "$T/run/alert.sock" --first 3 --plate 5DEF456 --entry 6 >/dev/null
sleep 0.5
check "muted from the page, a new hit is not announced" [ "$code" = 200 ] && [ "$(written)" -eq "$n3" ]

echo "1..$N"
[ $FAILED -eq 0 ]
