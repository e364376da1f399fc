#!/bin/bash
# Chaos, long form (make check-long): 200-chaos-kill for two minutes.
. "$(dirname "$0")/chaos-lib.sh"
chaos_kill_run "${CHAOS_SECONDS:-120}"
