/* Clocks: see time.h.  Runs in every program of the suite. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/time.h"

/*
 * Tests only: when $ALPR_TEST_CLOCK_FILE names a file holding a signed
 * number of seconds, CLOCK_REALTIME reads that much off the real clock,
 * so a test can jump the wall clock backwards and forwards under running
 * daemons without root (tests/system/203-clock-jump.sh).  The file is read
 * at each call (a missing or unreadable file means no offset); without the
 * variable nothing changes and nothing is read.  CLOCK_MONOTONIC never
 * jumps, as on a real machine.
 */
static int64_t
test_offset_usec(void)
{
	static int checked;
	static const char *path;
	char buf[32];
	ssize_t n;
	int fd;

	if (!checked) {
		path = getenv("ALPR_TEST_CLOCK_FILE");
		checked = 1;
	}
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10) * USEC_PER_SEC;
}

int64_t
time_now_usec(clockid_t clock)
{
	struct timespec ts;
	int64_t t;

	clock_gettime(clock, &ts);
	t = (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
	if (clock == CLOCK_REALTIME)
		t += test_offset_usec();
	return t;
}

char *
time_format_iso(int64_t realtime_usec, char *buf, size_t size)
{
	time_t t = (time_t)(realtime_usec / USEC_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(realtime_usec % USEC_PER_SEC / 1000));
	return buf;
}
