/*
 * stats.c — the process-wide counters (see stats.h).
 */
#include "stats.h"

struct stats stats;

const char *
stats_reject_name(int reason)
{
	if (reason == REJ_FUTURE)
		return "future";
	return decoder_result_name((enum dec_result)reason);
}
