/*
 * bench_latency.c — alert latency: from the first post of a burst being
 * produced to its alert reaching a subscriber.
 *
 *   bench_latency -b BROKERS -t TOPIC -r HOST:PORT [-p PREFIX] [-n BURSTS]
 *                 [-k POSTS] [-g GAP_MS] [-w WAIT_S]
 *
 * DESIGN: one process holds both ends, so both times come from one
 * monotonic clock.  A subscriber thread (hiredis) PSUBSCRIBEs to
 * <prefix>alerts:* and stamps every message as it is read.  The main thread
 * is a librdkafka producer (the settings of tests/tools/kafka-produce:
 * linger.ms 5, acks all, keyed messages spread over the partitions); burst
 * i (1..N) is K posts whose text holds the keyword "twburstNN", which only
 * the rule topic "burst-NN" matches (bench_e2e.sh writes those rules: one
 * threshold alert per topic, long cooldown), so each burst yields exactly
 * one "firing" alert.  The clock of burst i starts right before its first
 * post is handed to librdkafka.  Bursts are GAP_MS plus a varying part of a
 * second apart, so they land at every phase of the daemon's flush cycle.
 * Background traffic is someone else's job (kafka-produce -r).  At the
 * end a PUBLISH on <prefix>alerts:bench-latency-stop wakes the subscriber
 * from its blocking read so it can exit.
 * Prints one "burst i latency_ms=..." line per burst and then
 * "bench-latency bursts=N p50_ms=... p99_ms=... max_ms=... missing=M
 * extra=E"; p-quantiles are nearest-rank.  Exit 0 when every burst alerted
 * exactly once.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>
#include <librdkafka/rdkafka.h>

#define MAX_BURSTS	100
#define STOP_CHANNEL	"bench-latency-stop"

struct shared {
	const char	*host;
	int		 port;
	char		 pattern[256];
	size_t		 chan_prefix_len;
	atomic_int	 ready;
	pthread_mutex_t	 mu;
	double		 alert_at[MAX_BURSTS + 1];	/* 0: none yet */
	int		 alerts[MAX_BURSTS + 1];
	int		 unexpected;
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_latency -b brokers -t topic -r host:port "
	    "[-p prefix] [-n bursts] [-k posts] [-g gap_ms] [-w wait_s]\n");
	exit(2);
}

static void *
subscriber(void *arg)
{
	struct shared *sh = arg;
	redisContext *c;
	redisReply *r;

	c = redisConnect(sh->host, sh->port);
	if (c == NULL || c->err) {
		fprintf(stderr, "bench_latency: redis: %s\n",
		    c ? c->errstr : "cannot connect");
		atomic_store(&sh->ready, -1);
		return NULL;
	}
	r = redisCommand(c, "PSUBSCRIBE %s", sh->pattern);
	if (r == NULL) {
		fprintf(stderr, "bench_latency: PSUBSCRIBE: %s\n", c->errstr);
		atomic_store(&sh->ready, -1);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	atomic_store(&sh->ready, 1);
	for (;;) {
		const char *chan, *msg;
		double t;
		int i;

		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			fprintf(stderr, "bench_latency: subscriber: %s\n",
			    c->errstr);
			break;
		}
		t = now_mono();
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
		    strcmp(r->element[0]->str, "pmessage") == 0) {
			chan = r->element[2]->str;
			msg = r->element[3]->str;
			pthread_mutex_lock(&sh->mu);
			if (strlen(chan) >= sh->chan_prefix_len &&
			    strcmp(chan + sh->chan_prefix_len, STOP_CHANNEL) == 0) {
				pthread_mutex_unlock(&sh->mu);
				freeReplyObject(r);
				break;
			}
			if (strlen(chan) > sh->chan_prefix_len &&
			    sscanf(chan + sh->chan_prefix_len, "burst-%d", &i) == 1 &&
			    i >= 1 && i <= MAX_BURSTS) {
				if (strstr(msg, "\"state\":\"firing\"") != NULL) {
					if (sh->alerts[i]++ == 0)
						sh->alert_at[i] = t;
				}
			} else
				sh->unexpected++;
			pthread_mutex_unlock(&sh->mu);
		}
		freeReplyObject(r);
	}
	if (c != NULL)
		redisFree(c);
	return NULL;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of a sorted array. */
static double
quantile(const double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

int
main(int argc, char **argv)
{
	static const char *const fill[] = {
		"现场视频在网上流传，很多网友都在转发，请大家注意安全，等待官方通报",
		"Witnesses shared photos online and local news is asking for details",
		"附近的居民说声音很大，交通已经管制，有关部门正在处理中，详情待更新",
	};
	const char *brokers = NULL, *topic = NULL, *redis = NULL;
	const char *prefix = "tidewatch:";
	struct shared sh;
	pthread_t th;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[512], buf[1024], key[32], *colon;
	double t_burst[MAX_BURSTS + 1], lat[MAX_BURSTS], next, deadline, wait_s = 10;
	int nbursts = 24, per = 60, gap_ms = 1500, ch, i, j, missing = 0, extra = 0;
	size_t nlat = 0;

	while ((ch = getopt(argc, argv, "b:g:k:n:p:r:t:w:")) != -1) {
		switch (ch) {
		case 'b': brokers = optarg; break;
		case 'g': gap_ms = atoi(optarg); break;
		case 'k': per = atoi(optarg); break;
		case 'n': nbursts = atoi(optarg); break;
		case 'p': prefix = optarg; break;
		case 'r': redis = optarg; break;
		case 't': topic = optarg; break;
		case 'w': wait_s = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (brokers == NULL || topic == NULL || redis == NULL ||
	    (colon = strrchr(redis, ':')) == NULL || nbursts < 1 ||
	    nbursts > MAX_BURSTS || per < 1 || gap_ms < 0)
		usage();

	memset(&sh, 0, sizeof sh);
	pthread_mutex_init(&sh.mu, NULL);
	*colon = '\0';
	sh.host = redis;
	sh.port = atoi(colon + 1);
	snprintf(sh.pattern, sizeof sh.pattern, "%salerts:*", prefix);
	sh.chan_prefix_len = strlen(sh.pattern) - 1;
	if (pthread_create(&th, NULL, subscriber, &sh) != 0)
		return 2;
	while (atomic_load(&sh.ready) == 0)
		usleep(10000);
	if (atomic_load(&sh.ready) < 0)
		return 2;

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "linger.ms", "5", errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bench_latency: %s\n", errstr);
		return 2;
	}
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof errstr)) == NULL) {
		fprintf(stderr, "bench_latency: %s\n", errstr);
		return 2;
	}
	/* metadata and the producer id before the clock matters */
	{
		const struct rd_kafka_metadata *md;

		if (rd_kafka_metadata(rk, 0, NULL, &md, 5000) ==
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			rd_kafka_metadata_destroy(md);
	}

	next = now_mono();
	for (i = 1; i <= nbursts; i++) {
		double t;

		while ((t = now_mono()) < next)
			rd_kafka_poll(rk, (int)((next - t) * 1000) + 1);
		t_burst[i] = now_mono();
		for (j = 0; j < per; j++) {
			int n = snprintf(buf, sizeof buf, "{\"id\":\"burst-%d-%d\","
			    "\"text\":\"突发 twburst%02d %s %d\",\"time\":%lld,"
			    "\"platform\":\"weibo\",\"region\":\"广东\","
			    "\"user\":{\"id\":\"u%07d\"}}", i, j, i,
			    fill[j % 3], j, (long long)time(NULL),
			    (i * 7919 + j * 104729) % 5000000);
			int kn = snprintf(key, sizeof key, "b%d-%d", i, j);
			rd_kafka_resp_err_t err;

			err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
			    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			    RD_KAFKA_V_VALUE(buf, (size_t)n),
			    RD_KAFKA_V_KEY(key, (size_t)kn), RD_KAFKA_V_END);
			if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
				fprintf(stderr, "bench_latency: produce: %s\n",
				    rd_kafka_err2str(err));
		}
		rd_kafka_poll(rk, 0);
		/* the next burst GAP_MS plus 0..1 s later, phases spread */
		next = t_burst[i] + (gap_ms + (i * 617) % 1000) / 1000.0;
	}
	rd_kafka_flush(rk, 10000);

	/* wait for the last alerts */
	deadline = now_mono() + wait_s;
	while (now_mono() < deadline) {
		int all = 1;

		pthread_mutex_lock(&sh.mu);
		for (i = 1; i <= nbursts; i++)
			all &= sh.alerts[i] > 0;
		pthread_mutex_unlock(&sh.mu);
		if (all)
			break;
		usleep(50000);
	}
	usleep(300000);		/* a duplicate would come right after */
	{
		/* the subscriber blocks in a read: wake it with a message */
		redisContext *c = redisConnect(sh.host, sh.port);
		redisReply *r;

		if (c != NULL && !c->err && (r = redisCommand(c, "PUBLISH %salerts:%s x",
		    prefix, STOP_CHANNEL)) != NULL)
			freeReplyObject(r);
		redisFree(c);
	}
	pthread_join(th, NULL);
	rd_kafka_destroy(rk);

	for (i = 1; i <= nbursts; i++) {
		if (sh.alerts[i] == 0) {
			missing++;
			printf("burst %d no alert\n", i);
			continue;
		}
		extra += sh.alerts[i] - 1;
		lat[nlat] = (sh.alert_at[i] - t_burst[i]) * 1000.0;
		printf("burst %d latency_ms=%.0f alerts=%d\n", i, lat[nlat],
		    sh.alerts[i]);
		nlat++;
	}
	qsort(lat, nlat, sizeof *lat, dbl_cmp);
	if (nlat > 0)
		printf("bench-latency bursts=%d p50_ms=%.0f p99_ms=%.0f "
		    "max_ms=%.0f missing=%d extra=%d\n", nbursts,
		    quantile(lat, nlat, 0.50), quantile(lat, nlat, 0.99),
		    lat[nlat - 1], missing, extra + sh.unexpected);
	else
		printf("bench-latency bursts=%d p50_ms=NA p99_ms=NA missing=%d\n",
		    nbursts, missing);
	return missing == 0 && extra == 0 ? 0 : 1;
}
