/*
 * store_ops.c — the Redis side of ops.c (the stall alert), as the struct
 * ops_io that ops.c is written against.
 *
 * DESIGN: a store of its own (main thread), the consumer group's name and
 * the alert log's length; the stall state lives in the field "stall" of
 * <p>state:_ops and the ops alerts (stall, store_reset) are published as
 * the alerts of the topic "_ops" (channel <p><alerts.channel>_ops),
 * through store_publish() like every alert, with a dedup key kept a day.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ops.h"
#include "store.h"
#include "xmalloc.h"

#define OPS_TOPIC		"_ops"
#define OPS_STATE_FIELD		"stall"
#define OPS_DEDUP_TTL_MS	INT64_C(86400000)

struct ops_store {
	struct store	*s;
	char		*group;
	int64_t		 stream_maxlen;
};

static int
ops_positions_sum(void *ctx, int64_t *sum)
{
	struct ops_store *os = ctx;

	return store_positions_sum(os->s, os->group, sum);
}

static int
ops_stall_state(void *ctx, char *buf, size_t sz)
{
	struct ops_store *os = ctx;

	return store_state_get(os->s, OPS_TOPIC, OPS_STATE_FIELD, buf, sz);
}

static int
ops_publish(void *ctx, const char *id, const char *json, const char *state)
{
	struct ops_store *os = ctx;
	struct store_alert a = {
		.id = id,
		.topic = OPS_TOPIC,
		.json = json,
		.dedup_ttl_ms = OPS_DEDUP_TTL_MS,
		.stream_maxlen = os->stream_maxlen,
		.state_topic = state != NULL ? OPS_TOPIC : NULL,
		.state_field = OPS_STATE_FIELD,
		.state_value = state,
	};

	return store_publish(os->s, &a) == -1 ? -1 : 0;
}

static int
ops_since(void *ctx, int64_t *since)
{
	struct ops_store *os = ctx;

	return store_get_since(os->s, since);
}

static int
ops_ping(void *ctx)
{
	struct ops_store *os = ctx;

	return store_ping(os->s);
}

static const char *
ops_store_errstr(void *ctx)
{
	struct ops_store *os = ctx;

	return store_errstr(os->s);
}

static void
ops_store_free(void *ctx)
{
	struct ops_store *os = ctx;

	if (os == NULL)
		return;
	store_free(os->s);
	free(os->group);
	free(os);
}

void
store_ops_io(const struct config *cfg, const char *password,
    struct ops_io *io)
{
	struct ops_store *os = xcalloc(1, sizeof *os);

	os->s = store_open(cfg, password);
	os->group = xstrdup(cfg->kafka_group);
	os->stream_maxlen = cfg->alert_stream_maxlen;
	io->ctx = os;
	io->positions_sum = ops_positions_sum;
	io->stall_state = ops_stall_state;
	io->publish = ops_publish;
	io->since = ops_since;
	io->ping = ops_ping;
	io->errstr = ops_store_errstr;
	io->free = ops_store_free;
}
