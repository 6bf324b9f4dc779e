/*
 * config.h — the daemon's configuration (every key: tidewatch.yaml(5)).
 *
 * Every key is a row of one table (name, type, bounds, default, whether a
 * reload may change it, help); config_load() reads a YAML file over the
 * defaults and reports every error as "path:line:col: message".  Command
 * line overrides ("key=value") go through the same parser.  A struct config
 * is plain data owned by whoever loaded it; config_free() releases it.
 */
#ifndef TW_CONFIG_H
#define TW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "normalize.h"

/* SYSCONFDIR/tidewatch/tidewatch.yaml, SYSCONFDIR as the binary was built
 * with (make SYSCONFDIR=…; /etc by default). */
extern const char config_default_path[];
#define CONFIG_DEFAULT_PATH	config_default_path

enum time_source { TIME_POST, TIME_KAFKA, TIME_ARRIVAL };
enum input_format { INPUT_JSON, INPUT_TEXT };
enum reload_mode { RELOAD_SIGNAL, RELOAD_AUTO };
/* What a consumer does with a partition whose position Redis lost
 * although the group committed one to Kafka (redis.on_reset). */
enum on_reset { ON_RESET_CONTINUE, ON_RESET_REBUILD };

struct kv {
	char	*key;
	char	*value;
};

struct config {
	char		*path;			/* file read, or NULL for defaults */

	/* kafka */
	char		*kafka_brokers;
	char	       **kafka_topics;
	size_t		 kafka_ntopics;
	char		*kafka_group;
	char		*kafka_group_instance_id;	/* "": dynamic member */
	struct kv	*kafka_props;		/* passed to librdkafka as they are */
	size_t		 kafka_nprops;

	/* input */
	enum input_format input_format;
	char		*field_id;
	char		*field_text;
	char		*field_time;
	char		*field_author;		/* "": authors not counted */
	struct kv	*field_map;		/* post field name → JSON path */
	size_t		 field_nmap;
	enum time_source time_source;
	int64_t		 max_post_bytes;
	int64_t		 max_future_s;		/* posts further ahead are rejected */
	int64_t		 dead_letter_bytes;	/* dead letters kept per flush */
	int64_t		 dead_letter_maxlen;	/* <prefix>rejected MAXLEN ~ */

	/* redis */
	char		*redis_address;		/* host:port or unix:/path */
	char		*redis_username;	/* ACL user; "": default */
	char		*redis_password;	/* inline (-s); "": none */
	char		*redis_password_env;
	char		*redis_password_file;
	char		*redis_prefix;
	int64_t		 redis_timeout_ms;
	int64_t		 redis_database;	/* SELECT'ed */
	enum on_reset	 on_reset;
	char	       **redis_sentinels;	/* host:port; none: direct */
	size_t		 redis_nsentinels;
	char		*redis_master_name;
	int64_t		 redis_wait_replicas;	/* WAIT before a Kafka commit */
	int64_t		 flush_interval_ms;
	int64_t		 flush_max_entries;	/* flush early past this many
						 * aggregate entries */

	/* rules */
	char	       **rule_paths;
	size_t		 rule_npaths;
	enum reload_mode reload_mode;
	int64_t		 rules_max_items;	/* the loader's item budget */
	int64_t		 rules_max_file_bytes;	/* largest rule file */

	/* normalisation */
	struct norm_opts norm;

	/* counters */
	int64_t		 resolution_s;
	int64_t		 retention_s;

	/* alerts */
	char		*alert_channel;		/* appended to the prefix */
	char		*alert_stream;		/* appended to the prefix */
	int64_t		 alert_stream_maxlen;
	int64_t		 samples;		/* sample posts kept per topic and bucket */
	int64_t		 samples_per_topic;	/* the newest kept in Redis per topic */
	char		*alert_kafka_topic;	/* "": no Kafka output */

	/* discovery (discover.c, segment.c) */
	int64_t		 disc_bucket_s;
	int64_t		 disc_half_life_s;
	int64_t		 disc_check_s;
	int64_t		 disc_story_ttl_s;
	int64_t		 disc_memory;
	int64_t		 disc_hashes;
	int64_t		 disc_candidates;
	int64_t		 disc_threshold;
	int64_t		 disc_noise_floor;
	int64_t		 disc_min_posts;
	int64_t		 disc_max_pairs;
	bool		 disc_mentions;
	char	       **disc_stop_terms;
	size_t		 disc_nstop_terms;
	char		*disc_dictionary;
	char		*disc_author_field;	/* a post field's name */

	/* Alertmanager delivery (alertmanager.c) */
	char	       **am_urls;		/* none: no delivery */
	size_t		 am_nurls;
	char		*am_username;		/* basic auth; "": none */
	char		*am_password_file;
	char		*am_bearer_token_file;	/* "": none */
	int64_t		 am_timeout_ms;
	int64_t		 am_resend_s;
	int64_t		 am_retry_max_ms;
	char		*web_base_url;		/* "": no link */

	/* the web view (web.c) on the metrics listener */
	bool		 web_enabled;
	char		*web_username;		/* basic auth; "": none */
	char		*web_password_file;
	char		*web_bearer_token_file;	/* "": none */

	/* service */
	char		*metrics_listen;	/* "" disables */
	int64_t		 unhealthy_after_s;	/* /healthz fails after this */
	char		*log_level;
	int64_t		 threads;
	int64_t		 stall_after_s;
};

/* Fills c with every default.  config_free() releases it. */
void config_defaults(struct config *c);
/* Reads path over the defaults.  Returns 0, or -1 with every error in errs
 * (c then holds defaults and must still be freed). */
int config_load(const char *path, struct config *c, struct diag *errs);
int config_load_string(const char *name, const char *yaml, size_t len,
    struct config *c, struct diag *errs);
/* Applies "section.key=value" (as given on the command line);
 * "kafka.properties.NAME=value" adds or replaces one librdkafka property. */
int config_set(struct config *c, const char *assignment, struct diag *errs);
void config_free(struct config *c);
/* Reload: takes into cur the value of every reloadable key that differs in
 * next (swapping, so config_free(next) releases the old values) and names
 * it in applied; names every other key that differs in needs_restart. */
void config_update(struct config *cur, struct config *next,
    struct diag *applied, struct diag *needs_restart);
/* The Redis password from redis.password (inline, or -s), else
 * redis.password_env (if set in the environment), else
 * redis.password_file (its first line).  Returns 0 with *out
 * (NULL: no password; caller frees), or -1 with the reason in err. */
int config_redis_password(const struct config *c, char **out, char *err,
    size_t errsz);
/* The content of the secret file at path (relative: under
 * $CREDENTIALS_DIRECTORY), as for redis.password_file.  Returns 0 with
 * *out (caller frees), or -1 with the reason in err (never the content). */
int config_secret_file(const char *path, char **out, char *err,
    size_t errsz);
/* Loads path, then applies each of sets[0..nsets) ("key=value", as -s
 * gives them).  Returns 0, or -1 with every error in errs. */
int config_load_sets(const char *path, char *const *sets, size_t nsets,
    struct config *c, struct diag *errs);
/* Sets every kafka.properties entry on conf with rd_kafka_conf_set():
 * NAME_file and NAME_env entries set NAME to the content of a file
 * (relative: under $CREDENTIALS_DIRECTORY) or of an environment variable,
 * and such a value never appears in an error.  Returns 0, or -1 with one
 * error per refused entry in errs ("path: kafka.properties.NAME: why"). */
struct rd_kafka_conf_s;
int config_kafka_apply(const struct config *c, struct rd_kafka_conf_s *conf,
    struct diag *errs);
/* Writes a commented YAML of every key with its default and help. */
void config_print_defaults(FILE *fp);

/* One row of the config table as documentation (`tidewatch config --man`).
 * Every pointer is to static data. */
struct config_keydoc {
	const char		*name;		/* dotted: "redis.flush_interval" */
	const char		*type;		/* "string", "boolean", "integer",
						   "duration", "size", "choice",
						   "list", "mapping" */
	const char		*def;		/* the default as the table writes it */
	const char *const	*choices;	/* "choice": NULL-terminated */
	int64_t			 min, max;	/* "integer": its bounds */
	int			 reloadable;
	const char		*help;
	char			 units[80];	/* "duration", "size": the unit
						   suffixes, '|' between */
};
/* Fills *doc with key i of the table.  Returns 0, or -1 when i is past
 * the last key. */
int config_key_doc(size_t i, struct config_keydoc *doc);

#endif
