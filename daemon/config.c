/*
 * config.c — the configuration table, its YAML loader and defaults.
 *
 * DESIGN: every key is one row of config_table[]: its dotted name
 * ("redis.flush_interval"), type, place in struct config, default written
 * as text, bounds, whether a reload may change it, and help.  Defaults go
 * through the same parser as the file and the command line, so a default can
 * never be a value the parser would refuse.  config_load() reads a YAML
 * document of sections (kafka, input, redis, rules, normalize, counters,
 * discovery, alerts, metrics, log, threads) with libyaml and reports every
 * unknown key (with the nearest known one), wrong type and out-of-range
 * value as "path:line:col: message"; it does not stop at the first.
 * Loading is done once at start-up and on reload, by the main thread only.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <librdkafka/rdkafka.h>
#include <yaml.h>

#include "config.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"

/* make SYSCONFDIR=… compiles its value in here: the default config path
 * and the default rules.paths follow it. */
#ifndef TW_SYSCONFDIR
#define TW_SYSCONFDIR	"/etc"
#endif

const char config_default_path[] = TW_SYSCONFDIR "/tidewatch/tidewatch.yaml";

enum ctype {
	CT_STR,		/* char * */
	CT_BOOL,	/* bool */
	CT_INT,		/* int64_t */
	CT_INT32,	/* int */
	CT_DUR_S,	/* int64_t seconds, written 30s / 5m / 2h / 1d */
	CT_DUR_MS,	/* int64_t milliseconds, written 250ms / 1s / 2m */
	CT_SIZE,	/* int64_t bytes, written 512, 64KiB, 1MiB */
	CT_ENUM,	/* int-sized enum, value = index in enums[] */
	CT_LIST,	/* char ** + size_t count */
	CT_MAP,		/* struct kv * + size_t count */
};

struct copt {
	const char		*name;
	enum ctype		 type;
	size_t			 off;
	size_t			 off_n;		/* CT_LIST, CT_MAP: the count */
	const char		*def;
	int64_t			 min, max;
	const char *const	*enums;
	int			 reloadable;
	const char		*help;
};

#define O(f)	offsetof(struct config, f)

static const char *const time_enums[] = { "post", "kafka", "arrival", NULL };
static const char *const format_enums[] = { "json", "text", NULL };
static const char *const reload_enums[] = { "signal", "auto", NULL };
static const char *const reset_enums[] = { "continue", "rebuild", NULL };

static const struct copt config_table[] = {
	{ "kafka.brokers", CT_STR, O(kafka_brokers), 0, "localhost:9092",
	  0, 0, NULL, 0, "bootstrap servers, host:port[,host:port…]" },
	{ "kafka.topics", CT_LIST, O(kafka_topics), O(kafka_ntopics), "posts",
	  0, 0, NULL, 0, "Kafka topics to consume" },
	{ "kafka.group", CT_STR, O(kafka_group), 0, "tidewatch",
	  0, 0, NULL, 0, "consumer group id; daemons in one group share the work" },
	{ "kafka.group_instance_id", CT_STR, O(kafka_group_instance_id), 0, "",
	  0, 0, NULL, 0, "static group membership (librdkafka group.instance.id), unique per daemon, e.g. the host name: a restarted daemon takes its partitions back at once instead of after the session timeout; with threads > 1 each thread appends -0, -1, …; empty: dynamic membership" },
	{ "kafka.properties", CT_MAP, O(kafka_props), O(kafka_nprops), "",
	  0, 0, NULL, 0, "any librdkafka property, passed through as it is, e.g. {security.protocol: ssl}; NAME_file or NAME_env reads NAME's value (a secret such as sasl.password) from a file (relative: under $CREDENTIALS_DIRECTORY) or an environment variable" },

	{ "input.format", CT_ENUM, O(input_format), 0, "json",
	  0, 0, format_enums, 0, "json (one object per message) or text (the message is the text)" },
	{ "input.id_field", CT_STR, O(field_id), 0, "id",
	  0, 0, NULL, 0, "JSON member holding the post id (dotted path)" },
	{ "input.text_field", CT_STR, O(field_text), 0, "text",
	  0, 0, NULL, 0, "JSON member holding the post text (dotted path)" },
	{ "input.time_field", CT_STR, O(field_time), 0, "time",
	  0, 0, NULL, 0, "JSON member holding the post time: epoch s/ms or RFC 3339" },
	{ "input.author_field", CT_STR, O(field_author), 0, "author",
	  0, 0, NULL, 0, "JSON member holding the author's id (dotted path), whose distinct values are counted per topic and hour; empty: authors are not counted" },
	{ "input.fields", CT_MAP, O(field_map), O(field_nmap), "",
	  0, 0, NULL, 0, "other post fields for where/count_by, name: json.path, e.g. {platform: platform, region: user.region}" },
	{ "input.time", CT_ENUM, O(time_source), 0, "post",
	  0, 0, time_enums, 0, "which time counts: post (its time field, else Kafka's), kafka, arrival" },
	{ "input.max_post_bytes", CT_SIZE, O(max_post_bytes), 0, "1MiB",
	  64, INT64_C(1) << 30, NULL, 0, "larger messages are rejected (too_large)" },
	{ "input.max_future", CT_DUR_S, O(max_future_s), 0, "1h",
	  0, INT64_C(1) << 32, NULL, 0, "posts timed further ahead than this are rejected" },
	{ "input.dead_letter_bytes", CT_SIZE, O(dead_letter_bytes), 0, "1MiB",
	  0, INT64_C(1) << 30, NULL, 0, "rejected messages each consumer thread keeps per flush in the dead-letter stream, counting each one's payload, detail and source plus 64 bytes; the rest are only counted (0: none kept)" },
	{ "input.dead_letter_maxlen", CT_INT, O(dead_letter_maxlen), 0, "10000",
	  10, 100000000, NULL, 0, "approximate length the dead-letter stream <prefix>rejected is trimmed to" },

	{ "redis.address", CT_STR, O(redis_address), 0, "127.0.0.1:6379",
	  0, 0, NULL, 0, "host:port, or unix:/path/to/socket" },
	{ "redis.username", CT_STR, O(redis_username), 0, "",
	  0, 0, NULL, 0, "ACL user to authenticate as (AUTH user password); empty: the default user" },
	{ "redis.password", CT_STR, O(redis_password), 0, "",
	  0, 0, NULL, 0, "the password itself, e.g. given with -s redis.password=…; takes precedence over password_env and password_file, which keep it out of the config file" },
	{ "redis.database", CT_INT, O(redis_database), 0, "0",
	  0, 1000000, NULL, 0, "database number SELECTed after connecting" },
	{ "redis.on_reset", CT_ENUM, O(on_reset), 0, "continue",
	  0, 0, reset_enums, 0, "when Redis lost the position of a partition the group committed to Kafka (a restart without persistence): continue from the committed offset (the history before it is gone), or rebuild: recount from Kafka's earliest retained offset" },
	{ "redis.sentinels", CT_LIST, O(redis_sentinels), O(redis_nsentinels), "",
	  0, 0, NULL, 0, "Redis Sentinel addresses, host:port; when set, the master of redis.master_name is asked of them (and again after every lost connection) instead of redis.address" },
	{ "redis.master_name", CT_STR, O(redis_master_name), 0, "mymaster",
	  0, 0, NULL, 0, "the master's name in Sentinel (with redis.sentinels)" },
	{ "redis.wait_replicas", CT_INT, O(redis_wait_replicas), 0, "0",
	  0, 16, NULL, 0, "after a flush, WAIT until this many replicas have it before the offsets are committed to Kafka (at most redis.timeout; a flush not acknowledged in time is committed with a later one); 0: no WAIT" },
	{ "redis.password_env", CT_STR, O(redis_password_env), 0, "",
	  0, 0, NULL, 0, "environment variable holding the password" },
	{ "redis.password_file", CT_STR, O(redis_password_file), 0, "",
	  0, 0, NULL, 0, "file holding the password (first line); a relative path is under $CREDENTIALS_DIRECTORY (systemd LoadCredential=)" },
	{ "redis.prefix", CT_STR, O(redis_prefix), 0, "tidewatch:",
	  0, 128, NULL, 0, "prefix of every key (at most 128 bytes)" },
	{ "redis.timeout", CT_DUR_MS, O(redis_timeout_ms), 0, "2s",
	  10, 600000, NULL, 0, "connect and command timeout" },
	{ "redis.flush_interval", CT_DUR_MS, O(flush_interval_ms), 0, "1s",
	  10, 60000, NULL, 0, "how often local counts are written to Redis" },
	{ "redis.flush_max_entries", CT_INT, O(flush_max_entries), 0, "512",
	  64, INT64_C(1) << 24, NULL, 0, "the most local count entries (counts, keyword hits, breakdowns, samples) one flush script applies; a larger flush is staged and applied in scripts of about this many, and a consumer flushes early once it holds 16 times this many" },

	{ "rules.paths", CT_LIST, O(rule_paths), O(rule_npaths), TW_SYSCONFDIR "/tidewatch/rules.d",
	  0, 0, NULL, 1, "rule files or directories of *.yaml" },
	{ "rules.reload", CT_ENUM, O(reload_mode), 0, "signal",
	  0, 0, reload_enums, 1, "signal (SIGHUP) or auto (also when a rule file changes)" },
	{ "rules.max_items", CT_INT, O(rules_max_items), 0, "1000000",
	  1000, INT64_C(1) << 32, NULL, 1, "most items (topics, keywords, alert blocks, values, tests) a rule set may hold; aliases count each time they are used" },
	{ "rules.max_file_bytes", CT_SIZE, O(rules_max_file_bytes), 0, "16MiB",
	  4096, INT64_C(1) << 32, NULL, 1, "largest rule file read" },

	{ "normalize.nfkc", CT_BOOL, O(norm.nfkc), 0, "true",
	  0, 0, NULL, 0, "compatibility folding: ＦＯＯＤ→food, ①→1" },
	{ "normalize.casefold", CT_BOOL, O(norm.casefold), 0, "true",
	  0, 0, NULL, 0, "case folding" },
	{ "normalize.t2s", CT_BOOL, O(norm.t2s), 0, "true",
	  0, 0, NULL, 0, "traditional → simplified Chinese (OpenCC)" },
	{ "normalize.strip_format", CT_BOOL, O(norm.strip_format), 0, "true",
	  0, 0, NULL, 0, "remove zero-width and format characters" },
	{ "normalize.max_gap", CT_INT32, O(norm.max_gap), 0, "3",
	  0, 16, NULL, 0, "separators skipped between keyword characters (0: off)" },

	{ "counters.resolution", CT_DUR_S, O(resolution_s), 0, "10s",
	  1, 3600, NULL, 0, "counter bucket length; alert windows are multiples of it" },
	{ "counters.retention", CT_DUR_S, O(retention_s), 0, "8d",
	  60, INT64_C(400) * 86400, NULL, 0, "how long buckets are kept (covers seasonal baselines)" },

	{ "alerts.channel", CT_STR, O(alert_channel), 0, "alerts:",
	  0, 128, NULL, 0, "channel prefix after the key prefix: <prefix>alerts:<topic> (at most 128 bytes)" },
	{ "alerts.stream", CT_STR, O(alert_stream), 0, "alert-log",
	  0, 128, NULL, 0, "stream of every alert, after the key prefix (at most 128 bytes)" },
	{ "alerts.stream_maxlen", CT_INT, O(alert_stream_maxlen), 0, "10000",
	  10, 100000000, NULL, 0, "approximate length the alert stream is trimmed to" },
	{ "alerts.samples", CT_INT, O(samples), 0, "3",
	  0, 100, NULL, 0, "sample posts kept per topic and bucket for alert evidence" },
	{ "alerts.samples_per_topic", CT_INT, O(samples_per_topic), 0, "100",
	  1, 100000, NULL, 0, "sample posts kept in Redis per topic, the newest by post time (an alert on an older window has fewer samples)" },
	{ "alerts.kafka_topic", CT_STR, O(alert_kafka_topic), 0, "",
	  0, 249, NULL, 0, "Kafka topic the leader produces every alert of the alert stream to, the same JSON, keyed by the alert's topic (kafka.brokers and kafka.properties; a failed delivery is retried from a durable cursor); empty: none" },

	{ "discovery.bucket", CT_DUR_S, O(disc_bucket_s), 0, "1h",
	  60, 7 * 86400, NULL, 0, "discovery counts each term per bucket of this length and compares the count with the term's past buckets" },
	{ "discovery.half_life", CT_DUR_S, O(disc_half_life_s), 0, "1d",
	  60, 365 * 86400, NULL, 0, "half-life of each term's moving mean and variance" },
	{ "discovery.check_interval", CT_DUR_S, O(disc_check_s), 0, "5m",
	  1, 86400, NULL, 0, "while a term trends, stories are formed this often (post time)" },
	{ "discovery.story_ttl", CT_DUR_S, O(disc_story_ttl_s), 0, "6h",
	  60, 30 * 86400, NULL, 0, "a story that stopped trending this long is over: the same terms later make a new story" },
	{ "discovery.memory", CT_SIZE, O(disc_memory), 0, "64MiB",
	  INT64_C(1) << 20, INT64_C(1) << 32, NULL, 0, "memory of one discovery engine, fixed whatever the vocabulary: the hashed tables of terms and pairs take what the candidates leave" },
	{ "discovery.hashes", CT_INT, O(disc_hashes), 0, "3",
	  1, 8, NULL, 0, "cells each term and pair is counted in; its count and significance are the smallest over them" },
	{ "discovery.candidates", CT_INT, O(disc_candidates), 0, "4096",
	  16, 1000000, NULL, 0, "terms and pairs followed by name (with authors, texts, samples) once they rise; about 1.5 KiB each" },
	{ "discovery.threshold", CT_INT, O(disc_threshold), 0, "4",
	  1, 1000, NULL, 0, "significance a term or pair needs to trend: (count - max(mean, noise_floor)) / (deviation + noise_floor)" },
	{ "discovery.noise_floor", CT_INT, O(disc_noise_floor), 0, "1",
	  1, 1000000, NULL, 0, "posts per bucket below which a term's mean is not trusted, also added to its deviation" },
	{ "discovery.min_posts", CT_INT, O(disc_min_posts), 0, "4",
	  1, 1000000, NULL, 0, "posts in the bucket a term or pair needs to trend" },
	{ "discovery.max_pairs", CT_INT, O(disc_max_pairs), 0, "28",
	  0, 496, NULL, 0, "pairs of terms counted per post (the pairs of its first terms, hashtags first)" },
	{ "discovery.mentions", CT_BOOL, O(disc_mentions), 0, "false",
	  0, 0, NULL, 0, "count @mentions as terms (@name); false skips them" },
	{ "discovery.stop_terms", CT_LIST, O(disc_stop_terms), O(disc_nstop_terms), "",
	  0, 0, NULL, 0, "terms never counted, added to the built-in list of function words (normalised as posts are; #tag and @name stop a hashtag or mention)" },
	{ "discovery.dictionary", CT_STR, O(disc_dictionary), 0, "/usr/share/friso/dict/UTF-8",
	  0, 0, NULL, 0, "directory of friso's UTF-8 lexicon (friso.lex.ini and its files), for Chinese words" },
	{ "discovery.author_field", CT_STR, O(disc_author_field), 0, "author",
	  0, 0, NULL, 0, "the post field (of input.fields) naming a post's author, for a story's distinct authors" },

	{ "alertmanager.urls", CT_LIST, O(am_urls), O(am_nurls), "",
	  0, 0, NULL, 0, "Alertmanager base URLs the leader posts every alert to (/api/v2/alerts is appended), e.g. [http://am1:9093, http://am2:9093]: every URL of an HA pair gets each alert; empty: no delivery" },
	{ "alertmanager.username", CT_STR, O(am_username), 0, "",
	  0, 0, NULL, 0, "basic auth user for Alertmanager; its password is the first line of password_file" },
	{ "alertmanager.password_file", CT_STR, O(am_password_file), 0, "",
	  0, 0, NULL, 0, "file holding the basic auth password (first line)" },
	{ "alertmanager.bearer_token_file", CT_STR, O(am_bearer_token_file), 0, "",
	  0, 0, NULL, 0, "file holding a bearer token (first line), sent as Authorization: Bearer; not together with username" },
	{ "alertmanager.timeout", CT_DUR_MS, O(am_timeout_ms), 0, "10s",
	  100, 600000, NULL, 0, "connect and request timeout of one POST" },
	{ "alertmanager.resend_interval", CT_DUR_S, O(am_resend_s), 0, "1m",
	  1, 86400, NULL, 0, "firing alerts are posted again this often, each with endsAt four intervals ahead, so Alertmanager keeps them active while tidewatch runs" },
	{ "alertmanager.retry_max", CT_DUR_MS, O(am_retry_max_ms), 0, "30s",
	  100, 3600000, NULL, 0, "a failed POST is retried after 1 s, doubling up to this; alerts wait in the alert log meanwhile" },
	{ "web.base_url", CT_STR, O(web_base_url), 0, "",
	  0, 0, NULL, 0, "external URL of the web view; Alertmanager alerts link to <base_url>/topics/<topic> (empty: no link)" },
	{ "web.enabled", CT_BOOL, O(web_enabled), 0, "true",
	  0, 0, NULL, 0, "serve the web view (/, /topics/<id>, /alerts) and its JSON API (/api/) on the metrics.listen address" },
	{ "web.username", CT_STR, O(web_username), 0, "",
	  0, 0, NULL, 0, "basic auth user the web view and its API require; its password is the content of password_file" },
	{ "web.password_file", CT_STR, O(web_password_file), 0, "",
	  0, 0, NULL, 0, "file holding the web view's basic auth password; a relative path is under $CREDENTIALS_DIRECTORY" },
	{ "web.bearer_token_file", CT_STR, O(web_bearer_token_file), 0, "",
	  0, 0, NULL, 0, "file holding a token the web view and its API require as Authorization: Bearer (or basic auth with any user and the token as password); not together with username" },

	{ "metrics.listen", CT_STR, O(metrics_listen), 0, "127.0.0.1:9464",
	  0, 0, NULL, 0, "Prometheus /metrics and /healthz address, host:port; empty disables" },
	{ "metrics.unhealthy_after", CT_DUR_S, O(unhealthy_after_s), 0, "30s",
	  1, INT64_C(1) << 32, NULL, 1, "/healthz fails when Redis or Kafka was unreachable this long" },
	{ "log.level", CT_STR, O(log_level), 0, "info",
	  0, 0, NULL, 1, "debug, info, warn or error" },
	{ "threads", CT_INT, O(threads), 0, "1",
	  1, 256, NULL, 0, "consumer threads, each its own group member" },
	{ "stall_after", CT_DUR_S, O(stall_after_s), 0, "5m",
	  1, INT64_C(1) << 32, NULL, 1, "ops alert when no post arrived for this long" },
};

#define NOPTS	(sizeof config_table / sizeof config_table[0])

static const struct copt *
copt_find(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(config_table[i].name, name) == 0)
			return &config_table[i];
	return NULL;
}

static void
kv_free(struct kv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static void
list_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
copt_clear(struct config *c, const struct copt *o)
{
	char *base = (char *)c;

	switch (o->type) {
	case CT_STR:
		free(*(char **)(base + o->off));
		*(char **)(base + o->off) = NULL;
		break;
	case CT_LIST:
		list_free(*(char ***)(base + o->off), *(size_t *)(base + o->off_n));
		*(char ***)(base + o->off) = NULL;
		*(size_t *)(base + o->off_n) = 0;
		break;
	case CT_MAP:
		kv_free(*(struct kv **)(base + o->off), *(size_t *)(base + o->off_n));
		*(struct kv **)(base + o->off) = NULL;
		*(size_t *)(base + o->off_n) = 0;
		break;
	default:
		break;
	}
}

/* Parses a number with a unit from units[] (name, multiplier); a bare
 * number takes bare_mult. */
struct unit {
	const char	*name;
	int64_t		 mult;
};

static int
parse_units(const char *s, const struct unit *units, int64_t bare_mult,
    int64_t *out)
{
	char *end;
	long long v;
	size_t i;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end == '\0') {
		if (v > INT64_MAX / bare_mult)
			return -1;
		*out = v * bare_mult;
		return 0;
	}
	for (i = 0; units[i].name != NULL; i++) {
		if (strcmp(end, units[i].name) == 0) {
			if (v > INT64_MAX / units[i].mult)
				return -1;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static const struct unit dur_s_units[] = {
	{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { "w", 604800 },
	{ NULL, 0 }
};
static const struct unit dur_ms_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	{ NULL, 0 }
};
static const struct unit size_units[] = {
	{ "B", 1 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 },
	{ "GiB", INT64_C(1024) * 1024 * 1024 }, { "KB", 1000 }, { "MB", 1000000 },
	{ "GB", 1000000000 }, { "k", 1024 }, { "K", 1024 }, { "M", 1024 * 1024 },
	{ NULL, 0 }
};

/* Sets one scalar-typed option from text.  Returns 0, or -1 with a message
 * in err. */
static int
copt_set_scalar(struct config *c, const struct copt *o, const char *v,
    char *err, size_t errsz)
{
	char *base = (char *)c, *end;
	int64_t n = 0;
	long long ll;
	size_t i;

	switch (o->type) {
	case CT_STR:
		/* max, when set, bounds the length (key names are built in
		 * fixed buffers) */
		if (o->max > 0 && strlen(v) > (size_t)o->max) {
			snprintf(err, errsz, "%s: at most %" PRId64 " bytes, got %zu",
			    o->name, o->max, strlen(v));
			return -1;
		}
		free(*(char **)(base + o->off));
		*(char **)(base + o->off) = xstrdup(v);
		return 0;
	case CT_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
		    strcmp(v, "on") == 0)
			*(bool *)(base + o->off) = true;
		else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
		    strcmp(v, "off") == 0)
			*(bool *)(base + o->off) = false;
		else {
			snprintf(err, errsz, "%s: expected true or false, got '%s'",
			    o->name, v);
			return -1;
		}
		return 0;
	case CT_INT:
	case CT_INT32:
		errno = 0;
		ll = strtoll(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0') {
			snprintf(err, errsz, "%s: expected an integer, got '%s'",
			    o->name, v);
			return -1;
		}
		n = ll;
		break;
	case CT_DUR_S:
		if (parse_units(v, dur_s_units, 1, &n) == -1) {
			snprintf(err, errsz, "%s: expected a duration like 30s, "
			    "5m, 2h or 1d, got '%s'", o->name, v);
			return -1;
		}
		break;
	case CT_DUR_MS:
		if (parse_units(v, dur_ms_units, 1000, &n) == -1) {
			snprintf(err, errsz, "%s: expected a duration like "
			    "250ms, 1s or 2m, got '%s'", o->name, v);
			return -1;
		}
		break;
	case CT_SIZE:
		if (parse_units(v, size_units, 1, &n) == -1) {
			snprintf(err, errsz, "%s: expected a size like 65536, "
			    "64KiB or 1MiB, got '%s'", o->name, v);
			return -1;
		}
		break;
	case CT_ENUM:
		for (i = 0; o->enums[i] != NULL; i++) {
			if (strcmp(o->enums[i], v) == 0) {
				*(int *)(base + o->off) = (int)i;
				return 0;
			}
		}
		{
			char alts[256] = "";

			for (i = 0; o->enums[i] != NULL; i++) {
				strncat(alts, i ? ", " : "", sizeof alts - strlen(alts) - 1);
				strncat(alts, o->enums[i], sizeof alts - strlen(alts) - 1);
			}
			snprintf(err, errsz, "%s: expected one of %s, got '%s'",
			    o->name, alts, v);
		}
		return -1;
	case CT_LIST:
		copt_clear(c, o);
		{
			char ***lp = (char ***)(base + o->off);
			size_t *np = (size_t *)(base + o->off_n), cap = 0;
			const char *p = v, *q;

			while (*p != '\0') {
				q = strchr(p, ',');
				if (q == NULL)
					q = p + strlen(p);
				if (q > p) {
					*lp = xgrow(*lp, &cap, *np + 1, sizeof **lp);
					(*lp)[(*np)++] = xstrndup(p, (size_t)(q - p));
				}
				p = *q ? q + 1 : q;
			}
		}
		return 0;
	case CT_MAP:
		if (*v == '\0') {
			copt_clear(c, o);
			return 0;
		}
		snprintf(err, errsz, "%s: expected a mapping", o->name);
		return -1;
	}
	if ((o->min != 0 || o->max != 0) && (n < o->min || n > o->max)) {
		snprintf(err, errsz, "%s: %s is out of range (%" PRId64 "…%" PRId64 ")",
		    o->name, v, o->min, o->max);
		return -1;
	}
	if (o->type == CT_INT32)
		*(int *)(base + o->off) = (int)n;
	else
		*(int64_t *)(base + o->off) = n;
	return 0;
}

void
config_defaults(struct config *c)
{
	char err[256];
	size_t i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < NOPTS; i++) {
		if (copt_set_scalar(c, &config_table[i], config_table[i].def,
		    err, sizeof err) == -1)
			abort();	/* a default the parser refuses is a bug */
	}
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NOPTS; i++)
		copt_clear(c, &config_table[i]);
	free(c->path);
	c->path = NULL;
}

/* YAML walking. */

struct cload {
	const char	*name;
	yaml_document_t	*doc;
	struct config	*c;
	struct diag	*errs;
};

static void
cerr(struct cload *l, yaml_node_t *n, const char *fmt, const char *a,
    const char *b)
{
	char buf[512];

	snprintf(buf, sizeof buf, fmt, a, b);
	diag_add(l->errs, l->name, (int)n->start_mark.line + 1,
	    (int)n->start_mark.column + 1, "%s", buf);
}

static const char *
scalar(yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static void
suggest_key(struct cload *l, yaml_node_t *kn, const char *full,
    const char *section)
{
	const char *known[NOPTS + 16], *best;
	size_t i, nk = 0, plen = section ? strlen(section) + 1 : 0;

	for (i = 0; i < NOPTS; i++) {
		const char *nm = config_table[i].name;

		if (section == NULL) {
			/* top level: section names and top-level keys */
			const char *dot = strchr(nm, '.');
			size_t len = dot ? (size_t)(dot - nm) : strlen(nm), j;
			int dup = 0;

			for (j = 0; j < nk; j++)
				if (strlen(known[j]) == len &&
				    strncmp(known[j], nm, len) == 0)
					dup = 1;
			if (!dup && dot == NULL)
				known[nk++] = nm;
			else if (!dup) {
				static char sect[NOPTS][32];

				snprintf(sect[i], sizeof sect[i], "%.*s", (int)len, nm);
				known[nk++] = sect[i];
			}
		} else if (strncmp(nm, section, plen - 1) == 0 && nm[plen - 1] == '.')
			known[nk++] = nm + plen;
	}
	best = rules_suggest(section ? full + plen : full, known, nk);
	if (best != NULL) {
		diag_add(l->errs, l->name, (int)kn->start_mark.line + 1,
		    (int)kn->start_mark.column + 1,
		    "unknown key '%s' (did you mean '%s'?)", full, best);
	} else
		cerr(l, kn, "unknown key '%s'%s", full, "");
}

static void
load_value(struct cload *l, const struct copt *o, yaml_node_t *vn)
{
	char err[512];
	char *base = (char *)l->c;
	yaml_node_item_t *it;
	yaml_node_pair_t *pr;

	switch (o->type) {
	case CT_LIST:
		if (vn->type == YAML_SCALAR_NODE) {
			if (copt_set_scalar(l->c, o, scalar(vn), err, sizeof err))
				cerr(l, vn, "%s%s", err, "");
			return;
		}
		if (vn->type != YAML_SEQUENCE_NODE) {
			cerr(l, vn, "%s: expected a list%s", o->name, "");
			return;
		}
		copt_clear(l->c, o);
		{
			char ***lp = (char ***)(base + o->off);
			size_t *np = (size_t *)(base + o->off_n), cap = 0;

			for (it = vn->data.sequence.items.start;
			    it < vn->data.sequence.items.top; it++) {
				yaml_node_t *e = yaml_document_get_node(l->doc, *it);

				if (e == NULL || e->type != YAML_SCALAR_NODE) {
					cerr(l, e ? e : vn, "%s: expected a list "
					    "of strings%s", o->name, "");
					continue;
				}
				*lp = xgrow(*lp, &cap, *np + 1, sizeof **lp);
				(*lp)[(*np)++] = xstrdup(scalar(e));
			}
		}
		return;
	case CT_MAP:
		if (vn->type == YAML_SCALAR_NODE && scalar(vn)[0] == '\0') {
			copt_clear(l->c, o);
			return;
		}
		if (vn->type != YAML_MAPPING_NODE) {
			cerr(l, vn, "%s: expected a mapping%s", o->name, "");
			return;
		}
		copt_clear(l->c, o);
		{
			struct kv **mp = (struct kv **)(base + o->off);
			size_t *np = (size_t *)(base + o->off_n), cap = 0;

			for (pr = vn->data.mapping.pairs.start;
			    pr < vn->data.mapping.pairs.top; pr++) {
				yaml_node_t *k = yaml_document_get_node(l->doc, pr->key);
				yaml_node_t *v = yaml_document_get_node(l->doc, pr->value);

				if (k == NULL || v == NULL ||
				    k->type != YAML_SCALAR_NODE ||
				    v->type != YAML_SCALAR_NODE) {
					cerr(l, k ? k : vn, "%s: expected "
					    "name: value pairs%s", o->name, "");
					continue;
				}
				*mp = xgrow(*mp, &cap, *np + 1, sizeof **mp);
				(*mp)[*np].key = xstrdup(scalar(k));
				(*mp)[*np].value = xstrdup(scalar(v));
				(*np)++;
			}
		}
		return;
	default:
		if (vn->type != YAML_SCALAR_NODE) {
			cerr(l, vn, "%s: expected a single value%s", o->name, "");
			return;
		}
		if (copt_set_scalar(l->c, o, scalar(vn), err, sizeof err) == -1)
			cerr(l, vn, "%s%s", err, "");
	}
}

static void
load_mapping(struct cload *l, yaml_node_t *map, const char *section)
{
	yaml_node_pair_t *pr;
	char full[256];

	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	    pr++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, pr->value);
		const struct copt *o;
		size_t i, plen;
		int is_section = 0;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			cerr(l, k, "expected a key name%s%s", "", "");
			continue;
		}
		if (section)
			snprintf(full, sizeof full, "%s.%s", section, scalar(k));
		else
			snprintf(full, sizeof full, "%s", scalar(k));
		if ((o = copt_find(full)) != NULL) {
			load_value(l, o, v);
			continue;
		}
		if (section == NULL) {
			plen = strlen(full);
			for (i = 0; i < NOPTS; i++)
				if (strncmp(config_table[i].name, full, plen) == 0 &&
				    config_table[i].name[plen] == '.')
					is_section = 1;
		}
		if (is_section) {
			if (v->type == YAML_SCALAR_NODE && scalar(v)[0] == '\0')
				continue;	/* empty section */
			if (v->type != YAML_MAPPING_NODE) {
				cerr(l, v, "%s: expected a mapping of settings%s",
				    full, "");
				continue;
			}
			load_mapping(l, v, full);
			continue;
		}
		suggest_key(l, k, full, section);
	}
}

int
config_load_string(const char *name, const char *yaml, size_t len,
    struct config *c, struct diag *errs)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct cload l;
	size_t before = errs->n;

	config_defaults(c);
	c->path = xstrdup(name);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		diag_add(errs, name, (int)parser.problem_mark.line + 1,
		    (int)parser.problem_mark.column + 1, "%s%s%s",
		    parser.problem ? parser.problem : "YAML syntax error",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	l.name = name;
	l.doc = &doc;
	l.c = c;
	l.errs = errs;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL) {
		if (root->type == YAML_MAPPING_NODE)
			load_mapping(&l, root, NULL);
		else if (!(root->type == YAML_SCALAR_NODE &&
		    scalar(root)[0] == '\0'))
			cerr(&l, root, "expected a mapping of sections "
			    "(kafka, input, redis, rules, …)%s%s", "", "");
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	{
		enum log_level lvl;

		if (log_level_parse(c->log_level, &lvl) == -1)
			diag_add(errs, name, 0, 0, "log.level: expected debug, "
			    "info, warn or error, got '%s'", c->log_level);
	}
	return errs->n > before ? -1 : 0;
}

int
config_load(const char *path, struct config *c, struct diag *errs)
{
	const char *why = NULL;
	FILE *fp;
	struct stat st;
	char *buf;
	size_t n;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL) {
		int e = errno;	/* config_defaults may change errno */

		config_defaults(c);
		diag_add(errs, path, 0, 0, "cannot open: %s", strerror(e));
		return -1;
	}
	if (fstat(fileno(fp), &st) == -1)
		why = "cannot read its status";
	else if (S_ISDIR(st.st_mode))
		why = "is a directory, not a config file";
	else if (!S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024)
		why = "not a regular file of at most 16 MiB";
	if (why != NULL) {
		config_defaults(c);
		diag_add(errs, path, 0, 0, "%s", why);
		fclose(fp);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		int e = errno;

		free(buf);
		fclose(fp);
		config_defaults(c);
		diag_add(errs, path, 0, 0, "cannot read: %s", strerror(e));
		return -1;
	}
	fclose(fp);
	buf[n] = '\0';
	rc = config_load_string(path, buf, n, c, errs);
	free(buf);
	return rc;
}

/* Whether option o has the same value in a and b. */
static bool
copt_equal(const struct config *a, const struct config *b, const struct copt *o)
{
	const char *pa = (const char *)a + o->off, *pb = (const char *)b + o->off;
	size_t na, nb, i;

	switch (o->type) {
	case CT_STR: {
		const char *sa = *(char *const *)(const void *)pa;
		const char *sb = *(char *const *)(const void *)pb;

		return strcmp(sa ? sa : "", sb ? sb : "") == 0;
	}
	case CT_BOOL:
		return *(const bool *)(const void *)pa == *(const bool *)(const void *)pb;
	case CT_INT32:
	case CT_ENUM:
		return *(const int *)(const void *)pa == *(const int *)(const void *)pb;
	case CT_LIST: {
		char *const *la = *(char **const *)(const void *)pa;
		char *const *lb = *(char **const *)(const void *)pb;

		na = *(const size_t *)(const void *)((const char *)a + o->off_n);
		nb = *(const size_t *)(const void *)((const char *)b + o->off_n);
		if (na != nb)
			return false;
		for (i = 0; i < na; i++)
			if (strcmp(la[i], lb[i]) != 0)
				return false;
		return true;
	}
	case CT_MAP: {
		const struct kv *ma = *(struct kv *const *)(const void *)pa;
		const struct kv *mb = *(struct kv *const *)(const void *)pb;

		na = *(const size_t *)(const void *)((const char *)a + o->off_n);
		nb = *(const size_t *)(const void *)((const char *)b + o->off_n);
		if (na != nb)
			return false;
		for (i = 0; i < na; i++)
			if (strcmp(ma[i].key, mb[i].key) != 0 ||
			    strcmp(ma[i].value, mb[i].value) != 0)
				return false;
		return true;
	}
	default:
		return *(const int64_t *)(const void *)pa ==
		    *(const int64_t *)(const void *)pb;
	}
}

/* Swaps the value of option o between a and b. */
static void
copt_swap(struct config *a, struct config *b, const struct copt *o)
{
	char tmp[sizeof(int64_t) > sizeof(void *) ? sizeof(int64_t) : sizeof(void *)];
	size_t sz;

	switch (o->type) {
	case CT_STR:
		sz = sizeof(char *);
		break;
	case CT_BOOL:
		sz = sizeof(bool);
		break;
	case CT_INT32:
	case CT_ENUM:
		sz = sizeof(int);
		break;
	case CT_LIST:
	case CT_MAP:
		sz = sizeof(void *);
		memcpy(tmp, (char *)a + o->off_n, sizeof(size_t));
		memcpy((char *)a + o->off_n, (char *)b + o->off_n, sizeof(size_t));
		memcpy((char *)b + o->off_n, tmp, sizeof(size_t));
		break;
	default:
		sz = sizeof(int64_t);
		break;
	}
	memcpy(tmp, (char *)a + o->off, sz);
	memcpy((char *)a + o->off, (char *)b + o->off, sz);
	memcpy((char *)b + o->off, tmp, sz);
}

void
config_update(struct config *cur, struct config *next, struct diag *applied,
    struct diag *needs_restart)
{
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		const struct copt *o = &config_table[i];

		if (copt_equal(cur, next, o))
			continue;
		if (o->reloadable) {
			copt_swap(cur, next, o);
			diag_addf(applied, "%s", o->name);
		} else
			diag_addf(needs_restart, "%s", o->name);
	}
}

static int config_set_kafka_prop(struct config *c, const char *name,
    const char *value, struct diag *errs);

int
config_set(struct config *c, const char *assignment, struct diag *errs)
{
	const struct copt *o;
	const char *eq = strchr(assignment, '=');
	char name[128], err[512];

	if (eq == NULL || (size_t)(eq - assignment) >= sizeof name) {
		diag_addf(errs, "%s: expected key=value", assignment);
		return -1;
	}
	snprintf(name, sizeof name, "%.*s", (int)(eq - assignment), assignment);
	if (strncmp(name, "kafka.properties.", 17) == 0)
		return config_set_kafka_prop(c, name + 17, eq + 1, errs);
	if ((o = copt_find(name)) == NULL) {
		diag_addf(errs, "unknown config key '%s'", name);
		return -1;
	}
	if (copt_set_scalar(c, o, eq + 1, err, sizeof err) == -1) {
		diag_addf(errs, "%s", err);
		return -1;
	}
	return 0;
}

void
config_print_defaults(FILE *fp)
{
	const char *sect = "";
	size_t i, sectlen = 0;

	fprintf(fp,
	    "# tidewatch.yaml — configuration of the tidewatch daemon.\n"
	    "#\n"
	    "# Every key is shown with its default value; a key left out keeps\n"
	    "# its default, and an unknown key is an error.  Keys marked\n"
	    "# (reloadable) take effect on SIGHUP (systemctl reload tidewatch);\n"
	    "# a change to any other key is logged and needs a restart.  Any key\n"
	    "# can also be set on the command line: tidewatch run -s key=value.\n"
	    "# Durations: 250ms, 30s, 5m, 2h, 1d, 1w.  Sizes: 65536, 64KiB, 1MiB.\n"
	    "#\n"
	    "# Generated by `tidewatch config --defaults`.\n");
	for (i = 0; i < NOPTS; i++) {
		const struct copt *o = &config_table[i];
		const char *dot = strchr(o->name, '.');
		size_t slen = dot ? (size_t)(dot - o->name) : 0;

		if (dot != NULL && (sectlen != slen ||
		    strncmp(sect, o->name, slen) != 0)) {
			fprintf(fp, "\n%.*s:\n", (int)slen, o->name);
			sect = o->name;
			sectlen = slen;
		} else if (dot == NULL && sectlen != 0) {
			fputc('\n', fp);
			sect = "";
			sectlen = 0;
		}
		fprintf(fp, "%s# %s%s\n%s%s: ", dot ? "  " : "", o->help,
		    o->reloadable ? " (reloadable)" : "", dot ? "  " : "",
		    dot ? dot + 1 : o->name);
		if (o->type == CT_LIST)
			fprintf(fp, "[%s]\n", o->def);
		else if (o->type == CT_MAP)
			fprintf(fp, "{}\n");
		else if (o->type == CT_STR)
			fprintf(fp, "\"%s\"\n", o->def);
		else
			fprintf(fp, "%s\n", o->def);
	}
}

/* The names of units[] with '|' between, into buf. */
static void
unit_names(const struct unit *units, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; units[i].name != NULL && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "|" : "",
		    units[i].name);
}

/* Key i of the table as documentation; the type names follow enum ctype. */
int
config_key_doc(size_t i, struct config_keydoc *doc)
{
	static const char *const type_names[] = {
		[CT_STR] = "string", [CT_BOOL] = "boolean", [CT_INT] = "integer",
		[CT_INT32] = "integer", [CT_DUR_S] = "duration",
		[CT_DUR_MS] = "duration", [CT_SIZE] = "size",
		[CT_ENUM] = "choice", [CT_LIST] = "list", [CT_MAP] = "mapping",
	};
	const struct copt *o;

	if (i >= NOPTS)
		return -1;
	o = &config_table[i];
	doc->name = o->name;
	doc->type = type_names[o->type];
	doc->def = o->def;
	doc->choices = o->enums;
	doc->min = o->min;
	doc->max = o->max;
	doc->reloadable = o->reloadable;
	doc->help = o->help;
	doc->units[0] = '\0';
	if (o->type == CT_DUR_S)
		unit_names(dur_s_units, doc->units, sizeof doc->units);
	else if (o->type == CT_DUR_MS)
		unit_names(dur_ms_units, doc->units, sizeof doc->units);
	else if (o->type == CT_SIZE)
		unit_names(size_units, doc->units, sizeof doc->units);
	return 0;
}

static FILE *secret_open(const char *path, char *full, size_t fullsz,
    char *err, size_t errsz);

/* The password from redis.password, else redis.password_env, else
 * redis.password_file (first line; a relative path is under
 * $CREDENTIALS_DIRECTORY).  Returns 0 with *out (NULL: none; caller
 * frees), or -1. */
int
config_redis_password(const struct config *cfg, char **out, char *err,
    size_t errsz)
{
	const char *env = cfg->redis_password_env;
	const char *file = cfg->redis_password_file;
	char line[1024], full[4096];
	FILE *fp;
	size_t n;

	*out = NULL;
	if (cfg->redis_password != NULL && cfg->redis_password[0] != '\0') {
		*out = xstrdup(cfg->redis_password);
		return 0;
	}
	if (env != NULL && env[0] != '\0') {
		const char *v = getenv(env);

		if (v != NULL) {
			*out = xstrdup(v);
			return 0;
		}
		if (file == NULL || file[0] == '\0') {
			snprintf(err, errsz, "redis.password_env: %s is not set",
			    env);
			return -1;
		}
	}
	if (file == NULL || file[0] == '\0')
		return 0;
	if ((fp = secret_open(file, full, sizeof full, line,
	    sizeof line)) == NULL) {
		snprintf(err, errsz, "redis.password_file: %s", line);
		return -1;
	}
	if (fgets(line, sizeof line, fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	*out = xstrdup(line);
	return 0;
}

/*
 * kafka.properties: secrets and librdkafka's own validation.
 *
 * A property named NAME_file takes NAME's value from a file (its whole
 * content, at most CONFIG_SECRET_MAX bytes, one trailing newline dropped; a
 * relative path is under $CREDENTIALS_DIRECTORY, where systemd's
 * LoadCredential= puts credentials), NAME_env from an environment
 * variable.  No librdkafka property ends in _file or _env, so the suffix
 * cannot hide a real one.  A value read this way is never printed: an
 * error about it names the property and where the value came from only.
 */

#define CONFIG_SECRET_MAX	65536

/* What one kafka.properties entry hands to librdkafka. */
struct kprop {
	char		 name[128];	/* the librdkafka property */
	char		*value;		/* owned */
	bool		 secret;	/* read from a file or the environment */
};

static bool
ends_with(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n <= k || strcmp(s + n - k, suffix) != 0)
		return false;
	*stem = n - k;
	return true;
}

/* Opens a secret file: path as it is when absolute, else under
 * $CREDENTIALS_DIRECTORY.  The name opened goes to full. */
static FILE *
secret_open(const char *path, char *full, size_t fullsz, char *err,
    size_t errsz)
{
	const char *credir = getenv("CREDENTIALS_DIRECTORY");
	FILE *fp;

	if (path[0] == '/')
		snprintf(full, fullsz, "%s", path);
	else if (credir != NULL && credir[0] != '\0')
		snprintf(full, fullsz, "%s/%s", credir, path);
	else {
		snprintf(err, errsz, "%.900s: a relative path is read under "
		    "$CREDENTIALS_DIRECTORY (systemd LoadCredential=), which "
		    "is not set", path);
		return NULL;
	}
	if ((fp = fopen(full, "rb")) == NULL)
		snprintf(err, errsz, "%.900s: %s", full, strerror(errno));
	return fp;
}

/* The whole of the file at path, one trailing "\n" or "\r\n" dropped. */
static int
secret_read_file(const char *path, char **out, char *err, size_t errsz)
{
	char full[4096];
	FILE *fp;
	size_t n;
	char *buf;

	if ((fp = secret_open(path, full, sizeof full, err, errsz)) == NULL)
		return -1;
	buf = xmalloc(CONFIG_SECRET_MAX + 1);
	n = fread(buf, 1, CONFIG_SECRET_MAX + 1, fp);
	if (ferror(fp) || n > CONFIG_SECRET_MAX) {
		snprintf(err, errsz, "%.900s: %s", full, ferror(fp) ?
		    "read error" : "larger than 64 KiB");
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0) {
		/* LoadCredential= with a SetCredential= fallback gives an
		 * empty file when the source is missing */
		snprintf(err, errsz, "%.900s: is empty", full);
		free(buf);
		return -1;
	}
	if (strlen(buf) != n) {
		snprintf(err, errsz, "%.900s: holds a NUL byte", full);
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* Resolves entry kv into p.  Returns 0, or -1 with the reason in err. */
static int
kprop_resolve(const struct kv *kv, struct kprop *p, char *err, size_t errsz)
{
	size_t stem;
	bool file;

	memset(p, 0, sizeof *p);
	file = ends_with(kv->key, "_file", &stem);
	if (!file && !ends_with(kv->key, "_env", &stem)) {
		if (strlen(kv->key) >= sizeof p->name) {
			snprintf(err, errsz, "no such librdkafka property");
			return -1;
		}
		snprintf(p->name, sizeof p->name, "%s", kv->key);
		p->value = xstrdup(kv->value);
		return 0;
	}
	if (stem >= sizeof p->name) {
		snprintf(err, errsz, "no such librdkafka property");
		return -1;
	}
	snprintf(p->name, sizeof p->name, "%.*s", (int)stem, kv->key);
	p->secret = true;
	if (file)
		return secret_read_file(kv->value, &p->value, err, errsz);
	{
		const char *v = getenv(kv->value);

		if (v == NULL) {
			snprintf(err, errsz, "environment variable %s is not set",
			    kv->value);
			return -1;
		}
		p->value = xstrdup(v);
	}
	return 0;
}

/* Sets one resolved property on conf; librdkafka's message unless the
 * value is a secret (its message would quote the value). */
static int
kprop_set(rd_kafka_conf_t *conf, const struct kv *kv, const struct kprop *p,
    char *err, size_t errsz)
{
	char rderr[512];
	rd_kafka_conf_res_t res;

	if (strcmp(p->name, "partition.assignment.strategy") == 0 &&
	    strstr(p->value, "cooperative") != NULL) {
		snprintf(err, errsz, "%s is not supported (tidewatch needs an "
		    "eager assignor)", p->value);
		return -1;
	}
	res = rd_kafka_conf_set(conf, p->name, p->value, rderr, sizeof rderr);
	if (res == RD_KAFKA_CONF_OK)
		return 0;
	if (res == RD_KAFKA_CONF_UNKNOWN)
		snprintf(err, errsz, "no such librdkafka property '%s'", p->name);
	else if (p->secret)
		snprintf(err, errsz, "librdkafka refuses the value of %s read "
		    "from %s %s (not shown)", p->name, strcmp(kv->key +
		    strlen(p->name), "_file") == 0 ? "file" : "variable",
		    kv->value);
	else
		snprintf(err, errsz, "%s", rderr);
	return -1;
}

int
config_secret_file(const char *path, char **out, char *err, size_t errsz)
{
	return secret_read_file(path, out, err, errsz);
}

int
config_kafka_apply(const struct config *c, rd_kafka_conf_t *conf,
    struct diag *errs)
{
	struct kprop p;
	char err[1024];
	size_t i, before = errs->n;

	for (i = 0; i < c->kafka_nprops; i++) {
		const struct kv *kv = &c->kafka_props[i];

		if (kprop_resolve(kv, &p, err, sizeof err) == -1 ||
		    kprop_set(conf, kv, &p, err, sizeof err) == -1)
			diag_addf(errs, "%s%skafka.properties.%s: %s",
			    c->path != NULL ? c->path : "",
			    c->path != NULL ? ": " : "", kv->key, err);
		if (p.value != NULL) {
			explicit_bzero(p.value, strlen(p.value));
			free(p.value);
		}
	}
	return errs->n > before ? -1 : 0;
}

/* `-s kafka.properties.NAME=value`: adds NAME or replaces its value. */
static int
config_set_kafka_prop(struct config *c, const char *name, const char *value,
    struct diag *errs)
{
	size_t i, cap = c->kafka_nprops;

	if (name[0] == '\0') {
		diag_addf(errs, "kafka.properties.: expected a property name");
		return -1;
	}
	for (i = 0; i < c->kafka_nprops; i++) {
		if (strcmp(c->kafka_props[i].key, name) == 0) {
			free(c->kafka_props[i].value);
			c->kafka_props[i].value = xstrdup(value);
			return 0;
		}
	}
	c->kafka_props = xgrow(c->kafka_props, &cap, c->kafka_nprops + 1,
	    sizeof *c->kafka_props);
	c->kafka_props[c->kafka_nprops].key = xstrdup(name);
	c->kafka_props[c->kafka_nprops].value = xstrdup(value);
	c->kafka_nprops++;
	return 0;
}

int
config_load_sets(const char *path, char *const *sets, size_t nsets,
    struct config *c, struct diag *errs)
{
	size_t i, before = errs->n;

	if (config_load(path, c, errs) == -1)
		return -1;
	for (i = 0; i < nsets; i++)
		config_set(c, sets[i], errs);
	return errs->n > before ? -1 : 0;
}
