/*
 * store.c — tidewatch's Redis schema and I/O (hiredis).
 *
 * DESIGN: counters are hashes per topic and UTC day, so that every key has
 * a bounded size and expires by itself:
 *   <p>c:<topic>:<yyyymmdd>          bucket → posts          (HINCRBY)
 *   <p>k:<topic>:<yyyymmdd>          bucket:keyword → hits
 *   <p>b:<topic>:<field>:<yyyymmdd>  bucket:value → posts
 *   <p>s:<topic>                     sample posts scored by post time in ms
 *                                    (ZADD GT; the newest samples_keep kept)
 *   <p>pos:<group>                   "<kafka topic>/<partition>" → next offset,
 *                                    "t:<kafka topic>/<partition>" → newest post ms
 *                                    "l:<kafka topic>/<partition>" → lag at flush
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
 *   <p><alerts.stream>               the alert log (a stream)
 *   <p><alerts.channel><topic>       Pub/Sub channel of a topic's alerts
 * KEY_NAMES below is that list as code: store_key() is the one builder.
 * A flush is one EVALSHA of FLUSH_LUA: it first checks every partition's
 * stored offset against what this consumer expects (so a consumer that lost
 * a partition cannot write for it), then applies every increment and moves
 * the positions, and adds the rejects met since the last flush (counts by
 * reason, dead letters), all in one atomic script: a message is counted,
 * or dead-lettered, exactly once however often it is re-read.  Day keys get EXPIREAT at the end
 * of their day plus the retention, set by the flush whose increment
 * created a field (so a key never lives without one, and a key already
 * holding the field costs no second call); a sample set is trimmed only
 * when a member was added.  A consumer flushes early when its aggregate
 * reaches redis.flush_max_entries, which keeps one script short.  The connection is one hiredis context;
 * on any I/O error it is dropped and remade by the next call.  Every
 * connection tidewatch makes (these, and the subscriber of store_alerts.c) is
 * made by store_dial() (store_conn.c), which also authenticates and
 * selects the database; every error is sorted into a store_fault.  FLUSH_LUA is loaded on
 * the first flush, so a store that only reads needs no SCRIPT rights.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "alert.h"
#include "jsonw.h"
#include "stats.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

/* Samples kept per topic in <p>s:<topic>. */
#define STORE_SAMPLES_KEEP	1000

static const char *const KEY_NAMES[] = {
	[STORE_KEY_COUNTS] =	"c:%s:%s",
	[STORE_KEY_KEYWORDS] =	"k:%s:%s",
	[STORE_KEY_BREAKDOWN] =	"b:%s:%s:%s",
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
	[STORE_KEY_ALERT_LOG] =	NULL,	/* the configured stream name */
	[STORE_KEY_CHANNEL] =	NULL,	/* the configured channel + topic */
};

static const char FLUSH_LUA[] =
"local np = tonumber(ARGV[1])\n"
"local i = 2\n"
"for n = 1, np do\n"
"  local cur = redis.call('HGET', KEYS[1], ARGV[i])\n"
"  if ARGV[i + 1] ~= '*' and (cur or '-1') ~= ARGV[i + 1] then\n"
"    return {0, ARGV[i], cur or '-1'}\n"
"  end\n"
"  i = i + 5\n"
"end\n"
"local cmds = 0\n"
"i = 2\n"
"for n = 1, np do\n"
"  if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]) end\n"
"  local tf = 't:' .. ARGV[i]\n"
"  local t = redis.call('HGET', KEYS[1], tf)\n"
"  if not t or tonumber(ARGV[i + 3]) > tonumber(t) then redis.call('HSET', KEYS[1], tf, ARGV[i + 3]) end\n"
"  redis.call('HSET', KEYS[1], 'l:' .. ARGV[i], ARGV[i + 4])\n"
"  cmds = cmds + 3\n"
"  i = i + 5\n"
"end\n"
"local minb = ARGV[i]; i = i + 1\n"
"if minb ~= '' then\n"
"  local cur = redis.call('GET', KEYS[2])\n"
"  if not cur or tonumber(minb) < tonumber(cur) then redis.call('SET', KEYS[2], minb) end\n"
"  cmds = cmds + 1\n"
"end\n"
"local ni = tonumber(ARGV[i]); i = i + 1\n"
"local fresh = {}\n"
"local cpfx = string.sub(KEYS[2], 1, -6) .. 'c:'\n"
"local ktopic, dirty = {}, {}\n"
"for n = 1, ni do\n"
"  local ki = ARGV[i]\n"
"  local d = tonumber(ARGV[i + 2])\n"
"  if redis.call('HINCRBY', KEYS[tonumber(ki)], ARGV[i + 1], d) == d then fresh[ki] = true end\n"
"  local t = ktopic[ki]\n"
"  if t == nil then\n"
"    local k = KEYS[tonumber(ki)]\n"
"    t = string.sub(k, 1, #cpfx) == cpfx and string.sub(k, #cpfx + 1, -10) or false\n"
"    ktopic[ki] = t\n"
"  end\n"
"  if t then\n"
"    local b = tonumber(ARGV[i + 1])\n"
"    if not dirty[t] or b < dirty[t] then dirty[t] = b end\n"
"  end\n"
"  i = i + 3\n"
"end\n"
"cmds = cmds + ni\n"
"local dkey, za = string.sub(KEYS[2], 1, -6) .. 'dirty', {}\n"
"for t, b in pairs(dirty) do\n"
"  za[#za + 1] = b; za[#za + 1] = t\n"
"  if #za >= 1000 then redis.call('ZADD', dkey, 'LT', unpack(za)); za = {}; cmds = cmds + 1 end\n"
"end\n"
"if #za > 0 then redis.call('ZADD', dkey, 'LT', unpack(za)); cmds = cmds + 1 end\n"
"local ne = tonumber(ARGV[i]); i = i + 1\n"
"for n = 1, ne do\n"
"  if fresh[ARGV[i]] then\n"
"    redis.call('EXPIREAT', KEYS[tonumber(ARGV[i])], ARGV[i + 1])\n"
"    cmds = cmds + 1\n"
"  end\n"
"  i = i + 2\n"
"end\n"
"local ns = tonumber(ARGV[i]); local keep = tonumber(ARGV[i + 1]); i = i + 2\n"
"local added = {}\n"
"for n = 1, ns do\n"
"  local k = KEYS[tonumber(ARGV[i])]\n"
"  added[k] = (added[k] or 0) + redis.call('ZADD', k, 'GT', ARGV[i + 1], ARGV[i + 2])\n"
"  i = i + 3\n"
"end\n"
"for k, a in pairs(added) do\n"
"  if a > 0 then\n"
"    redis.call('ZREMRANGEBYRANK', k, 0, -keep - 1)\n"
"    cmds = cmds + 1\n"
"  end\n"
"  redis.call('EXPIRE', k, tonumber(ARGV[i]))\n"
"  cmds = cmds + 1\n"
"end\n"
"redis.call('EXPIRE', KEYS[1], tonumber(ARGV[i]))\n"
"redis.call('EXPIRE', KEYS[2], tonumber(ARGV[i]))\n"
"if next(dirty) then redis.call('EXPIRE', dkey, tonumber(ARGV[i])) end\n"
"i = i + 1\n"
"local nr = tonumber(ARGV[i]); i = i + 1\n"
"if nr > 0 then\n"
"  local tkey = ARGV[i]; i = i + 1\n"
"  for n = 1, nr do\n"
"    redis.call('HINCRBY', tkey, ARGV[i], ARGV[i + 1])\n"
"    i = i + 2\n"
"  end\n"
"  local rkey, ml, nk = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]); i = i + 3\n"
"  for n = 1, nk do\n"
"    redis.call('XADD', rkey, 'MAXLEN', '~', ml, '*', 'reason', ARGV[i], 'detail', ARGV[i + 1], 'message', ARGV[i + 2], 'size', ARGV[i + 3], 'payload', ARGV[i + 4])\n"
"    i = i + 5\n"
"  end\n"
"  cmds = cmds + nr + nk\n"
"end\n"
"return {1, cmds + ns + 2}\n";

/* Command arguments written as RESP bulk strings, ready to send: a flush
 * has hundreds of thousands, and hiredis's own formatting of an argv cost
 * more than building them. */
struct resp {
	char		*buf;
	size_t		 len, cap;
	size_t		 n;		/* arguments */
};

struct store {
	redisContext	*c;
	char		*address;
	char		*username;
	char		*password;
	int64_t		 database;
	enum store_fault fault;		/* of the last error */
	char		*prefix;
	char		*channel;
	char		*stream;
	int64_t		 timeout_ms;
	int64_t		 retention_s;
	int64_t		 samples_keep;
	char		 sha[41];
	char		 err[256];

	struct resp	 args;		/* a flush's ARGV, reused */
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
	sc->prefix = cfg->redis_prefix;
	sc->channel = cfg->alert_channel;
	sc->stream = cfg->alert_stream;
	sc->timeout_ms = cfg->redis_timeout_ms;
	sc->retention_s = cfg->retention_s;
	sc->samples_keep = STORE_SAMPLES_KEEP;
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

	s->address = xstrdup(conf->address);
	s->username = conf->username ? xstrdup(conf->username) : NULL;
	s->password = conf->password ? xstrdup(conf->password) : NULL;
	s->database = conf->database;
	s->prefix = xstrdup(conf->prefix);
	s->channel = xstrdup(conf->channel != NULL ? conf->channel : "");
	s->stream = xstrdup(conf->stream != NULL ? conf->stream : "");
	s->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms :
	    STORE_TIMEOUT_MS;
	s->retention_s = conf->retention_s > 0 ? conf->retention_s : 8 * 86400;
	s->samples_keep = conf->samples_keep > 0 ? conf->samples_keep :
	    STORE_SAMPLES_KEEP;
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
	if (s == NULL)
		return;
	drop(s);
	free(s->args.buf);
	free(s->address);
	free(s->username);
	free(s->password);
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
store_timeout_ms(const struct store *s)
{
	return s->timeout_ms;
}

void
store_disconnect(struct store *s)
{
	drop(s);
}

redisReply *
store_run(struct store *s, int argc, const char **argv, const size_t *lens)
{
	redisReply *r;

	if (s->c == NULL && store_connect(s) == -1)
		return NULL;
	r = redisCommandArgv(s->c, argc, argv, lens);
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
		return NULL;
	}
	return r;
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

/* Loads FLUSH_LUA (once per server: a restart without it is seen as
 * NOSCRIPT by the flush). */
static int
load_flush_script(struct store *s)
{
	const char *argv[3] = { "SCRIPT", "LOAD", FLUSH_LUA };
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
	memcpy(s->sha, r->str, 40);
	s->sha[40] = '\0';
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
	return load_flush_script(s);
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

/* One bulk string: a, then ':' and b when b is not NULL. */
static void
resp_arg2(struct resp *r, const char *a, size_t alen, const char *b,
    size_t blen)
{
	size_t total = alen + (b != NULL ? blen + 1 : 0), nd;
	char num[24], *d = int_text(num + sizeof num, (int64_t)total);

	nd = (size_t)(num + sizeof num - d);
	r->buf = xgrow(r->buf, &r->cap, r->len + nd + total + 5, 1);
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
	return kt->n + 2;	/* KEYS[1], KEYS[2]: positions, since */
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

	want.kind = (int)kind;
	want.topic = topic;
	want.aux = aux;
	want.day = kind == STORE_KEY_SAMPLES ? 0 : day_start(bucket) / 86400 + 1;
	want.ki = 0;
	if ((kt->nused + 1) * 2 > kt->nslots)
		keyslot_grow(kt);
	ks = keyslot_probe(kt, &want);
	if (ks->ki != 0)
		return ks->ki;
	part[np++] = kind == STORE_KEY_COUNTS ? "c" : kind ==
	    STORE_KEY_KEYWORDS ? "k" : kind == STORE_KEY_BREAKDOWN ? "b" : "s";
	part[np++] = topic;
	if (kind == STORE_KEY_BREAKDOWN)
		part[np++] = aux;
	if (kind != STORE_KEY_SAMPLES) {
		day_name(bucket, dname, sizeof dname);
		part[np++] = dname;
	}
	len = key_join(s, part, np, key, sizeof key);
	if (len >= sizeof key) {	/* cut, as store_key() would */
		len = store_key(s, kind, topic, kind == STORE_KEY_BREAKDOWN ?
		    aux : dname, dname, key, sizeof key);
		if (len >= sizeof key)
			len = sizeof key - 1;
	}
	*ks = want;
	ks->ki = key_add(kt, key, len);
	kt->nused++;
	if (kind != STORE_KEY_SAMPLES)
		kt->expire[ks->ki - 3] = day_start(bucket) + 86400 +
		    s->retention_s;
	return ks->ki;
}

/* ARGV of FLUSH_LUA, positions: count, then field, expected, next
 * offset, newest post time and lag of each partition. */
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
		arg_fmt(s, "%" PRId64, pos[i].time_ms);
		arg_fmt(s, "%" PRId64, pos[i].lag);
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

static bool
is_increment(const struct agg_entry *e)
{
	return e->kind == AGG_COUNT || e->kind == AGG_KEYWORD ||
	    e->kind == AGG_BY;
}

/* Increments (count, then key index, field, delta of each) and the
 * expirations of every day key they name (count, then key index and
 * EXPIREAT of each). */
static void
flush_args_increments(struct store *s, struct keytab *kt,
    const struct agg_entry *e, size_t ne)
{
	size_t i, nincr = 0, nexp = 0;

	for (i = 0; i < ne; i++)
		if (is_increment(&e[i]))
			nincr++;
	arg_int(s, (int64_t)nincr);
	for (i = 0; i < ne; i++) {
		const char *sub;
		char num[24], *bt;
		size_t ki;

		if (!is_increment(&e[i]))
			continue;
		switch (e[i].kind) {
		case AGG_COUNT:
			ki = entry_key(s, kt, STORE_KEY_COUNTS, e[i].topic, NULL,
			    e[i].bucket);
			sub = NULL;
			break;
		case AGG_KEYWORD:
			ki = entry_key(s, kt, STORE_KEY_KEYWORDS, e[i].topic,
			    NULL, e[i].bucket);
			sub = e[i].aux;
			break;
		default:
			ki = entry_key(s, kt, STORE_KEY_BREAKDOWN, e[i].topic,
			    e[i].aux, e[i].bucket);
			sub = e[i].aux2;
			break;
		}
		arg_int(s, (int64_t)ki);
		/* the field: bucket, or bucket:keyword / bucket:value */
		bt = int_text(num + sizeof num, e[i].bucket);
		resp_arg2(&s->args, bt, (size_t)(num + sizeof num - bt), sub,
		    sub != NULL ? strlen(sub) : 0);
		arg_int(s, e[i].count);
	}
	for (i = 0; i < kt->n; i++)
		if (kt->expire[i] != 0)
			nexp++;
	arg_int(s, (int64_t)nexp);
	for (i = 0; i < kt->n; i++) {
		if (kt->expire[i] == 0)
			continue;
		arg_int(s, (int64_t)i + 3);
		arg_int(s, kt->expire[i]);
	}
}

/* Samples: count, how many to keep, then key index, time in ms (the
 * score) and {"id":…,"text":…} of each; then the TTL of the sample and
 * position keys.  ZADD GT keeps a member's latest time, so the sorted set
 * holds the same posts whatever the flushes were. */
static void
flush_args_samples(struct store *s, struct keytab *kt,
    const struct agg_sample *smp, size_t nsmp)
{
	size_t i;

	arg_fmt(s, "%zu", nsmp);
	arg_fmt(s, "%" PRId64, s->samples_keep);
	for (i = 0; i < nsmp; i++) {
		arg_int(s, (int64_t)entry_key(s, kt, STORE_KEY_SAMPLES,
		    smp[i].topic, NULL, 0));
		arg_int(s, smp[i].time_ms);
		arg_add(s, smp[i].json, smp[i].json_len);
	}
	arg_fmt(s, "%" PRId64, s->retention_s);
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

/* EVALSHA sha numkeys <positions> <since> KEYS... ARGV..., from the
 * RESP already written: a header, then the keys, then the arguments. */
static redisReply *
flush_send(struct store *s, const char *group, const struct keytab *kt,
    struct store_flush_stats *st)
{
	struct resp hdr;
	char poskey[512], sincekey[512], num[24], *d;
	redisReply *r = NULL;
	size_t n = 5 + kt->n + s->args.n;

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
	d = int_text(num + sizeof num, (int64_t)kt->n + 2);
	resp_arg2(&hdr, d, (size_t)(num + sizeof num - d), NULL, 0);
	resp_arg2(&hdr, poskey, store_key(s, STORE_KEY_POSITIONS, group, NULL,
	    NULL, poskey, sizeof poskey), NULL, 0);
	resp_arg2(&hdr, sincekey, store_key(s, STORE_KEY_SINCE, NULL, NULL, NULL,
	    sincekey, sizeof sincekey), NULL, 0);
	if (st != NULL) {
		st->bytes_sent = hdr.len + kt->keys.len + s->args.len;
		st->round_trips = 1;
	}
	if (redisAppendFormattedCommand(s->c, hdr.buf, hdr.len) != REDIS_OK ||
	    (kt->keys.len > 0 && redisAppendFormattedCommand(s->c,
	    kt->keys.buf, kt->keys.len) != REDIS_OK) ||
	    redisAppendFormattedCommand(s->c, s->args.buf, s->args.len) !=
	    REDIS_OK || redisGetReply(s->c, (void **)&r) != REDIS_OK ||
	    r == NULL) {
		snprintf(s->err, sizeof s->err, "redis: %s",
		    s->c->errstr[0] ? s->c->errstr : "connection lost");
		note_fault(s, STORE_FAULT_UNREACHABLE);
		drop(s);
		r = NULL;
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(s->err, sizeof s->err, "redis: %s", r->str);
		note_fault(s, store_fault_of_reply(r->str));
		freeReplyObject(r);
		r = NULL;
	}
	free(hdr.buf);
	return r;
}

/* 0 applied, -2 a position did not match, -1 anything else. */
static int
flush_result(struct store *s, redisReply *r, struct store_flush_stats *st)
{
	int rc = 0;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		snprintf(s->err, sizeof s->err, "redis: unexpected reply to flush");
		rc = -1;
	} else if (r->element[0]->integer == 0) {
		snprintf(s->err, sizeof s->err, "position of %s is %s in Redis, "
		    "not what this consumer expected",
		    r->elements > 1 && r->element[1]->str ? r->element[1]->str : "?",
		    r->elements > 2 && r->element[2]->str ? r->element[2]->str : "?");
		rc = -2;
	} else if (st != NULL && r->elements > 1 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER)
		st->commands = (size_t)r->element[1]->integer;
	freeReplyObject(r);
	return rc;
}

int
store_flush(struct store *s, const char *group, const struct agg *a,
    const struct store_pos *pos, size_t npos, const struct store_rejects *rj,
    struct store_flush_stats *st)
{
	const struct agg_entry *e;
	const struct agg_sample *smp;
	struct keytab kt;
	size_t ne, nsmp;
	redisReply *r;
	int rc = -1;

	memset(&kt, 0, sizeof kt);
	if (st != NULL)
		memset(st, 0, sizeof *st);
	if (s->c == NULL && store_connect(s) == -1)
		return -1;
	if (s->sha[0] == '\0' && load_flush_script(s) == -1)
		return -1;
	e = agg_entries(a, &ne);
	smp = agg_samples(a, &nsmp);
	s->args.len = 0;
	s->args.n = 0;
	flush_args_positions(s, pos, npos);
	flush_args_since(s, e, ne);
	flush_args_increments(s, &kt, e, ne);
	flush_args_samples(s, &kt, smp, nsmp);
	flush_args_rejects(s, rj);
	r = flush_send(s, group, &kt, st);
	keytab_free(&kt);
	if (r != NULL)
		rc = flush_result(s, r, st);
	else if (strstr(s->err, "NOSCRIPT") != NULL) {
		/* the server restarted without our script: load and retry once */
		if (store_connect(s) == 0 && load_flush_script(s) == 0)
			rc = store_flush(s, group, a, pos, npos, rj, st);
	}
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

int
store_get_top(struct store *s, char kind, const char *topic, const char *field,
    int64_t from, int64_t to, size_t max, char ***names, int64_t **counts,
    size_t *n)
{
	struct topc *tc = NULL;
	size_t ntc = 0, cap = 0, i, j;
	int64_t ds;

	*names = NULL;
	*counts = NULL;
	*n = 0;
	for (ds = day_start(from); ds < to; ds += 86400) {
		char key[512], day[48];
		const char *argv[2];
		redisReply *r;

		day_name(ds, day, sizeof day);
		if (kind == 'k')
			store_key(s, STORE_KEY_KEYWORDS, topic, day, NULL, key,
			    sizeof key);
		else
			store_key(s, STORE_KEY_BREAKDOWN, topic, field, day, key,
			    sizeof key);
		argv[0] = "HGETALL";
		argv[1] = key;
		if ((r = store_run(s, 2, argv, NULL)) == NULL)
			goto fail;
		if (r->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			continue;
		}
		for (i = 0; i + 1 < r->elements; i += 2) {
			const char *f = r->element[i]->str, *colon;
			int64_t b;

			if (f == NULL || (colon = strchr(f, ':')) == NULL)
				continue;
			b = strtoll(f, NULL, 10);
			if (b < from || b >= to || r->element[i + 1]->str == NULL)
				continue;
			for (j = 0; j < ntc; j++)
				if (strcmp(tc[j].name, colon + 1) == 0)
					break;
			if (j == ntc) {
				tc = xgrow(tc, &cap, ntc + 1, sizeof *tc);
				tc[ntc].name = xstrdup(colon + 1);
				tc[ntc].count = 0;
				ntc++;
			}
			tc[j].count += strtoll(r->element[i + 1]->str, NULL, 10);
		}
		freeReplyObject(r);
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
store_ping(struct store *s)
{
	const char *argv[1] = { "PING" };
	redisReply *r;

	if ((r = store_run(s, 1, argv, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}
