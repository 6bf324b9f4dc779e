/*
 * alert.h — alert messages: their JSON, and publishing them exactly once.
 *
 * An alert is built by the detector from a spike evaluation plus evidence
 * read from Redis (top keywords, top count_by values, sample posts).  It is
 * published with one Lua script that first takes a dedup key (SET NX PX) and
 * only then PUBLISHes on <prefix><channel><topic> and XADDs to
 * <prefix><stream> (MAXLEN ~ n): several daemons that detect the same spike
 * publish it once.
 */
#ifndef TW_ALERT_H
#define TW_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "spike.h"
#include "store.h"

struct alert_top {
	char	**names;
	int64_t	 *counts;
	size_t	  n;
};

struct alert_breakdown {
	const char		*field;
	struct alert_top	 top;
};

struct alert {
	enum spike_action		 action;	/* FIRE, REPEAT or RESOLVE */
	const struct rule_topic		*topic;
	size_t				 block;		/* index in topic->alerts */
	struct spike_eval		 ev;
	struct alert_top		 keywords;
	struct alert_breakdown		*breakdown;
	size_t				 nbreakdown;
	char			       **samples;	/* JSON objects {"id":…,"text":…} */
	size_t				 nsamples;
	bool				 late;		/* published after its time
							 * (backlog, Redis away) */
	int64_t				 detected_ms;	/* wall clock */
};

/* The alert's id: "<topic>:<block>:<window_end>:<state>" — stable, so
 * every daemon computes the same id for the same spike. */
void alert_id(const struct alert *al, char *buf, size_t sz);

/* Returns the alert as one JSON object (SPEC "Redis data and alert
 * channels"); caller frees. */
char *alert_json(const struct alert *al);

struct alert_pub {
	const char	*channel;	/* e.g. "tidewatch:alerts:" (prefix included) */
	const char	*stream;	/* e.g. "tidewatch:alert-log" */
	int64_t		 stream_maxlen;
	int64_t		 dedup_ttl_ms;
};

/* Publishes unless another daemon already did (store_publish: on the
 * store's channel of the topic and its alert log; pub gives the log's
 * length and the dedup TTL): returns 1 published, 0 a duplicate (nothing
 * sent), -1 Redis error (store_errstr; nothing sent, a later call can
 * publish it). */
int alert_publish(struct store *s, const struct alert_pub *pub,
    const struct alert *al, const char *json);

/*
 * group_wait: a new alert of a topic with group_wait is held in Redis (the
 * hash <prefix>held, taken with the same dedup key as alert_publish, so
 * any leader can send it) instead of being published; alert_flush_held()
 * sends everything held as one digest on <channel>_digest once the posts'
 * time T has passed the first held window end + the shortest group_wait
 * held, or the wall clock now_ms that long after it was held; each held
 * alert also goes to the stream, so the log stays complete.
 * alert_hold: 1 held, 0 a duplicate, -1 Redis error.
 * alert_flush_held: the number of alerts sent (0: none due), -1 error.
 */
int alert_hold(struct store *s, const struct alert_pub *pub,
    const struct alert *al, const char *json, int64_t group_wait_s);
int alert_flush_held(struct store *s, const struct alert_pub *pub, int64_t T,
    int64_t now_ms);

/* The digest of held alerts (json_alerts: n alert objects), as published
 * on <channel>_digest and printed by backtest; caller frees. */
char *alert_digest_json(const char *id, int64_t since, const char *const *jsons,
    size_t n);

/* Frees the evidence arrays of al (not al itself). */
void alert_clear(struct alert *al);

#endif
