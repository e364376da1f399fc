/* Clocks in microseconds (int64_t, named *_usec everywhere). */
#ifndef ALPR_TIME_H
#define ALPR_TIME_H

#include <stdint.h>
#include <time.h>

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_MSEC INT64_C(1000)
#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)

int64_t time_now_usec(clockid_t clock);
static inline int64_t
time_realtime_usec(void)
{
	return time_now_usec(CLOCK_REALTIME);
}
static inline int64_t
time_monotonic_usec(void)
{
	return time_now_usec(CLOCK_MONOTONIC);
}
/* "2026-11-28T23:59:01.123Z" into buf (at least 32 bytes). */
char *time_format_iso(int64_t realtime_usec, char *buf, size_t size);

#endif
