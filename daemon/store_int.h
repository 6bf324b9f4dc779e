/*
 * store_int.h — what the store's own files (store.c, store_*.c) share and
 * nobody else sees: the one function that opens a Redis connection, and
 * the one that runs a command on a store's connection.
 */
#ifndef TW_STORE_INT_H
#define TW_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include "store.h"

/* The timeout when the config gives none. */
#define STORE_TIMEOUT_MS	2000

/* What a connection is made with (store_conn.c). */
struct store_dial_conf {
	const char	*address;	/* host:port, [v6]:port, host, unix:/path */
	const char	*username;	/* ACL user; NULL or "": default */
	const char	*password;	/* NULL or "": no AUTH (unless a user) */
	int64_t		 database;	/* SELECT when not 0 */
	int64_t		 timeout_ms;	/* connect and every reply */
	const char *const *sentinels;	/* asked for the master of
					 * master_name instead of address */
	size_t		 nsentinels;
	const char	*master_name;
};

/* Connects, authenticates (AUTH [user] password) and selects the
 * database.  Returns a new context (redisFree) or NULL with the reason in
 * err and its kind in *fault. */
redisContext *store_conn_dial(const struct store_dial_conf *dc,
    enum store_fault *fault, char *err, size_t errsz);

/* store_conn_dial() with the store's settings, for a connection of the
 * caller's own (store_alerts.c: a subscriber's). */
redisContext *store_dial(const struct store *s, char *err, size_t errsz);

/* Sets what store_errstr() says. */
void store_set_err(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The counters' bucket length (store_conf.resolution_s). */
int64_t store_resolution_s(const struct store *s);

/* The store's reply timeout in ms. */
int64_t store_timeout_ms(const struct store *s);

/* Runs one command on the store's connection (connecting first if need
 * be).  Returns the reply (freeReplyObject), or NULL with store_errstr()
 * set: on an error reply, or on an I/O error, after which the connection
 * is dropped and remade by the next call.  lens may be NULL. */
redisReply *store_run(struct store *s, int argc, const char **argv,
    const size_t *lens);

/* Calls fn with the id and alert JSON of every entry of an XRANGE or
 * XREVRANGE reply of the alert log (an array); next (may be NULL) gets
 * "(<id>" of the last entry.  Returns the number of entries. */
size_t store_log_entries(const redisReply *r, store_log_fn *fn, void *ctx,
    char *next, size_t nextsz);

/* The UTC day (yyyymmdd) of a bucket, as in the day keys' names, and the
 * start of that day in seconds. */
void store_day_name(int64_t bucket, char *buf, size_t sz);
int64_t store_day_start(int64_t bucket);
/* Likewise the UTC hour (yyyymmddhh) of a bucket, as in the counter keys'
 * names (one a topic and hour), and the start of that hour. */
void store_hour_name(int64_t bucket, char *buf, size_t sz);
int64_t store_hour_start(int64_t bucket);

/* The store's connection, made first if need be (NULL: store_errstr says
 * why); for pipelining (redisAppendCommandArgv, redisGetReply).  After an
 * I/O error on it, call store_disconnect(). */
redisContext *store_conn(struct store *s);

#endif
