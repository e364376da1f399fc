# wait_for SECONDS command...: true as soon as the command succeeds, false
# once SECONDS have passed by the clock.  The deadline is the clock's, not a
# count of polls: on a loaded machine each poll can take long, and counting
# them would stretch the wait far past what the scenario says.  Sourced by
# lib.sh and capture-lib.sh (POSIX sh: no $SECONDS in dash).
wait_for() {
	_wf_end=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -ge "$_wf_end" ] && return 1
		sleep 0.05
	done
}
