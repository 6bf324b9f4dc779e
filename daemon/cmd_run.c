/*
 * cmd_run.c — `tidewatch run [-c FILE]`, the daemon.
 *
 * DESIGN: start-up does everything that can fail fatally (config, password,
 * normaliser, rules and their embedded tests, the metrics listener, Kafka
 * handles) before any thread starts.  Then `threads` consumer threads
 * consume, match and flush on their own, while the main thread ticks every
 * 20 ms: it acts on the flags the signal handlers set (SIGHUP: reload;
 * SIGTERM/SIGINT: stop, a second one: exit at once), watches the rule files
 * in `reload: auto`, runs the detector once per flush interval, the stall
 * check once a second, and logs a summary every 10 s.  A SIGHUP re-reads
 * the config file (only reloadable keys take effect; a changed other key is
 * logged as needing a restart) and then the rules.  A reload builds the new
 * engine completely and swaps one pointer; a rule set with any error or
 * failing test keeps the old one and every error is logged with its
 * path:line:col.  Under systemd (Type=notify) the main loop tells the
 * manager READY=1 once every consumer joined the group, RELOADING=1 and
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

#include "commands.h"
#include "consumer.h"
#include "detector.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "ruletest.h"
#include "stats.h"
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

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
run_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch run [-c CONFIG] [-s key=value]...\n"
	    "  Runs the daemon in the foreground (default config %s).\n",
	    CONFIG_DEFAULT_PATH);
}

/* Builds an engine from the config's rule paths; every error into errs. */
static struct engine *
build_engine(const struct config *cfg, const struct normalizer *norm,
    uint64_t version, struct diag *errs)
{
	struct rules_opts ro;
	struct ruleset *rs;
	struct matcher *m;
	char err[512];
	size_t passed;

	memset(&ro, 0, sizeof ro);
	ro.resolution_s = cfg->resolution_s;
	if (rules_load_opts((const char *const *)cfg->rule_paths,
	    cfg->rule_npaths, &ro, &rs, errs) == -1)
		return NULL;
	m = match_compile(rs, norm, NULL, err, sizeof err);
	rules_unref(rs);
	if (m == NULL) {
		diag_addf(errs, "matcher: %s", err);
		return NULL;
	}
	if (ruletest_run(m, &passed, errs) > 0) {
		match_free(m);
		return NULL;
	}
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
 * takes its reloadable keys; a key that needs a restart is logged. */
static void
reload_config(const char *path, char **sets, size_t nsets, struct config *cfg)
{
	struct config next;
	struct diag errs, applied, restart;
	enum log_level lvl;
	size_t i;

	diag_init(&errs);
	diag_init(&applied);
	diag_init(&restart);
	if (config_load(path, &next, &errs) == 0)
		for (i = 0; i < nsets; i++)
			if (config_set(&next, sets[i], &errs) == -1)
				break;
	if (errs.n > 0) {
		log_diag(&errs);
		log_error("invalid config, keeping the config in force | file=%s "
		    "errors=%zu", path, errs.n);
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
	diag_free(&errs);
	diag_free(&applied);
	diag_free(&restart);
}

static bool
all_joined(struct consumer **cs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!consumer_joined(cs[i]))
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

int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = CONFIG_DEFAULT_PATH;
	char **sets = NULL, err[512], *password, instance[300], host[256];
	size_t nsets = 0, setcap = 0, i;
	struct config cfg;
	struct diag errs;
	struct normalizer *norm;
	struct engine *eng;
	struct consumer **cs;
	struct detector *det;
	struct ops *ops;
	struct sigaction sa;
	struct summary_prev prev;
	enum log_level lvl;
	uint64_t version = 1, fp, seen_flush = 0, wd_usec = 0;
	int64_t next_detect, next_summary, next_fp, next_ops, next_wd = 0;
	bool ready = false;
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 's':
			sets = xgrow(sets, &setcap, nsets + 1, sizeof *sets);
			sets[nsets++] = optarg;
			break;
		case 'h':
			run_usage(stdout);
			free(sets);
			return 0;
		default:
			run_usage(stderr);
			free(sets);
			return 2;
		}
	}
	diag_init(&errs);
	if (config_load(cfgpath, &cfg, &errs) == -1) {
		log_diag(&errs);
		log_error("invalid config, not starting | file=%s errors=%zu",
		    cfgpath, errs.n);
		goto fatal;
	}
	for (i = 0; i < nsets; i++)
		if (config_set(&cfg, sets[i], &errs) == -1) {
			log_diag(&errs);
			goto fatal;
		}
	if (log_level_parse(cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	metrics_set_unhealthy_after(cfg.unhealthy_after_s * 1000);
	if (config_redis_password(&cfg, &password, err, sizeof err) == -1) {
		log_error("%s", err);
		goto fatal;
	}
	if ((norm = norm_new(&cfg.norm, err, sizeof err)) == NULL) {
		log_error("normaliser: %s", err);
		free(password);
		goto fatal;
	}
	if ((eng = build_engine(&cfg, norm, version, &errs)) == NULL) {
		log_diag(&errs);
		log_error("invalid rules, not starting | errors=%zu", errs.n);
		norm_free(norm);
		free(password);
		goto fatal;
	}
	log_info("rules loaded | topics=%zu keywords=%zu version=%" PRIu64,
	    eng->rs->ntopics, eng->rs->nkeywords, version);
	engine_install(eng);
	if (metrics_start(cfg.metrics_listen, err, sizeof err) == -1) {
		log_error("%s", err);
		engine_install(NULL);
		norm_free(norm);
		free(password);
		goto fatal;
	}
	if (metrics_port() > 0)
		log_info("metrics listening | address=%s port=%d",
		    cfg.metrics_listen, metrics_port());

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	cs = xcalloc((size_t)cfg.threads, sizeof *cs);
	for (i = 0; i < (size_t)cfg.threads; i++) {
		if ((cs[i] = consumer_new(&cfg, password, (int)i, err,
		    sizeof err)) == NULL) {
			log_error("kafka: %s", err);
			while (i-- > 0)
				consumer_free(cs[i]);
			free(cs);
			metrics_stop();
			engine_install(NULL);
			norm_free(norm);
			free(password);
			goto fatal;
		}
	}
	for (i = 0; i < (size_t)cfg.threads; i++)
		consumer_start(cs[i]);
	gethostname(host, sizeof host);
	host[sizeof host - 1] = '\0';
	snprintf(instance, sizeof instance, "%s:%ld:%" PRId64, host,
	    (long)getpid(), now_ms());
	det = detector_new(&cfg, password, instance);
	detector_set_stop(det, &got_stop);
	ops = ops_new(&cfg, password, instance);
	log_info("started | instance=%s threads=%" PRId64 " brokers=%s redis=%s",
	    instance, cfg.threads, cfg.kafka_brokers, cfg.redis_address);
	sd_notify(0, "STATUS=joining the consumer group");
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;

	fp = rules_fingerprint(&cfg);
	next_detect = now_ms() + cfg.flush_interval_ms;
	memset(&prev, 0, sizeof prev);
	prev.t_ms = now_ms();
	next_summary = prev.t_ms + 10000;
	next_fp = next_ops = now_ms() + 1000;
	while (!got_stop) {
		int64_t now;
		int reload = 0, hup = 0;

		usleep(20000);
		now = now_ms();
		if (wd_usec > 0 && now >= next_wd) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = now + (int64_t)(wd_usec / 2000);
		}
		if (!ready && all_joined(cs, (size_t)cfg.threads)) {
			ready = true;
			log_info("ready: rules loaded and the consumer group joined");
			sd_notifyf(0, "READY=1\nSTATUS=running, rules v%" PRIu64,
			    version);
		}
		if (got_reload) {
			got_reload = 0;
			reload = hup = 1;
			log_info("reload requested (SIGHUP)");
			sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64
			    "\nSTATUS=reloading", monotonic_usec());
			reload_config(cfgpath, sets, nsets, &cfg);
		}
		if (cfg.reload_mode == RELOAD_AUTO && now >= next_fp) {
			uint64_t nfp = rules_fingerprint(&cfg);

			next_fp = now + 1000;
			if (nfp != fp) {
				fp = nfp;
				reload = 1;
				log_info("rule files changed, reloading");
			}
		}
		if (reload) {
			struct engine *ne;

			diag_free(&errs);
			if ((ne = build_engine(&cfg, norm, version + 1, &errs)) == NULL) {
				log_diag(&errs);
				STAT_ADD(reloads_failed, 1);
				log_error("reload failed, keeping the rules in force | "
				    "errors=%zu version=%" PRIu64, errs.n, version);
			} else {
				version++;
				STAT_ADD(reloads_ok, 1);
				log_info("rules reloaded | topics=%zu keywords=%zu "
				    "version=%" PRIu64, ne->rs->ntopics,
				    ne->rs->nkeywords, version);
				engine_install(ne);
			}
			fp = rules_fingerprint(&cfg);
			if (hup)
				sd_notifyf(0, "%sSTATUS=running, rules v%" PRIu64,
				    ready ? "READY=1\n" : "", version);
		}
		/* the detector runs after every flush that wrote counts (so an
		 * alert follows its burst within one flush), and at least once
		 * per flush interval */
		if (STAT_GET(flush_seq) != seen_flush) {
			seen_flush = STAT_GET(flush_seq);
			next_detect = now;
		}
		if (now >= next_detect) {
			struct engine *cur = engine_current();
			int64_t took;

			detector_tick(det, cur->rs, now);
			if ((took = now_ms() - now) > 2000)
				log_warn("detector pass took %" PRId64 " ms", took);
			STAT_SET(leading, detector_leading(det) ? 1 : 0);
			engine_unref(cur);
			next_detect = now + cfg.flush_interval_ms;
		}
		if (now >= next_ops) {
			if (ops_tick(ops, detector_leading(det), now) == 0)
				STAT_SET(redis_ok_ms, now);
			next_ops = now + 1000;
		}
		if (now >= next_summary) {
			summary(now, &prev, cs, (size_t)cfg.threads);
			next_summary = now + 10000;
		}
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: flushing counts");
	log_info("stopping: flushing counts and leaving the group");
	for (i = 0; i < (size_t)cfg.threads; i++)
		consumer_stop(cs[i]);
	/* no last detector pass: the shutdown must stay within seconds, and
	 * the next leader goes on from the states stored in Redis */
	for (i = 0; i < (size_t)cfg.threads; i++)
		consumer_free(cs[i]);
	free(cs);
	detector_free(det);
	ops_free(ops);
	metrics_stop();
	free(sets);
	engine_install(NULL);
	norm_free(norm);
	free(password);
	config_free(&cfg);
	diag_free(&errs);
	log_info("stopped");
	return rc;

fatal:
	free(sets);
	config_free(&cfg);
	diag_free(&errs);
	return 1;
}
