/*
 * bare_consumer.c — the consumption ceiling for the end-to-end benchmark.
 *
 *   bare_consumer -b BROKERS -t TOPIC -g GROUP -n MESSAGES [-T TIMEOUT_S]
 *
 * A minimal librdkafka group consumer with the daemon's settings (see
 * consumer_new() in daemon/consumer.c: no auto commit, earliest, 100 ms
 * fetch wait) that only touches each payload (sums its first byte) in an
 * rd_kafka_consumer_poll() loop until it has N messages.  The clock runs
 * from the first message received to the Nth, so joining the group is not
 * counted; the daemon's figure in bench_e2e.sh excludes its start-up in
 * the same way.  Prints "bare-consumer msgs=N secs=S msgs_per_s=R
 * cpu_us_per_msg=C" on stdout (C: the whole process's CPU time, all
 * librdkafka threads included, per message); exits 1 if N messages did
 * not arrive within the timeout.
 */
#include <sys/resource.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bare_consumer -b brokers -t topic -g group "
	    "-n messages [-T timeout_s]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *k, *v;
	} settings[] = {
		{ "enable.auto.commit", "false" },
		{ "enable.auto.offset.store", "false" },
		{ "auto.offset.reset", "earliest" },
		{ "enable.partition.eof", "false" },
		{ "session.timeout.ms", "10000" },
		{ "heartbeat.interval.ms", "1000" },
		{ "fetch.wait.max.ms", "100" },
		{ "queued.min.messages", "1000000" },
	};
	const char *brokers = NULL, *topic = NULL, *group = NULL;
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	struct rusage ru;
	char errstr[512];
	uint64_t want = 0, got = 0, sum = 0, errors = 0;
	double timeout = 60, t_start, t_first = 0, t_last = 0, cpu;
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "b:g:n:t:T:")) != -1) {
		switch (ch) {
		case 'b': brokers = optarg; break;
		case 'g': group = optarg; break;
		case 'n': want = strtoull(optarg, NULL, 10); break;
		case 't': topic = optarg; break;
		case 'T': timeout = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (brokers == NULL || topic == NULL || group == NULL || want == 0)
		usage();

	conf = rd_kafka_conf_new();
	for (i = 0; i < sizeof settings / sizeof settings[0]; i++)
		rd_kafka_conf_set(conf, settings[i].k, settings[i].v, NULL, 0);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", group, errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "bare-consumer", errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bare_consumer: %s\n", errstr);
		return 2;
	}
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
	    sizeof errstr)) == NULL) {
		fprintf(stderr, "bare_consumer: %s\n", errstr);
		return 2;
	}
	rd_kafka_poll_set_consumer(rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "bare_consumer: cannot subscribe to %s\n",
		    topic);
		return 2;
	}
	rd_kafka_topic_partition_list_destroy(topics);

	t_start = now();
	while (got < want && now() - t_start < timeout) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (m == NULL)
			continue;
		if (m->err) {
			if (errors++ < 5)
				fprintf(stderr, "bare_consumer: %s\n",
				    rd_kafka_message_errstr(m));
		} else {
			if (got == 0)
				t_first = now();
			if (m->len > 0)
				sum += ((const unsigned char *)m->payload)[0];
			if (++got == want)
				t_last = now();
		}
		rd_kafka_message_destroy(m);
	}
	getrusage(RUSAGE_SELF, &ru);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	if (got < want) {
		fprintf(stderr, "bare_consumer: %llu of %llu messages in %.0f s\n",
		    (unsigned long long)got, (unsigned long long)want, timeout);
		return 1;
	}
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("bare-consumer msgs=%llu secs=%.3f msgs_per_s=%.0f "
	    "cpu_us_per_msg=%.2f sum=%llu\n", (unsigned long long)got,
	    t_last - t_first, (double)(got - 1) / (t_last - t_first),
	    cpu * 1e6 / (double)got, (unsigned long long)sum);
	return 0;
}
