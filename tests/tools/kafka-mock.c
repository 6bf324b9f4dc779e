/*
 * kafka-mock.c — a librdkafka mock Kafka cluster for tests, demo and bench.
 *
 * rd_kafka_mock_cluster_new() on an idle producer handle starts N brokers
 * (ids 1..N) on 127.0.0.1, ports picked by the kernel; the -t topics are
 * created, the bootstrap servers printed on one line, and the main thread
 * then serves control commands in one poll() loop until SIGTERM or SIGINT
 * (exit 0).  The cluster runs on its own librdkafka thread; the mock calls
 * used here are synchronous and thread safe, so "ok" means applied.
 * Commands, one per line, each answered "ok" or "error: reason", come from
 * stdin (neither tty nor /dev/null), a FIFO (-c PATH, replies on stdout) or
 * a Unix socket (-c PATH otherwise, replies on the connection; -C is its
 * client).  librdkafka 2.0.2 keeps at most 5 MiB or 100000 record batches
 * per partition, hard-coded, dropping the oldest; it returns one batch per
 * partition per Fetch and holds an empty Fetch for fetch.wait.max.ms.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define CTL_LINE_MAX	1024
#define CTL_ARGS_MAX	8
#define CTL_CLIENTS	16
#define MAX_BROKERS	64
#define MAX_PARTITIONS	10000
#define MAX_ERRORS	1000000

enum ctl_kind {
	CTL_STDIN,
	CTL_FIFO,
	CTL_CLIENT
};

/* One source of command lines and where its replies go. */
struct ctl_in {
	enum ctl_kind	 kind;
	int		 fd;		/* -1 when unused */
	int		 out;
	char		 buf[CTL_LINE_MAX];
	size_t		 len;
	int		 overflow;	/* discarding a too long line */
};

struct mock {
	rd_kafka_t		*rk;
	rd_kafka_mock_cluster_t	*mc;
	int			 brokers;

	struct ctl_in		 in[2 + CTL_CLIENTS];	/* stdin, FIFO, clients */
	int			 fifo_wfd;	/* keeps the FIFO open */
	int			 listen_fd;
	const char		*sock_path;
};

struct ctl_cmd {
	const char	*name;
	int		 minargs;
	int		 maxargs;
	const char	*args;
	int		(*fn)(struct mock *, char **, char *, size_t);
};

static volatile sig_atomic_t quit;

/* Kafka protocol API keys by name (Kafka's own spelling). */
static const struct {
	const char	*name;
	int16_t		 key;
} api_keys[] = {
	{ "Produce", 0 },		{ "Fetch", 1 },
	{ "ListOffsets", 2 },		{ "Offset", 2 },
	{ "Metadata", 3 },		{ "OffsetCommit", 8 },
	{ "OffsetFetch", 9 },		{ "FindCoordinator", 10 },
	{ "JoinGroup", 11 },		{ "Heartbeat", 12 },
	{ "LeaveGroup", 13 },		{ "SyncGroup", 14 },
	{ "DescribeGroups", 15 },	{ "ListGroups", 16 },
	{ "SaslHandshake", 17 },	{ "ApiVersions", 18 },
	{ "ApiVersion", 18 },		{ "CreateTopics", 19 },
	{ "DeleteTopics", 20 },		{ "DeleteRecords", 21 },
	{ "InitProducerId", 22 },	{ "OffsetForLeaderEpoch", 23 },
	{ "AddPartitionsToTxn", 24 },	{ "AddOffsetsToTxn", 25 },
	{ "EndTxn", 26 },		{ "TxnOffsetCommit", 28 },
	{ "DescribeConfigs", 32 },	{ "SaslAuthenticate", 36 },
};

static void
usage(void)
{
	fprintf(stderr,
"usage: kafka-mock [-b brokers] [-c path] [-d debug] [-t topic[:parts]]...\n"
"       kafka-mock -C path command [arg...]\n"
"\n"
"Starts a librdkafka mock cluster on 127.0.0.1 (ephemeral ports), creates\n"
"the topics, prints the bootstrap servers on one line and runs until SIGTERM\n"
"or SIGINT.  Control commands, one per line, each answered \"ok\" or\n"
"\"error: ...\", are read from stdin (unless a tty or /dev/null) and from\n"
"-c path: an existing FIFO (replies on stdout) or else a Unix socket created\n"
"there (replies on the connection; -C path sends one command to it).\n"
"\n"
"  broker-down ID | broker-up ID        close connections, refuse / accept\n"
"  rtt BROKER MS                        delay every response of BROKER\n"
"  request-errors API N ERR             the next N API requests fail with ERR\n"
"  broker-request-errors BROKER API N ERR [RTT_MS]\n"
"  clear-request-errors API\n"
"  partition-leader TOPIC PART BROKER   BROKER -1 leaves it without leader\n"
"  create-topic NAME PARTITIONS [RF]\n"
"  topic-error TOPIC ERR                error returned in Metadata for TOPIC\n"
"  coordinator group|transaction KEY BROKER\n"
"  ping | help\n"
"\n"
"API is a number or a name (Produce, Fetch, ListOffsets, Metadata,\n"
"OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,\n"
"LeaveGroup, SyncGroup, InitProducerId, ...); ERR a number or a librdkafka\n"
"error name (NOT_LEADER_FOR_PARTITION, _TRANSPORT to drop the connection).\n"
"\n"
"Each partition keeps at most 5 MiB of record batches (as sent, so\n"
"compressed batches hold more) or 100000 batches; older ones are dropped.\n"
"An empty Fetch is answered only after fetch.wait.max.ms, new data or not:\n"
"consumers should set it low (10) or they fall behind and lose data.\n");
	exit(1);
}

static void
sig_quit(int sig)
{
	(void)sig;
	quit = 1;
}

/* Parse a decimal integer in [min, max]. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return (-1);
	*out = v;
	return (0);
}

static int
parse_api(const char *s, int16_t *key)
{
	size_t	i;
	long	v;

	if (parse_long(s, 0, 99, &v) == 0) {
		*key = (int16_t)v;
		return (0);
	}
	for (i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++) {
		if (strcasecmp(s, api_keys[i].name) == 0 ||
		    (strncasecmp(s, api_keys[i].name, strlen(api_keys[i].name))
		    == 0 && strcasecmp(s + strlen(api_keys[i].name),
		    "Request") == 0)) {
			*key = api_keys[i].key;
			return (0);
		}
	}
	return (-1);
}

/* An error code as a number or a name, with or without RD_KAFKA_RESP_ERR_. */
static int
parse_err(const char *s, rd_kafka_resp_err_t *err)
{
	const struct rd_kafka_err_desc	*descs;
	size_t				 n, i;
	long				 v;

	if (parse_long(s, INT_MIN, INT_MAX, &v) == 0) {
		*err = (rd_kafka_resp_err_t)v;
		return (0);
	}
	if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
		s += 18;
	rd_kafka_get_err_descs(&descs, &n);
	for (i = 0; i < n; i++) {
		if (descs[i].name != NULL && strcasecmp(descs[i].name, s) == 0) {
			*err = descs[i].code;
			return (0);
		}
	}
	return (-1);
}

static int
parse_broker(struct mock *m, const char *s, int allow_none, int32_t *id,
    char *errstr, size_t errlen)
{
	long	v;

	if (parse_long(s, allow_none ? -1 : 1, m->brokers, &v) != 0 ||
	    v == 0) {
		snprintf(errstr, errlen, "bad broker id: %s (1..%d%s)", s,
		    m->brokers, allow_none ? " or -1" : "");
		return (-1);
	}
	*id = (int32_t)v;
	return (0);
}

static int
kerr(rd_kafka_resp_err_t err, char *errstr, size_t errlen)
{
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return (0);
	snprintf(errstr, errlen, "%s", rd_kafka_err2str(err));
	return (-1);
}

static int
cmd_broker_down(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	int32_t	id;

	if (parse_broker(m, argv[1], 0, &id, errstr, errlen) != 0)
		return (-1);
	return (kerr(rd_kafka_mock_broker_set_down(m->mc, id), errstr,
	    errlen));
}

static int
cmd_broker_up(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	int32_t	id;

	if (parse_broker(m, argv[1], 0, &id, errstr, errlen) != 0)
		return (-1);
	return (kerr(rd_kafka_mock_broker_set_up(m->mc, id), errstr, errlen));
}

static int
cmd_rtt(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	int32_t	id;
	long	ms;

	if (parse_broker(m, argv[1], 0, &id, errstr, errlen) != 0)
		return (-1);
	if (parse_long(argv[2], 0, 3600 * 1000, &ms) != 0) {
		snprintf(errstr, errlen, "bad milliseconds: %s", argv[2]);
		return (-1);
	}
	return (kerr(rd_kafka_mock_broker_set_rtt(m->mc, id, (int)ms), errstr,
	    errlen));
}

/* Parse "API N ERR" starting at argv[0]. */
static int
parse_errors(char **argv, int16_t *key, long *n, rd_kafka_resp_err_t *err,
    char *errstr, size_t errlen)
{
	if (parse_api(argv[0], key) != 0) {
		snprintf(errstr, errlen, "unknown API: %s", argv[0]);
		return (-1);
	}
	if (parse_long(argv[1], 1, MAX_ERRORS, n) != 0) {
		snprintf(errstr, errlen, "bad count: %s (1..%d)", argv[1],
		    MAX_ERRORS);
		return (-1);
	}
	if (parse_err(argv[2], err) != 0) {
		snprintf(errstr, errlen, "unknown error: %s", argv[2]);
		return (-1);
	}
	return (0);
}

static int
cmd_request_errors(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	rd_kafka_resp_err_t	*errs, err;
	int16_t			 key;
	long			 n, i;

	if (parse_errors(argv + 1, &key, &n, &err, errstr, errlen) != 0)
		return (-1);
	if ((errs = calloc((size_t)n, sizeof *errs)) == NULL) {
		snprintf(errstr, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++)
		errs[i] = err;
	rd_kafka_mock_push_request_errors_array(m->mc, key, (size_t)n, errs);
	free(errs);
	return (0);
}

static int
cmd_broker_request_errors(struct mock *m, char **argv, char *errstr,
    size_t errlen)
{
	rd_kafka_resp_err_t	err;
	int32_t			id;
	int16_t			key;
	long			n, i, rtt = 0;

	if (parse_broker(m, argv[1], 0, &id, errstr, errlen) != 0)
		return (-1);
	if (parse_errors(argv + 2, &key, &n, &err, errstr, errlen) != 0)
		return (-1);
	if (argv[5] != NULL && parse_long(argv[5], 0, 3600 * 1000, &rtt) != 0) {
		snprintf(errstr, errlen, "bad milliseconds: %s", argv[5]);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (kerr(rd_kafka_mock_broker_push_request_error_rtts(m->mc,
		    id, key, 1, err, (int)rtt), errstr, errlen) != 0)
			return (-1);
	}
	return (0);
}

static int
cmd_clear_request_errors(struct mock *m, char **argv, char *errstr,
    size_t errlen)
{
	int16_t	key;

	if (parse_api(argv[1], &key) != 0) {
		snprintf(errstr, errlen, "unknown API: %s", argv[1]);
		return (-1);
	}
	rd_kafka_mock_clear_request_errors(m->mc, key);
	return (0);
}

static int
cmd_partition_leader(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	int32_t	id;
	long	part;

	if (parse_long(argv[2], 0, MAX_PARTITIONS - 1, &part) != 0) {
		snprintf(errstr, errlen, "bad partition: %s", argv[2]);
		return (-1);
	}
	if (parse_broker(m, argv[3], 1, &id, errstr, errlen) != 0)
		return (-1);
	return (kerr(rd_kafka_mock_partition_set_leader(m->mc, argv[1],
	    (int32_t)part, id), errstr, errlen));
}

static int
create_topic(struct mock *m, const char *name, long parts, long rf,
    char *errstr, size_t errlen)
{
	if (rf <= 0)
		rf = m->brokers < 3 ? m->brokers : 3;
	return (kerr(rd_kafka_mock_topic_create(m->mc, name, (int)parts,
	    (int)rf), errstr, errlen));
}

static int
cmd_create_topic(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	long	parts, rf = 0;

	if (parse_long(argv[2], 1, MAX_PARTITIONS, &parts) != 0) {
		snprintf(errstr, errlen, "bad partition count: %s", argv[2]);
		return (-1);
	}
	if (argv[3] != NULL && parse_long(argv[3], 1, m->brokers, &rf) != 0) {
		snprintf(errstr, errlen, "bad replication factor: %s (1..%d)",
		    argv[3], m->brokers);
		return (-1);
	}
	return (create_topic(m, argv[1], parts, rf, errstr, errlen));
}

static int
cmd_topic_error(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	rd_kafka_resp_err_t	err;

	if (parse_err(argv[2], &err) != 0) {
		snprintf(errstr, errlen, "unknown error: %s", argv[2]);
		return (-1);
	}
	rd_kafka_mock_topic_set_error(m->mc, argv[1], err);
	return (0);
}

static int
cmd_coordinator(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	int32_t	id;

	if (strcmp(argv[1], "group") != 0 &&
	    strcmp(argv[1], "transaction") != 0) {
		snprintf(errstr, errlen, "type must be group or transaction");
		return (-1);
	}
	if (parse_broker(m, argv[3], 0, &id, errstr, errlen) != 0)
		return (-1);
	return (kerr(rd_kafka_mock_coordinator_set(m->mc, argv[1], argv[2], id),
	    errstr, errlen));
}

static int
cmd_ping(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	(void)m;
	(void)argv;
	(void)errstr;
	(void)errlen;
	return (0);
}

static int cmd_help(struct mock *, char **, char *, size_t);

static const struct ctl_cmd ctl_cmds[] = {
	{ "broker-down", 1, 1, "ID", cmd_broker_down },
	{ "broker-up", 1, 1, "ID", cmd_broker_up },
	{ "rtt", 2, 2, "BROKER MS", cmd_rtt },
	{ "request-errors", 3, 3, "API N ERR", cmd_request_errors },
	{ "broker-request-errors", 4, 5, "BROKER API N ERR [RTT_MS]",
	  cmd_broker_request_errors },
	{ "clear-request-errors", 1, 1, "API", cmd_clear_request_errors },
	{ "partition-leader", 3, 3, "TOPIC PARTITION BROKER|-1",
	  cmd_partition_leader },
	{ "create-topic", 2, 3, "NAME PARTITIONS [RF]", cmd_create_topic },
	{ "topic-error", 2, 2, "TOPIC ERR", cmd_topic_error },
	{ "coordinator", 3, 3, "group|transaction KEY BROKER",
	  cmd_coordinator },
	{ "ping", 0, 0, "", cmd_ping },
	{ "help", 0, 0, "", cmd_help },
};

/* "help" answers on its one line: "ok" followed by the command list. */
static int
cmd_help(struct mock *m, char **argv, char *errstr, size_t errlen)
{
	size_t	i, off;

	(void)m;
	(void)argv;
	off = 0;
	for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0] && off < errlen;
	    i++) {
		off += (size_t)snprintf(errstr + off, errlen - off, "%s%s%s%s",
		    i == 0 ? "" : "; ", ctl_cmds[i].name,
		    *ctl_cmds[i].args != '\0' ? " " : "", ctl_cmds[i].args);
	}
	return (1);
}

/*
 * Run one command line and write the reply line to fd.  Blank lines and
 * lines starting with '#' get no reply.
 */
static void
ctl_run(struct mock *m, char *line, int fd)
{
	const struct ctl_cmd	*cmd = NULL;
	char			*argv[CTL_ARGS_MAX + 1], *p;
	char			 errstr[512], reply[600];
	int			 argc = 0, r, len;
	size_t			 i;

	for (p = strtok(line, " \t\r\n"); p != NULL;
	    p = strtok(NULL, " \t\r\n")) {
		if (argc == CTL_ARGS_MAX) {
			argc = -1;
			break;
		}
		argv[argc++] = p;
	}
	if (argc == 0 || *argv[0] == '#')
		return;

	errstr[0] = '\0';
	if (argc == -1) {
		snprintf(errstr, sizeof errstr, "too many arguments");
		r = -1;
	} else {
		argv[argc] = NULL;
		for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++) {
			if (strcmp(argv[0], ctl_cmds[i].name) == 0)
				cmd = &ctl_cmds[i];
		}
		if (cmd == NULL) {
			snprintf(errstr, sizeof errstr,
			    "unknown command: %s (try help)", argv[0]);
			r = -1;
		} else if (argc - 1 < cmd->minargs || argc - 1 > cmd->maxargs) {
			snprintf(errstr, sizeof errstr, "usage: %s %s",
			    cmd->name, cmd->args);
			r = -1;
		} else
			r = cmd->fn(m, argv, errstr, sizeof errstr);
	}

	if (r == 0)
		len = snprintf(reply, sizeof reply, "ok\n");
	else if (r > 0)
		len = snprintf(reply, sizeof reply, "ok %s\n", errstr);
	else
		len = snprintf(reply, sizeof reply, "error: %s\n", errstr);
	if (len < 0 || (size_t)len >= sizeof reply) {
		len = (int)sizeof reply - 1;
		reply[len - 1] = '\n';
	}
	for (p = reply; len > 0; ) {
		ssize_t	n = write(fd, p, (size_t)len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		len -= (int)n;
	}
}

static void
ctl_close(struct mock *m, struct ctl_in *in)
{
	(void)m;
	if (in->kind != CTL_STDIN)
		close(in->fd);
	in->fd = -1;
	in->len = 0;
	in->overflow = 0;
}

/* Read what is there and run every complete line. */
static void
ctl_read(struct mock *m, struct ctl_in *in)
{
	char	*nl, *start;
	ssize_t	 n;
	size_t	 left;

	n = read(in->fd, in->buf + in->len, sizeof in->buf - 1 - in->len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* A last line without newline still counts. */
		if (in->len > 0 && !in->overflow) {
			in->buf[in->len] = '\0';
			ctl_run(m, in->buf, in->out);
		}
		ctl_close(m, in);
		return;
	}
	in->len += (size_t)n;
	in->buf[in->len] = '\0';

	start = in->buf;
	while ((nl = memchr(start, '\n', in->len - (size_t)(start - in->buf)))
	    != NULL) {
		*nl = '\0';
		if (in->overflow)
			in->overflow = 0;
		else
			ctl_run(m, start, in->out);
		start = nl + 1;
	}
	left = in->len - (size_t)(start - in->buf);
	memmove(in->buf, start, left);
	in->len = left;

	if (in->len == sizeof in->buf - 1) {
		if (!in->overflow)
			dprintf(in->out, "error: line longer than %d bytes\n",
			    CTL_LINE_MAX - 2);
		in->overflow = 1;
		in->len = 0;
	}
}

static void
ctl_accept(struct mock *m)
{
	size_t	i;
	int	fd;

	if ((fd = accept(m->listen_fd, NULL, NULL)) == -1)
		return;
	for (i = 2; i < sizeof m->in / sizeof m->in[0]; i++) {
		if (m->in[i].fd == -1) {
			m->in[i].kind = CTL_CLIENT;
			m->in[i].fd = fd;
			m->in[i].out = fd;
			m->in[i].len = 0;
			m->in[i].overflow = 0;
			return;
		}
	}
	dprintf(fd, "error: too many control connections\n");
	close(fd);
}

/* Is fd 0 a tty, /dev/null or closed?  Then it carries no commands. */
static int
stdin_usable(void)
{
	struct stat	sb, nb;

	if (isatty(STDIN_FILENO) || fstat(STDIN_FILENO, &sb) == -1)
		return (0);
	if (S_ISCHR(sb.st_mode) && stat("/dev/null", &nb) == 0 &&
	    sb.st_rdev == nb.st_rdev)
		return (0);
	return (1);
}

static int
ctl_open(struct mock *m, const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;

	if (stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
		m->in[1].kind = CTL_FIFO;
		m->in[1].out = STDOUT_FILENO;
		if ((m->in[1].fd = open(path, O_RDONLY|O_NONBLOCK)) == -1) {
			fprintf(stderr, "kafka-mock: %s: %s\n", path,
			    strerror(errno));
			return (-1);
		}
		/* Our own writer: no EOF when the test's writers close. */
		m->fifo_wfd = open(path, O_WRONLY|O_NONBLOCK);
		return (0);
	}

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "kafka-mock: %s: path too long\n", path);
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			fprintf(stderr, "kafka-mock: %s: exists and is neither "
			    "a FIFO nor a socket\n", path);
			return (-1);
		}
		unlink(path);
	}
	if ((m->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(m->listen_fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(m->listen_fd, 8) == -1) {
		fprintf(stderr, "kafka-mock: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	m->sock_path = path;
	return (0);
}

/* -C: send one command to a running kafka-mock and print its reply. */
static int
client(const char *path, int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	char			 line[CTL_LINE_MAX], reply[CTL_LINE_MAX];
	size_t			 off = 0, got = 0;
	ssize_t			 n;
	int			 fd, i;

	for (i = 0; i < argc; i++) {
		n = snprintf(line + off, sizeof line - off, "%s%s",
		    i == 0 ? "" : " ", argv[i]);
		if (n < 0 || (size_t)n >= sizeof line - off - 1) {
			fprintf(stderr, "kafka-mock: command too long\n");
			return (1);
		}
		off += (size_t)n;
	}
	line[off++] = '\n';

	if (stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
		/* A FIFO has no way back: the reply goes to the mock's stdout. */
		if ((fd = open(path, O_WRONLY)) == -1 ||
		    write(fd, line, off) != (ssize_t)off) {
			fprintf(stderr, "kafka-mock: %s: %s\n", path,
			    strerror(errno));
			return (1);
		}
		close(fd);
		return (0);
	}

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "kafka-mock: %s: path too long\n", path);
		return (1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    write(fd, line, off) != (ssize_t)off) {
		fprintf(stderr, "kafka-mock: %s: %s\n", path, strerror(errno));
		return (1);
	}
	shutdown(fd, SHUT_WR);
	while (got < sizeof reply - 1 &&
	    (n = read(fd, reply + got, sizeof reply - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	reply[got] = '\0';
	fputs(reply, stdout);
	return (strncmp(reply, "ok", 2) == 0 ? 0 : 1);
}

static void
serve(struct mock *m)
{
	struct pollfd	 pfd[2 + CTL_CLIENTS + 1];
	struct ctl_in	*who[2 + CTL_CLIENTS + 1];
	size_t		 i;
	int		 n, j, r;

	while (!quit) {
		n = 0;
		for (i = 0; i < sizeof m->in / sizeof m->in[0]; i++) {
			if (m->in[i].fd == -1)
				continue;
			pfd[n].fd = m->in[i].fd;
			pfd[n].events = POLLIN;
			who[n++] = &m->in[i];
		}
		if (m->listen_fd != -1) {
			pfd[n].fd = m->listen_fd;
			pfd[n].events = POLLIN;
			who[n++] = NULL;
		}
		r = poll(pfd, (nfds_t)n, 250);
		rd_kafka_poll(m->rk, 0);
		if (r <= 0)
			continue;
		for (j = 0; j < n && !quit; j++) {
			if ((pfd[j].revents & (POLLIN|POLLHUP|POLLERR)) == 0)
				continue;
			if (who[j] == NULL)
				ctl_accept(m);
			else
				ctl_read(m, who[j]);
		}
	}
}

int
main(int argc, char **argv)
{
	struct mock		 m;
	struct sigaction	 sa;
	rd_kafka_conf_t		*conf;
	char			 errstr[512], name[512], *colon;
	const char		*ctl_path = NULL, *debug = NULL;
	char			*topics[256];
	int			 ntopics = 0, ch, i;
	long			 v, parts;
	size_t			 k;

	memset(&m, 0, sizeof m);
	m.brokers = 1;
	m.listen_fd = m.fifo_wfd = -1;
	for (k = 0; k < sizeof m.in / sizeof m.in[0]; k++)
		m.in[k].fd = -1;

	while ((ch = getopt(argc, argv, "b:C:c:d:t:h")) != -1) {
		switch (ch) {
		case 'b':
			if (parse_long(optarg, 1, MAX_BROKERS, &v) != 0) {
				fprintf(stderr, "kafka-mock: -b: 1..%d\n",
				    MAX_BROKERS);
				return (1);
			}
			m.brokers = (int)v;
			break;
		case 'C':
			if (optind >= argc)
				usage();
			return (client(optarg, argc - optind, argv + optind));
		case 'c':
			ctl_path = optarg;
			break;
		case 'd':
			debug = optarg;
			break;
		case 't':
			if (ntopics == (int)(sizeof topics / sizeof topics[0])) {
				fprintf(stderr, "kafka-mock: too many -t\n");
				return (1);
			}
			topics[ntopics++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sig_quit;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	conf = rd_kafka_conf_new();
	/* log_level 4 hides the idle handle's "no bootstrap.servers". */
	if (rd_kafka_conf_set(conf, "client.id", "kafka-mock", errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", debug != NULL ? "7" : "4",
	    errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
	    (debug != NULL && rd_kafka_conf_set(conf, "debug", debug, errstr,
	    sizeof errstr) != RD_KAFKA_CONF_OK)) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return (1);
	}
	if ((m.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof errstr)) == NULL) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return (1);
	}
	conf = NULL;	/* owned by m.rk */
	if ((m.mc = rd_kafka_mock_cluster_new(m.rk, m.brokers)) == NULL) {
		fprintf(stderr, "kafka-mock: cannot create the mock cluster\n");
		return (1);
	}

	for (i = 0; i < ntopics; i++) {
		snprintf(name, sizeof name, "%s", topics[i]);
		parts = 1;
		if ((colon = strrchr(name, ':')) != NULL) {
			*colon = '\0';
			if (parse_long(colon + 1, 1, MAX_PARTITIONS, &parts)
			    != 0) {
				fprintf(stderr, "kafka-mock: -t %s: bad "
				    "partition count %s\n", name, colon + 1);
				return (1);
			}
		}
		if (*name == '\0' ||
		    create_topic(&m, name, parts, 0, errstr, sizeof errstr)
		    != 0) {
			fprintf(stderr, "kafka-mock: -t %s: %s\n", name,
			    *name == '\0' ? "empty name" : errstr);
			return (1);
		}
	}

	if (stdin_usable()) {
		m.in[0].kind = CTL_STDIN;
		m.in[0].fd = STDIN_FILENO;
		m.in[0].out = STDOUT_FILENO;
	}
	if (ctl_path != NULL && ctl_open(&m, ctl_path) != 0)
		return (1);

	printf("%s\n", rd_kafka_mock_cluster_bootstraps(m.mc));
	if (fflush(stdout) == EOF)
		return (1);

	serve(&m);

	for (k = 0; k < sizeof m.in / sizeof m.in[0]; k++) {
		if (m.in[k].fd != -1)
			ctl_close(&m, &m.in[k]);
	}
	if (m.fifo_wfd != -1)
		close(m.fifo_wfd);
	if (m.listen_fd != -1) {
		close(m.listen_fd);
		unlink(m.sock_path);
	}
	rd_kafka_mock_cluster_destroy(m.mc);
	rd_kafka_destroy(m.rk);
	return (0);
}
