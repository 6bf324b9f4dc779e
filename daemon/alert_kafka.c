/*
 * alert_kafka.c — the alert log produced to a Kafka topic
 * (alerts.kafka_topic), for downstream stream processors.
 *
 * DESIGN: one librdkafka producer (idempotent with acks=all, so its own
 * retries neither duplicate nor reorder; kafka.brokers and
 * kafka.properties as the consumers have them), driven by the delivery
 * thread of alertmanager.c, which owns the queue and the durable cursor.
 * akafka_produce() hands librdkafka the first alerts of the queue, each
 * the alert log's JSON as it is, keyed by its "topic" so one topic's
 * alerts stay in order on one partition; akafka_poll(), called every tick
 * and never blocking, serves the delivery reports and says, once every
 * report of the batch is in, how many of its first alerts were delivered:
 * only those move the cursor, the rest are retried.  So a broker that is
 * slow or away never holds up the Alertmanager URLs on the same thread.
 * Every callback runs on the delivery thread, inside rd_kafka_poll().
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "alertmanager.h"
#include "diag.h"
#include "log.h"
#include "xmalloc.h"

enum { REPORT_WAIT, REPORT_OK, REPORT_FAILED };

struct akafka {
	rd_kafka_t	*rk;
	char		*topic;
	uint64_t	 seq;		/* the next message's number */
	uint64_t	 first;		/* the batch's first message */
	size_t		 n, nreports;	/* the batch in flight: 0 none */
	unsigned char	*report;	/* REPORT_* of each of the batch */
	size_t		 reportcap;
	char		 err[256];	/* the batch's first failure */
};

/* librdkafka properties set before kafka.properties (which may override
 * them): a delivery that cannot be made fails within 30 s and is retried
 * from the queue, with the failure counted. */
static const struct {
	const char *k, *v;
} producer_defaults[] = {
	{ "enable.idempotence", "true" },
	{ "acks", "all" },
	{ "linger.ms", "5" },
	{ "message.timeout.ms", "30000" },
	{ "client.id", "tidewatch-alerts" },
};

static void
on_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct akafka *k = opaque;
	uint64_t seq = (uint64_t)(uintptr_t)m->_private;

	(void)rk;
	if (seq < k->first || seq - k->first >= k->n)
		return;		/* not of this batch: cannot happen */
	k->report[seq - k->first] = m->err == RD_KAFKA_RESP_ERR_NO_ERROR ?
	    REPORT_OK : REPORT_FAILED;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && k->err[0] == '\0')
		snprintf(k->err, sizeof k->err, "%s", rd_kafka_err2str(m->err));
	k->nreports++;
}

/* librdkafka's log: its errors as warnings (a failed delivery is what
 * counts, and is logged by the delivery thread), the rest for debugging. */
static void
producer_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 3)
		log_warn("kafka alert producer %s: %s", fac, buf);
	else
		log_debug("kafka alert producer %s: %s", fac, buf);
}

struct akafka *
akafka_new(const struct config *cfg, char *err, size_t errsz)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct akafka *k = xcalloc(1, sizeof *k);
	struct diag errs;
	size_t i;

	for (i = 0; i < sizeof producer_defaults / sizeof producer_defaults[0];
	    i++)
		rd_kafka_conf_set(conf, producer_defaults[i].k,
		    producer_defaults[i].v, NULL, 0);
	diag_init(&errs);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_brokers,
	    err, errsz) != RD_KAFKA_CONF_OK ||
	    config_kafka_apply(cfg, conf, &errs) == -1) {
		if (errs.n > 0)
			snprintf(err, errsz, "%s", errs.msgs[0]);
		diag_free(&errs);
		rd_kafka_conf_destroy(conf);
		free(k);
		return NULL;
	}
	diag_free(&errs);
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, on_report);
	rd_kafka_conf_set_log_cb(conf, producer_log);
	if ((k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errsz)) ==
	    NULL) {
		rd_kafka_conf_destroy(conf);
		free(k);
		return NULL;
	}
	k->topic = xstrdup(cfg->alert_kafka_topic);
	return k;
}

/* The alert's "topic", its message key (NULL: none). */
static char *
alert_topic(const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "topic");
	char *key = cJSON_IsString(t) ? xstrdup(t->valuestring) : NULL;

	cJSON_Delete(root);
	return key;
}

int
akafka_produce(struct akafka *k, const struct am_queue *q, size_t n,
    char *err, size_t errsz)
{
	rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
	size_t i;

	if (k->n > 0)
		return 0;	/* a batch is in flight */
	k->report = xgrow(k->report, &k->reportcap, n, 1);
	k->first = k->seq;
	k->nreports = 0;
	k->err[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *text = amq_at(q, i)->text;
		char *key = alert_topic(text);
		size_t keylen = key != NULL ? strlen(key) : 0;

		k->report[i] = REPORT_WAIT;
		rc = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->topic),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_VALUE((void *)text, strlen(text)),
		    RD_KAFKA_V_KEY(key, keylen),
		    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(k->seq)),
		    RD_KAFKA_V_END);
		free(key);
		if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		k->seq++;
	}
	k->n = i;
	if (i == 0) {
		snprintf(err, errsz, "%s", rd_kafka_err2str(rc));
		return -1;
	}
	return (int)i;
}

int
akafka_poll(struct akafka *k, size_t *delivered, char *err, size_t errsz)
{
	size_t i;

	rd_kafka_poll(k->rk, 0);
	if (k->n == 0 || k->nreports < k->n)
		return 0;
	for (i = 0; i < k->n && k->report[i] == REPORT_OK; i++)
		;
	*delivered = i;
	snprintf(err, errsz, "%s", k->err);
	k->n = 0;
	return 1;
}

bool
akafka_busy(const struct akafka *k)
{
	return k->n > 0;
}

void
akafka_free(struct akafka *k)
{
	if (k == NULL)
		return;
	/* what is still in flight is sent again from the cursor */
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	k->n = 0;
	rd_kafka_flush(k->rk, 1000);
	rd_kafka_destroy(k->rk);
	free(k->topic);
	free(k->report);
	free(k);
}
