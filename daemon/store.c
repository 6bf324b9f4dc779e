/*
 * store.c — tidewatch's Redis schema and I/O (hiredis).
 *
 * DESIGN: counters are strings of u32 cells (BITFIELD INCRBY, big-endian),
 * one key per topic and UTC hour, so that a key is small, O(1) per cell,
 * costs nothing for a topic that never counted, and expires by itself:
 *   <p>c:<topic>:<yyyymmddhh>        cell 1 + bucket's index in the hour
 *                                    → posts; cell 0 counts the flushes
 *                                    that wrote the key
 *   <p>k:<topic>:<yyyymmdd>          cell 1 + index × 288 + 5-minute slot
 *                                    → hits of the keyword of that index
 *   <p>kn:<topic>:<yyyymmdd>         keyword → its index (hash)
 *   <p>b:<topic>:<field>:<yyyymmdd>  as k:, per count_by value
 *   <p>bn:<topic>:<field>:<yyyymmdd> value → index (the first
 *                                    STORE_VALUES_PER_DAY, then _other)
 *   <p>ha:<topic>:<yyyymmddhh>       HyperLogLog of the hour's authors
 *   <p>ht:<topic>:<yyyymmddhh>       HyperLogLog of the hour's text keys
 *   <p>s:<topic>                     sample posts scored by post time in ms
 *                                    (ZADD GT; the newest samples_keep kept)
 *   <p>pos:<group>                   "<kafka topic>/<partition>" → next offset,
 *                                    "t:<kafka topic>/<partition>" → newest post ms
 *                                    "l:<kafka topic>/<partition>" → lag at flush
 *                                    (-1: its end not fetched yet)
 *   <p>since                         first bucket ever counted (history start)
 *   <p>rejected                      stream: refused messages (dead letters)
 *   <p>rejected-total                reason → refused messages, "_not_kept"
 *                                    → those over the dead-letter budget
 *   <p>state:<topic>                 alert state per block (the detector's)
 *   <p>dedup:<alert id>              taken once per alert published
 *   <p>held                          alerts held by group_wait
 *   <p>leader                        the detection lease
 *   <p>dirty                         sorted set: topic → earliest bucket a
 *                                    flush counted into since the detector
 *                                    last took it (ZADD LT in FLUSH_LUA)
 *   <p>am-cursor                     Alertmanager URL → last log entry
 *                                    it accepted (store_am.c)
 *   <p>staged                        list: flushed counts not applied yet,
 *                                    oldest first (APPLY_LUA pops them)
 *   <p><alerts.stream>               the alert log (a stream)
 *   <p><alerts.channel><topic>       Pub/Sub channel of a topic's alerts
 * KEY_NAMES below is that list as code: store_key() is the one builder.
 * A flush is one EVALSHA of FLUSH_LUA: it first checks every partition's
 * stored offset against what this consumer expects (so a consumer that lost
 * a partition cannot write for it), then moves the positions and, when the
 * aggregate holds at most chunk_entries (redis.flush_max_entries), applies
 * it in the same script: every increment, the partitions' newest post times
 * and lags, the rejects met since the last flush (counts by reason, dead
 * letters), the distinct authors and texts (PFADD of every element the
 * aggregate holds for a key, each key with its EXPIREAT: adding an element
 * twice changes nothing).  A larger aggregate is staged instead: the same atomic script
 * pushes it onto <p>staged as chunks of about half chunk_entries (each a
 * MessagePack pair of its keys and arguments; chunks_split() says what
 * goes together), and then one
 * APPLY_LUA call per chunk pops the oldest and applies it, so no script
 * runs long while a flush still aggregates a whole interval.  The last
 * chunk of a flush carries the post times, so the detector's watermark
 * moves only once its counts are applied; an inline flush waits behind any
 * staged chunk (FLUSH_LUA answers 2 and the flush is staged after them).
 * A chunk left staged (a drain that failed, a process that died) is
 * applied, once, by the next flush of any consumer or by store_check() at
 * start: a message is counted, or dead-lettered, exactly once however
 * often it is re-read.  The increments are sorted by
 * key here, so that each key costs one BITFIELD a chunk with all its cells
 * (and a series one HMGET of its names).  A key that BITFIELD creates (its
 * cell 0 becomes 1) gets its EXPIREAT at the end of its day plus the
 * retention, so a key never lives without one and an existing key costs no
 * second call; a counter key is then copied once, padded to its whole
 * length, into an exact allocation (SET … EXAT: Redis grows strings by
 * doubling; a series key grows a name at a time and keeps that slack).  A sample set is trimmed to
 * samples_keep when a member was added; its TTL is renewed when its
 * topic's hour key is created and every fourth flush of that key after.  The connection
 * is one hiredis context;
 * on any I/O error it is dropped and remade by the next call.  Every
 * connection tidewatch makes (these, and the subscriber of store_alerts.c) is
 * made by store_dial() (store_conn.c), which also authenticates and
 * selects the database; every error is sorted into a store_fault.  The
 * scripts are loaded on the first flush, so a store that only reads needs
 * no SCRIPT rights.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "alert.h"
#include "jsonw.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

/* Samples kept per topic in <p>s:<topic> when the config gives none. */
#define STORE_SAMPLES_KEEP	100

static const char *const KEY_NAMES[] = {
	[STORE_KEY_COUNTS] =	"c:%s:%s",
	[STORE_KEY_KEYWORDS] =	"k:%s:%s",
	[STORE_KEY_KEYWORD_NAMES] = "kn:%s:%s",
	[STORE_KEY_BREAKDOWN] =	"b:%s:%s:%s",
	[STORE_KEY_BREAKDOWN_NAMES] = "bn:%s:%s:%s",
	[STORE_KEY_AUTHORS] =	"ha:%s:%s",
	[STORE_KEY_TEXTS] =	"ht:%s:%s",
	[STORE_KEY_SAMPLES] =	"s:%s",
	[STORE_KEY_POSITIONS] =	"pos:%s",
	[STORE_KEY_SINCE] =	"since",
	[STORE_KEY_REJECTED] =	"rejected",
	[STORE_KEY_REJECTED_TOTAL] = "rejected-total",
	[STORE_KEY_STATE] =	"state:%s",
	[STORE_KEY_DEDUP] =	"dedup:%s",
	[STORE_KEY_HELD] =	"held",
	[STORE_KEY_LEADER] =	"leader",
	[STORE_KEY_DIRTY] =	"dirty",
	[STORE_KEY_AM_CURSOR] =	"am-cursor",
	[STORE_KEY_LAYOUT] =	"layout",
	[STORE_KEY_STAGED] =	"staged",
	[STORE_KEY_ALERT_LOG] =	NULL,	/* the configured stream name */
	[STORE_KEY_CHANNEL] =	NULL,	/* the configured channel + topic */
};

/*
 * The work of a flush on the counters (APPLY_FN, shared by both scripts):
 * apply(A, K, i) reads its arguments from A[i…] and names keys by their
 * index in K (K[1] positions, K[2] since, K[3] the staged list, then the
 * counter, series and sample keys); returns the commands it ran.
 */
#define APPLY_FN \
"local function apply(A, K, i)\n" \
"local cmds, pkey = 0, K[1]\n" \
"local nt = tonumber(A[i]); i = i + 1\n" \
"for n = 1, nt do\n" \
"  local tf = 't:' .. A[i]\n" \
"  local t = redis.call('HGET', pkey, tf)\n" \
"  if not t or tonumber(A[i + 1]) > tonumber(t) then redis.call('HSET', pkey, tf, A[i + 1]) end\n" \
"  redis.call('HSET', pkey, 'l:' .. A[i], A[i + 2])\n" \
"  cmds = cmds + 3\n" \
"  i = i + 3\n" \
"end\n" \
"local function cells(k, a)\n" \
"  cmds = cmds + 1\n" \
"  return redis.call('BITFIELD', k, unpack(a))[1]\n" \
"end\n" \
"local function compact(k, exp, len)\n" \
"  local v = redis.call('GET', k)\n" \
"  if #v < len then v = v .. string.rep('\\0', len - #v) end\n" \
"  redis.call('SET', k, v, 'EXAT', exp)\n" \
"  cmds = cmds + 2\n" \
"end\n" \
"local hdr = {}\n" \
"local nc, full = tonumber(A[i]), tonumber(A[i + 1]); i = i + 2\n" \
"for g = 1, nc do\n" \
"  local ki, exp, first, na = A[i], A[i + 1], A[i + 2] == '1', tonumber(A[i + 3])\n" \
"  local k = K[tonumber(ki)]\n" \
"  local h = redis.call('BITFIELD', k, unpack(A, i + 4, i + 3 + na))[1]\n" \
"  cmds = cmds + 1\n" \
"  i = i + 4 + na\n" \
"  if first then\n" \
"    hdr[ki] = h\n" \
"    if h == 1 then compact(k, exp, full) end\n" \
"  end\n" \
"end\n" \
"local nd = tonumber(A[i]); i = i + 1\n" \
"local dkey = string.sub(K[2], 1, -6) .. 'dirty'\n" \
"local za = {}\n" \
"for n = 1, nd do\n" \
"  za[#za + 1] = A[i]; za[#za + 1] = A[i + 1]\n" \
"  i = i + 2\n" \
"  if #za >= 1000 or n == nd then redis.call('ZADD', dkey, 'LT', unpack(za)); za = {}; cmds = cmds + 1 end\n" \
"end\n" \
"local slots, ns = tonumber(A[i]), tonumber(A[i + 1]); i = i + 2\n" \
"for g = 1, ns do\n" \
"  local k, nk = K[tonumber(A[i])], K[tonumber(A[i + 1])]\n" \
"  local exp, cap, nn = A[i + 2], tonumber(A[i + 3]), tonumber(A[i + 4])\n" \
"  local names, at, len = {}, {}, nil\n" \
"  i = i + 5\n" \
"  for q = 1, nn do\n" \
"    names[q] = A[i]; at[q] = i + 1\n" \
"    i = i + 2 + 2 * tonumber(A[i + 1])\n" \
"  end\n" \
"  local idx = redis.call('HMGET', nk, unpack(names))\n" \
"  local a, h = {'INCRBY', 'u32', '#0', 1}, nil\n" \
"  cmds = cmds + 1\n" \
"  for q = 1, nn do\n" \
"    local x, nm = idx[q], names[q]\n" \
"    if not x then\n" \
"      if not len then len = redis.call('HLEN', nk); cmds = cmds + 1 end\n" \
"      if cap > 0 and len >= cap and nm ~= '_other' and nm ~= '_none' then\n" \
"        nm = '_other'\n" \
"        x = redis.call('HGET', nk, nm); cmds = cmds + 1\n" \
"      end\n" \
"      if not x then\n" \
"        x = len\n" \
"        redis.call('HSET', nk, nm, x); cmds = cmds + 1\n" \
"        if len == 0 then redis.call('EXPIREAT', nk, exp); cmds = cmds + 1 end\n" \
"        len = len + 1\n" \
"      end\n" \
"    end\n" \
"    local base, r = 1 + tonumber(x) * slots, at[q]\n" \
"    for c = 1, tonumber(A[r]) do\n" \
"      local z = #a\n" \
"      a[z + 1] = 'INCRBY'; a[z + 2] = 'u32'; a[z + 3] = '#' .. (base + tonumber(A[r + 1])); a[z + 4] = A[r + 2]\n" \
"      r = r + 2\n" \
"      if z >= 4000 then local v = cells(k, a); h = h or v; a = {} end\n" \
"    end\n" \
"  end\n" \
"  if #a > 0 then local v = cells(k, a); h = h or v end\n" \
"  if h == 1 then redis.call('EXPIREAT', k, exp); cmds = cmds + 1 end\n" \
"end\n" \
"local nsk, keep, ttl = tonumber(A[i]), tonumber(A[i + 1]), A[i + 2]\n" \
"i = i + 3\n" \
"for g = 1, nsk do\n" \
"  local k, h, m = K[tonumber(A[i])], hdr[A[i + 1]], tonumber(A[i + 2])\n" \
"  local added = redis.call('ZADD', k, 'GT', unpack(A, i + 3, i + 2 + 2 * m))\n" \
"  i = i + 3 + 2 * m\n" \
"  cmds = cmds + 1\n" \
"  if added > 0 then redis.call('ZREMRANGEBYRANK', k, 0, -keep - 1); cmds = cmds + 1 end\n" \
"  if h == nil or h % 4 == 1 then redis.call('EXPIRE', k, ttl); cmds = cmds + 1 end\n" \
"end\n" \
"local nr = tonumber(A[i]); i = i + 1\n" \
"if nr > 0 then\n" \
"  local tkey = A[i]; i = i + 1\n" \
"  for n = 1, nr do\n" \
"    redis.call('HINCRBY', tkey, A[i], A[i + 1])\n" \
"    i = i + 2\n" \
"  end\n" \
"  local rkey, ml, nk = A[i], A[i + 1], tonumber(A[i + 2]); i = i + 3\n" \
"  for n = 1, nk do\n" \
"    redis.call('XADD', rkey, 'MAXLEN', '~', ml, '*', 'reason', A[i], 'detail', A[i + 1], 'message', A[i + 2], 'size', A[i + 3], 'payload', A[i + 4])\n" \
"    i = i + 5\n" \
"  end\n" \
"  cmds = cmds + nr + nk\n" \
"end\n" \
"local nh = tonumber(A[i]); i = i + 1\n" \
"for g = 1, nh do\n" \
"  local k, m = K[tonumber(A[i])], tonumber(A[i + 2])\n" \
"  redis.call('PFADD', k, unpack(A, i + 3, i + 2 + m))\n" \
"  redis.call('EXPIREAT', k, A[i + 1])\n" \
"  cmds = cmds + 2\n" \
"  i = i + 3 + m\n" \
"end\n" \
"if nt > 0 then redis.call('EXPIRE', pkey, ttl); cmds = cmds + 1 end\n" \
"if nd > 0 then redis.call('EXPIRE', dkey, ttl); cmds = cmds + 1 end\n" \
"return cmds\n" \
"end\n"

/*
 * FLUSH_LUA: ARGV is the TTL, the count of staged chunks (0: the counts
 * follow inline), the positions (count, then field, expected and next
 * offset of each), the oldest bucket counted, then either apply()'s
 * arguments or the chunks.  Returns {1, commands}; {0, field, stored} when
 * a position is not the expected one (nothing written); {2} when chunks
 * are staged and the counts came inline (nothing written: apply those
 * first, so that no watermark passes counts still staged).
 */
static const char FLUSH_LUA[] = APPLY_FN
"local ttl, nchunk, np = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
"if nchunk == 0 and redis.call('EXISTS', KEYS[3]) == 1 then return {2} end\n"
"local i = 4\n"
"for n = 1, np do\n"
"  local cur = redis.call('HGET', KEYS[1], ARGV[i])\n"
"  if ARGV[i + 1] ~= '*' and (cur or '-1') ~= ARGV[i + 1] then\n"
"    return {0, ARGV[i], cur or '-1'}\n"
"  end\n"
"  i = i + 3\n"
"end\n"
"local cmds = 0\n"
"i = 4\n"
"for n = 1, np do\n"
"  if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]); cmds = cmds + 1 end\n"
"  i = i + 3\n"
"end\n"
"local minb = ARGV[i]; i = i + 1\n"
"if minb ~= '' then\n"
"  local cur = redis.call('GET', KEYS[2])\n"
"  if not cur or tonumber(minb) < tonumber(cur) then redis.call('SET', KEYS[2], minb) end\n"
"  cmds = cmds + 1\n"
"end\n"
"if nchunk == 0 then\n"
"  cmds = cmds + apply(ARGV, KEYS, i)\n"
"else\n"
"  redis.call('RPUSH', KEYS[3], unpack(ARGV, i, i + nchunk - 1))\n"
"  cmds = cmds + 1\n"
"end\n"
"redis.call('EXPIRE', KEYS[1], ttl)\n"
"redis.call('EXPIRE', KEYS[2], ttl)\n"
"return {1, cmds + 2}\n";

/*
 * APPLY_LUA: pops the oldest staged chunk of KEYS[1] and applies it.  A
 * chunk is two MessagePack arrays of strings, its keys (as K) and its
 * arguments (as A).  Returns {1, commands, chunks left}, {0} when none.
 */
static const char APPLY_LUA[] = APPLY_FN
"local c = redis.call('LPOP', KEYS[1])\n"
"if not c then return {0} end\n"
"local K, A = cmsgpack.unpack(c)\n"
"local cmds = apply(A, K, 1)\n"
"return {1, cmds + 2, redis.call('LLEN', KEYS[1])}\n";

/* Command arguments written as RESP bulk strings, ready to send: a flush
 * has hundreds of thousands, and hiredis's own formatting of an argv cost
 * more than building them. */
struct resp {
	char		*buf;
	size_t		 len, cap;
	size_t		 n;		/* arguments */
	bool		 pack;		/* MessagePack strings, not RESP */
};

struct store {
	redisContext	*c;
	char		*address;
	char		*username;
	char		*password;
	int64_t		 database;
	char		**sentinels;
	size_t		 nsentinels;
	char		*master_name;
	enum store_fault fault;		/* of the last error */
	char		*prefix;
	char		*channel;
	char		*stream;
	int64_t		 timeout_ms;
	int64_t		 retention_s;
	int64_t		 resolution_s;
	int64_t		 samples_keep;
	int64_t		 chunk_entries;	/* entries a script applies at most */
	bool		 undrained;	/* staged chunks this store left */
	char		 sha[41];	/* FLUSH_LUA */
	char		 sha_apply[41];	/* APPLY_LUA */
	char		 err[256];

	struct resp	 args;		/* a flush's ARGV, reused */
	struct resp	 chunk;		/* a staged chunk's, likewise */
};

void
store_conf_from_config(const struct config *cfg, const char *password,
    struct store_conf *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->address = cfg->redis_address;
	sc->username = cfg->redis_username;
	sc->password = password;
	sc->database = cfg->redis_database;
	sc->sentinels = (const char *const *)cfg->redis_sentinels;
	sc->nsentinels = cfg->redis_nsentinels;
	sc->master_name = cfg->redis_master_name;
	sc->prefix = cfg->redis_prefix;
	sc->channel = cfg->alert_channel;
	sc->stream = cfg->alert_stream;
	sc->timeout_ms = cfg->redis_timeout_ms;
	sc->retention_s = cfg->retention_s;
	sc->resolution_s = cfg->resolution_s;
	sc->samples_keep = cfg->samples_per_topic;
	sc->chunk_entries = cfg->flush_max_entries;
}

struct store *
store_open(const struct config *cfg, const char *password)
{
	struct store_conf sc;

	store_conf_from_config(cfg, password, &sc);
	return store_new(&sc);
}

struct store *
store_new(const struct store_conf *conf)
{
	struct store *s = xcalloc(1, sizeof *s);
	size_t i;

	s->address = xstrdup(conf->address);
	s->username = conf->username ? xstrdup(conf->username) : NULL;
	s->password = conf->password ? xstrdup(conf->password) : NULL;
	s->database = conf->database;
	s->nsentinels = conf->nsentinels;
	s->sentinels = xcalloc(conf->nsentinels + 1, sizeof *s->sentinels);
	for (i = 0; i < conf->nsentinels; i++)
		s->sentinels[i] = xstrdup(conf->sentinels[i]);
	s->master_name = xstrdup(conf->master_name != NULL ?
	    conf->master_name : "");
	s->prefix = xstrdup(conf->prefix);
	s->channel = xstrdup(conf->channel != NULL ? conf->channel : "");
	s->stream = xstrdup(conf->stream != NULL ? conf->stream : "");
	s->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms :
	    STORE_TIMEOUT_MS;
	s->retention_s = conf->retention_s > 0 ? conf->retention_s : 8 * 86400;
	s->resolution_s = conf->resolution_s > 0 ? conf->resolution_s : 10;
	s->samples_keep = conf->samples_keep > 0 ? conf->samples_keep :
	    STORE_SAMPLES_KEEP;
	s->chunk_entries = conf->chunk_entries > 0 ? conf->chunk_entries :
	    STORE_CHUNK_ENTRIES;
	return s;
}

static void
drop(struct store *s)
{
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
}

void
store_free(struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	drop(s);
	free(s->args.buf);
	free(s->chunk.buf);
	free(s->address);
	free(s->username);
	free(s->password);
	for (i = 0; i < s->nsentinels; i++)
		free(s->sentinels[i]);
	free(s->sentinels);
	free(s->master_name);
	free(s->prefix);
	free(s->channel);
	free(s->stream);
	free(s);
}

const char *
store_errstr(const struct store *s)
{
	return s->err;
}

/* Records the kind of an error, here and for /healthz (stats). */
static void
note_fault(struct store *s, enum store_fault f)
{
	s->fault = f;
	STAT_SET(redis_fault, (int)f);
}

enum store_fault
store_fault(const struct store *s)
{
	return s->fault;
}

bool
store_connected(const struct store *s)
{
	return s->c != NULL;
}

const char *
store_prefix(const struct store *s)
{
	return s->prefix;
}

const char *
store_client_version(void)
{
#define STORE_STR(x)	#x
#define STORE_XSTR(x)	STORE_STR(x)
	return STORE_XSTR(HIREDIS_MAJOR) "." STORE_XSTR(HIREDIS_MINOR) "."
	    STORE_XSTR(HIREDIS_PATCH);
#undef STORE_XSTR
#undef STORE_STR
}

size_t
store_key(const struct store *s, enum store_key kind, const char *a,
    const char *b, const char *c, char *buf, size_t sz)
{
	char fmt[32];
	int k;

	if (kind == STORE_KEY_ALERT_LOG)
		k = snprintf(buf, sz, "%s%s", s->prefix, s->stream);
	else if (kind == STORE_KEY_CHANNEL)
		k = snprintf(buf, sz, "%s%s%s", s->prefix, s->channel,
		    a != NULL ? a : "");
	else {
		snprintf(fmt, sizeof fmt, "%%s%s", KEY_NAMES[kind]);
		k = snprintf(buf, sz, fmt, s->prefix, a, b, c);
	}
	return k < 0 ? 0 : (size_t)k;
}

void
store_set_err(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
}

int64_t
store_resolution_s(const struct store *s)
{
	return s->resolution_s;
}

int64_t
store_timeout_ms(const struct store *s)
{
	return s->timeout_ms;
}

void
store_disconnect(struct store *s)
{
	drop(s);
}

/* r, the reply to a command sent (NULL: the connection failed); or NULL
 * with the error noted, the connection dropped when it failed or when a
 * demoted master answered. */
static redisReply *
reply_checked(struct store *s, redisReply *r)
{
	if (r == NULL) {
		snprintf(s->err, sizeof s->err, "redis: %s",
		    s->c->errstr[0] ? s->c->errstr : "connection lost");
		note_fault(s, STORE_FAULT_UNREACHABLE);
		drop(s);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(s->err, sizeof s->err, "redis: %s", r->str);
		note_fault(s, store_fault_of_reply(r->str));
		freeReplyObject(r);
		if (s->fault == STORE_FAULT_UNAVAILABLE)
			drop(s);	/* a demoted master: find the new one */
		return NULL;
	}
	return r;
}

redisReply *
store_run(struct store *s, int argc, const char **argv, const size_t *lens)
{
	if (s->c == NULL && store_connect(s) == -1)
		return NULL;
	return reply_checked(s, redisCommandArgv(s->c, argc, argv, lens));
}

redisContext *
store_conn(struct store *s)
{
	if (s->c == NULL && store_connect(s) == -1)
		return NULL;
	return s->c;
}

/* store_conn_dial() with the store's settings. */
static redisContext *
dial(const struct store *s, enum store_fault *fault, char *err, size_t errsz)
{
	struct store_dial_conf dc = {
		.address = s->address,
		.username = s->username,
		.password = s->password,
		.database = s->database,
		.timeout_ms = s->timeout_ms,
		.sentinels = (const char *const *)s->sentinels,
		.nsentinels = s->nsentinels,
		.master_name = s->master_name,
	};

	return store_conn_dial(&dc, fault, err, errsz);
}

redisContext *
store_dial(const struct store *s, char *err, size_t errsz)
{
	enum store_fault f;

	return dial(s, &f, err, errsz);
}

int
store_connect(struct store *s)
{
	enum store_fault f;

	drop(s);
	if ((s->c = dial(s, &f, s->err, sizeof s->err)) == NULL) {
		note_fault(s, f);
		return -1;
	}
	return 0;
}

/* SCRIPT LOAD of src into sha (41 bytes). */
static int
load_script(struct store *s, const char *src, char *sha)
{
	const char *argv[3] = { "SCRIPT", "LOAD", src };
	redisReply *r;

	if ((r = store_run(s, 3, argv, NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(s->err, sizeof s->err, "redis %s: SCRIPT LOAD: %s",
		    s->address, r->str != NULL ? r->str : "unexpected reply");
		note_fault(s, STORE_FAULT_ERROR);
		freeReplyObject(r);
		return -1;
	}
	memcpy(sha, r->str, 40);
	sha[40] = '\0';
	freeReplyObject(r);
	return 0;
}

/* Loads FLUSH_LUA and APPLY_LUA (once per server: a restart without them
 * is seen as NOSCRIPT by the flush). */
static int
load_flush_script(struct store *s)
{
	if (load_script(s, APPLY_LUA, s->sha_apply) == -1)
		return -1;
	return load_script(s, FLUSH_LUA, s->sha);
}

/*
 * Whether a hash sits under <p>k: (the per-day keyword hashes of the older
 * layout; now every k: key is a string): 1 yes, 0 no, -1 on an error.  A
 * whole-keyspace SCAN, run only when <p>since exists without <p>layout.
 */
static int
old_layout_found(struct store *s)
{
	char pattern[1100], cursor[32] = "0", *d = pattern;
	const char *p, *argv[8];
	redisReply *r;
	int found = 0;

	for (p = s->prefix; *p != '\0' && d < pattern + 1000; p++) {
		if (strchr("*?[]\\", *p) != NULL)
			*d++ = '\\';
		*d++ = *p;
	}
	memcpy(d, "k:*", 4);
	do {
		argv[0] = "SCAN";
		argv[1] = cursor;
		argv[2] = "MATCH";
		argv[3] = pattern;
		argv[4] = "COUNT";
		argv[5] = "1000";
		argv[6] = "TYPE";
		argv[7] = "hash";
		if ((r = store_run(s, 8, argv, NULL)) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			store_set_err(s, "redis: SCAN: unexpected reply");
			note_fault(s, STORE_FAULT_ERROR);
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		found = r->element[1]->elements > 0;
		freeReplyObject(r);
	} while (!found && strcmp(cursor, "0") != 0);
	return found;
}

/*
 * <p>layout names the counters' encoding and resolution ("2 10": hour
 * strings of 10 s cells).  Cells are indexed by the resolution, so a daemon
 * configured with another one would misread and miscount every hour key:
 * it refuses to start instead.  A store without the key but with <p>since
 * was either written by an older layout (per-day hashes, found by a SCAN
 * for a hash under k:) or lost the key with its data (a wipe); the first
 * is refused, the second gets the key.  0, or -1 with the fault set.
 */
static int
check_layout(struct store *s)
{
	char key[512], want[32], pattern[520];
	const char *argv[9];
	redisReply *r;
	int rc = 0;

	snprintf(want, sizeof want, "2 %" PRId64, s->resolution_s);
	store_key(s, STORE_KEY_LAYOUT, NULL, NULL, NULL, key, sizeof key);
	argv[0] = "GET";
	argv[1] = key;
	if ((r = store_run(s, 2, argv, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING && strcmp(r->str, want) != 0) {
		store_set_err(s, "redis: the counters were written with layout "
		    "\"%.16s\" (version, resolution in s), this daemon writes "
		    "\"%s\": keep counters.resolution, or use another "
		    "redis.prefix", r->str, want);
		rc = -1;
	}
	if (r->type == REDIS_REPLY_STRING || rc == -1) {
		freeReplyObject(r);
		if (rc == -1)
			note_fault(s, STORE_FAULT_LAYOUT);
		return rc;
	}
	freeReplyObject(r);
	store_key(s, STORE_KEY_SINCE, NULL, NULL, NULL, pattern,
	    sizeof pattern);
	argv[0] = "EXISTS";
	argv[1] = pattern;
	if ((r = store_run(s, 2, argv, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		rc = old_layout_found(s);
	freeReplyObject(r);
	if (rc != 0) {
		if (rc == 1) {
			store_set_err(s, "redis: the counters under this "
			    "prefix were written by an older layout (per-day "
			    "hashes); use another redis.prefix, or delete the "
			    "old keys");
			note_fault(s, STORE_FAULT_LAYOUT);
		}
		return -1;
	}
	argv[0] = "SET";
	argv[1] = key;
	argv[2] = want;
	if ((r = store_run(s, 3, argv, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int
store_check(struct store *s, const char *group)
{
	char key[512];
	const char *argv[2];
	redisReply *r;

	if (store_connect(s) == -1)
		return -1;
	store_key(s, STORE_KEY_POSITIONS, group, NULL, NULL, key, sizeof key);
	argv[0] = "HLEN";
	argv[1] = key;
	if ((r = store_run(s, 2, argv, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	if (check_layout(s) == -1 || load_flush_script(s) == -1)
		return -1;
	return store_drain(s, NULL);	/* what a stopped daemon staged */
}

/* Civil date (UTC) of day number d since the epoch, as yyyymmdd. */
static void
day_name(int64_t bucket, char *buf, size_t sz)
{
	int64_t z = (bucket >= 0 ? bucket / 86400 : (bucket - 86399) / 86400) +
	    719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	if (m <= 2)
		y++;
	snprintf(buf, sz, "%04" PRId64 "%02" PRId64 "%02" PRId64, y, m, d);
}

static int64_t
day_start(int64_t bucket)
{
	return (bucket >= 0 ? bucket / 86400 : (bucket - 86399) / 86400) * 86400;
}

void
store_day_name(int64_t bucket, char *buf, size_t sz)
{
	day_name(bucket, buf, sz);
}

/* The start of the UTC hour of a bucket, in seconds. */
static int64_t
hour_start(int64_t bucket)
{
	return (bucket >= 0 ? bucket / 3600 : (bucket - 3599) / 3600) * 3600;
}

/* The UTC hour of a bucket as yyyymmddhh, as in the counter keys' names. */
static void
hour_name(int64_t bucket, char *buf, size_t sz)
{
	char day[48];

	day_name(bucket, day, sizeof day);
	snprintf(buf, sz, "%s%02d", day,
	    (int)((hour_start(bucket) - day_start(bucket)) / 3600));
}

void
store_hour_name(int64_t bucket, char *buf, size_t sz)
{
	hour_name(bucket, buf, sz);
}

int64_t
store_hour_start(int64_t bucket)
{
	return hour_start(bucket);
}

int64_t
store_day_start(int64_t bucket)
{
	return day_start(bucket);
}

/* Writes v in decimal ending at end; returns where it starts. */
static char *
int_text(char *end, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--end = '-';
	return end;
}

/* The head of a MessagePack string of len bytes, or of an array of len
 * elements (array: always 5 bytes, so that it can be written last). */
static size_t
pack_head(unsigned char *d, size_t len, bool array)
{
	size_t n = 0, k;

	if (array || len > 0xffff) {
		d[n++] = array ? 0xdd : 0xdb;
		for (k = 4; k-- > 0; )
			d[n++] = (unsigned char)(len >> (8 * k));
	} else if (len < 32)
		d[n++] = (unsigned char)(0xa0 | len);
	else if (len < 256) {
		d[n++] = 0xd9;
		d[n++] = (unsigned char)len;
	} else {
		d[n++] = 0xda;
		d[n++] = (unsigned char)(len >> 8);
		d[n++] = (unsigned char)len;
	}
	return n;
}

/* One bulk string (a MessagePack string when r->pack): a, then ':' and b
 * when b is not NULL. */
static void
resp_arg2(struct resp *r, const char *a, size_t alen, const char *b,
    size_t blen)
{
	size_t total = alen + (b != NULL ? blen + 1 : 0), nd;
	char num[24], *d = int_text(num + sizeof num, (int64_t)total);

	nd = (size_t)(num + sizeof num - d);
	r->buf = xgrow(r->buf, &r->cap, r->len + nd + total + 5, 1);
	if (r->pack) {
		r->len += pack_head((unsigned char *)r->buf + r->len, total,
		    false);
		memcpy(r->buf + r->len, a, alen);
		r->len += alen;
		if (b != NULL) {
			r->buf[r->len++] = ':';
			memcpy(r->buf + r->len, b, blen);
			r->len += blen;
		}
		r->n++;
		return;
	}
	r->buf[r->len++] = '$';
	memcpy(r->buf + r->len, d, nd);
	r->len += nd;
	r->buf[r->len++] = '\r';
	r->buf[r->len++] = '\n';
	memcpy(r->buf + r->len, a, alen);
	r->len += alen;
	if (b != NULL) {
		r->buf[r->len++] = ':';
		memcpy(r->buf + r->len, b, blen);
		r->len += blen;
	}
	r->buf[r->len++] = '\r';
	r->buf[r->len++] = '\n';
	r->n++;
}

static void
arg_add(struct store *s, const char *str, size_t len)
{
	resp_arg2(&s->args, str, len, NULL, 0);
}

/* An integer argument, written without printf (a flush has one per
 * increment and key). */
static void
arg_int(struct store *s, int64_t v)
{
	char num[24], *d = int_text(num + sizeof num, v);

	arg_add(s, d, (size_t)(num + sizeof num - d));
}

static void
arg_fmt(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
arg_fmt(struct store *s, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof tmp)
		n = sizeof tmp - 1;
	arg_add(s, tmp, (size_t)n);
}

/*
 * The keys a flush names (KEYS[3…] of the script), each once, found
 * through a map keyed by what the name is made of — kind, the aggregate's
 * interned topic and field pointers (one pointer per distinct string) and
 * the day — so an entry whose key was named before costs one pointer hash
 * and no formatting, and a new one is written once, as RESP.
 */
struct keyslot {
	const char	*topic, *aux;
	int64_t		 day;		/* day number; 0 for the samples key */
	int		 kind;
	size_t		 ki;		/* 0: empty */
};

struct keytab {
	struct resp	  keys;		/* the names, in order */
	size_t		  n, cap;
	int64_t		 *expire;	/* EXPIREAT per key, 0: none */
	struct keyslot	 *slots;	/* (kind, topic, aux, day) → index */
	size_t		  nslots, nused;	/* nslots: power of two */
};

/* Adds a key; returns its index (1-based, as KEYS[i] in the script). */
static size_t
key_add(struct keytab *kt, const char *name, size_t len)
{
	kt->expire = xgrow(kt->expire, &kt->cap, kt->n + 1, sizeof *kt->expire);
	kt->expire[kt->n] = 0;
	resp_arg2(&kt->keys, name, len, NULL, 0);
	kt->n++;
	return kt->n + 3;	/* KEYS[1…3]: positions, since, staged */
}

static size_t
keyslot_hash(int kind, const char *topic, const char *aux, int64_t day)
{
	uint64_t x = (uint64_t)(uintptr_t)topic * UINT64_C(0x9e3779b97f4a7c15);

	x ^= (uint64_t)(uintptr_t)aux * UINT64_C(0xc2b2ae3d27d4eb4f);
	x ^= ((uint64_t)day << 3) ^ (uint64_t)kind;
	x ^= x >> 29;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	return (size_t)(x ^ (x >> 32));
}

/* The slot of k's (kind, topic, aux, day): the one holding it, or the
 * empty slot where it goes. */
static struct keyslot *
keyslot_probe(struct keytab *kt, const struct keyslot *k)
{
	size_t mask = kt->nslots - 1, j;

	for (j = keyslot_hash(k->kind, k->topic, k->aux, k->day) & mask;
	    kt->slots[j].ki != 0; j = (j + 1) & mask) {
		const struct keyslot *ks = &kt->slots[j];

		if (ks->kind == k->kind && ks->topic == k->topic &&
		    ks->aux == k->aux && ks->day == k->day)
			break;
	}
	return &kt->slots[j];
}

/* Doubles the cache (1024 slots at first), keeping what it holds. */
static void
keyslot_grow(struct keytab *kt)
{
	struct keyslot *old = kt->slots;
	size_t oldn = kt->nslots, i;

	kt->nslots = oldn ? oldn * 2 : 1024;
	kt->slots = xcalloc(kt->nslots, sizeof *kt->slots);
	for (i = 0; i < oldn; i++)
		if (old[i].ki != 0)
			*keyslot_probe(kt, &old[i]) = old[i];
	free(old);
}

static void
keytab_free(struct keytab *kt)
{
	free(kt->keys.buf);
	free(kt->expire);
	free(kt->slots);
}

/* prefix, then each part joined by ':' (a store_key name, without printf:
 * KEY_NAMES[kind] is "<letter>:%s…" with the same parts). */
static size_t
key_join(const struct store *s, const char *const *part, size_t n, char *buf,
    size_t sz)
{
	size_t len = 0, i, k;

	for (i = 0; i <= n; i++) {
		const char *p = i == 0 ? s->prefix : part[i - 1];

		k = strlen(p);
		if (len + k + 2 > sz)
			return sz;
		memcpy(buf + len, p, k);
		len += k;
		if (i > 0 && i < n)
			buf[len++] = ':';
	}
	buf[len] = '\0';
	return len;
}

/* The letters of a day key's name (KEY_NAMES without the pattern). */
static const char *
key_letters(enum store_key kind)
{
	switch (kind) {
	case STORE_KEY_COUNTS:		return "c";
	case STORE_KEY_KEYWORDS:	return "k";
	case STORE_KEY_KEYWORD_NAMES:	return "kn";
	case STORE_KEY_BREAKDOWN:	return "b";
	case STORE_KEY_BREAKDOWN_NAMES:	return "bn";
	case STORE_KEY_AUTHORS:		return "ha";
	case STORE_KEY_TEXTS:		return "ht";
	default:			return "s";
	}
}

/* The key index of an entry's key (kind a store_key kind; aux the
 * count_by field of a breakdown), built and named once per flush. */
static size_t
entry_key(struct store *s, struct keytab *kt, enum store_key kind,
    const char *topic, const char *aux, int64_t bucket)
{
	struct keyslot want, *ks;
	char key[512], dname[48] = "";
	const char *part[4];
	size_t len, np = 0;
	bool breakdown = kind == STORE_KEY_BREAKDOWN ||
	    kind == STORE_KEY_BREAKDOWN_NAMES;
	bool hourly = kind == STORE_KEY_COUNTS || kind == STORE_KEY_AUTHORS ||
	    kind == STORE_KEY_TEXTS;

	want.kind = (int)kind;
	want.topic = topic;
	want.aux = aux;
	/* counters: one key an hour; the others one a day */
	want.day = kind == STORE_KEY_SAMPLES ? 0 : hourly ?
	    hour_start(bucket) / 3600 + 1 : day_start(bucket) / 86400 + 1;
	want.ki = 0;
	if ((kt->nused + 1) * 2 > kt->nslots)
		keyslot_grow(kt);
	ks = keyslot_probe(kt, &want);
	if (ks->ki != 0)
		return ks->ki;
	part[np++] = key_letters(kind);
	part[np++] = topic;
	if (breakdown)
		part[np++] = aux;
	if (hourly) {
		hour_name(bucket, dname, sizeof dname);
		part[np++] = dname;
	} else if (kind != STORE_KEY_SAMPLES) {
		day_name(bucket, dname, sizeof dname);
		part[np++] = dname;
	}
	len = key_join(s, part, np, key, sizeof key);
	if (len >= sizeof key) {	/* cut, as store_key() would */
		len = store_key(s, kind, topic, breakdown ? aux : dname, dname,
		    key, sizeof key);
		if (len >= sizeof key)
			len = sizeof key - 1;
	}
	*ks = want;
	ks->ki = key_add(kt, key, len);
	kt->nused++;
	if (kind != STORE_KEY_SAMPLES)
		kt->expire[ks->ki - 4] = day_start(bucket) + 86400 +
		    s->retention_s;
	return ks->ki;
}

/* ARGV of FLUSH_LUA, positions: count, then field, expected and next
 * offset of each partition. */
static void
flush_args_positions(struct store *s, const struct store_pos *pos,
    size_t npos)
{
	size_t i;

	arg_fmt(s, "%zu", npos);
	for (i = 0; i < npos; i++) {
		arg_add(s, pos[i].field, strlen(pos[i].field));
		if (pos[i].to == STORE_POS_MARK) {	/* not checked, not moved */
			arg_add(s, "*", 1);
			arg_add(s, "", 0);
		} else {
			if (pos[i].from < 0)
				arg_add(s, "-1", 2);
			else
				arg_int(s, pos[i].from);
			arg_int(s, pos[i].to);
		}
	}
}

/* apply()'s first arguments: count, then field, newest post time and lag
 * of each partition.  A staged flush gives them to its last chunk, so the
 * watermark moves only once all its counts are applied. */
static void
flush_args_times(struct store *s, const struct store_pos *pos, size_t npos)
{
	size_t i;

	arg_int(s, (int64_t)npos);
	for (i = 0; i < npos; i++) {
		arg_add(s, pos[i].field, strlen(pos[i].field));
		arg_int(s, pos[i].time_ms);
		arg_int(s, pos[i].lag);
	}
}

/* The oldest bucket counted by this flush, for <p>since ("" if none). */
static void
flush_args_since(struct store *s, const struct agg_entry *e, size_t ne)
{
	int64_t minb = INT64_MAX;
	size_t i;

	for (i = 0; i < ne; i++)
		if (e[i].kind == AGG_COUNT && e[i].bucket < minb)
			minb = e[i].bucket;
	if (minb == INT64_MAX)
		arg_add(s, "", 0);
	else
		arg_fmt(s, "%" PRId64, minb);
}

/*
 * One increment of a flush: a counter cell (name NULL: cell 1 + the
 * bucket's index in its day) or a keyword or count_by value in a slot of
 * STORE_SLOT_S seconds (at: the slot's index in its day).  They are sorted
 * by key, then name, then cell, so each key's cells go out as one group
 * and equal cells as one increment.
 */
struct incr {
	size_t		 ki;		/* the counter or series key */
	size_t		 ni;		/* its names key (series), else 0 */
	const char	*topic;		/* counters: for the dirty set */
	const char	*name;		/* series: keyword or value */
	int64_t		 at;		/* cell or slot */
	int64_t		 bucket;
	int64_t		 count;
	int64_t		 cap;		/* names a day the key takes (0: any) */
};

static int
incr_cmp(const void *x, const void *y)
{
	const struct incr *a = x, *b = y;
	int c;

	if (a->ki != b->ki)
		return a->ki < b->ki ? -1 : 1;
	if (a->name != b->name && (c = strcmp(a->name, b->name)) != 0)
		return c;
	return a->at < b->at ? -1 : a->at > b->at;
}

static bool
incr_same(const struct incr *a, const struct incr *b)
{
	return a->ki == b->ki && a->at == b->at && (a->name == b->name ||
	    strcmp(a->name, b->name) == 0);
}

/* The increments of the entries, sorted and merged; *nc: how many are
 * counter cells (they come first: their keys were named first). */
static struct incr *
flush_incrs(struct store *s, struct keytab *kt, const struct agg_entry *e,
    size_t ne, size_t *n, size_t *nc)
{
	struct incr *v = xcalloc(ne + 1, sizeof *v);
	size_t i, k = 0, pass, nc0;

	*nc = 0;
	for (pass = 0; pass < 2; pass++)	/* counters, then series */
		for (i = 0; i < ne; i++) {
			const struct agg_entry *x = &e[i];
			int64_t ds = day_start(x->bucket);
			int64_t hs = hour_start(x->bucket);
			struct incr *in = &v[k];

			if ((x->kind == AGG_COUNT) != (pass == 0) ||
			    (x->kind != AGG_COUNT && x->kind != AGG_KEYWORD &&
			    x->kind != AGG_BY))
				continue;
			memset(in, 0, sizeof *in);
			in->bucket = x->bucket;
			in->count = x->count;
			if (x->kind == AGG_COUNT) {
				in->ki = entry_key(s, kt, STORE_KEY_COUNTS, x->topic,
				    NULL, x->bucket);
				in->topic = x->topic;
				in->at = 1 + (x->bucket - hs) / s->resolution_s;
			} else if (x->kind == AGG_KEYWORD) {
				in->ki = entry_key(s, kt, STORE_KEY_KEYWORDS,
				    x->topic, NULL, x->bucket);
				in->ni = entry_key(s, kt, STORE_KEY_KEYWORD_NAMES,
				    x->topic, NULL, x->bucket);
				in->name = x->aux;
				in->at = (x->bucket - ds) / STORE_SLOT_S;
			} else {
				in->ki = entry_key(s, kt, STORE_KEY_BREAKDOWN,
				    x->topic, x->aux, x->bucket);
				in->ni = entry_key(s, kt, STORE_KEY_BREAKDOWN_NAMES,
				    x->topic, x->aux, x->bucket);
				in->name = x->aux2;
				in->at = (x->bucket - ds) / STORE_SLOT_S;
				in->cap = STORE_VALUES_PER_DAY;
			}
			k++;
			if (pass == 0)
				(*nc)++;
		}
	qsort(v, *nc, sizeof *v, incr_cmp);
	qsort(v + *nc, k - *nc, sizeof *v, incr_cmp);
	nc0 = *nc;
	for (i = 0, *n = 0; i < k; i++) {	/* merge equal cells */
		if (*n > 0 && incr_same(&v[*n - 1], &v[i])) {
			v[*n - 1].count += v[i].count;
			if (v[i].bucket < v[*n - 1].bucket)
				v[*n - 1].bucket = v[i].bucket;
			if (i < nc0)	/* a counter cell merged away */
				(*nc)--;
			continue;
		}
		v[(*n)++] = v[i];
	}
	return v;
}

/* Cells of one key a BITFIELD takes at most (unpack() in the script). */
#define STORE_PART_CELLS	500

/* One BITFIELD op: INCRBY u32 #cell delta. */
static void
arg_incr(struct store *s, int64_t cell, int64_t delta)
{
	char num[24], *d = int_text(num + sizeof num, cell);

	arg_add(s, "INCRBY", 6);
	arg_add(s, "u32", 3);
	*--d = '#';
	arg_add(s, d, (size_t)(num + sizeof num - d));
	arg_int(s, delta);
}

/* Counter parts (count, the bytes of a whole key, then per part of at
 * most STORE_PART_CELLS cells of one key: key index, EXPIREAT, 1 for the
 * key's first part, the count of BITFIELD arguments, and those: the
 * first part's counts cell 0, then INCRBY u32 #cell delta of each cell),
 * then the dirty set (count, then the earliest bucket and topic of each
 * counter key). */
static void
flush_args_counters(struct store *s, const struct keytab *kt,
    const struct incr *v, size_t nc)
{
	size_t i, j, k, np = 0, ng = 0;

	for (i = 0; i < nc; i = j) {
		for (j = i; j < nc && v[j].ki == v[i].ki; j++)
			;
		ng++;
		np += (j - i + STORE_PART_CELLS - 1) / STORE_PART_CELLS;
	}
	arg_int(s, (int64_t)np);
	/* the bytes of a whole hour key: cell 0, then one a bucket */
	arg_int(s, 4 * (1 + 3600 / s->resolution_s +
	    (3600 % s->resolution_s != 0)));
	for (i = 0; i < nc; i = j) {
		for (j = i; j < nc && v[j].ki == v[i].ki; j++)
			;
		for (k = i; k < j; k += STORE_PART_CELLS) {
			size_t m = j - k < STORE_PART_CELLS ? j - k :
			    STORE_PART_CELLS, c;

			arg_int(s, (int64_t)v[i].ki);
			arg_int(s, kt->expire[v[i].ki - 4]);
			arg_int(s, k == i);
			arg_int(s, (int64_t)(4 * (m + (k == i))));
			if (k == i)
				arg_incr(s, 0, 1);
			for (c = k; c < k + m; c++)
				arg_incr(s, v[c].at, v[c].count);
		}
	}
	arg_int(s, (int64_t)ng);
	for (i = 0; i < nc; i = j) {
		int64_t minb = v[i].bucket;

		for (j = i; j < nc && v[j].ki == v[i].ki; j++)
			if (v[j].bucket < minb)
				minb = v[j].bucket;
		arg_int(s, minb);
		arg_add(s, v[i].topic, strlen(v[i].topic));
	}
}

/* Series groups: slots a day, count, then per key (and at most
 * STORE_GROUP_NAMES names): key index, names key index, EXPIREAT, the
 * cap on names (0: none), names, then per name: the name, slots, and
 * slot and delta of each. */
#define STORE_GROUP_NAMES	1000

static bool
incr_same_name(const struct incr *a, const struct incr *b)
{
	return a->ki == b->ki && (a->name == b->name ||
	    strcmp(a->name, b->name) == 0);
}

/* The end of the group that starts at v[i]; *names: the names in it. */
static size_t
series_group(const struct incr *v, size_t n, size_t i, size_t *names)
{
	size_t j;

	*names = 0;
	for (j = i; j < n && v[j].ki == v[i].ki; j++)
		if (j == i || !incr_same_name(&v[j], &v[j - 1])) {
			if (*names == STORE_GROUP_NAMES)
				break;
			(*names)++;
		}
	return j;
}

static void
flush_args_series(struct store *s, const struct keytab *kt,
    const struct incr *v, size_t n)
{
	size_t i, j, k, ng = 0, names;

	arg_int(s, 86400 / STORE_SLOT_S);
	for (i = 0; i < n; i = series_group(v, n, i, &names))
		ng++;
	arg_int(s, (int64_t)ng);
	for (i = 0; i < n; i = j) {
		j = series_group(v, n, i, &names);
		arg_int(s, (int64_t)v[i].ki);
		arg_int(s, (int64_t)v[i].ni);
		arg_int(s, kt->expire[v[i].ki - 4]);
		arg_int(s, v[i].cap);
		arg_int(s, (int64_t)names);
		for (; i < j; i = k) {
			for (k = i; k < j && incr_same_name(&v[k], &v[i]); k++)
				;
			arg_add(s, v[i].name, strlen(v[i].name));
			arg_int(s, (int64_t)(k - i));
			for (; i < k; i++) {
				arg_int(s, v[i].at);
				arg_int(s, v[i].count);
			}
		}
	}
}

/* The increments: counters, dirty set, series (see FLUSH_LUA). */
static void
flush_args_increments(struct store *s, struct keytab *kt,
    const struct agg_entry *e, size_t ne)
{
	size_t n, nc;
	struct incr *v = flush_incrs(s, kt, e, ne, &n, &nc);

	flush_args_counters(s, kt, v, nc);
	flush_args_series(s, kt, v + nc, n - nc);
	free(v);
}

/* Samples: count of keys, how many to keep, the TTL, then per key: key
 * index, samples, then time in ms (the score) and {"id":…,"text":…} of
 * each.  ZADD GT keeps a member's latest time, so the sorted set holds
 * the same posts whatever the flushes were. */
/* (key index, position) pairs in order: the groups of a flush's samples
 * and distinct elements. */
static int
index_pair_cmp(const void *x, const void *y)
{
	const size_t *a = x, *b = y;

	return a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) :
	    a[1] < b[1] ? -1 : a[1] > b[1];
}

static void
flush_args_samples(struct store *s, struct keytab *kt,
    const struct agg_sample *smp, size_t nsmp)
{
	size_t (*order)[2] = xcalloc(nsmp + 1, sizeof *order);
	size_t i, j, ng = 0;

	for (i = 0; i < nsmp; i++) {
		order[i][0] = entry_key(s, kt, STORE_KEY_SAMPLES, smp[i].topic,
		    NULL, 0);
		order[i][1] = i;
	}
	qsort(order, nsmp, sizeof *order, index_pair_cmp);
	for (i = 0; i < nsmp; i = j) {
		for (j = i; j < nsmp && order[j][0] == order[i][0] &&
		    j - i < STORE_PART_CELLS; j++)
			;
		ng++;
	}
	arg_int(s, (int64_t)ng);
	arg_int(s, s->samples_keep);
	arg_int(s, s->retention_s);
	for (i = 0; i < nsmp; i = j) {
		for (j = i; j < nsmp && order[j][0] == order[i][0] &&
		    j - i < STORE_PART_CELLS; j++)
			;
		arg_int(s, (int64_t)order[i][0]);
		arg_int(s, (int64_t)entry_key(s, kt, STORE_KEY_COUNTS,
		    smp[order[i][1]].topic, NULL, smp[order[i][1]].bucket));
		arg_int(s, (int64_t)(j - i));
		for (; i < j; i++) {
			const struct agg_sample *x = &smp[order[i][1]];

			arg_int(s, x->time_ms);
			arg_add(s, x->json, x->json_len);
		}
	}
	free(order);
}

/* Rejects: the count of reasons, the rejected-total key, then reason and
 * increment of each, the stream key, its MAXLEN, the count of dead letters
 * and reason, detail, where, size and payload of each.  Just "0" when
 * nothing was refused. */
static void
flush_args_rejects(struct store *s, const struct store_rejects *rj)
{
	char key[512];
	size_t i, n = 0;

	for (i = 0; rj != NULL && i < rj->nreasons; i++)
		if (rj->counts[i] > 0)
			n++;
	arg_int(s, (int64_t)n);
	if (n == 0)
		return;
	arg_add(s, key, store_key(s, STORE_KEY_REJECTED_TOTAL, NULL, NULL,
	    NULL, key, sizeof key));
	for (i = 0; i < rj->nreasons; i++) {
		if (rj->counts[i] <= 0)
			continue;
		arg_add(s, rj->reasons[i], strlen(rj->reasons[i]));
		arg_int(s, rj->counts[i]);
	}
	arg_add(s, key, store_key(s, STORE_KEY_REJECTED, NULL, NULL, NULL,
	    key, sizeof key));
	arg_int(s, rj->maxlen);
	arg_int(s, (int64_t)rj->nkept);
	for (i = 0; i < rj->nkept; i++) {
		const struct store_reject *r = &rj->kept[i];

		arg_add(s, r->reason, strlen(r->reason));
		arg_add(s, r->detail, strlen(r->detail));
		arg_add(s, r->where, strlen(r->where));
		arg_int(s, (int64_t)r->size);
		arg_add(s, r->payload, r->len);
	}
}

/* Distinct elements: the count of groups, then of each the key index, its
 * EXPIREAT, the count of elements and each (8 bytes, little-endian); a
 * key's elements in groups of at most STORE_PART_CELLS. */
static void
flush_args_distinct(struct store *s, struct keytab *kt,
    const struct agg_distinct *d, size_t nd)
{
	size_t (*order)[2] = xcalloc(nd + 1, sizeof *order);
	size_t i, j, k, ng = 0;
	unsigned char b[8];

	for (i = 0; i < nd; i++) {
		order[i][0] = entry_key(s, kt, d[i].kind == AGG_AUTHORS ?
		    STORE_KEY_AUTHORS : STORE_KEY_TEXTS, d[i].topic, NULL,
		    d[i].hour);
		order[i][1] = i;
	}
	qsort(order, nd, sizeof *order, index_pair_cmp);
	for (i = 0; i < nd; i = j) {
		for (j = i; j < nd && order[j][0] == order[i][0] &&
		    j - i < STORE_PART_CELLS; j++)
			;
		ng++;
	}
	arg_int(s, (int64_t)ng);
	for (i = 0; i < nd; i = j) {
		for (j = i; j < nd && order[j][0] == order[i][0] &&
		    j - i < STORE_PART_CELLS; j++)
			;
		arg_int(s, (int64_t)order[i][0]);
		arg_int(s, kt->expire[order[i][0] - 4]);
		arg_int(s, (int64_t)(j - i));
		for (; i < j; i++) {
			uint64_t e = d[order[i][1]].elem;

			for (k = 0; k < 8; k++)
				b[k] = (unsigned char)(e >> (8 * k));
			arg_add(s, (const char *)b, 8);
		}
	}
	free(order);
}

/* A RESP bulk string's head for len bytes. */
static void
resp_bulk_head(struct resp *r, size_t len)
{
	char num[24], *d = int_text(num + sizeof num, (int64_t)len);
	size_t nd = (size_t)(num + sizeof num - d);

	r->buf = xgrow(r->buf, &r->cap, r->len + nd + len + 5, 1);
	r->buf[r->len++] = '$';
	memcpy(r->buf + r->len, d, nd);
	r->len += nd;
	r->buf[r->len++] = '\r';
	r->buf[r->len++] = '\n';
}

/* The names of KEYS[1…3] (positions, since, staged) in bufs of 512. */
static void
fixed_keys(const struct store *s, const char *group, char (*k)[512],
    size_t *len)
{
	len[0] = store_key(s, STORE_KEY_POSITIONS, group, NULL, NULL, k[0], 512);
	len[1] = store_key(s, STORE_KEY_SINCE, NULL, NULL, NULL, k[1], 512);
	len[2] = store_key(s, STORE_KEY_STAGED, NULL, NULL, NULL, k[2], 512);
}

/* Sends what the connection holds and reads one reply; NULL with the
 * error noted (and the connection dropped when it failed). */
static redisReply *
reply_of_sent(struct store *s)
{
	redisReply *r = NULL;

	if (redisGetReply(s->c, (void **)&r) != REDIS_OK)
		r = NULL;
	return reply_checked(s, r);
}

/* EVALSHA sha numkeys <positions> <since> <staged> KEYS... ARGV..., from
 * the RESP already written: a header, then the keys (kt NULL: the three
 * alone), then the arguments. */
static redisReply *
flush_send(struct store *s, const char *group, const struct keytab *kt,
    struct store_flush_stats *st)
{
	struct resp hdr;
	char fk[3][512], num[24], *d;
	size_t fl[3], nk = kt != NULL ? kt->n : 0, n = 6 + nk + s->args.n, i;
	redisReply *r = NULL;

	memset(&hdr, 0, sizeof hdr);
	d = int_text(num + sizeof num, (int64_t)n);
	hdr.buf = xgrow(hdr.buf, &hdr.cap, 64, 1);
	hdr.buf[hdr.len++] = '*';
	memcpy(hdr.buf + hdr.len, d, (size_t)(num + sizeof num - d));
	hdr.len += (size_t)(num + sizeof num - d);
	hdr.buf[hdr.len++] = '\r';
	hdr.buf[hdr.len++] = '\n';
	resp_arg2(&hdr, "EVALSHA", 7, NULL, 0);
	resp_arg2(&hdr, s->sha, 40, NULL, 0);
	d = int_text(num + sizeof num, (int64_t)nk + 3);
	resp_arg2(&hdr, d, (size_t)(num + sizeof num - d), NULL, 0);
	fixed_keys(s, group, fk, fl);
	for (i = 0; i < 3; i++)
		resp_arg2(&hdr, fk[i], fl[i], NULL, 0);
	if (st != NULL) {
		st->bytes_sent += hdr.len + (kt != NULL ? kt->keys.len : 0) +
		    s->args.len;
		st->round_trips++;
	}
	if (redisAppendFormattedCommand(s->c, hdr.buf, hdr.len) != REDIS_OK ||
	    (nk > 0 && redisAppendFormattedCommand(s->c, kt->keys.buf,
	    kt->keys.len) != REDIS_OK) ||
	    redisAppendFormattedCommand(s->c, s->args.buf, s->args.len) !=
	    REDIS_OK) {
		snprintf(s->err, sizeof s->err, "redis: %s",
		    s->c->errstr[0] ? s->c->errstr : "connection lost");
		note_fault(s, STORE_FAULT_UNREACHABLE);
		drop(s);
	} else
		r = reply_of_sent(s);
	free(hdr.buf);
	return r;
}

/* 0 applied, -2 a position did not match, -3 chunks are staged (nothing
 * written), -1 anything else. */
static int
flush_result(struct store *s, redisReply *r, struct store_flush_stats *st)
{
	int rc = 0;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		snprintf(s->err, sizeof s->err, "redis: unexpected reply to flush");
		rc = -1;
	} else if (r->element[0]->integer == 2)
		rc = -3;
	else if (r->element[0]->integer == 0) {
		snprintf(s->err, sizeof s->err, "position of %s is %s in Redis, "
		    "not what this consumer expected",
		    r->elements > 1 && r->element[1]->str ? r->element[1]->str : "?",
		    r->elements > 2 && r->element[2]->str ? r->element[2]->str : "?");
		rc = -2;
	} else if (st != NULL && r->elements > 1 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER)
		st->commands += (size_t)r->element[1]->integer;
	freeReplyObject(r);
	return rc;
}

/* What a flush (or a chunk of it) writes: the aggregate's entries, of its
 * samples those a sample set can keep (flush_in_of()), its authors' and
 * texts' elements. */
struct flush_in {
	const struct agg_entry	*e;
	size_t			 ne;
	struct agg_sample	*smp;
	size_t			 nsmp;
	const struct agg_distinct *dst;	/* authors' and texts' elements */
	size_t			 ndst;
};

/* apply()'s arguments for what in holds: the partitions' times (npos of
 * them), the increments, the samples, the rejects, the distinct
 * elements. */
static void
flush_args_apply(struct store *s, struct keytab *kt,
    const struct flush_in *in, const struct store_pos *pos, size_t npos,
    const struct store_rejects *rj)
{
	flush_args_times(s, pos, npos);
	flush_args_increments(s, kt, in->e, in->ne);
	flush_args_samples(s, kt, in->smp, in->nsmp);
	flush_args_rejects(s, rj);
	flush_args_distinct(s, kt, in->dst, in->ndst);
}


/* Newest first within a topic (agg_sample_cmp(), as a sorted set ranks
 * them: score, then the member's bytes). */
static int
kept_cmp(const void *x, const void *y)
{
	const struct agg_sample *a = x, *b = y;

	if (a->topic != b->topic)
		return (uintptr_t)a->topic < (uintptr_t)b->topic ? -1 : 1;
	return agg_sample_cmp(b->time_ms, b->json, b->json_len, a->time_ms,
	    a->json, a->json_len);
}

/* The entries of a, and of each topic's samples the samples_keep newest:
 * the set keeps only those (ZADD GT, then trimmed to the newest), so it
 * ends the same as if every sample were sent.  Free in->smp. */
static void
flush_in_of(const struct store *s, const struct agg *a, struct flush_in *in)
{
	const struct agg_sample *smp = agg_samples(a, &in->nsmp);
	size_t i, k = 0, run = 0;

	in->e = agg_entries(a, &in->ne);
	in->dst = agg_distincts(a, &in->ndst);
	in->smp = xcalloc(in->nsmp + 1, sizeof *in->smp);
	if (in->nsmp > 0)
		memcpy(in->smp, smp, in->nsmp * sizeof *smp);
	if (in->nsmp <= (size_t)s->samples_keep)
		return;
	qsort(in->smp, in->nsmp, sizeof *in->smp, kept_cmp);
	for (i = 0; i < in->nsmp; i++) {
		run = i > 0 && in->smp[i].topic == in->smp[i - 1].topic ?
		    run + 1 : 0;
		if (run < (size_t)s->samples_keep)
			in->smp[k++] = in->smp[i];
	}
	in->nsmp = k;
}

/* FLUSH_LUA with the counts inline: 0, -1, -2, or -3 (see flush_result). */
static int
flush_inline(struct store *s, const char *group, const struct flush_in *in,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st)
{
	struct keytab kt;
	size_t n = in->ne + in->nsmp + in->ndst;
	redisReply *r;
	int rc;

	memset(&kt, 0, sizeof kt);
	s->args.len = 0;
	s->args.n = 0;
	arg_int(s, s->retention_s);
	arg_int(s, 0);
	flush_args_positions(s, pos, npos);
	flush_args_since(s, in->e, in->ne);
	flush_args_apply(s, &kt, in, pos, npos, rj);
	r = flush_send(s, group, &kt, st);
	keytab_free(&kt);
	if (r == NULL)
		return -1;
	if ((rc = flush_result(s, r, st)) == 0 && st != NULL) {
		st->scripts++;
		if (n > st->chunk_max)
			st->chunk_max = n;
	}
	return rc;
}

/* FNV-1a of str, going on from h. */
static uint32_t
hash_str(uint32_t h, const char *str)
{
	for (; str != NULL && *str != '\0'; str++)
		h = (h ^ (unsigned char)*str) * 16777619u;
	return h;
}

/* Counts of one topic that go into one chunk: those of STORE_CHUNK_SPAN_S
 * seconds (60 cells at 10 s). */
#define STORE_CHUNK_SPAN_S	600

/* The bin (of nbin) of an entry: that of its (topic, span) for a count, of its
 * (topic, name) for a keyword or count_by value, so that one topic's many
 * buckets and names spread. */
static uint32_t
chunk_of_entry(const struct agg_entry *e, size_t nbin)
{
	uint32_t h = hash_str(2166136261u, e->topic);

	if (e->kind == AGG_KEYWORD || e->kind == AGG_BY)
		h = hash_str(hash_str(h * 31, e->aux), e->aux2);
	else
		h = (h ^ (uint32_t)(e->bucket / STORE_CHUNK_SPAN_S)) * 16777619u;
	return (uint32_t)(h % nbin);
}

/*
 * What a flush holds laid out chunk by chunk: a topic's counts of each
 * STORE_CHUNK_SPAN_S in one chunk, its samples of each bucket in one, each
 * of its keyword and count_by values in one, its authors or texts of an
 * hour in one (a key is then named by few chunks; the increments of a key
 * split between chunks add up the same, the newest samples_keep of a set
 * are the same however its samples come, and so are the elements of a
 * HyperLogLog): chunk c holds what lies at [at[c], at[c + 1]) of each of
 * the arrays, at of ce, sat of cs, dat of cd.
 */
struct chunks {
	size_t			 n;
	struct agg_entry	*ce;
	struct agg_sample	*cs;
	struct agg_distinct	*cd;
	size_t			*at, *sat, *dat;
};

/* Bins per chunk: a chunk is a run of bins, cut once it holds its
 * target, so it passes the target by less than one bin. */
#define STORE_CHUNK_BINS	16

/* Counting sort of the n elements of src (size bytes each) into dst by
 * their bin (UINT32_MAX: left out); returns where each of the nbin bins
 * starts in dst, and where the last ends (nbin + 1 offsets). */
static size_t *
bin_sort(const void *src, size_t n, size_t size, const uint32_t *bin,
    size_t nbin, void *dst)
{
	size_t *start = xcalloc(nbin + 1, sizeof *start);
	size_t *at = xcalloc(nbin + 1, sizeof *at), i;

	for (i = 0; i < n; i++)
		if (bin[i] != UINT32_MAX)
			start[bin[i] + 1]++;
	for (i = 0; i < nbin; i++)
		start[i + 1] += start[i];
	memcpy(at, start, (nbin + 1) * sizeof *at);
	for (i = 0; i < n; i++)
		if (bin[i] != UINT32_MAX)
			memcpy((char *)dst + at[bin[i]]++ * size,
			    (const char *)src + i * size, size);
	free(at);
	return start;
}

static void
chunks_split(struct chunks *ch, size_t target, const struct flush_in *in)
{
	size_t nbin = STORE_CHUNK_BINS * (1 + (in->ne + in->nsmp + in->ndst) /
	    target), i, b, *eb, *smb, *db;
	uint32_t *bin = xcalloc(in->ne + in->nsmp + in->ndst + 1, sizeof *bin);

	ch->ce = xcalloc(in->ne + 1, sizeof *ch->ce);
	ch->cs = xcalloc(in->nsmp + 1, sizeof *ch->cs);
	ch->cd = xcalloc(in->ndst + 1, sizeof *ch->cd);
	for (i = 0; i < in->ne; i++) {
		const struct agg_entry *x = &in->e[i];

		bin[i] = x->kind != AGG_COUNT && x->kind != AGG_KEYWORD &&
		    x->kind != AGG_BY ? UINT32_MAX :	/* bookkeeping */
		    chunk_of_entry(x, nbin);
	}
	eb = bin_sort(in->e, in->ne, sizeof *in->e, bin, nbin, ch->ce);
	for (i = 0; i < in->nsmp; i++)
		bin[i] = (hash_str(2166136261u, in->smp[i].topic) ^
		    (uint32_t)in->smp[i].bucket) * 16777619u % nbin;
	smb = bin_sort(in->smp, in->nsmp, sizeof *in->smp, bin, nbin, ch->cs);
	for (i = 0; i < in->ndst; i++)
		bin[i] = (hash_str(2166136261u, in->dst[i].topic) ^
		    (uint32_t)(in->dst[i].hour / 3600 + in->dst[i].kind)) *
		    16777619u % nbin;
	db = bin_sort(in->dst, in->ndst, sizeof *in->dst, bin, nbin, ch->cd);
	ch->at = xcalloc(nbin + 1, sizeof *ch->at);
	ch->sat = xcalloc(nbin + 1, sizeof *ch->sat);
	ch->dat = xcalloc(nbin + 1, sizeof *ch->dat);
	ch->n = 0;
	for (b = 0; b < nbin; b++)	/* runs of bins of about target */
		if (eb[b + 1] - ch->at[ch->n] + smb[b + 1] - ch->sat[ch->n] +
		    db[b + 1] - ch->dat[ch->n] >= target || b + 1 == nbin) {
			ch->n++;
			ch->at[ch->n] = eb[b + 1];
			ch->sat[ch->n] = smb[b + 1];
			ch->dat[ch->n] = db[b + 1];
		}
	free(bin);
	free(eb);
	free(smb);
	free(db);
}

/* Chunk c of ch as what a flush writes. */
static struct flush_in
chunk_in(const struct chunks *ch, size_t c)
{
	struct flush_in v;

	v.e = ch->ce + ch->at[c];
	v.ne = ch->at[c + 1] - ch->at[c];
	v.smp = ch->cs + ch->sat[c];
	v.nsmp = ch->sat[c + 1] - ch->sat[c];
	v.dst = ch->cd + ch->dat[c];
	v.ndst = ch->dat[c + 1] - ch->dat[c];
	return v;
}

static void
chunks_free(struct chunks *ch)
{
	free(ch->ce);
	free(ch->cs);
	free(ch->cd);
	free(ch->at);
	free(ch->sat);
	free(ch->dat);
}

/* One staged chunk as an argument of s->args: MessagePack arrays of its
 * keys (KEYS[1…3] first) and of apply()'s arguments (built in s->chunk),
 * with the partitions' times (npos of pos) and the rejects (rj). */
static void
stage_chunk(struct store *s, const char *group, const struct chunks *ch,
    size_t c, const struct store_pos *pos, size_t npos,
    const struct store_rejects *rj)
{
	struct keytab kt;
	struct resp args = s->args, fixed;
	struct flush_in v = chunk_in(ch, c);
	char fk[3][512];
	unsigned char kh[8], ah[8];
	size_t fl[3], i, nkh, nah;

	memset(&kt, 0, sizeof kt);
	memset(&fixed, 0, sizeof fixed);
	kt.keys.pack = fixed.pack = true;
	s->args = s->chunk;		/* apply()'s arguments go to s->chunk */
	s->args.len = 0;
	s->args.n = 0;
	s->args.pack = true;
	flush_args_apply(s, &kt, &v, pos, npos, rj);
	s->chunk = s->args;
	s->args = args;
	fixed_keys(s, group, fk, fl);
	for (i = 0; i < 3; i++)
		resp_arg2(&fixed, fk[i], fl[i], NULL, 0);
	nkh = pack_head(kh, kt.n + 3, true);
	nah = pack_head(ah, s->chunk.n, true);
	resp_bulk_head(&s->args, nkh + fixed.len + kt.keys.len + nah +
	    s->chunk.len);
	memcpy(s->args.buf + s->args.len, kh, nkh);
	memcpy(s->args.buf + s->args.len + nkh, fixed.buf, fixed.len);
	s->args.len += nkh + fixed.len;
	if (kt.keys.len > 0)
		memcpy(s->args.buf + s->args.len, kt.keys.buf, kt.keys.len);
	s->args.len += kt.keys.len;
	memcpy(s->args.buf + s->args.len, ah, nah);
	memcpy(s->args.buf + s->args.len + nah, s->chunk.buf, s->chunk.len);
	s->args.len += nah + s->chunk.len;
	s->args.buf[s->args.len++] = '\r';
	s->args.buf[s->args.len++] = '\n';
	s->args.n++;
	free(fixed.buf);
	keytab_free(&kt);
}

/* FLUSH_LUA staging in's counts: 0, -1 or -2 (see flush_result). */
static int
stage(struct store *s, const char *group, const struct flush_in *in,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st)
{
	struct chunks ch;
	struct flush_in v;
	size_t c, *use, nuse = 0, sz;
	redisReply *r;
	int rc;

	/* chunks of about half the bound, so that the largest stays below it */
	chunks_split(&ch, (size_t)s->chunk_entries / 2, in);
	use = xcalloc(ch.n, sizeof *use);
	for (c = 0; c < ch.n; c++) {	/* the chunks that hold something */
		v = chunk_in(&ch, c);
		if (v.ne + v.nsmp + v.ndst > 0 || (c + 1 == ch.n && nuse == 0))
			use[nuse++] = c;
	}
	s->args.len = 0;
	s->args.n = 0;
	arg_int(s, s->retention_s);
	arg_int(s, (int64_t)nuse);
	flush_args_positions(s, pos, npos);
	flush_args_since(s, in->e, in->ne);
	for (c = 0; c < nuse; c++) {
		/* the rejects ride the first chunk, the times the last */
		stage_chunk(s, group, &ch, use[c], pos, c + 1 == nuse ? npos : 0,
		    c == 0 ? rj : NULL);
		v = chunk_in(&ch, use[c]);
		sz = v.ne + v.nsmp + v.ndst;
		if (st != NULL && sz > st->chunk_max)
			st->chunk_max = sz;
	}
	free(use);
	chunks_free(&ch);
	if ((r = flush_send(s, group, NULL, st)) == NULL)
		return -1;
	if ((rc = flush_result(s, r, st)) == 0)
		s->undrained = true;
	return rc;
}

/* What a flush does first: clear st, connect, load the scripts, and lay
 * out a's counts in in.  0, or -1 (nothing to free then). */
static int
flush_begin(struct store *s, const struct agg *a, struct flush_in *in,
    struct store_flush_stats *st)
{
	if (st != NULL)
		memset(st, 0, sizeof *st);
	if (s->c == NULL && store_connect(s) == -1)
		return -1;
	if (s->sha[0] == '\0' && load_flush_script(s) == -1)
		return -1;
	flush_in_of(s, a, in);
	return 0;
}

int
store_stage(struct store *s, const char *group, const struct agg *a,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st)
{
	struct flush_in in;
	int rc;

	if (flush_begin(s, a, &in, st) == -1)
		return -1;
	rc = stage(s, group, &in, pos, npos, rj, st);
	free(in.smp);
	return rc;
}

/* Sends n APPLY_LUA calls at once and reads their replies: 0 with *left
 * the chunks still staged (0 once one found none), -1 on an error. */
static int
drain_round(struct store *s, const char *key, size_t klen, size_t n,
    size_t *left, struct store_flush_stats *st)
{
	const char *argv[4] = { "EVALSHA", s->sha_apply, "1", key };
	size_t lens[4] = { 7, 40, 1, klen }, i;
	redisReply *r;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (redisAppendCommandArgv(s->c, 4, argv, lens) != REDIS_OK) {
			drop(s);
			store_set_err(s, "redis: cannot send a drain");
			return -1;
		}
	if (st != NULL)
		st->round_trips++;
	for (i = 0; i < n && s->c != NULL; i++) {
		if ((r = reply_of_sent(s)) == NULL) {
			rc = -1;
			continue;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    r->element[0]->integer == 1) {
			*left = (size_t)r->element[2]->integer;
			if (st != NULL) {
				st->scripts++;
				st->commands += (size_t)r->element[1]->integer;
			}
		} else
			*left = 0;
		freeReplyObject(r);
	}
	return s->c == NULL ? -1 : rc;
}

int
store_drain(struct store *s, struct store_flush_stats *st)
{
	char key[512];
	size_t klen, left = 1;
	bool retried = false;

	if (s->c == NULL && store_connect(s) == -1)
		return -1;
	if (s->sha_apply[0] == '\0' && load_flush_script(s) == -1)
		return -1;
	klen = store_key(s, STORE_KEY_STAGED, NULL, NULL, NULL, key, sizeof key);
	while (left > 0) {
		if (drain_round(s, key, klen, left < 64 ? left : 64, &left,
		    st) == 0)
			continue;
		if (retried || strstr(s->err, "NOSCRIPT") == NULL ||
		    (s->c == NULL && store_connect(s) == -1) ||
		    load_flush_script(s) == -1)
			return -1;
		retried = true;		/* the server restarted: load, go on */
		left = 1;
	}
	s->undrained = false;
	return 0;
}

bool
store_undrained(const struct store *s)
{
	return s->undrained;
}

/* store_flush() on a connection with the scripts loaded: inline when the
 * aggregate fits one script (and nothing is staged), else staged and
 * drained. */
static int
flush_once(struct store *s, const char *group, const struct flush_in *in,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st)
{
	int rc = -3;

	if (s->undrained && store_drain(s, st) == -1)
		return -1;
	if (in->ne + in->nsmp + in->ndst <= (size_t)s->chunk_entries)
		rc = flush_inline(s, group, in, pos, npos, rj, st);
	if (rc != -3)
		return rc;
	/* too big for one script, or behind chunks someone staged */
	if ((rc = stage(s, group, in, pos, npos, rj, st)) == 0 &&
	    store_drain(s, st) == -1)
		log_warn("flushed counts staged, not applied yet; the next "
		    "flush applies them | error=\"%s\"", s->err);
	return rc;
}

int
store_flush(struct store *s, const char *group, const struct agg *a,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st)
{
	struct flush_in in;
	int rc;

	if (flush_begin(s, a, &in, st) == -1)
		return -1;
	rc = flush_once(s, group, &in, pos, npos, rj, st);
	if (rc == -1 && strstr(s->err, "NOSCRIPT") != NULL &&
	    store_connect(s) == 0 && load_flush_script(s) == 0)
		/* the server restarted without our scripts: load, retry once */
		rc = flush_once(s, group, &in, pos, npos, rj, st);
	free(in.smp);
	return rc;
}

int
store_get_positions(struct store *s, const char *group,
    const char *const *fields, size_t n, int64_t *offsets)
{
	const char **argv = xmalloc((n + 2) * sizeof *argv);
	char key[512];
	redisReply *r;
	size_t i;

	store_key(s, STORE_KEY_POSITIONS, group, NULL, NULL, key, sizeof key);
	argv[0] = "HMGET";
	argv[1] = key;
	for (i = 0; i < n; i++)
		argv[i + 2] = fields[i];
	r = store_run(s, (int)n + 2, argv, NULL);
	free(argv);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		snprintf(s->err, sizeof s->err, "redis: unexpected HMGET reply");
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (r->element[i]->type == REDIS_REPLY_STRING)
			offsets[i] = strtoll(r->element[i]->str, NULL, 10);
		else
			offsets[i] = -1;
	}
	freeReplyObject(r);
	return 0;
}


struct topc {
	char	*name;
	int64_t	 count;
};

static int
topc_cmp(const void *x, const void *y)
{
	const struct topc *a = x, *b = y;

	return alert_top_cmp(a->count, a->name, b->count, b->name);
}

/* Adds to tc the counts of one day of a series: names, the reply of
 * HGETALL of its names key (name → index), and data, the reply of GET of
 * its data key (u32 cells, big-endian: a header, then per index the day's
 * slots), over the slots [lo, hi). */
static void
top_add_day(const redisReply *names, const redisReply *data, int64_t lo,
    int64_t hi, struct topc **tc, size_t *ntc, size_t *cap)
{
	const int64_t nslots = 86400 / STORE_SLOT_S;
	size_t i, j;

	if (names->type != REDIS_REPLY_ARRAY || data->type != REDIS_REPLY_STRING)
		return;
	for (i = 0; i + 1 < names->elements; i += 2) {
		const char *nm = names->element[i]->str;
		const char *ix = names->element[i + 1]->str;
		int64_t sum = 0, slot;

		if (nm == NULL || ix == NULL)
			continue;
		for (slot = lo; slot < hi; slot++) {
			size_t at = (size_t)(1 + strtoll(ix, NULL, 10) * nslots +
			    slot) * 4;
			const unsigned char *c = (const unsigned char *)data->str + at;

			if (at + 4 <= data->len)
				sum += (int64_t)((uint32_t)c[0] << 24 |
				    (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]);
		}
		if (sum == 0)
			continue;
		for (j = 0; j < *ntc; j++)
			if (strcmp((*tc)[j].name, nm) == 0)
				break;
		if (j == *ntc) {
			*tc = xgrow(*tc, cap, *ntc + 1, sizeof **tc);
			(*tc)[j].name = xstrdup(nm);
			(*tc)[j].count = 0;
			(*ntc)++;
		}
		(*tc)[j].count += sum;
	}
}

int
store_get_top(struct store *s, char kind, const char *topic, const char *field,
    int64_t from, int64_t to, size_t max, char ***names, int64_t **counts,
    size_t *n)
{
	struct topc *tc = NULL;
	size_t ntc = 0, cap = 0, i;
	int64_t ds;

	*names = NULL;
	*counts = NULL;
	*n = 0;
	for (ds = day_start(from); ds < to; ds += 86400) {
		char key[512], nkey[512], day[48];
		const char *argv[2];
		redisReply *rn, *rd;
		int64_t lo = from > ds ? from - ds : 0;
		int64_t hi = to < ds + 86400 ? to - ds : 86400;

		day_name(ds, day, sizeof day);
		if (kind == 'k') {
			store_key(s, STORE_KEY_KEYWORDS, topic, day, NULL, key,
			    sizeof key);
			store_key(s, STORE_KEY_KEYWORD_NAMES, topic, day, NULL,
			    nkey, sizeof nkey);
		} else {
			store_key(s, STORE_KEY_BREAKDOWN, topic, field, day, key,
			    sizeof key);
			store_key(s, STORE_KEY_BREAKDOWN_NAMES, topic, field, day,
			    nkey, sizeof nkey);
		}
		argv[0] = "HGETALL";
		argv[1] = nkey;
		if ((rn = store_run(s, 2, argv, NULL)) == NULL)
			goto fail;
		argv[0] = "GET";
		argv[1] = key;
		if ((rd = store_run(s, 2, argv, NULL)) == NULL) {
			freeReplyObject(rn);
			goto fail;
		}
		/* the slots that overlap [lo, hi) */
		top_add_day(rn, rd, lo / STORE_SLOT_S,
		    (hi + STORE_SLOT_S - 1) / STORE_SLOT_S, &tc, &ntc, &cap);
		freeReplyObject(rn);
		freeReplyObject(rd);
	}
	if (ntc > 1)
		qsort(tc, ntc, sizeof *tc, topc_cmp);
	*n = ntc < max ? ntc : max;
	*names = xcalloc(*n + 1, sizeof **names);
	*counts = xcalloc(*n + 1, sizeof **counts);
	for (i = 0; i < ntc; i++) {
		if (i < *n) {
			(*names)[i] = tc[i].name;
			(*counts)[i] = tc[i].count;
		} else
			free(tc[i].name);
	}
	free(tc);
	return 0;
fail:
	for (i = 0; i < ntc; i++)
		free(tc[i].name);
	free(tc);
	return -1;
}

int
store_get_samples(struct store *s, const char *topic, int64_t from, int64_t to,
    size_t max, char ***json, size_t *n)
{
	const char *argv[7];
	char key[512], lo[32], hi[32], cnt[32];
	redisReply *r;
	size_t i, cap = 0;

	*json = NULL;
	*n = 0;
	store_key(s, STORE_KEY_SAMPLES, topic, NULL, NULL, key, sizeof key);
	snprintf(lo, sizeof lo, "%" PRId64, from * 1000);	/* scores: ms */
	snprintf(hi, sizeof hi, "(%" PRId64, to * 1000);
	snprintf(cnt, sizeof cnt, "%zu", max);
	argv[0] = "ZREVRANGEBYSCORE";
	argv[1] = key;
	argv[2] = hi;
	argv[3] = lo;
	argv[4] = "LIMIT";
	argv[5] = "0";
	argv[6] = cnt;
	if ((r = store_run(s, 7, argv, NULL)) == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && *n < max;
	    i++) {
		const char *v = r->element[i]->str;

		if (v == NULL || v[0] != '{')
			continue;
		*json = xgrow(*json, &cap, *n + 1, sizeof **json);
		(*json)[(*n)++] = xstrdup(v);
	}
	freeReplyObject(r);
	return 0;
}

int
store_get_distinct(struct store *s, const char *topic, int64_t from,
    int64_t to, int64_t out[3])
{
	static const enum store_key kinds[2] = { STORE_KEY_AUTHORS,
		STORE_KEY_TEXTS };
	enum { MAXH = 24 * 8 };
	char (*keys)[512], hn[48];
	const char *argv[MAXH + 1];
	int64_t h, lo = store_hour_start(from), hi = to;
	struct store_span sp;
	size_t k, n;
	redisReply *r;

	if (hi > lo + (int64_t)MAXH * 3600)
		hi = lo + (int64_t)MAXH * 3600;
	sp.topic = topic;
	sp.from = lo;
	sp.to = hi <= lo ? lo : store_hour_start(hi - 1) + 3600;
	out[2] = 0;
	if (store_read_spans(s, s->resolution_s, &sp, 1) == -1)
		return -1;
	for (k = 0; k < sp.n; k++)
		out[2] += sp.pts[k].count;
	free(sp.pts);
	keys = xcalloc(MAXH, sizeof *keys);

	for (k = 0; k < 2; k++) {
		argv[0] = "PFCOUNT";
		n = 0;
		for (h = lo; h < hi && n < MAXH; h += 3600) {
			hour_name(h, hn, sizeof hn);
			store_key(s, kinds[k], topic, hn, NULL, keys[n],
			    sizeof keys[n]);
			argv[n + 1] = keys[n];
			n++;
		}
		if (n == 0) {
			out[k] = 0;
			continue;
		}
		if ((r = store_run(s, (int)n + 1, argv, NULL)) == NULL) {
			free(keys);
			return -1;
		}
		out[k] = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
		freeReplyObject(r);
	}
	free(keys);
	return 0;
}

int
store_positions_sum(struct store *s, const char *group, int64_t *sum)
{
	char key[512];
	const char *argv[2];
	redisReply *r;
	size_t i;

	store_key(s, STORE_KEY_POSITIONS, group, NULL, NULL, key, sizeof key);
	argv[0] = "HGETALL";
	argv[1] = key;
	if ((r = store_run(s, 2, argv, NULL)) == NULL)
		return -1;
	*sum = 0;
	if (r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < r->elements; i += 2) {
			const char *f = r->element[i]->str;

			if (f == NULL || strncmp(f, "t:", 2) == 0 ||
			    strncmp(f, "l:", 2) == 0 || r->element[i + 1]->str == NULL)
				continue;
			*sum += strtoll(r->element[i + 1]->str, NULL, 10);
		}
	freeReplyObject(r);
	return 0;
}

int
store_state_get(struct store *s, const char *topic, const char *field,
    char *buf, size_t sz)
{
	char key[512];
	const char *argv[3];
	redisReply *r;

	store_key(s, STORE_KEY_STATE, topic, NULL, NULL, key, sizeof key);
	argv[0] = "HGET";
	argv[1] = key;
	argv[2] = field;
	if ((r = store_run(s, 3, argv, NULL)) == NULL)
		return -1;
	snprintf(buf, sz, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return 0;
}

int
store_wait_replicas(struct store *s, int64_t n, int64_t timeout_ms,
    int64_t *acked)
{
	char nb[24], tb[24];
	const char *argv[3] = { "WAIT", nb, tb };
	redisReply *r;

	snprintf(nb, sizeof nb, "%" PRId64, n);
	snprintf(tb, sizeof tb, "%" PRId64, timeout_ms);
	if ((r = store_run(s, 3, argv, NULL)) == NULL)
		return -1;
	*acked = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return 0;
}

int
store_ping(struct store *s)
{
	const char *argv[1] = { "PING" };
	redisReply *r;

	if ((r = store_run(s, 1, argv, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}
