/*
 * alertmanager.h — delivery of the alert log to Prometheus Alertmanager
 * and to a Kafka topic.
 *
 * The leading daemon (the one holding the detector's lease) reads the
 * alert log from a durable cursor per Alertmanager URL and POSTs each
 * alert to <url>/api/v2/alerts of every URL, on a thread of its own
 * (alertmanager.c); firing alerts are posted again every resend interval.
 * What one alert of the log becomes for Alertmanager (labels, annotations,
 * times) is decided by am_alert.c, without I/O; each target's queue is
 * am_queue.c; the Kafka producer (alerts.kafka_topic), alert_kafka.c.
 */
#ifndef TW_ALERTMANAGER_H
#define TW_ALERTMANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "config.h"

/* ---- one alert (am_alert.c) ------------------------------------------ */

/* The topic's tags, looked up by the caller: *known false when the rules
 * in force have no such topic; tags (",a,b,", "" when none) otherwise. */
typedef void am_tags_fn(void *ctx, const char *topic, bool *known,
    char *tags, size_t sz);

struct am_alert {
	char	 key[320];	/* what a later alert of the log resolves:
				 * "<topic>:<block>", "_ops:stall"; "" for an
				 * alert that is never resolved */
	char	 topic[256];
	bool	 firing;
	bool	 topic_known;	/* the rules in force hold its topic */
	int64_t	 starts_ms;
	int64_t	 ends_ms;	/* resolved: when it ended; else 0 */
	cJSON	*obj;		/* labels, annotations, generatorURL; the
				 * caller adds the times (am_alert_times) */
};

/* Converts one alert of the log (JSON, len bytes).  base_url: the web
 * view's (NULL or "": no link).  Returns 0 with out->obj the caller's
 * (cJSON_Delete), or -1 when the JSON is not an alert. */
int am_alert_convert(const char *json, size_t len, const char *base_url,
    am_tags_fn *tags, void *ctx, struct am_alert *out);
/* Sets startsAt and endsAt (ms since the epoch) of obj as RFC 3339. */
void am_alert_times(cJSON *obj, int64_t starts_ms, int64_t ends_ms);
/* Replaces obj's labels by a copy of labels. */
void am_alert_set_labels(cJSON *obj, const cJSON *labels);

/* ---- a target's queue (am_queue.c) ----------------------------------- */

#define AM_ID		48	/* a stream entry id, "ms-seq" */

struct am_item {
	char	 entry[AM_ID];	/* the log entry; "": none (no cursor move) */
	char	*text;		/* what to send for it */
};

/* Items waiting, oldest first: items[head .. n).  Zeroed: empty. */
struct am_queue {
	struct am_item	*items;
	size_t		 head, n, cap;
};

static inline size_t
amq_len(const struct am_queue *q)
{
	return q->n - q->head;
}

/* The i-th waiting item (i < amq_len), valid until the next push or pop. */
static inline struct am_item *
amq_at(const struct am_queue *q, size_t i)
{
	return &q->items[q->head + i];
}

/* Appends a copy of text, from log entry entry ("": none). */
void amq_push(struct am_queue *q, const char *entry, const char *text);
/* Drops the n oldest items (at most all). */
void amq_pop(struct am_queue *q, size_t n);
/* Drops every item and the storage; q is empty and reusable after. */
void amq_free(struct am_queue *q);

/* ---- Kafka output (alert_kafka.c) ------------------------------------ */

struct akafka;

/* A producer to cfg->alert_kafka_topic (kafka.brokers, kafka.properties);
 * NULL with the reason in err.  Used by one thread. */
struct akafka *akafka_new(const struct config *cfg, char *err, size_t errsz);
/* Hands librdkafka the n first items of q (their text as the value, the
 * alert's topic as the key): the number taken (> 0; fewer when its queue
 * is full), 0 while a batch is in flight, or -1 with err set. */
int akafka_produce(struct akafka *k, const struct am_queue *q, size_t n,
    char *err, size_t errsz);
/* Serves the delivery reports, without blocking.  Returns 1 when the
 * batch in flight is done: *delivered of its first items were delivered
 * (the rest failed, the first failure in err); else 0. */
int akafka_poll(struct akafka *k, size_t *delivered, char *err, size_t errsz);
/* Whether a batch is in flight. */
bool akafka_busy(const struct akafka *k);
/* Drops what is in flight (the cursor did not move for it); NULL ok. */
void akafka_free(struct akafka *k);

/* ---- delivery (alertmanager.c) --------------------------------------- */

struct am;

/* Reads the credentials (alertmanager.password_file or
 * bearer_token_file) and prepares one client per URL, and the producer of
 * alerts.kafka_topic; nothing is sent yet.  Returns 0 with *out the
 * delivery (NULL when alertmanager.urls and alerts.kafka_topic are
 * empty), or -1 with the reason in err.  cfg must outlive it (its
 * alertmanager and web keys are not reloadable). */
int am_new(const struct config *cfg, const char *redis_password,
    struct am **out, char *err, size_t errsz);
/* Starts the delivery thread: 0, or -1 with the reason in err. */
int am_start(struct am *am, char *err, size_t errsz);
/* Stops the thread (a POST under way is cut short) and frees; NULL ok. */
void am_free(struct am *am);

#endif
