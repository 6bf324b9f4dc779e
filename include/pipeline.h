/*
 * pipeline.h — one post's way through tidewatch: decode → post time →
 * clock checks → match → count.
 *
 * The daemon's consumer threads, `backtest` and `match` all run their
 * posts through a pipeline, so a post is decoded, placed in time, matched
 * and counted the same way wherever it comes from.  A pipeline builds its
 * decoder from the config (input.format, the id/text/time fields, the
 * field map, input.max_post_bytes) and the fields the rule set reads.  It
 * borrows the matcher and the aggregate it counts into; it owns its
 * decoder and match context, so it belongs to one thread.  It does no I/O
 * and bumps no counter: each call returns what happened and the caller
 * counts, dead-letters or reports it its own way.
 */
#ifndef TW_PIPELINE_H
#define TW_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "config.h"
#include "decoder.h"
#include "matcher.h"
#include "post.h"

/* Where posts come from, which decides how they are placed in time. */
enum pipeline_mode {
	/*
	 * A live stream (the daemon).  The post's time per input.time: its
	 * own time field (post; falling back to the Kafka timestamp, then
	 * the arrival), the Kafka timestamp (kafka; falling back to the
	 * arrival) or the arrival (arrival).  A post further ahead than
	 * input.max_future is rejected; one older than counters.retention
	 * is late and not counted.
	 */
	PIPELINE_STREAM,
	/*
	 * A file replayed (`backtest`): there is no arrival and no Kafka
	 * timestamp, so every post is placed at its own time field (with
	 * input.time post or kafka) and a post without one is not counted
	 * (PIPELINE_NO_TIME).  No clock checks: a replay is of the past.
	 * pipeline_new() refuses input.time arrival and input.format text
	 * (a plain text line has no time).
	 */
	PIPELINE_FILE,
	/* Matching only (`match`): no time is read and nothing counted. */
	PIPELINE_MATCH,
};

struct pipeline_timing {
	double	decode, match, count;	/* seconds spent in each stage */
};

struct pipeline_opts {
	enum pipeline_mode	 mode;
	const struct config	*cfg;		/* read by pipeline_new only */
	const struct matcher	*m;		/* borrowed: must outlive it */
	struct agg		*agg;		/* borrowed; NULL counts nothing
						 * (always so in PIPELINE_MATCH) */
	const char		*text_field;	/* NULL: the config's */
	int			 text_lines;	/* 1: plain text lines whatever
						 * input.format says */
	struct pipeline_timing	*timing;	/* NULL, or added to per post */
};

enum pipeline_status {
	PIPELINE_OK,		/* matched (match.ntopics > 0) or not, and
				 * counted when there is an aggregate */
	PIPELINE_REJECTED,	/* refused: reason, detail */
	PIPELINE_NO_TIME,	/* PIPELINE_FILE: a post without a time */
	PIPELINE_LATE,		/* PIPELINE_STREAM: older than the retention,
				 * not counted */
};

/* Why a post was refused: an enum dec_result, or this. */
#define PIPELINE_REJ_FUTURE	DEC__COUNT	/* its time is too far ahead */

struct pipeline_result {
	enum pipeline_status	 status;
	int			 reason;	/* PIPELINE_REJECTED */
	const char		*detail;	/* REJECTED, NO_TIME: why, for a
						 * person; "" otherwise */
	int			 decoded;	/* post is valid (a rejection
						 * came after decoding) */
	int64_t			 time_ms;	/* the time it is counted at; -1
						 * when none was read */
	struct post		 post;		/* when decoded */
	struct match_result	 match;		/* PIPELINE_OK */
};

/* Whether the config can be used in o's mode: 0, or -1 with the reason in
 * errstr (PIPELINE_FILE refuses input.time arrival and text lines). */
int pipeline_check(const struct pipeline_opts *o, char *errstr,
    size_t errstr_size);
/* Builds a pipeline.  Returns NULL with a reason in errstr when
 * pipeline_check() refuses o.  Everything returned (post, match, detail)
 * is valid until the next pipeline_process() on the same pipeline. */
struct pipeline *pipeline_new(const struct pipeline_opts *o, char *errstr,
    size_t errstr_size);
void pipeline_free(struct pipeline *pl);

/* Runs one message.  kafka_ms is its Kafka timestamp (-1: none); now_ms is
 * the wall clock at its arrival (PIPELINE_STREAM; ignored otherwise). */
enum pipeline_status pipeline_process(struct pipeline *pl, const char *buf,
    size_t len, int64_t kafka_ms, int64_t now_ms, struct pipeline_result *r);

/* The second a time in ms falls in, rounded down (also before 1970). */
int64_t pipeline_second(int64_t ms);

#endif
