/*
 * store.h — everything tidewatch keeps in Redis, through hiredis.
 *
 * A store is one Redis connection plus the key prefix.  It writes a flush
 * (counter increments, keyword and breakdown counts, samples, Kafka
 * positions) atomically in one Lua script call, so a crash never leaves
 * counts without the positions that cover them (or the reverse); it reads
 * positions on partition assignment and counts for the detector; it
 * publishes alerts.  One store per thread: hiredis contexts are not shared.
 * Every function returns 0 on success and -1 on a Redis or connection error
 * (with store_errstr() saying why); after a connection error the store
 * reconnects on the next call.
 */
#ifndef TW_STORE_H
#define TW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"

struct store_conf {
	const char	*address;	/* host:port or unix:/path */
	const char	*password;	/* NULL: none */
	const char	*prefix;	/* e.g. "tidewatch:" */
	int64_t		 timeout_ms;
	int64_t		 retention_s;	/* TTL of counters beyond their day */
	int64_t		 samples_keep;	/* samples kept per topic */
};

/* The position of one partition in a flush: the stored next offset must be
 * `from` (-1: none stored yet) and becomes `to`.  time_ms is the newest post
 * time counted from the partition (its watermark). */
struct store_pos {
	char		 field[192];	/* "<kafka topic>/<partition>" */
	int64_t		 from;
	int64_t		 to;
	int64_t		 time_ms;
	int64_t		 lag;		/* messages behind the partition's end;
					 * -1 unknown */
};

struct store_flush_stats {
	size_t	commands;	/* Redis commands the script ran */
	size_t	round_trips;
	size_t	bytes_sent;
};

struct store;

struct store *store_new(const struct store_conf *conf);
void store_free(struct store *s);
const char *store_errstr(const struct store *s);
bool store_connected(const struct store *s);
/* Connects (or reconnects); also loads the scripts. */
int store_connect(struct store *s);

/* Writes a whole aggregate and the positions it covers, atomically.
 * Returns 0; -1 on a Redis error (nothing was written; try again later);
 * -2 if a position did not match (another consumer owns the partition now:
 * nothing was written; the caller drops the aggregate and re-reads its
 * positions). */
int store_flush(struct store *s, const char *group, const struct agg *a,
    const struct store_pos *pos, size_t npos, struct store_flush_stats *st);

/* Reads the stored next offset of each field (-1 when none). */
int store_get_positions(struct store *s, const char *group,
    const char *const *fields, size_t n, int64_t *offsets);

/* Fills out[i] with the count of topic in bucket from + i * res, for
 * i in [0, n). */
int store_get_counts(struct store *s, const char *topic, int64_t from,
    int64_t res, size_t n, int64_t *out);

/* Reads the whole hash of a day key family for the buckets [from, to):
 * keyword counts (kind 'k') or breakdown counts (kind 'b', field given)
 * summed over the buckets, as (name, count) pairs sorted by count, at most
 * max.  *names are owned by the caller (free each, then the array). */
int store_get_top(struct store *s, char kind, const char *topic,
    const char *field, int64_t from, int64_t to, size_t max, char ***names,
    int64_t **counts, size_t *n);

/* The newest samples of topic with bucket in [from, to): JSON objects
 * {"id":…,"text":…}, at most max; caller frees each and the array. */
int store_get_samples(struct store *s, const char *topic, int64_t from,
    int64_t to, size_t max, char ***json, size_t *n);

/* A message refused by the decoder, for the dead-letter stream. */
struct store_reject {
	const char	*reason;	/* "not_json", … (static) */
	char		 detail[160];
	char		 where[224];	/* "<kafka topic>/<partition>@<offset>" */
	char		 payload[1024];	/* the first bytes, as they came */
	size_t		 len;
	size_t		 size;		/* the message's whole size */
};

/* Appends the records to <prefix>rejected (XADD MAXLEN ~ maxlen), in one
 * round trip. */
int store_add_rejects(struct store *s, const struct store_reject *r, size_t n,
    int64_t maxlen);

/* Runs a command given as argv; returns the reply (freeReplyObject) or NULL
 * on error.  For the modules that own the other keys (alerts, state). */
void *store_command(struct store *s, int argc, const char **argv);

const char *store_prefix(const struct store *s);

#endif
