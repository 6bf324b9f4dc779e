/*
 * consumer.h — one Kafka consumer thread: consume, decode, match, aggregate,
 * flush to Redis with the positions it covers, commit.
 *
 * Each consumer is its own member of the consumer group with its own
 * librdkafka handle, decoder, matcher context, aggregate and Redis
 * connection; consumers share nothing but the current engine and the
 * stats.  Partitions start at the positions stored in Redis (exactly-once
 * counting: see store.h), and Kafka offsets are committed after each flush.
 */
#ifndef TW_CONSUMER_H
#define TW_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct consumer;

/* Creates the consumer (librdkafka handle, subscription) without starting
 * its thread.  Returns NULL with a reason in errstr. */
struct consumer *consumer_new(const struct config *cfg, const char *password,
    int id, char *errstr, size_t errstr_size);
/* Checks the Kafka settings as consumer_new() would take them (every
 * kafka.properties entry through rd_kafka_conf_set(), then a handle made
 * and destroyed without contacting a broker).  Returns 0, or -1 with every
 * error in errs. */
int consumer_conf_check(const struct config *cfg, struct diag *errs);
int consumer_start(struct consumer *c);
/* Asks the thread to stop (flush, commit, leave the group) and waits. */
void consumer_stop(struct consumer *c);
void consumer_free(struct consumer *c);

/* True once the consumer has received its first assignment. */
bool consumer_joined(const struct consumer *c);
/* True once it has joined and read the stored position of every
 * partition assigned (it can count). */
bool consumer_counting(const struct consumer *c);

/* Messages behind the end of the assigned partitions, as of the last
 * flush. */
int64_t consumer_lag(const struct consumer *c);

#endif
