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
 * reconnects on the next call.  Connections are made in one place (host:port,
 * [v6]:port or unix:/path, or the master Redis Sentinel names; AUTH with an
 * ACL user, SELECT, timeouts), from settings read from the config in one
 * place (store_conf_from_config).  Key names are built by
 * store_key() from one table; no other module names a key or sends a
 * command.
 */
#ifndef TW_STORE_H
#define TW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "config.h"
#include "sparse.h"
#include "spike.h"

/* Keyword hits and count_by values are counted per slot of this many
 * seconds of a UTC day (the counters per bucket), so that a day of them
 * stays small: alert evidence covers the window widened to whole slots
 * (alert_make). */
#define STORE_SLOT_S		300
/* count_by values counted under their own name per topic, field and day
 * (then "_other"; "_other" and "_none" come on top). */
#define STORE_VALUES_PER_DAY	AGG_MAX_VALUES

struct store_conf {
	const char	*address;	/* host:port or unix:/path */
	const char	*username;	/* ACL user; NULL or "": default */
	const char	*password;	/* NULL: none */
	int64_t		 database;	/* SELECT'ed when not 0 */
	const char *const *sentinels;	/* host:port; n 0: address direct */
	size_t		 nsentinels;
	const char	*master_name;	/* in Sentinel */
	const char	*prefix;	/* e.g. "tidewatch:" */
	const char	*channel;	/* alert channels: <prefix><channel><topic> */
	const char	*stream;	/* the alert log: <prefix><stream> */
	int64_t		 timeout_ms;
	int64_t		 retention_s;	/* TTL of counters beyond their day */
	int64_t		 resolution_s;	/* counter bucket length (10 s if 0) */
	int64_t		 samples_keep;	/* samples kept per topic */
	int64_t		 chunk_entries;	/* entries one script applies at most
					 * (redis.flush_max_entries) */
};

/* Entries one script applies when the config gives none, and how many
 * such chunks a consumer's aggregate holds before it flushes early. */
#define STORE_CHUNK_ENTRIES	512
#define STORE_FLUSH_CHUNKS	16

/* The connection settings of cfg (redis.*, counters.retention, alerts.channel
 * and alerts.stream); the strings stay owned by cfg and password. */
void store_conf_from_config(const struct config *cfg, const char *password,
    struct store_conf *sc);
/* store_new() of store_conf_from_config(): how every command and thread
 * gets its store.  Does not connect yet (the first call does). */
struct store *store_open(const struct config *cfg, const char *password);

/* Key names: <prefix> + the pattern of the kind, with a, b and c filled in
 * in order (NULL where the kind takes fewer).  Writes at most sz bytes;
 * returns the length the whole name needs (as snprintf). */
enum store_key {
	STORE_KEY_COUNTS,	/* c:<topic>:<yyyymmddhh>: per bucket, posts */
	STORE_KEY_KEYWORDS,	/* k:<topic>:<yyyymmdd>: hits per keyword, slot */
	STORE_KEY_KEYWORD_NAMES, /* kn:<topic>:<yyyymmdd>: keyword → index */
	STORE_KEY_BREAKDOWN,	/* b:<topic>:<field>:<yyyymmdd>: per value, slot */
	STORE_KEY_BREAKDOWN_NAMES, /* bn:<topic>:<field>:<yyyymmdd>: value → index */
	STORE_KEY_AUTHORS,	/* ha:<topic>:<yyyymmddhh>: HLL of authors */
	STORE_KEY_TEXTS,	/* ht:<topic>:<yyyymmddhh>: HLL of text keys */
	STORE_KEY_SAMPLES,	/* s:<topic>: sample posts by post time */
	STORE_KEY_POSITIONS,	/* pos:<group>: Kafka positions */
	STORE_KEY_SINCE,	/* since: the first bucket counted */
	STORE_KEY_REJECTED,	/* rejected: dead-letter stream */
	STORE_KEY_REJECTED_TOTAL, /* rejected-total: reason → messages */
	STORE_KEY_STATE,	/* state:<topic>: alert state */
	STORE_KEY_DEDUP,	/* dedup:<alert id> */
	STORE_KEY_HELD,		/* held: alerts held by group_wait */
	STORE_KEY_LEADER,	/* leader: the detection lease */
	STORE_KEY_DIRTY,	/* dirty: topics counted into → earliest bucket */
	STORE_KEY_AM_CURSOR,	/* am-cursor: Alertmanager URL → log entry id */
	STORE_KEY_LAYOUT,	/* layout: the counters' encoding and resolution */
	STORE_KEY_STAGED,	/* staged: flushed counts not applied yet */
	STORE_KEY_ALERT_LOG,	/* <alerts.stream> */
	STORE_KEY_CHANNEL	/* <alerts.channel><topic> (a Pub/Sub channel) */
};
size_t store_key(const struct store *s, enum store_key kind, const char *a,
    const char *b, const char *c, char *buf, size_t sz);

/* The position of one partition in a flush: the stored next offset must be
 * `from` (-1: none stored yet) and becomes `to`.  time_ms is the newest post
 * time counted from the partition (its watermark). */
struct store_pos {
	char		 field[192];	/* "<kafka topic>/<partition>" */
	int64_t		 from;
	int64_t		 to;		/* STORE_POS_MARK: no move, only the
					 * newest post time and the lag are
					 * stored (from is not checked) */
	int64_t		 time_ms;
	int64_t		 lag;		/* messages behind the partition's end;
					 * -1 unknown */
};

#define STORE_POS_MARK	(-2)

struct store_flush_stats {
	size_t	commands;	/* Redis commands the scripts ran */
	size_t	round_trips;
	size_t	bytes_sent;
	size_t	scripts;	/* script calls that applied counts */
	size_t	chunk_max;	/* the most entries one of them applied */
};

struct store;

struct store *store_new(const struct store_conf *conf);
void store_free(struct store *s);
const char *store_errstr(const struct store *s);
bool store_connected(const struct store *s);
/* Connects (or reconnects) and authenticates. */
int store_connect(struct store *s);

/* What kind of failure the last error of a store was (store_conn.c).
 * Transient ones go away by themselves (retry); permanent ones need the
 * operator (a password, an ACL rule, the database number). */
enum store_fault {
	STORE_FAULT_NONE,
	STORE_FAULT_UNREACHABLE,	/* refused, timed out, connection lost */
	STORE_FAULT_UNAVAILABLE,	/* LOADING, MASTERDOWN, READONLY, OOM… */
	STORE_FAULT_AUTH,		/* NOAUTH, WRONGPASS, AUTH refused */
	STORE_FAULT_NOPERM,		/* an ACL denies a command or key */
	STORE_FAULT_DATABASE,		/* SELECT of a database that is not */
	STORE_FAULT_LAYOUT,		/* counters written in another layout */
	STORE_FAULT_ERROR		/* any other error reply */
};
enum store_fault store_fault(const struct store *s);
/* "unreachable", "authentication failed", … (static). */
const char *store_fault_name(enum store_fault f);
bool store_fault_permanent(enum store_fault f);
/* The fault an error reply ("NOAUTH …", "WRONGPASS …") stands for. */
enum store_fault store_fault_of_reply(const char *reply);

/* What the daemon needs before it counts: connects, authenticates,
 * selects, reads the group's positions and loads the flush script (so a
 * missing ACL right shows now, not at the first flush).  0, or -1 with
 * store_errstr() and store_fault() saying why. */
int store_check(struct store *s, const char *group);
/* Closes the connection (the next call makes a new one). */
void store_disconnect(struct store *s);

struct store_rejects;

/* Writes a whole aggregate, the positions it covers and the rejects met
 * on the way (rj; NULL: none), exactly once: in one script when it holds
 * at most chunk_entries entries; else one script moves the positions and
 * stages the counts in chunks of about chunk_entries, then one script per
 * chunk applies it (store_drain()).  Returns 0 (the counts are stored:
 * applied, or staged for the next drain); -1 on a Redis error (nothing
 * was written; try again later); -2 if a position did not match (another
 * consumer owns the partition now: nothing was written; the caller drops
 * the aggregate and re-reads its positions). */
int store_flush(struct store *s, const char *group, const struct agg *a,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st);
/* store_flush() without the apply of what it staged: the first half of a
 * staged flush, as a process that dies right after it leaves the store. */
int store_stage(struct store *s, const char *group, const struct agg *a,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st);
/* Applies every staged chunk, whoever staged it, one script each (st, when
 * not NULL, adds them up).  0, or -1 on a Redis error (what is left stays
 * staged). */
int store_drain(struct store *s, struct store_flush_stats *st);
/* Whether this store staged chunks that a failed drain left behind. */
bool store_undrained(const struct store *s);

/* Reads the stored next offset of each field (-1 when none). */
int store_get_positions(struct store *s, const char *group,
    const char *const *fields, size_t n, int64_t *offsets);

/* Fills out[i] with the count of topic in bucket from + i * res, for
 * i in [0, n). */
int store_get_counts(struct store *s, const char *topic, int64_t from,
    int64_t res, size_t n, int64_t *out);

/* Keyword counts (kind 'k') or count_by value counts (kind 'b', field
 * given) of topic over the STORE_SLOT_S slots that overlap [from, to),
 * summed, as (name, count) pairs sorted by count, at most max.  *names are
 * owned by the caller (free each, then the array). */
int store_get_top(struct store *s, char kind, const char *topic,
    const char *field, int64_t from, int64_t to, size_t max, char ***names,
    int64_t **counts, size_t *n);

/* The newest samples of topic counted in [from, to) (seconds), newest
 * first by agg_sample_cmp(): JSON objects {"id":…,"text":…}, at most max;
 * caller frees each and the array. */
int store_get_samples(struct store *s, const char *topic, int64_t from,
    int64_t to, size_t max, char ***json, size_t *n);

/* The distinct authors (out[0]) and texts (out[1]) of topic over the
 * hours that overlap [from, to) (seconds; at most 8 days of them): PFCOUNT
 * of their HyperLogLogs, merged; and the posts of those hours (out[2]). */
int store_get_distinct(struct store *s, const char *topic, int64_t from,
    int64_t to, int64_t out[3]);

/* A refused message kept for the dead-letter stream.  detail, where and
 * payload belong to whoever filled the record (rejects.c). */
struct store_reject {
	const char	*reason;	/* "not_json", … (static) */
	const char	*detail;
	const char	*where;		/* "<kafka topic>/<partition>@<offset>" */
	const char	*payload;	/* the first bytes, as they came */
	size_t		 len;
	size_t		 size;		/* the message's whole size */
};

/* The messages refused since the last flush, written by the flush that
 * moves their positions (so each is written once): every one added to
 * <prefix>rejected-total by reason, the kept ones appended to
 * <prefix>rejected (XADD MAXLEN ~ maxlen). */
struct store_rejects {
	const struct store_reject *kept;
	size_t		 nkept;
	const char *const *reasons;	/* rejected-total fields … */
	const int64_t	*counts;	/* … and what each gains */
	size_t		 nreasons;
	int64_t		 maxlen;
};

/* An alert to publish once: on <p><channel><topic> and in the alert log,
 * unless <p>dedup:<id> is taken.  With state_topic, the field state_field of
 * <p>state:<state_topic> is also set to state_value (published or not). */
struct store_alert {
	const char	*id;
	const char	*topic;
	const char	*json;
	int64_t		 dedup_ttl_ms;
	int64_t		 stream_maxlen;	/* the log's MAXLEN ~ */
	const char	*state_topic;	/* NULL: no state */
	const char	*state_field;
	const char	*state_value;
};

/* Returns 1 published, 0 a duplicate (another daemon published it: nothing
 * sent), -1 an error (store_errstr): then nothing was written and the
 * dedup key is free, so a later call publishes the alert. */
int store_publish(struct store *s, const struct store_alert *a);

/*
 * The alert channels and log, read side (store_alerts.c).
 *
 * A subscriber is a connection of its own to the alert channel of topic,
 * or (topic NULL) to every topic's channel by pattern.  store_sub_open
 * returns NULL with the reason in err.  store_sub_next waits up to wait_ms
 * for the next alert published: 1 with *channel, *msg (*len bytes) valid
 * until the next call, 0 when none came (or a signal interrupted the
 * wait), -1 when the connection is lost (store_sub_errstr); it keeps a
 * quiet line alive with PING.  store_sub_last_rx_ms: the wall clock of
 * the last bytes received.
 */
struct store_sub;

struct store_sub *store_sub_open(const struct store *s, const char *topic,
    char *err, size_t errsz);
void store_sub_free(struct store_sub *sub);
/* The channel or pattern subscribed to. */
const char *store_sub_name(const struct store_sub *sub, bool *pattern);
int store_sub_next(struct store_sub *sub, int wait_ms, const char **channel,
    const char **msg, size_t *len);
const char *store_sub_errstr(const struct store_sub *sub);
int64_t store_sub_last_rx_ms(const struct store_sub *sub);

/* Reads at most max entries of the alert log from start (an XRANGE start:
 * "-", "(<id>" or "<ms>") and calls fn with each entry's id and alert
 * JSON; next gets the start of the following page.  Returns the number of
 * entries read (fewer than max: the end), or -1. */
typedef void store_log_fn(void *ctx, const char *entry_id, const char *json,
    size_t len);
int store_read_alert_log(struct store *s, const char *start, size_t max,
    store_log_fn *fn, void *ctx, char *next, size_t nextsz);

/* ---- the web view (store_web.c) -------------------------------------
 *
 * The alert log newest first: fn gets each entry written in
 * [from_ms, to_ms] (entry ids are the wall clock of the write), at most
 * max of them.  Returns the number read, or -1. */
int store_web_alerts(struct store *s, int64_t from_ms, int64_t to_ms,
    size_t max, store_log_fn *fn, void *ctx);

/* ---- Alertmanager delivery (store_am.c) -------------------------------
 *
 * <p>am-cursor maps each Alertmanager URL to the id of the last alert log
 * entry it accepted.  store_am_cursors reads it all: *urls and *ids (n
 * each; each string and both arrays the caller's).  store_am_set_cursor
 * moves one URL's cursor.  store_am_log_first gives the id of the log's
 * first entry ("" when the log is empty). */
int store_am_cursors(struct store *s, char ***urls, char ***ids, size_t *n);
int store_am_set_cursor(struct store *s, const char *url, const char *id);
int store_am_log_first(struct store *s, char *first, size_t sz);

/* The sum of the next offsets stored in <p>pos:<group> (its Kafka
 * positions, not their times or lags): it moves when posts are counted. */
int store_positions_sum(struct store *s, const char *group, int64_t *sum);

/* Field field of <p>state:<topic> into buf ("" when there is none). */
int store_state_get(struct store *s, const char *topic, const char *field,
    char *buf, size_t sz);

/* Checks that Redis answers. */
int store_ping(struct store *s);

/* WAIT: blocks until n replicas acknowledged every write of this
 * connection so far, or timeout_ms; *acked says how many did. */
int store_wait_replicas(struct store *s, int64_t n, int64_t timeout_ms,
    int64_t *acked);

/* The ops module's Redis side (store_ops.c) on a store of its own made
 * from cfg: the stall state is the field "stall" of <p>state:_ops and its
 * alerts go to the topic "_ops".  io->free frees it. */
struct ops_io;
void store_ops_io(const struct config *cfg, const char *password,
    struct ops_io *io);

const char *store_prefix(const struct store *s);

/* The Redis client library's version, "major.minor.patch" (static). */
const char *store_client_version(void);
/* ---- the detector's keys (store_detect.c) ---------------------------- */

/* Takes or renews the lease <p>leader for holder, for ttl_ms; *held says
 * whether holder has it now. */
int store_take_lease(struct store *s, const char *holder, int64_t ttl_ms,
    bool *held);

/* The stream's watermark in ms: the newest post time counted of every
 * partition of group, or the oldest of those still behind their end;
 * -1 when nothing was counted yet.  newest_ms (may be NULL): the newest
 * post time counted by any partition. */
int store_get_watermark(struct store *s, const char *group, int64_t *wm_ms,
    int64_t *newest_ms);

/* The first bucket ever counted; *since is left as it is when none is. */
int store_get_since(struct store *s, int64_t *since);

/* The topics counted into since the last call, each with the earliest
 * bucket counted into (<p>dirty, popped: a flush after this adds them
 * again), taken only while holder holds the lease (-1 otherwise).
 * *topics and each of its strings are the caller's. */
int store_pop_dirty(struct store *s, const char *holder, char ***topics,
    int64_t **buckets, size_t *n);

/* One span of a topic's counts to read: buckets [from, to) of resolution
 * res.  store_read_spans fills pts (n points, malloc'd, the caller frees)
 * with the buckets that counted, in any order. */
struct store_span {
	const char		*topic;
	int64_t			 from, to;
	struct sparse_point	*pts;
	size_t			 n;
};
/* Reads every span, pipelined (about a thousand commands a round trip):
 * GETRANGE of the buckets' cells of each hour key it covers.  res is the
 * caller's resolution; the cells are read at the store's
 * (store_conf.resolution_s), the same in the daemon. */
int store_read_spans(struct store *s, int64_t res, struct store_span *v,
    size_t n);

/* The states of many topics at once (pipelined): topic i's nblocks[i]
 * blocks are at st + the sum of the nblocks before it (last_T, found
 * likewise), as store_get_states. */
int store_get_states_multi(struct store *s, const char *const *topics,
    const size_t *nblocks, size_t n, struct spike_state *st, int64_t *last_T,
    bool *found);
/* Block states to write: those of one topic next to each other go in one
 * HSET. */
struct store_state_put {
	const char		*topic;
	size_t			 block;
	struct spike_state	 st;
	int64_t			 last_T;
};
/* Writes them all (pipelined), each topic's key with its TTL ttl_s. */
int store_put_states(struct store *s, const struct store_state_put *v,
    size_t n, int64_t ttl_s);

/* Reads the states of blocks 0 .. n-1 of topic: found[b] says whether
 * block b had one (st[b] and last_T[b], its last window end evaluated,
 * are written only then). */
int store_get_states(struct store *s, const char *topic, size_t n,
    struct spike_state *st, int64_t *last_T, bool *found);
/* Whether topic has any block state, and whether any of them fires. */
int store_get_state_summary(struct store *s, const char *topic, bool *any,
    bool *firing);
/* Writes block b's state (and refreshes the key's TTL to ttl_s). */
int store_put_state(struct store *s, const char *topic, size_t b,
    const struct spike_state *st, int64_t last_T, int64_t ttl_s);

/* group_wait.  An alert is held under its dedup key, as a publish would
 * take it: 1 held, 0 already held or published (a duplicate), -1 error. */
int store_held_add(struct store *s, const char *id, const char *json,
    int64_t window_end, int64_t wall_ms, int64_t wait_s, int64_t ttl_ms);

/* What is held (n = 0: nothing).  The strings are the caller's after
 * store_held_read; store_held_clear frees what is left. */
struct store_held {
	int64_t	  since;	/* window end of the first alert held */
	int64_t	  wall_ms;	/* wall clock when it was held */
	int64_t	  wait_s;	/* the shortest group_wait held */
	char	**ids;		/* alert ids */
	char	**jsons;	/* their JSON */
	size_t	  n;
	size_t	  fields;	/* the hash's length when read */
};
int store_held_read(struct store *s, struct store_held *h);
void store_held_clear(struct store_held *h);

/* Sends the digest of what h read: published on the channel of topic
 * "_digest", every held alert added to the alert log (MAXLEN ~
 * stream_maxlen), the hash deleted; once per digest_id (a dedup key, for
 * dedup_ttl_ms).  Returns the number of alerts sent, 0 when more was held
 * since h was read (nothing sent: read again), -1 on an error. */
int store_held_send(struct store *s, const struct store_held *h,
    int64_t stream_maxlen, int64_t dedup_ttl_ms, const char *digest_id,
    const char *digest);

/* The topic ids with counters on day (yyyymmdd), sorted, each once;
 * caller frees each and the array. */
int store_counted_topics(struct store *s, const char *day, char ***ids,
    size_t *n);

#endif
