/*
 * metrics.h — the Prometheus endpoint (/metrics, /healthz) and the metrics
 * that are more than a plain counter of stats.h: matched posts per topic,
 * the flush duration histogram and consumer lag per partition.
 *
 * Consumer threads feed it through three hooks (metrics_flush_observe,
 * metrics_flushed, metrics_kafka_stats); the HTTP server runs on a thread
 * of libmicrohttpd and reads everything under one mutex and the atomics of
 * stats.h.  Every table here is bounded.  Without metrics_start() (an
 * empty metrics.listen) the hooks still count and nothing listens.
 */
#ifndef TW_METRICS_H
#define TW_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct agg;

#define METRICS_MAX_TOPICS	4096	/* more topics count as "_other" */
#define METRICS_MAX_PARTITIONS	4096	/* lag gauges kept */

/* Starts the HTTP server on "host:port" ("[v6]:port"; an empty host or
 * "*" listens on every address; port 0 takes a free one).  An empty
 * listen does nothing and returns 0.  Returns -1 with a reason in errstr. */
int metrics_start(const char *listen, char *errstr, size_t errstr_size);
/* The port the server listens on, 0 when none. */
int metrics_port(void);
void metrics_stop(void);

/* /healthz fails when Redis or Kafka has not succeeded for this long. */
void metrics_set_unhealthy_after(int64_t ms);
/* 0 when healthy; -1 with the reason ("redis unreachable for 42s"). */
int metrics_health(int64_t now_ms, char *reason, size_t reason_size);

/* A consumer wrote aggregate a to Redis: adds its per-topic counts and
 * marks Redis as reachable.  Called before the aggregate is cleared. */
void metrics_flushed(const struct agg *a);
/* Adds n posts to the matched counter of topic. */
void metrics_topic_add(const char *topic, uint64_t n);
/* One flush (store_flush call) took this long. */
void metrics_flush_observe(double seconds);
/* Flushes observed so far and their total time. */
void metrics_flush_totals(uint64_t *count, double *seconds);
/* Monotonic seconds, for timing a flush. */
double metrics_clock(void);

/* A librdkafka statistics document of consumer `consumer`: takes
 * consumer_lag of every partition it fetches (replacing what that consumer
 * reported before) and marks Kafka reachable if a broker is UP.  Returns
 * 0, or -1 when the JSON cannot be parsed (nothing changes). */
int metrics_kafka_stats(int consumer, const char *json, size_t len);
/* Partitions consumer reported last (or every consumer for -1). */
size_t metrics_partitions(int consumer);

/* The exposition text (format 0.0.4) of every metric; caller frees. */
char *metrics_render(void);

/* Forgets every topic, lag and histogram value (tests). */
void metrics_reset(void);

#endif
