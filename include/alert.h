/*
 * alert.h — alert messages: their evidence, their JSON, group_wait digests,
 * and publishing them exactly once.
 *
 * An alert is built by the detector (and by backtest) from a spike
 * evaluation plus evidence (top keywords, top count_by values, sample
 * posts) read through an alert_evidence source: Redis for the daemon, the
 * counts in memory for backtest, with the same limits.  group_wait holds
 * new alerts through an alert_held_ops store (a Redis hash for the daemon,
 * an array for backtest) and sends them as one digest once due; when that
 * is, in which order and as what JSON is decided here, for both.  The
 * daemon publishes with alert_publish: one Lua script that first takes a
 * dedup key (SET NX PX) and only then PUBLISHes on <prefix><channel><topic>
 * and XADDs to <prefix><stream> (MAXLEN ~ n): several daemons that detect
 * the same spike publish it once.
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

/* Distinct counts of an alert: over the hours the window touches, and
 * over the 24 hours before the first of them (the baseline); -1 unknown. */
struct alert_distinct {
	int64_t	authors, texts, posts;		/* posts: of those hours */
	int64_t	base_authors, base_posts;
};

/* The text posted most often among the alert's samples (copies merged by
 * text key): n of the `of` samples are it. */
struct alert_top_text {
	char	*text;		/* NULL: no sample */
	int64_t	 n, of;
};

struct alert {
	enum spike_action		 action;	/* FIRE, REPEAT or RESOLVE */
	const struct rule_topic		*topic;
	size_t				 block;		/* index in topic->alerts */
	struct spike_eval		 ev;
	struct alert_top		 keywords;
	struct alert_breakdown		*breakdown;
	size_t				 nbreakdown;
	struct alert_distinct		 distinct;
	struct alert_top_text		 top_text;
	char			       **samples;	/* JSON objects {"id":…,"text":…} */
	size_t				 nsamples;
	bool				 late;		/* published after its time
							 * (backlog, Redis away) */
	int64_t				 detected_ms;	/* wall clock */
};

/* The alert's id: "<topic>:<block>:<window_end>:<state>" — stable, so
 * every daemon computes the same id for the same spike. */
void alert_id(const struct alert *al, char *buf, size_t sz);

/* Returns the alert as one JSON object, as published on the alert
 * channels; caller frees. */
char *alert_json(const struct alert *al);

/* Evidence of an alert, one set of limits for the daemon and backtest. */
#define ALERT_TOP_KEYWORDS	5	/* top keywords of the window */
#define ALERT_TOP_VALUES	5	/* top values of each count_by field */
/* Top keywords and values are counted over the window widened to whole
 * slots of STORE_SLOT_S seconds (the store counts them per slot). */
#define ALERT_SAMPLES		3	/* sample posts */

/* The order of top keywords and values: the larger count first, then the
 * name (strcmp); <0 when (c1, n1) ranks before (c2, n2).  Every evidence
 * source ranks with it, so the daemon and backtest name the same ones. */
int alert_top_cmp(int64_t c1, const char *n1, int64_t c2, const char *n2);

/* Where evidence comes from.  top: the max largest (name, count) pairs
 * summed over buckets [from, to) of topic t, of its keywords (field NULL)
 * or of the values of its count_by field; out's arrays are the caller's.
 * samples: at most max posts of t with bucket in [from, to), as JSON
 * objects {"id":…,"text":…}; caller frees each and the array.
 * distinct: the distinct authors (out[0]) and texts (out[1]) and the posts
 * (out[2]) of the whole hours that [from, to) touches.  Each returns 0,
 * or -1 (the alert then goes out with what was found).  text_key: the
 * text key (textkey.h) of a sample's text, for the top repeated text;
 * NULL: none is named. */
struct alert_evidence {
	int	(*top)(void *arg, const struct rule_topic *t, const char *field,
		    int64_t from, int64_t to, size_t max, struct alert_top *out);
	int	(*samples)(void *arg, const struct rule_topic *t, int64_t from,
		    int64_t to, size_t max, char ***json, size_t *n);
	int	(*distinct)(void *arg, const struct rule_topic *t, int64_t from,
		    int64_t to, int64_t out[3]);
	uint64_t (*text_key)(void *arg, const char *text, size_t len);
};

/* Fills al for action act of block `block` of t over ev, detected at
 * detected_ms (wall clock, or the window end offline), with its evidence
 * from src (none for a resolve).  alert_clear() frees it. */
void alert_make(struct alert *al, const struct rule_topic *t, size_t block,
    enum spike_action act, const struct spike_eval *ev, int64_t detected_ms,
    const struct alert_evidence *src, void *arg);

/* How alerts are kept (the channel and log names are the store's). */
struct alert_pub {
	int64_t		 stream_maxlen;	/* the alert log's MAXLEN ~ */
	int64_t		 dedup_ttl_ms;	/* how long an alert id is remembered */
};

/* Publishes unless another daemon already did (store_publish: on the
 * store's channel of the topic and its alert log; pub gives the log's
 * length and the dedup TTL): returns 1 published, 0 a duplicate (nothing
 * sent), -1 Redis error (store_errstr; nothing sent, a later call can
 * publish it). */
int alert_publish(struct store *s, const struct alert_pub *pub,
    const struct alert *al, const char *json);

/*
 * group_wait: a new alert (FIRE) of a topic with group_wait is held instead
 * of published (alert_group_waits says which), and everything held goes
 * out as one digest {"id":"digest:<since>:<n>","digest":true,"window_end",
 * "count","alerts":[…]} once the posts' time T has passed the first held
 * window end + the shortest group_wait held, or the wall clock now_ms is
 * that long after it was held; the alerts in it in alert id order (topic,
 * block, window end).  Where they are held is an alert_held_ops store:
 *   add   holds an alert unless it was held or published before: 1 held,
 *         0 a duplicate, -1 error;
 *   list  fills *h with everything held (h->n = 0: nothing); the strings
 *         become the caller's (alert_held_clear frees them);
 *   send  sends the digest digest_id of h (alert_digest_json) and forgets
 *         what h holds: the number of alerts sent, 0 when more was held
 *         since list (nothing sent: it is read again), -1 error.
 */
struct alert_held_item {
	char	*id;		/* alert id */
	char	*json;		/* the alert as it would have been sent */
};

struct alert_held {
	int64_t			 since;		/* window end of the first held */
	int64_t			 wall_ms;	/* wall clock it was held at */
	int64_t			 wait_s;	/* the shortest group_wait held */
	struct alert_held_item	*items;
	size_t			 n;
};

struct alert_held_ops {
	int	(*add)(void *arg, const char *id, const char *json,
		    int64_t window_end, int64_t wall_ms, int64_t wait_s);
	int	(*list)(void *arg, struct alert_held *h);
	int	(*send)(void *arg, const struct alert_held *h,
		    const char *digest_id);
};

/* One holder of group_wait alerts over a store of them.  since and wait:
 * the first window end and the shortest wait of what this holder held
 * (since INT64_MAX: nothing since the last digest). */
struct alert_group {
	const struct alert_held_ops	*ops;
	void				*arg;
	int64_t				 since, wait;
};

void alert_group_init(struct alert_group *g, const struct alert_held_ops *ops,
    void *arg);
/* True if al is held for a digest rather than sent now. */
bool alert_group_waits(const struct alert *al);
/* Holds al (its JSON json): 1 held, 0 a duplicate, -1 error. */
int alert_group_hold(struct alert_group *g, const struct alert *al,
    const char *json);
/* After window end T: sends the digest if what this holder held is due by
 * the posts' time.  Returns as alert_group_flush (0 when not due). */
int alert_group_tick(struct alert_group *g, int64_t T, int64_t now_ms);
/* Sends the digest of everything held (by anyone) if due at T / now_ms
 * (now_ms INT64_MIN: the posts' time alone decides).  Returns the number
 * of alerts sent (0: none due), or -1 on an error. */
int alert_group_flush(struct alert_group *g, int64_t T, int64_t now_ms);

/* The digest of h's alerts with id digest_id, as published on
 * <channel>_digest and printed by backtest; caller frees. */
char *alert_digest_json(const char *digest_id, const struct alert_held *h);
void alert_held_clear(struct alert_held *h);

/* Frees the evidence arrays of al (not al itself). */
void alert_clear(struct alert *al);

#endif
