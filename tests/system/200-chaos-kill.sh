#!/bin/bash
# Chaos, short form (make check): the whole suite runs from the build tree
# under a tiny supervisor that restarts what dies, as systemd would; reads
# with known plates and known hits flow in while a random daemon gets
# kill -9 every 1-3 s for 20 s.  Afterwards every read is stored exactly
# once, every expected hit is stored once, delivered and on display once
# in the running alpr-alertd, PRAGMA integrity_check says ok, and every
# daemon runs again.  Prints what it injected and what was lost (0).
# 220-chaos-kill-long.sh is the 2-minute form (make check-long).
. "$(dirname "$0")/chaos-lib.sh"
chaos_kill_run "${CHAOS_SECONDS:-20}"
