/*
 * kafka-produce.c — a fast line producer for tests, demo and bench.
 *
 * Reads FILE (or stdin) line by line on the main thread; each line without
 * its '\n' is one message value, empty lines and NUL bytes included, copied
 * into librdkafka (RD_KAFKA_MSG_F_COPY).  Batching is tuned for throughput
 * (linger.ms 5, batch.num.messages 10000, a 2 M message queue, no
 * compression); the idempotent producer with acks=all is the default, so a
 * broker going down or a failed Produce never duplicates or reorders.  A
 * full queue is waited out in rd_kafka_poll(), -r paces the input with a
 * token bucket, -T takes timestamps from a "MS<TAB>" prefix.  Delivery
 * reports run on this thread (in rd_kafka_poll and rd_kafka_flush); at the
 * end "produced N messages, M failed" goes to stderr and the exit status is
 * 0 only if every line was delivered.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_REPORTED	10	/* failures printed, then only counted */

struct stats {
	uint64_t	lines;
	uint64_t	delivered;
	uint64_t	failed;
};

static volatile sig_atomic_t quit;

static void
usage(void)
{
	fprintf(stderr,
"usage: kafka-produce -b brokers -t topic [-kTv] [-a acks] [-p partition]\n"
"                     [-r rate] [-z codec] [-X prop=value]... [file]\n"
"\n"
"Produces each line of file (or stdin) as one message.\n"
"  -a acks       all (default, idempotent producer), 1 or 0\n"
"  -k            key each message with its line number (1, 2, ...)\n"
"  -p partition  fixed partition (default: librdkafka's partitioner)\n"
"  -r rate       at most rate messages per second\n"
"  -T            lines are \"TIMESTAMP_MS<TAB>value\": set the timestamp\n"
"  -v            print throughput at the end\n"
"  -X prop=value any librdkafka property (e.g. message.timeout.ms=10000)\n"
"  -z codec      compression.codec (default none)\n");
	exit(1);
}

static void
sig_quit(int sig)
{
	(void)sig;
	quit++;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct stats	*st = opaque;

	(void)rk;
	if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		st->delivered++;
		return;
	}
	if (st->failed++ < MAX_REPORTED)
		fprintf(stderr, "kafka-produce: delivery failed: %s\n",
		    rd_kafka_err2str(msg->err));
}

static int
conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char	errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka-produce: %s=%s: %s\n", name, value,
		    errstr);
		return (-1);
	}
	return (0);
}

/* Block until one more message may go out at rate messages/s. */
static void
pace(rd_kafka_t *rk, double rate, double *tokens, double *last)
{
	double	t, burst, wait;

	burst = rate / 100 > 1 ? rate / 100 : 1;	/* 10 ms worth */
	for (;;) {
		t = now();
		*tokens += (t - *last) * rate;
		*last = t;
		if (*tokens > burst)
			*tokens = burst;
		if (*tokens >= 1 || quit)
			break;
		wait = (1 - *tokens) / rate;
		if (wait > 0.01)
			wait = 0.01;
		if (wait >= 0.001)
			rd_kafka_poll(rk, (int)(wait * 1000));
		else {
			struct timespec	ts = { 0, (long)(wait * 1e9) };

			rd_kafka_poll(rk, 0);
			nanosleep(&ts, NULL);
		}
	}
	*tokens -= 1;
}

/* Split "MS<TAB>value"; returns -1 if the prefix is missing or bad. */
static int
split_ts(char **line, size_t *len, int64_t *ts)
{
	char	*p = *line, *end = *line + *len;
	int64_t	 v = 0;

	if (p == end || *p < '0' || *p > '9')
		return (-1);
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (*p - '0');
	}
	if (p == end || *p != '\t')
		return (-1);
	p++;
	*len -= (size_t)(p - *line);
	*line = p;
	*ts = v;
	return (0);
}

int
main(int argc, char **argv)
{
	struct stats		 st;
	struct sigaction	 sa;
	rd_kafka_conf_t		*conf;
	rd_kafka_t		*rk;
	rd_kafka_topic_t	*rkt;
	rd_kafka_resp_err_t	 err;
	FILE			*fp = stdin;
	const char		*brokers = NULL, *topic = NULL, *acks = "all";
	const char		*codec = "none";
	char			*line = NULL, *val, *eq, *end, *kp;
	char			 key[24];
	char			 errstr[512];
	char			*props[64];
	size_t			 cap = 0, len, keylen;
	ssize_t			 n;
	int			 ch, nprops = 0, i, verbose = 0;
	int			 keyed = 0, stamped = 0;
	int32_t			 partition = RD_KAFKA_PARTITION_UA;
	int64_t			 ts;
	long			 v;
	double			 rate = 0, tokens = 0, last, start, secs;

	memset(&st, 0, sizeof st);
	while ((ch = getopt(argc, argv, "a:b:kp:r:t:TvX:z:h")) != -1) {
		switch (ch) {
		case 'a':
			if (strcmp(optarg, "all") == 0 ||
			    strcmp(optarg, "-1") == 0)
				acks = "all";
			else if (strcmp(optarg, "1") == 0 ||
			    strcmp(optarg, "0") == 0)
				acks = optarg;
			else
				usage();
			break;
		case 'b':
			brokers = optarg;
			break;
		case 'k':
			keyed = 1;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    v < 0 || v > INT32_MAX)
				usage();
			partition = (int32_t)v;
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(rate > 0))
				usage();
			break;
		case 't':
			topic = optarg;
			break;
		case 'T':
			stamped = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'X':
			if (nprops == (int)(sizeof props / sizeof props[0]) ||
			    strchr(optarg, '=') == NULL)
				usage();
			props[nprops++] = optarg;
			break;
		case 'z':
			codec = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (brokers == NULL || topic == NULL || argc > 1)
		usage();
	if (argc == 1 && strcmp(argv[0], "-") != 0 &&
	    (fp = fopen(argv[0], "r")) == NULL) {
		fprintf(stderr, "kafka-produce: %s: %s\n", argv[0],
		    strerror(errno));
		return (1);
	}
	setvbuf(fp, NULL, _IOFBF, 1 << 20);

	conf = rd_kafka_conf_new();
	if (conf_set(conf, "bootstrap.servers", brokers) != 0 ||
	    conf_set(conf, "client.id", "kafka-produce") != 0 ||
	    conf_set(conf, "linger.ms", "5") != 0 ||
	    conf_set(conf, "batch.num.messages", "10000") != 0 ||
	    conf_set(conf, "queue.buffering.max.messages", "2000000") != 0 ||
	    conf_set(conf, "compression.codec", codec) != 0 ||
	    conf_set(conf, "acks", acks) != 0 ||
	    conf_set(conf, "enable.idempotence",
	    strcmp(acks, "all") == 0 ? "true" : "false") != 0)
		return (1);
	for (i = 0; i < nprops; i++) {
		eq = strchr(props[i], '=');
		*eq = '\0';
		if (conf_set(conf, props[i], eq + 1) != 0)
			return (1);
	}
	rd_kafka_conf_set_opaque(conf, &st);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof errstr)) == NULL) {
		fprintf(stderr, "kafka-produce: %s\n", errstr);
		return (1);
	}
	conf = NULL;	/* owned by rk */
	if ((rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL) {
		fprintf(stderr, "kafka-produce: %s: %s\n", topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		return (1);
	}

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sig_quit;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	start = last = now();
	while (!quit && (n = getline(&line, &cap, fp)) != -1) {
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		val = line;
		st.lines++;
		ts = 0;
		if (stamped && split_ts(&val, &len, &ts) != 0) {
			if (st.failed++ < MAX_REPORTED)
				fprintf(stderr, "kafka-produce: line %llu: no "
				    "TIMESTAMP_MS<TAB> prefix\n",
				    (unsigned long long)st.lines);
			continue;
		}
		kp = NULL;
		keylen = 0;
		if (keyed) {
			keylen = (size_t)snprintf(key, sizeof key, "%llu",
			    (unsigned long long)st.lines);
			kp = key;
		}
		if (rate > 0)
			pace(rk, rate, &tokens, &last);

		for (;;) {
			err = rd_kafka_producev(rk,
			    RD_KAFKA_V_RKT(rkt),
			    RD_KAFKA_V_PARTITION(partition),
			    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			    RD_KAFKA_V_VALUE(val, len),
			    RD_KAFKA_V_KEY(kp, keylen),
			    RD_KAFKA_V_TIMESTAMP(ts),
			    RD_KAFKA_V_END);
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || quit > 1)
				break;
			rd_kafka_poll(rk, 10);
		}
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
		    st.failed++ < MAX_REPORTED)
			fprintf(stderr, "kafka-produce: line %llu: %s\n",
			    (unsigned long long)st.lines,
			    rd_kafka_err2str(err));
		if ((st.lines & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	if (ferror(fp)) {
		fprintf(stderr, "kafka-produce: read: %s\n", strerror(errno));
		st.failed++;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);

	/* Wait for every delivery report; a second signal gives up. */
	while (rd_kafka_flush(rk, 200) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
		if (quit > 1) {
			rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE |
			    RD_KAFKA_PURGE_F_INFLIGHT);
			rd_kafka_poll(rk, 0);
			break;
		}
	}
	secs = now() - start;

	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);

	/* Lines the producer did not take (interrupted) count as failed. */
	if (st.delivered + st.failed < st.lines)
		st.failed = st.lines - st.delivered;
	fprintf(stderr, "produced %llu messages, %llu failed\n",
	    (unsigned long long)st.delivered, (unsigned long long)st.failed);
	if (verbose)
		fprintf(stderr, "kafka-produce: %llu lines in %.2f s, "
		    "%.0f msgs/s\n", (unsigned long long)st.lines, secs,
		    secs > 0 ? (double)st.delivered / secs : 0.0);
	return (st.failed == 0 && !quit ? 0 : 1);
}
