/*
 * clock.h — the two clocks tidewatch reads, in milliseconds: wall time
 * (post and alert times, Redis scores, flush stamps) and monotonic time
 * (intervals that must not jump with the system clock).
 */
#ifndef TW_CLOCK_H
#define TW_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline int64_t
clock_ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
clock_wall_ms(void)
{
	return clock_ms_of(CLOCK_REALTIME);
}

static inline int64_t
clock_mono_ms(void)
{
	return clock_ms_of(CLOCK_MONOTONIC);
}

/* ms since the epoch as RFC 3339 UTC with milliseconds,
 * "2026-11-26T05:05:01.120Z" (at least 25 bytes). */
static inline void
clock_rfc3339_ms(int64_t ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sz - n, ".%03dZ", (int)(ms % 1000));
}

#endif
