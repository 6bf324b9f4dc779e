/*
 * consumer.c — a consumer thread: Kafka → the post pipeline (decode, time,
 * match, aggregate) → flush to Redis with positions → commit.
 *
 * DESIGN: the thread owns everything it touches (librdkafka handle,
 * pipeline, aggregate, Redis connection, partition positions), so the hot
 * path takes no lock.  Each message goes through pipeline.c, the path
 * `backtest` and `match` share; this file counts the outcome in the stats
 * and hands rejects to the flusher's list (rejects.c).  positions.c
 * knows, for each assigned partition, the next offset stored in Redis and
 * the next one to consume; flusher.c decides what each flush's outcome
 * does, through a flusher_io this file builds over Redis and Kafka.  A
 * flush stores the aggregate together with every (from → next) move
 * atomically (store.c splits a large one into scripts of at most
 * redis.flush_max_entries entries); only on success are the aggregate
 * cleared and the Kafka offsets committed.  A flush happens every flush
 * interval, and earlier when the aggregate reaches STORE_FLUSH_CHUNKS
 * times redis.flush_max_entries, which bounds its memory and what one
 * flush stages.  If Redis is away the
 * aggregate keeps growing (consumption pauses at AGG_PAUSE_AT entries) and
 * flushes retry with backoff.  If a position does not match, another
 * consumer owns the partition now: the aggregate is dropped and every
 * partition goes back to its stored position, so nothing is counted twice
 * and nothing is lost.  On revocation the thread flushes first; if it
 * cannot, the aggregate is dropped and the next owner recounts from Redis.
 * The rebalance callback runs on this thread (inside rd_kafka_queue_poll).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "agg.h"
#include "consumer.h"
#include "engine.h"
#include "flusher.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "rules.h"
#include "positions.h"
#include "stats.h"
#include "store.h"
#include "xmalloc.h"

#define AGG_PAUSE_AT	1000000		/* aggregate entries before pausing */
#define BATCH		256		/* messages taken from the queue at once */
#define CLOCK_EVERY	16		/* messages per clock read */

struct consumer {
	int			 id;
	const struct config	*cfg;
	pthread_t		 th;
	int			 started;
	atomic_int		 stop;
	atomic_int		 joined;
	atomic_int		 pos_waiting;	/* positions not read yet */
	_Atomic int64_t		 lag;

	rd_kafka_t		*rk;
	rd_kafka_queue_t	*q;		/* the consumer queue */
	rd_kafka_message_t	*batch[BATCH];
	struct engine		*eng;
	struct pipeline		*pl;		/* on eng's matcher, into agg */
	struct agg		*agg;
	struct store		*store;

	struct positions	 pos;		/* the assigned partitions */
	int			 paused;
	int			 closed;

	int64_t			 next_flush_ms;
	struct flusher		 fl;		/* the flush outcome; backoff,
						 * outage, rejects */
	int64_t			 next_pos_try_ms;
	enum time_source	 time_source;

	/* per-post counts, added to the shared stats once per batch: one
	 * cache line written by every thread per post made threads slower */
	struct {
		uint64_t	 consumed, decoded, matched;
		int64_t		 last_post_ms;
	}			 pend;
};

/* positions_read_fn over the consumer's Redis connection. */
static int
read_stored(void *arg, const char *const *fields, size_t n, int64_t *offs)
{
	struct consumer *c = arg;

	return store_get_positions(c->store, c->cfg->kafka_group, fields, n,
	    offs);
}

/* The assignment list of every part, with offsets from Redis where known. */
static rd_kafka_topic_partition_list_t *
parts_list(struct consumer *c, int with_offsets)
{
	rd_kafka_topic_partition_list_t *l;
	size_t i;

	l = rd_kafka_topic_partition_list_new((int)c->pos.n);
	for (i = 0; i < c->pos.n; i++) {
		const struct position *p = &c->pos.v[i];
		rd_kafka_topic_partition_t *tp;

		tp = rd_kafka_topic_partition_list_add(l, p->topic,
		    p->partition);
		if (with_offsets)
			tp->offset = p->next >= 0 ? p->next :
			    RD_KAFKA_OFFSET_STORED;
	}
	return l;
}

/*
 * Redis data loss: a commit to Kafka follows every flush, so what the group
 * committed is never past the position stored in Redis unless Redis lost
 * data.  A partition with no stored position but a committed offset lost
 * its history (a restart without persistence): it goes on from the
 * committed offset, or with redis.on_reset: rebuild from the earliest
 * offset Kafka keeps.  One stored behind the committed offset was rolled
 * back with its counts (an older snapshot, the last second of an
 * everysec AOF): counting again from it is exact.  Both are logged as
 * errors and counted in stats.store_resets, which ops.c turns into a
 * store_reset alert.  l is the assignment about to be made (its offsets
 * from parts_list()); partitions still waiting for their position are
 * left alone.
 */
static void
check_store_reset(struct consumer *c, rd_kafka_topic_partition_list_t *l)
{
	rd_kafka_topic_partition_list_t *k = rd_kafka_topic_partition_list_copy(l);
	rd_kafka_resp_err_t err;
	int i;

	if ((err = rd_kafka_committed(c->rk, k, 5000)) != 0) {
		log_warn("kafka: cannot read the group's committed offsets; "
		    "not checked for redis data loss | consumer=%d error=\"%s\"",
		    c->id, rd_kafka_err2str(err));
		rd_kafka_topic_partition_list_destroy(k);
		return;
	}
	for (i = 0; i < l->cnt && (size_t)i < c->pos.n; i++) {
		rd_kafka_topic_partition_t *tp = &l->elems[i];
		int64_t committed = k->elems[i].err ? -1 : k->elems[i].offset;

		if (c->pos.v[i].need_pos || committed < 0)
			continue;
		if (tp->offset == RD_KAFKA_OFFSET_STORED) {
			STAT_ADD(store_resets, 1);
			log_error("redis lost the position of a partition the "
			    "group committed to kafka; its history is gone, %s "
			    "| consumer=%d partition=%s/%" PRId32 " committed=%"
			    PRId64 " on_reset=%s", c->cfg->on_reset ==
			    ON_RESET_REBUILD ? "recounting from the earliest "
			    "offset" : "going on from the committed offset",
			    c->id, tp->topic, tp->partition, committed,
			    c->cfg->on_reset == ON_RESET_REBUILD ? "rebuild" :
			    "continue");
			if (c->cfg->on_reset == ON_RESET_REBUILD)
				tp->offset = RD_KAFKA_OFFSET_BEGINNING;
		} else if (tp->offset >= 0 && tp->offset < committed) {
			STAT_ADD(store_resets, 1);
			log_error("redis position behind what the group committed "
			    "to kafka (redis was rolled back); counting again "
			    "from the stored position | consumer=%d "
			    "partition=%s/%" PRId32 " stored=%" PRId64
			    " committed=%" PRId64, c->id, tp->topic,
			    tp->partition, tp->offset, committed);
		}
	}
	rd_kafka_topic_partition_list_destroy(k);
}

static void
assign_all(struct consumer *c)
{
	rd_kafka_topic_partition_list_t *l = parts_list(c, 1);
	rd_kafka_resp_err_t err;

	check_store_reset(c, l);

	err = rd_kafka_assign(c->rk, l);
	if (err)
		log_error("kafka assign failed | consumer=%d error=\"%s\"", c->id,
		    rd_kafka_err2str(err));
	/* a partition keeps librdkafka's pause across an assign: resume
	 * explicitly, or those paused while their positions waited stay so */
	if (positions_waiting(&c->pos) || c->paused)
		rd_kafka_pause_partitions(c->rk, l);
	else
		rd_kafka_resume_partitions(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

static void
set_paused(struct consumer *c, int paused)
{
	rd_kafka_topic_partition_list_t *l;

	if (c->paused == paused)
		return;
	c->paused = paused;
	l = parts_list(c, 0);
	if (paused)
		rd_kafka_pause_partitions(c->rk, l);
	else
		rd_kafka_resume_partitions(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	log_warn("%s consumption | consumer=%d pending=%zu", paused ?
	    "pausing" : "resuming", c->id, agg_size(c->agg));
}

static void
commit_offsets(struct consumer *c)
{
	rd_kafka_topic_partition_list_t *l;
	size_t i;

	l = rd_kafka_topic_partition_list_new((int)c->pos.n);
	for (i = 0; i < c->pos.n; i++) {
		if (c->pos.v[i].from < 0)
			continue;
		rd_kafka_topic_partition_list_add(l, c->pos.v[i].topic,
		    c->pos.v[i].partition)->offset = c->pos.v[i].from;
	}
	if (l->cnt > 0)
		rd_kafka_commit(c->rk, l, 1);
	rd_kafka_topic_partition_list_destroy(l);
}

/* Messages behind the partition's end, from the watermarks librdkafka
 * already has (no request); -1 when unknown. */
static int64_t
part_lag(void *arg, const struct position *p)
{
	struct consumer *c = arg;
	int64_t lo, hi;

	if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo,
	    &hi) != RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0)
		return -1;
	if (p->next < 0)
		return hi - lo;
	return hi > p->next ? hi - p->next : 0;
}

static void
update_lag(struct consumer *c)
{
	int64_t lag = 0, l;
	size_t i;

	for (i = 0; i < c->pos.n; i++)
		if ((l = part_lag(c, &c->pos.v[i])) > 0)
			lag += l;
	atomic_store(&c->lag, lag);
}

int64_t
consumer_lag(const struct consumer *c)
{
	return atomic_load(&((struct consumer *)(uintptr_t)c)->lag);
}

/* flusher_io over the consumer's Redis connection and Kafka handle. */
static int
io_flush(void *arg, const struct agg *a, const struct store_pos *moves,
    size_t n, const struct store_rejects *rj, struct store_flush_stats *st)
{
	struct consumer *c = arg;

	return store_flush(c->store, c->cfg->kafka_group, a, moves, n, rj, st);
}

static const char *
io_errstr(void *arg)
{
	struct consumer *c = arg;

	return store_errstr(c->store);
}

/* After a flush: the offsets go to Kafka, once redis.wait_replicas
 * replicas have the flush (WAIT), so that what the group committed
 * survives a failover; one not acknowledged in time is committed with a
 * later flush. */
static void
io_commit(void *arg)
{
	struct consumer *c = arg;
	int64_t n = c->cfg->redis_wait_replicas, acked = 0;

	/* half the reply timeout: WAIT must answer before the socket gives up */
	if (n > 0 && (store_wait_replicas(c->store, n,
	    c->cfg->redis_timeout_ms / 2, &acked) == -1 || acked < n)) {
		log_debug("flush not on enough replicas yet; commit deferred | "
		    "consumer=%d acked=%" PRId64 " wanted=%" PRId64, c->id,
		    acked, n);
		return;
	}
	commit_offsets(c);
}

static void
io_pause(void *arg, int paused)
{
	set_paused(arg, paused);
}

static void
io_reassign(void *arg)
{
	assign_all(arg);
}

static const struct flusher_io consumer_flusher_io = {
	.flush = io_flush,
	.errstr = io_errstr,
	.read = read_stored,
	.lag = part_lag,
	.commit = io_commit,
	.pause = io_pause,
	.reassign = io_reassign,
};

/* Flushes the aggregate and positions (flusher.c decides what follows).
 * Returns 0 when everything is in Redis (or nothing was pending), -1
 * otherwise. */
static int
flush(struct consumer *c)
{
	return flusher_flush(&c->fl);
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct consumer *c = opaque;
	size_t first;
	int i;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		first = c->pos.n;
		for (i = 0; i < parts->cnt; i++)
			positions_add(&c->pos, parts->elems[i].topic,
			    parts->elems[i].partition);
		if (positions_load(&c->pos, first, read_stored, c) == -1) {
			STAT_ADD(redis_errors, 1);
			log_warn("cannot read positions from redis; partitions "
			    "wait | consumer=%d error=\"%s\"", c->id,
			    store_errstr(c->store));
			c->next_pos_try_ms = clock_wall_ms() + 500;
		}
		atomic_store(&c->pos_waiting, positions_waiting(&c->pos));
		assign_all(c);
		log_info("partitions assigned | consumer=%d count=%d", c->id,
		    parts->cnt);
		atomic_store(&c->joined, 1);
	} else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		int tries;

		for (tries = 0; tries < 3; tries++)
			if (flush(c) == 0)
				break;
		if (tries == 3) {
			if (agg_size(c->agg) > 0)
				log_warn("cannot flush before giving partitions "
				    "up; the next owner recounts them | "
				    "consumer=%d posts=%zu", c->id,
				    agg_posts(c->agg));
			flusher_drop(&c->fl);
		}
		positions_clear(&c->pos);
		atomic_store(&c->pos_waiting, 0);
		c->paused = 0;
		rd_kafka_assign(rk, NULL);
		log_info("partitions revoked | consumer=%d count=%d", c->id,
		    parts->cnt);
	} else {
		log_error("rebalance error | consumer=%d error=\"%s\"", c->id,
		    rd_kafka_err2str(err));
		positions_clear(&c->pos);
		rd_kafka_assign(rk, NULL);
	}
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct consumer *c = opaque;

	(void)rk;
	STAT_ADD(kafka_errors, 1);
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
	    err == RD_KAFKA_RESP_ERR__TRANSPORT)
		log_warn("kafka: %s | consumer=%d", reason, c->id);
	else
		log_error("kafka: %s | consumer=%d code=%s", reason, c->id,
		    rd_kafka_err2name((rd_kafka_resp_err_t)err));
}

/* librdkafka statistics (statistics.interval.ms): lag per partition. */
static int
stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	(void)rk;
	metrics_kafka_stats(((struct consumer *)opaque)->id, json, len);
	return 0;	/* librdkafka frees json */
}

/* librdkafka's own log lines.  A broker failure ("FAIL": connection
 * refused, authentication failed, …) also reaches error_cb, which logs
 * and counts it: here it is a debug line, so it is logged once. */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (strcmp(fac, "FAIL") == 0)
		log_debug("librdkafka %s: %s", fac, buf);
	else if (level <= 3)
		log_error("librdkafka %s: %s", fac, buf);
	else if (level <= 4)
		log_warn("librdkafka %s: %s", fac, buf);
	else
		log_debug("librdkafka %s: %s", fac, buf);
}

/* librdkafka properties tidewatch sets before kafka.properties, which may
 * override each of them. */
static const struct {
	const char *k, *v;
} own_defaults[] = {
	{ "enable.auto.commit", "false" },
	{ "enable.auto.offset.store", "false" },
	{ "auto.offset.reset", "earliest" },
	{ "enable.partition.eof", "false" },
	{ "session.timeout.ms", "10000" },
	{ "heartbeat.interval.ms", "1000" },
	{ "fetch.wait.max.ms", "100" },
	{ "statistics.interval.ms", "5000" },
	/*
	 * librdkafka 2.0 stops fetching when the pre-fetch queue
	 * passes either limit and looks again only after its 1 s
	 * broker wakeup, so the queue must hold about a second of
	 * posts or the thread waits for data: 100000 messages (the
	 * default) capped one thread at ~130 k posts/s, the default
	 * 64 MB at ~330 k.  256 MB is a second at ~700 k posts/s of
	 * 300-byte posts; it is filled only while there is a
	 * backlog.  Both can be set in kafka.properties.
	 */
	{ "queued.max.messages.kbytes", "262144" },
	{ "queued.min.messages", "1000000" },
};

/* kafka.group_instance_id for consumer id into buf (static membership:
 * with several threads each is a member of its own).  False when unset. */
static bool
group_instance_id(const struct config *cfg, int id, char *buf, size_t sz)
{
	if (cfg->kafka_group_instance_id[0] == '\0')
		return false;
	if (cfg->threads > 1)
		snprintf(buf, sz, "%s-%d", cfg->kafka_group_instance_id, id);
	else
		snprintf(buf, sz, "%s", cfg->kafka_group_instance_id);
	return true;
}

/* tidewatch's properties, then kafka.properties (every refused entry into
 * errs).  Returns 0, or -1. */
static int
conf_fill(const struct config *cfg, rd_kafka_conf_t *conf, int id,
    struct diag *errs)
{
	char client_id[64], err[512], inst[512];
	size_t i;

	snprintf(client_id, sizeof client_id, "tidewatch-%d", id);
	for (i = 0; i < sizeof own_defaults / sizeof own_defaults[0]; i++)
		rd_kafka_conf_set(conf, own_defaults[i].k, own_defaults[i].v,
		    NULL, 0);
	if (rd_kafka_conf_set(conf, "client.id", client_id, err, sizeof err) ||
	    rd_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_brokers,
	    err, sizeof err) ||
	    rd_kafka_conf_set(conf, "group.id", cfg->kafka_group, err,
	    sizeof err) ||
	    (group_instance_id(cfg, id, inst, sizeof inst) &&
	    rd_kafka_conf_set(conf, "group.instance.id", inst, err,
	    sizeof err))) {
		diag_addf(errs, "kafka: %s", err);
		return -1;
	}
	return config_kafka_apply(cfg, conf, errs);
}

static void
discard_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

int
consumer_conf_check(const struct config *cfg, struct diag *errs)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char err[512];

	if (conf_fill(cfg, conf, 0, errs) == -1) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	/* no broker is contacted: the handle is made and destroyed */
	rd_kafka_conf_set(conf, "bootstrap.servers", "", NULL, 0);
	rd_kafka_conf_set_log_cb(conf, discard_log_cb);
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err)) ==
	    NULL) {
		rd_kafka_conf_destroy(conf);
		diag_addf(errs, "%s%skafka.properties: librdkafka refuses the "
		    "configuration: %s", cfg->path != NULL ? cfg->path : "",
		    cfg->path != NULL ? ": " : "", err);
		return -1;
	}
	rd_kafka_destroy(rk);
	return 0;
}

struct consumer *
consumer_new(const struct config *cfg, const char *password, int id,
    char *errstr, size_t errsz)
{
	struct consumer *c = xcalloc(1, sizeof *c);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *topics;
	struct diag errs;
	char inst[512];
	size_t i;

	c->id = id;
	c->cfg = cfg;
	c->time_source = cfg->time_source;
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_stats_cb(conf, stats_cb);
	diag_init(&errs);
	if (conf_fill(cfg, conf, id, &errs) == -1) {
		snprintf(errstr, errsz, "%s", errs.msgs[0]);
		diag_free(&errs);
		goto fail_conf;
	}
	diag_free(&errs);
	if (group_instance_id(cfg, id, inst, sizeof inst))
		log_info("kafka static group member | consumer=%d "
		    "group.instance.id=%s", id, inst);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errsz);
	if (c->rk == NULL)
		goto fail_conf;
	conf = NULL;	/* owned by rk now */
	rd_kafka_poll_set_consumer(c->rk);
	c->q = rd_kafka_queue_get_consumer(c->rk);
	topics = rd_kafka_topic_partition_list_new((int)cfg->kafka_ntopics);
	for (i = 0; i < cfg->kafka_ntopics; i++)
		rd_kafka_topic_partition_list_add(topics, cfg->kafka_topics[i],
		    RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(c->rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errstr, errsz, "cannot subscribe to the kafka topics");
		rd_kafka_topic_partition_list_destroy(topics);
		goto fail;
	}
	rd_kafka_topic_partition_list_destroy(topics);

	c->agg = agg_new(cfg->resolution_s, (size_t)cfg->samples);
	c->store = store_open(cfg, password);
	c->fl.io = &consumer_flusher_io;
	c->fl.arg = c;
	c->fl.id = id;
	c->fl.pos = &c->pos;
	c->fl.agg = c->agg;
	c->fl.pause_at = AGG_PAUSE_AT;
	c->fl.rj.budget = (size_t)cfg->dead_letter_bytes;
	c->fl.rj.maxlen = cfg->dead_letter_maxlen;
	return c;

fail_conf:
	if (conf != NULL)
		rd_kafka_conf_destroy(conf);
fail:
	if (c->rk != NULL)
		rd_kafka_destroy(c->rk);
	free(c);
	return NULL;
}

/* Counts a refused message by reason and hands it to the flusher, which
 * writes it (count, dead letter) with the flush that moves past it. */
static void
reject(struct consumer *c, int reason, const char *detail,
    const rd_kafka_message_t *m)
{
	char where[224];

	STAT_ADD(rejected[reason], 1);
	snprintf(where, sizeof where, "%s/%" PRId32 "@%" PRId64,
	    rd_kafka_topic_name(m->rkt), m->partition, m->offset);
	rejects_add(&c->fl.rj, reason, detail, where, m->payload, m->len);
}

/* Takes the current engine, with a pipeline that decodes the fields its
 * rules read. */
static void
use_engine(struct consumer *c)
{
	struct pipeline_opts po;

	pipeline_free(c->pl);
	agg_forget_rules(c->agg);	/* it points into the old rules */
	engine_unref(c->eng);
	c->eng = engine_current();
	memset(&po, 0, sizeof po);
	po.mode = PIPELINE_STREAM;
	po.cfg = c->cfg;
	po.m = c->eng->m;
	po.agg = c->agg;
	c->pl = pipeline_new(&po, NULL, 0);	/* a stream takes any config */
}

/* The Kafka timestamp of m, or -1. */
static int64_t
kafka_time(const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t tt;
	int64_t kts;

	kts = rd_kafka_message_timestamp(m, &tt);
	return tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && kts >= 0 ? kts : -1;
}

/* Regexes that PCRE2 cut off (match or depth limit) count as no match and
 * in tidewatch_regex_errors_total; a warning names the first of a post,
 * at most once a minute over all consumers, with how many were held. */
#define REGEX_LOG_INTERVAL_MS	60000

static struct log_limit regex_log_limit = LOG_LIMIT_INIT;

static void
log_regex_errors(const struct consumer *c, const struct match_result *mr,
    const rd_kafka_message_t *m)
{
	const struct match_error *e = &mr->errors[0];
	const struct rule_topic *t = &c->eng->rs->topics[e->topic];
	PCRE2_UCHAR why[160];
	uint64_t held;

	if (!log_limit_allow(&regex_log_limit, REGEX_LOG_INTERVAL_MS, &held))
		return;
	if (pcre2_get_error_message(e->pcre2_rc, why, sizeof why) < 0)
		snprintf((char *)why, sizeof why, "PCRE2 error %d", e->pcre2_rc);
	log_warn("regex cut off, counted as no match | topic=%s keyword=%s "
	    "error=\"%s\" partition=%s/%" PRId32 " offset=%" PRId64
	    " in_post=%zu held_back=%" PRIu64, t->id, e->kw < t->nkws ?
	    t->kws[e->kw].display : "(where)", (const char *)why,
	    rd_kafka_topic_name(m->rkt), m->partition, m->offset, mr->nerrors,
	    held);
}

/* One message: positions, then the pipeline, then what it says is counted
 * in the stats or dead-lettered.  now is the wall clock read by the poll
 * loop. */
static void
consume_message(struct consumer *c, rd_kafka_message_t *m, int64_t now)
{
	struct pipeline_result r;
	struct position *pt;

	if (m->err) {
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			STAT_ADD(kafka_errors, 1);
			log_warn("kafka: %s | consumer=%d", rd_kafka_message_errstr(m),
			    c->id);
		}
		return;
	}
	pt = positions_take(&c->pos, rd_kafka_topic_name(m->rkt), m->partition,
	    m->offset);
	if (pt == NULL)
		return;		/* not ours, waiting, or counted before */
	c->pend.consumed++;
	c->pend.last_post_ms = now;

	if (c->eng == NULL || c->eng->version != engine_current_version())
		use_engine(c);
	switch (pipeline_process(c->pl, m->payload ? m->payload : "", m->len,
	    c->time_source == TIME_ARRIVAL ? -1 : kafka_time(m), now, &r)) {
	case PIPELINE_OK:
		c->pend.decoded++;
		if (r.match.nerrors > 0) {
			STAT_ADD(regex_errors, r.match.nerrors);
			log_regex_errors(c, &r.match, m);
		}
		if (r.time_ms > pt->wm_ms)
			pt->wm_ms = r.time_ms;
		if (r.match.ntopics > 0)
			c->pend.matched++;
		break;
	case PIPELINE_REJECTED:
		reject(c, r.reason == PIPELINE_REJ_FUTURE ? REJ_FUTURE :
		    r.reason, r.detail, m);
		break;
	case PIPELINE_LATE:
		/* older than the counters are kept: counted as late only */
		STAT_ADD(late, 1);
		break;
	case PIPELINE_NO_TIME:	/* a stream always has the arrival */
		break;
	}
}

/* Adds the batch's per-post counts to the shared stats. */
static void
publish_stats(struct consumer *c)
{
	if (c->pend.consumed == 0)
		return;
	STAT_ADD(consumed, c->pend.consumed);
	STAT_ADD(decoded, c->pend.decoded);
	STAT_ADD(matched, c->pend.matched);
	STAT_SET(last_post_ms, c->pend.last_post_ms);
	memset(&c->pend, 0, sizeof c->pend);
}

/*
 * A flush before its time when the aggregate holds STORE_FLUSH_CHUNKS
 * scripts' worth of entries (flush_max_entries each): what one flush
 * stages in Redis stays bounded whatever the number of topics a second of
 * posts touches.  Called between two messages, so the positions cover
 * exactly the posts in the aggregate.  While Redis is away the timer's
 * backoff decides, not the size.
 */
static void
flush_if_full(struct consumer *c)
{
	if (c->fl.redis_down || agg_size(c->agg) <
	    (size_t)c->cfg->flush_max_entries * STORE_FLUSH_CHUNKS)
		return;
	publish_stats(c);
	flush(c);
}

/* The last flush, retried for a bounded time; what is still not written
 * is dropped and recounted by the next owner. */
static void
flush_before_exit(struct consumer *c)
{
	int64_t deadline = clock_wall_ms() + 2500;

	while (flush(c) == -1 && clock_wall_ms() < deadline)
		usleep(100000);
	if (agg_size(c->agg) > 0)
		log_error("exiting with counts not written to redis; they "
		    "will be recounted from the stored positions | "
		    "consumer=%d posts=%zu", c->id, agg_posts(c->agg));
	flusher_drop(&c->fl);
}

/* Leaves the group, bounded: a broker that is away must not hold the
 * shutdown (rd_kafka_consumer_close could wait for the session timeout). */
static void
leave_group(struct consumer *c)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
	rd_kafka_error_t *err = rd_kafka_consumer_close_queue(c->rk, q);
	int64_t deadline = clock_wall_ms() + 1000;

	if (err != NULL) {
		log_warn("kafka: leaving the group: %s | consumer=%d",
		    rd_kafka_error_string(err), c->id);
		rd_kafka_error_destroy(err);
		rd_kafka_queue_destroy(q);
		return;
	}
	/* serve the queue as events: messages still arriving are dropped
	 * (they are not counted, and their positions were not stored), a
	 * revocation goes through our handler */
	while (!rd_kafka_consumer_closed(c->rk) && clock_wall_ms() < deadline) {
		rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);

		if (ev == NULL)
			continue;
		if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
			rebalance_cb(c->rk, rd_kafka_event_error(ev),
			    rd_kafka_event_topic_partition_list(ev), c);
		rd_kafka_event_destroy(ev);
	}
	if (!rd_kafka_consumer_closed(c->rk))
		log_warn("kafka: group not left in time; the session timeout "
		    "will hand the partitions over | consumer=%d", c->id);
	rd_kafka_queue_destroy(q);
}

/* Partitions waiting for their stored positions (Redis was away) try
 * again, once a second. */
static void
retry_positions(struct consumer *c, int64_t now)
{
	if (!positions_waiting(&c->pos))
		return;
	if (positions_load(&c->pos, 0, read_stored, c) == 0) {
		log_info("positions read; partitions resume | consumer=%d",
		    c->id);
		atomic_store(&c->pos_waiting, 0);
		assign_all(c);
	} else {
		STAT_ADD(redis_errors, 1);
		c->next_pos_try_ms = now + 1000;
	}
}

/* The thread: poll, consume, flush on time; then the shutdown. */
static void *
consumer_thread(void *arg)
{
	struct consumer *c = arg;
	int64_t interval = c->cfg->flush_interval_ms;
	char name[16];

	/* named, so top -H and make bench tell its CPU from librdkafka's */
	snprintf(name, sizeof name, "tw-consumer-%u", (unsigned)c->id % 100u);
	pthread_setname_np(pthread_self(), name);
	c->next_flush_ms = clock_wall_ms() + interval;
	while (!atomic_load(&c->stop)) {
		int64_t now = clock_wall_ms(), wait = c->next_flush_ms - now;
		rd_kafka_message_t *m;
		int n;

		if (wait > 100)
			wait = 100;
		if (wait < 0)
			wait = 0;
		/* wait for one message, then take what is ready in batches
		 * (one queue lock per batch, not per message), up to the
		 * flush; the clock is read every CLOCK_EVERY messages */
		n = 0;
		if ((m = rd_kafka_consumer_poll(c->rk, (int)wait)) != NULL) {
			now = clock_wall_ms();
			consume_message(c, m, now);
			rd_kafka_message_destroy(m);
			flush_if_full(c);
			n = 1;
		}
		for (; n > 0 && n < 10000 &&
		    now < c->next_flush_ms && !atomic_load(&c->stop); ) {
			ssize_t got = rd_kafka_consume_batch_queue(c->q, 0,
			    c->batch, BATCH);
			ssize_t k;

			if (got <= 0)
				break;
			for (k = 0; k < got; k++) {
				if (k % CLOCK_EVERY == 0)
					now = clock_wall_ms();
				consume_message(c, c->batch[k], now);
				rd_kafka_message_destroy(c->batch[k]);
				flush_if_full(c);
			}
			n += (int)got;
			now = clock_wall_ms();
			publish_stats(c);
		}
		publish_stats(c);
		now = clock_wall_ms();
		if (now >= c->next_pos_try_ms)
			retry_positions(c, now);
		if (now >= c->next_flush_ms) {
			if (store_undrained(c->store))	/* a drain that failed */
				store_drain(c->store, NULL);
			if (flush(c) == 0)
				c->next_flush_ms = now + interval;
			else
				c->next_flush_ms = now + (c->fl.backoff_ms > interval ?
				    c->fl.backoff_ms : interval);
			update_lag(c);
		}
	}
	/* shutdown: stop consuming, flush, commit, leave the group */
	flush_before_exit(c);
	leave_group(c);
	c->closed = 1;
	return NULL;
}

int
consumer_start(struct consumer *c)
{
	if (pthread_create(&c->th, NULL, consumer_thread, c) != 0)
		return -1;
	c->started = 1;
	return 0;
}

void
consumer_stop(struct consumer *c)
{
	if (c == NULL || !c->started)
		return;
	atomic_store(&c->stop, 1);
	pthread_join(c->th, NULL);
	c->started = 0;
}

bool
consumer_joined(const struct consumer *c)
{
	return atomic_load(&((struct consumer *)(uintptr_t)c)->joined) != 0;
}

bool
consumer_counting(const struct consumer *c)
{
	struct consumer *m = (struct consumer *)(uintptr_t)c;

	return atomic_load(&m->joined) != 0 && atomic_load(&m->pos_waiting) == 0;
}

void
consumer_free(struct consumer *c)
{
	if (c == NULL)
		return;
	consumer_stop(c);
	if (c->q != NULL)
		rd_kafka_queue_destroy(c->q);
	if (c->rk != NULL)
		rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	positions_free(&c->pos);
	pipeline_free(c->pl);
	agg_free(c->agg);	/* before the rules its cache points into */
	engine_unref(c->eng);
	store_free(c->store);
	flusher_free(&c->fl);
	free(c);
}
