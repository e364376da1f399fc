/* Clocks: see time.h. */
#include "config.h"

#include <stdio.h>

#include "base/time.h"

int64_t
time_now_usec(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
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
