/*
 * clock.h — the two clocks tidewatch reads, in milliseconds: wall time
 * (post and alert times, Redis scores, flush stamps) and monotonic time
 * (intervals that must not jump with the system clock).
 */
#ifndef TW_CLOCK_H
#define TW_CLOCK_H

#include <stdint.h>
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

#endif
