/*
 * cmd_run.c — `tidewatch run [-c FILE]`, the daemon.
 *
 * DESIGN: start-up does everything that can fail fatally (config, password,
 * normaliser, rules and their embedded tests, the metrics listener, Kafka
 * handles) before any thread starts, then waits for Redis (wait_for_store:
 * a refused password, an ACL denial or a missing database end the start
 * with status 1; a Redis not answering yet is retried with backoff, each
 * attempt logged).  Then `threads` consumer threads
 * consume, match and flush on their own, while the main thread ticks every
 * 20 ms through a table of periodic jobs (daemon_jobs): it acts on the
 * flags the signal handlers set (SIGHUP: reload; SIGTERM/SIGINT: stop, a
 * second one: exit at once), watches the rule files in `reload: auto`, pokes
 * the detector's thread (detect_loop.c) after every flush, which also runs
 * a pass at least once per flush interval, runs the stall check (or a
 * PING) once a second, logging a Redis outage as it begins and ends, and
 * logs a summary every 10 s; a detector pass never holds the
 * main loop.  Everything
 * start-up made is held in one struct daemon, released by daemon_free() on
 * every way out.  A SIGHUP re-reads
 * the config file (only reloadable keys take effect; a changed other key is
 * logged as needing a restart) and then the rules.  A reload builds the new
 * engine completely on a thread of its own (rules_build.h: seconds at a
 * million keywords, while the consumers and this loop go on) and the loop
 * swaps one pointer once it is done; a rule set with any error or failing
 * test keeps the old one and every error is logged with its path:line:col.  Under systemd (Type=notify) the main loop tells the
 * manager READY=1 once every consumer joined the group and read its
 * positions from Redis, RELOADING=1 and
 * READY=1 around a reload, STOPPING=1, a STATUS= line with each summary,
 * and WATCHDOG=1 when the unit has WatchdogSec=; outside systemd these are
 * no-ops.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "alertmanager.h"
#include "clock.h"
#include "commands.h"
#include "consumer.h"
#include "detect_loop.h"
#include "detector.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "reloadst.h"
#include "rules_build.h"
#include "stats.h"
#include "store.h"
#include "web.h"
#include "xmalloc.h"

static volatile sig_atomic_t got_stop, got_reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else {
		if (got_stop)
			_exit(1);	/* second request: at once */
		got_stop = 1;
	}
}

static void
run_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch run [-c CONFIG] [-s key=value]...\n"
	    "  Runs the daemon in the foreground (default config %s).\n",
	    CONFIG_DEFAULT_PATH);
}

/* Logs the matcher's warnings about keyword folding: the first few, then
 * how many more `tidewatch check` would show. */
static void
log_fold_warnings(const struct matcher *m)
{
	const struct diag *w = match_warnings(m);
	size_t i, shown = w->n < 5 ? w->n : 5;

	for (i = 0; i < shown; i++)
		log_warn("%s", w->msgs[i]);
	if (w->n > shown)
		log_warn("%zu more keyword warning%s; tidewatch check lists "
		    "them all", w->n - shown, w->n - shown == 1 ? "" : "s");
}

/* What building the config's rule set takes (rules_build.h). */
static void
build_opts(const struct config *cfg, const struct normalizer *norm,
    struct rules_build_opts *o)
{
	memset(o, 0, sizeof *o);
	o->paths = (const char *const *)cfg->rule_paths;
	o->npaths = cfg->rule_npaths;
	o->ro.resolution_s = cfg->resolution_s;
	o->ro.max_items = (size_t)cfg->rules_max_items;
	o->ro.max_file_bytes = (size_t)cfg->rules_max_file_bytes;
	o->norm = norm;
}

/* Builds an engine from the config's rule paths; every error into errs. */
static struct engine *
build_engine(const struct config *cfg, const struct normalizer *norm,
    uint64_t version, struct diag *errs)
{
	struct rules_build_opts o;
	struct matcher *m;

	build_opts(cfg, norm, &o);
	if ((m = rules_build(&o, errs)) == NULL)
		return NULL;
	log_fold_warnings(m);
	return engine_new(m, version);
}

/* A fingerprint of the rule files (names, sizes, mtimes) for reload: auto. */
static uint64_t
rules_fingerprint(const struct config *cfg)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < cfg->rule_npaths; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(cfg->rule_paths[i], &st) == -1)
			continue;
		h = (h ^ (uint64_t)st.st_mtim.tv_nsec ^ (uint64_t)st.st_mtime) *
		    1099511628211ULL;
		if (!S_ISDIR(st.st_mode) || (dir = opendir(cfg->rule_paths[i])) == NULL)
			continue;
		while ((de = readdir(dir)) != NULL) {
			char path[4096];
			const char *p;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", cfg->rule_paths[i],
			    de->d_name);
			if (stat(path, &st) == -1)
				continue;
			for (p = de->d_name; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			h = (h ^ (uint64_t)st.st_size ^ (uint64_t)st.st_mtime ^
			    (uint64_t)st.st_mtim.tv_nsec) * 1099511628211ULL;
		}
		closedir(dir);
	}
	return h;
}

static void
log_diag(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		log_error("%s", d->msgs[i]);
}

/* The counters at the previous summary. */
struct summary_prev {
	int64_t		t_ms;
	uint64_t	decoded, matched, flushes;
	double		flush_s;
};

/* Logs the summary line and tells systemd the same in STATUS=. */
static void
summary(int64_t now, struct summary_prev *prev, struct consumer **cs,
    size_t n)
{
	uint64_t dec = STAT_GET(decoded), mat = STAT_GET(matched);
	uint64_t rej = 0, fl;
	int64_t lag = 0, dt = now - prev->t_ms;
	double pps, mps, avg, fs;
	size_t i;

	metrics_flush_totals(&fl, &fs);
	for (i = 0; i < REJ__COUNT; i++)
		rej += STAT_GET(rejected[i]);
	for (i = 0; i < n; i++)
		lag += consumer_lag(cs[i]);
	pps = dt > 0 ? (double)(dec - prev->decoded) * 1000.0 / (double)dt : 0;
	mps = dt > 0 ? (double)(mat - prev->matched) * 1000.0 / (double)dt : 0;
	avg = fl > prev->flushes ? (fs - prev->flush_s) * 1000.0 /
	    (double)(fl - prev->flushes) : 0;
	log_info("summary | posts_per_s=%.1f matched_per_s=%.1f lag=%" PRId64
	    " rejected=%" PRIu64 " late=%" PRIu64 " flushes=%" PRIu64
	    " flush_ms_avg=%.2f stalled=%d",
	    pps, mps, lag, rej, STAT_GET(late), STAT_GET(flushes), avg,
	    STAT_GET(stalled));
	sd_notifyf(0, "STATUS=%.1f posts/s, %.1f matched/s, lag %" PRId64
	    ", rules v%" PRIu64 "%s", pps, mps, lag, engine_current_version(),
	    STAT_GET(stalled) ? ", input stalled" : "");
	prev->t_ms = now;
	prev->decoded = dec;
	prev->matched = mat;
	prev->flushes = fl;
	prev->flush_s = fs;
}

/* SIGHUP: reads the config file again (with the same -s overrides) and
 * takes its reloadable keys; a key that needs a restart is logged.
 * Returns 0, or -1 with the errors in errs (nothing taken). */
static int
reload_config(const char *path, char **sets, size_t nsets, struct config *cfg,
    struct diag *errs)
{
	struct config next;
	struct diag applied, restart;
	enum log_level lvl;
	size_t i;
	int rc = 0;

	diag_init(&applied);
	diag_init(&restart);
	config_load_sets(path, sets, nsets, &next, errs);
	if (errs->n > 0) {
		log_diag(errs);
		log_error("invalid config, keeping the config and rules in force "
		    "| file=%s errors=%zu", path, errs->n);
		rc = -1;
	} else {
		config_update(cfg, &next, &applied, &restart);
		for (i = 0; i < applied.n; i++)
			log_info("config reloaded | key=%s", applied.msgs[i]);
		for (i = 0; i < restart.n; i++)
			log_warn("config changed, needs restart to take effect | "
			    "key=%s", restart.msgs[i]);
		if (log_level_parse(cfg->log_level, &lvl) == 0)
			log_set_level(lvl);
		metrics_set_unhealthy_after(cfg->unhealthy_after_s * 1000);
	}
	config_free(&next);
	diag_free(&applied);
	diag_free(&restart);
	return rc;
}

/* Everything the daemon holds between start-up and exit.  daemon_free()
 * releases whatever start-up got to, so every exit takes one path. */
struct daemon {
	const char		*cfgpath;
	char			**sets;		/* -s overrides, kept for reloads */
	size_t			 nsets;
	struct config		 cfg;
	bool			 cfg_loaded;
	struct diag		 errs;
	char			*password;
	struct normalizer	*norm;
	bool			 engine_installed;
	struct rules_job	*reload;	/* the next rules, being built */
	bool			 reload_again;	/* asked for during that build */
	bool			 reload_ready;	/* READY=1 once it is done */
	uint64_t		 reload_upto;	/* last request it covers */
	uint64_t		 version;	/* of the rules in force */
	uint64_t		 fingerprint;	/* of the rule files */
	struct consumer		**cs;
	size_t			 ncs;		/* consumers created */
	struct detector		*det;
	struct detect_loop	*dl;		/* the detector's thread */
	struct ops		*ops;
	struct am		*am;		/* Alertmanager delivery */
	char			 instance[300];
	bool			 ready;
	bool			 redis_down;	/* the ops tick failed */
	uint64_t		 seen_flush;	/* flush_seq the detector saw */
	uint64_t		 wd_usec;	/* systemd watchdog; 0: off */
	struct summary_prev	 prev;
};

/* Every consumer joined the group and read its positions from Redis. */
static bool
all_counting(const struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->ncs; i++)
		if (!consumer_counting(d->cs[i]))
			return false;
	return true;
}

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Starts building the next rule set on a thread of its own (a large set
 * takes seconds); job_reload swaps it in when it is done.  Asked for during
 * a build, another one follows it. */
static void
reload_rules(struct daemon *d)
{
	struct rules_build_opts o;

	if (d->reload != NULL) {
		d->reload_again = true;
		return;
	}
	build_opts(&d->cfg, d->norm, &o);
	d->reload_upto = reloadst_requested();
	d->reload = rules_build_start(&o);
	d->fingerprint = rules_fingerprint(&d->cfg);
}

static bool
wake_reload(struct daemon *d)
{
	return d->reload != NULL && rules_build_done(d->reload);
}

/* A built rule set: swapped in, or refused keeping the one in force. */
static int64_t
job_reload(struct daemon *d, int64_t now)
{
	struct matcher *m;
	struct engine *ne;

	(void)now;
	if (!wake_reload(d))
		return INT64_MAX;
	diag_free(&d->errs);
	m = rules_build_finish(d->reload, &d->errs);
	d->reload = NULL;
	if (m == NULL) {
		log_diag(&d->errs);
		STAT_ADD(reloads_failed, 1);
		log_error("reload failed, keeping the rules in force | "
		    "errors=%zu version=%" PRIu64, d->errs.n, d->version);
		reloadst_done(d->reload_upto, false, &d->errs);
	} else {
		log_fold_warnings(m);
		ne = engine_new(m, ++d->version);
		STAT_ADD(reloads_ok, 1);
		log_info("rules reloaded | topics=%zu keywords=%zu "
		    "version=%" PRIu64, ne->rs->ntopics, ne->rs->nkeywords,
		    d->version);
		engine_install(ne);
		reloadst_done(d->reload_upto, true, NULL);
	}
	if (d->reload_ready && !d->reload_again) {
		d->reload_ready = false;
		sd_notifyf(0, "%sSTATUS=running, rules v%" PRIu64,
		    d->ready ? "READY=1\n" : "", d->version);
	}
	if (d->reload_again) {
		d->reload_again = false;
		reload_rules(d);
	}
	return INT64_MAX;
}

/*
 * The main thread's periodic jobs, as a table (like Redis's serverCron).
 * Each job runs when its time has come, or at once when its wake() says
 * so, and returns the time it wants to run next (INT64_MAX: not again until
 * woken).  They run in table order within a tick.
 */

static int64_t
job_watchdog(struct daemon *d, int64_t now)
{
	if (d->wd_usec == 0)
		return INT64_MAX;
	sd_notify(0, "WATCHDOG=1");
	return now + (int64_t)(d->wd_usec / 2000);
}

/* READY=1 once every consumer joined the group and read its positions:
 * not while Redis cannot be read (the daemon could not count). */
static int64_t
job_ready(struct daemon *d, int64_t now)
{
	if (!all_counting(d))
		return now;
	d->ready = true;
	log_info("ready: rules loaded, the consumer group joined and the "
	    "positions read");
	sd_notifyf(0, "READY=1\nSTATUS=running, rules v%" PRIu64, d->version);
	return INT64_MAX;
}

static bool
wake_sighup(struct daemon *d)
{
	(void)d;
	return got_reload != 0;
}

/* SIGHUP: the config file's reloadable keys, then the rules. */
static int64_t
job_sighup(struct daemon *d, int64_t now)
{
	uint64_t req;

	(void)now;
	got_reload = 0;
	req = reloadst_request();
	log_info("reload requested (SIGHUP) | request=%" PRIu64, req);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64
	    "\nSTATUS=reloading", monotonic_usec());
	diag_free(&d->errs);
	if (reload_config(d->cfgpath, d->sets, d->nsets, &d->cfg,
	    &d->errs) == -1) {
		/* all or nothing: the rules are not rebuilt either */
		STAT_ADD(reloads_failed, 1);
		reloadst_done(req, false, &d->errs);
		sd_notifyf(0, "%sSTATUS=reload failed: invalid config, rules v%"
		    PRIu64, d->ready ? "READY=1\n" : "", d->version);
		return INT64_MAX;
	}
	reload_rules(d);
	d->reload_ready = true;		/* READY=1 from job_reload */
	return INT64_MAX;
}

/* reload: auto — the rule files are looked at once a second. */
static int64_t
job_rules_watch(struct daemon *d, int64_t now)
{
	uint64_t fp;

	if (d->cfg.reload_mode != RELOAD_AUTO)
		return now + 1000;	/* the mode may change on SIGHUP */
	fp = rules_fingerprint(&d->cfg);
	if (fp != d->fingerprint) {
		d->fingerprint = fp;
		log_info("rule files changed, reloading");
		reload_rules(d);
	}
	return now + 1000;
}

/* The detector's thread runs a pass after every flush that wrote counts
 * (so an alert follows its burst within one flush) and at least once per
 * flush interval on its own; this only pokes it. */
static bool
wake_detect(struct daemon *d)
{
	return STAT_GET(flush_seq) != d->seen_flush;
}

static int64_t
job_detect(struct daemon *d, int64_t now)
{
	(void)now;
	d->seen_flush = STAT_GET(flush_seq);
	detect_loop_poke(d->dl);
	return INT64_MAX;
}

/* Once a second: the stall check (leader) or a PING; so an outage is
 * logged within a second, whether or not a flush is due. */
static int64_t
job_ops(struct daemon *d, int64_t now)
{
	if (ops_tick(d->ops, STAT_GET(leading) != 0, now) == 0) {
		STAT_SET(redis_ok_ms, now);
		if (d->redis_down)
			log_info("redis answers again | address=%s",
			    d->cfg.redis_address);
		d->redis_down = false;
	} else {
		STAT_ADD(redis_errors, 1);
		if (!d->redis_down)
			log_error("redis %s | address=%s error=\"%s\"",
			    store_fault_name((enum store_fault)
			    STAT_GET(redis_fault)), d->cfg.redis_address,
			    ops_errstr(d->ops));
		d->redis_down = true;
	}
	return now + 1000;
}

static int64_t
job_summary(struct daemon *d, int64_t now)
{
	summary(now, &d->prev, d->cs, d->ncs);
	return now + 10000;
}

static const struct daemon_job {
	const char	*name;
	int64_t		(*run)(struct daemon *, int64_t now);
	bool		(*wake)(struct daemon *);	/* NULL: by time only */
	int64_t		 first;		/* ms after start of the first run */
} daemon_jobs[] = {
	{ "watchdog",	job_watchdog,	 NULL,		0 },
	{ "ready",	job_ready,	 NULL,		0 },
	{ "sighup",	job_sighup,	 wake_sighup,	INT64_MAX },
	{ "reload",	job_reload,	 wake_reload,	INT64_MAX },
	{ "rules-watch", job_rules_watch, NULL,		1000 },
	{ "detect",	job_detect,	 wake_detect,	INT64_MAX },
	{ "ops",	job_ops,	 NULL,		1000 },
	{ "summary",	job_summary,	 NULL,		10000 },
};
#define NJOBS	(sizeof daemon_jobs / sizeof daemon_jobs[0])

/* Ticks every 20 ms until SIGTERM/SIGINT. */
static void
daemon_loop(struct daemon *d)
{
	int64_t next[NJOBS], start = clock_wall_ms();
	size_t j;

	for (j = 0; j < NJOBS; j++) {
		int64_t first = daemon_jobs[j].first;

		if (first < 0)
			first = d->cfg.flush_interval_ms;
		next[j] = first == INT64_MAX ? INT64_MAX : start + first;
	}
	while (!got_stop) {
		int64_t now;

		usleep(20000);
		now = clock_wall_ms();
		for (j = 0; j < NJOBS; j++) {
			const struct daemon_job *job = &daemon_jobs[j];

			if (now >= next[j] || (job->wake != NULL && job->wake(d)))
				next[j] = job->run(d, now);
		}
	}
}

/* Releases whatever daemon_start() got to; stops the consumers first
 * (each flushes and leaves the group). */
static void
daemon_free(struct daemon *d)
{
	size_t i;

	/* the pass under way ends at its next window end or read batch and
	 * stores what it stepped; no last pass: the shutdown must stay within
	 * seconds, and the next leader goes on from the states in Redis */
	am_free(d->am);
	detect_loop_stop(d->dl);
	for (i = 0; i < d->ncs; i++)
		consumer_stop(d->cs[i]);
	for (i = 0; i < d->ncs; i++)
		consumer_free(d->cs[i]);
	free(d->cs);
	detector_free(d->det);
	ops_free(d->ops);
	metrics_stop();
	web_stop();
	if (d->reload != NULL)	/* a reload under way: waited for, dropped */
		match_free(rules_build_finish(d->reload, &d->errs));
	if (d->engine_installed)
		engine_install(NULL);
	norm_free(d->norm);
	free(d->password);
	free(d->sets);
	if (d->cfg_loaded)
		config_free(&d->cfg);
	diag_free(&d->errs);
}

/* Config, password, normaliser, rules and their tests, the metrics
 * listener and the Kafka handles: everything that can fail fatally, before
 * any thread starts.  Returns 0, or -1 with the reason logged. */
static int
daemon_prepare(struct daemon *d)
{
	struct sigaction sa;
	char err[512];
	enum log_level lvl;
	struct engine *eng;
	size_t i;

	/* first, before any thread starts: a signal during start-up only
	 * sets a flag (a SIGTERM then stops the daemon once it runs) */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (config_load(d->cfgpath, &d->cfg, &d->errs) == -1) {
		log_diag(&d->errs);
		log_error("invalid config, not starting | file=%s errors=%zu",
		    d->cfgpath, d->errs.n);
		config_free(&d->cfg);
		return -1;
	}
	d->cfg_loaded = true;
	for (i = 0; i < d->nsets; i++)
		if (config_set(&d->cfg, d->sets[i], &d->errs) == -1) {
			log_diag(&d->errs);
			return -1;
		}
	if (log_level_parse(d->cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	metrics_set_unhealthy_after(d->cfg.unhealthy_after_s * 1000);
	if (config_redis_password(&d->cfg, &d->password, err,
	    sizeof err) == -1) {
		log_error("%s", err);
		return -1;
	}
	if ((d->norm = norm_new(&d->cfg.norm, err, sizeof err)) == NULL) {
		log_error("normaliser: %s", err);
		return -1;
	}
	if ((eng = build_engine(&d->cfg, d->norm, d->version,
	    &d->errs)) == NULL) {
		log_diag(&d->errs);
		log_error("invalid rules, not starting | errors=%zu", d->errs.n);
		return -1;
	}
	log_info("rules loaded | topics=%zu keywords=%zu version=%" PRIu64,
	    eng->rs->ntopics, eng->rs->nkeywords, d->version);
	engine_install(eng);
	d->engine_installed = true;
	reloadst_done(0, true, NULL);
	if (web_start(&d->cfg, d->password, err, sizeof err) == -1 ||
	    metrics_start(d->cfg.metrics_listen, err, sizeof err) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (metrics_port() > 0)
		log_info("metrics listening | address=%s port=%d web=%s",
		    d->cfg.metrics_listen, metrics_port(),
		    d->cfg.web_enabled ? "on" : "off");
	if (am_new(&d->cfg, d->password, &d->am, err, sizeof err) == -1) {
		log_error("%s", err);
		return -1;
	}
	d->cs = xcalloc((size_t)d->cfg.threads, sizeof *d->cs);
	for (i = 0; i < (size_t)d->cfg.threads; i++) {
		if ((d->cs[i] = consumer_new(&d->cfg, d->password, (int)i, err,
		    sizeof err)) == NULL) {
			log_error("kafka: %s", err);
			return -1;
		}
		d->ncs++;
	}
	return 0;
}

/* Sleeps ms unless a stop is asked for; tells the watchdog meanwhile. */
static void
sleep_unless_stopped(struct daemon *d, int64_t ms)
{
	int64_t end = clock_mono_ms() + ms;

	while (!got_stop && clock_mono_ms() < end) {
		if (d->wd_usec != 0)
			sd_notify(0, "WATCHDOG=1");
		usleep(20000);
	}
}

/*
 * Before anything is consumed, Redis must answer, take the credentials
 * and the database, and let the daemon read its positions and load the
 * flush script.  A permanent failure (password, ACL, database) stops the
 * start; a transient one (refused, timeout, loading) is retried with
 * backoff and logged each time, and READY=1 waits.  Returns 0 when Redis
 * is usable, -1 on a permanent failure (logged), 1 when stopped meanwhile.
 */
static int
wait_for_store(struct daemon *d)
{
	struct store *s = store_open(&d->cfg, d->password);
	int64_t backoff = 250;
	unsigned attempt = 0;
	int rc = 1;

	while (!got_stop) {
		enum store_fault f;

		if (store_check(s, d->cfg.kafka_group) == 0) {
			STAT_SET(redis_ok_ms, clock_wall_ms());
			if (attempt > 0)
				log_info("redis answers | address=%s attempts=%u",
				    d->cfg.redis_address, attempt + 1);
			rc = 0;
			break;
		}
		f = store_fault(s);
		attempt++;
		STAT_ADD(redis_errors, 1);
		if (store_fault_permanent(f)) {
			log_error("redis: %s, not starting | address=%s "
			    "error=\"%s\"", store_fault_name(f),
			    d->cfg.redis_address, store_errstr(s));
			rc = -1;
			break;
		}
		log_warn("redis %s at start-up, retrying | address=%s "
		    "attempt=%u retry_in_ms=%" PRId64 " error=\"%s\"",
		    store_fault_name(f), d->cfg.redis_address, attempt, backoff,
		    store_errstr(s));
		sd_notifyf(0, "STATUS=waiting for redis (%s)",
		    store_fault_name(f));
		sleep_unless_stopped(d, backoff);
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	store_free(s);
	return rc;
}

/* The consumer threads, the detector and ops. */
static void
daemon_start(struct daemon *d)
{
	struct ops_io ops_io;
	char host[256], err[256];
	size_t i;

	for (i = 0; i < d->ncs; i++)
		consumer_start(d->cs[i]);
	gethostname(host, sizeof host);
	host[sizeof host - 1] = '\0';
	snprintf(d->instance, sizeof d->instance, "%s:%ld:%" PRId64, host,
	    (long)getpid(), clock_wall_ms());
	d->det = detector_new(&d->cfg, d->password, d->instance);
	if ((d->dl = detect_loop_start(d->det, d->cfg.flush_interval_ms, err,
	    sizeof err)) == NULL) {
		log_error("%s", err);
		got_stop = 1;		/* no detection: stop at once */
	}
	store_ops_io(&d->cfg, d->password, &ops_io);
	d->ops = ops_new(&d->cfg, &ops_io, d->instance);
	if (d->am != NULL && am_start(d->am, err, sizeof err) == -1) {
		log_error("%s", err);
		got_stop = 1;
	}
	log_info("started | instance=%s threads=%" PRId64 " brokers=%s redis=%s",
	    d->instance, d->cfg.threads, d->cfg.kafka_brokers,
	    d->cfg.redis_address);
	sd_notify(0, "STATUS=joining the consumer group");
	d->fingerprint = rules_fingerprint(&d->cfg);
	d->prev.t_ms = clock_wall_ms();
}

int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon d;
	size_t setcap = 0;
	int ch, rc;

	memset(&d, 0, sizeof d);
	d.cfgpath = CONFIG_DEFAULT_PATH;
	d.version = 1;
	diag_init(&d.errs);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.cfgpath = optarg;
			break;
		case 's':
			d.sets = xgrow(d.sets, &setcap, d.nsets + 1,
			    sizeof *d.sets);
			d.sets[d.nsets++] = optarg;
			break;
		case 'h':
			run_usage(stdout);
			daemon_free(&d);
			return 0;
		default:
			run_usage(stderr);
			daemon_free(&d);
			return 2;
		}
	}
	if (sd_watchdog_enabled(0, &d.wd_usec) <= 0)
		d.wd_usec = 0;
	rc = daemon_prepare(&d) == 0 ? wait_for_store(&d) : -1;
	if (rc == 0) {
		daemon_start(&d);
		daemon_loop(&d);
		sd_notify(0, "STOPPING=1\nSTATUS=stopping: flushing counts");
		log_info("stopping: flushing counts and leaving the group");
	} else if (rc == 1) {
		log_info("stop requested while waiting for redis");
		rc = 0;
	} else
		rc = 1;
	daemon_free(&d);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
