/*
 * cmd_reload.c — `tidewatch reload`: reload the running daemon and report
 * whether it worked.
 *
 * `kill -HUP` always succeeds, whatever the reload does; this command is
 * for ExecReload= and for operators.  It reads the daemon's GET
 * /reload-status (reloadst.h) at metrics.listen: the daemon's pid and how
 * many reloads were requested.  It sends SIGHUP to the daemon (--pid, else
 * $MAINPID as systemd sets it for ExecReload=, else the pid the daemon
 * reported, and a pid that is not the one answering is refused), then
 * polls /reload-status until a finished reload covers its request.  Exits
 * 0 when that reload succeeded, 1 with the loader's errors when it failed
 * (or the daemon could not be asked, or --timeout passed).  Single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "commands.h"
#include "httpc.h"
#include "termsafe.h"

#define POLL_MS	100

/* What /reload-status says. */
struct reload_status {
	long		 pid;
	uint64_t	 requested;
	uint64_t	 done;
	char		 result[16];
	char		*body;		/* the whole answer, for the errors */
};

static void
reload_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch reload [-c CONFIG] [-s key=value]...\n"
	    "                        [--address HOST:PORT] [--pid PID] [--timeout SECONDS]\n"
	    "  Sends SIGHUP to the running daemon (--pid, $MAINPID, or the pid\n"
	    "  its endpoint reports) and waits for the outcome at /reload-status\n"
	    "  of metrics.listen (config default %s, or --address).\n"
	    "  Exits 0 when the config and rules were reloaded, 1 with the\n"
	    "  errors when the reload failed (the daemon keeps what was in\n"
	    "  force) or no outcome came within --timeout (default 120).\n",
	    CONFIG_DEFAULT_PATH);
}

/* Reads /reload-status into st.  Returns 0, or -1 with the reason in err. */
static int
status_get(const char *host, const char *port, int timeout_ms,
    struct reload_status *st, char *err, size_t errsz)
{
	int http;
	char *p;

	free(st->body);
	memset(st, 0, sizeof *st);
	if (httpc_get(host, port, "/reload-status", timeout_ms, &http,
	    &st->body, err, errsz) == -1)
		return -1;
	p = st->body;
	if (http != 200 || sscanf(p, "pid %ld\nrequested %" SCNu64 "\ndone %"
	    SCNu64 "\nresult %15s", &st->pid, &st->requested, &st->done,
	    st->result) != 4) {
		snprintf(err, errsz, "%s:%s/reload-status: unexpected answer "
		    "(HTTP %d; not a tidewatch daemon, or one too old to report "
		    "reloads)", host, port, http);
		return -1;
	}
	return 0;
}

/* The pid to signal: --pid, $MAINPID, or the one the daemon reported;
 * one given that is not the daemon answering is refused.  Returns -1 with
 * the reason in err. */
static long
target_pid(const struct endpoint_args *a, const struct reload_status *st,
    char *err, size_t errsz)
{
	const char *env = getenv("MAINPID");
	long pid = a->pid;
	char *end;

	if (pid == 0 && env != NULL && env[0] != '\0') {
		pid = strtol(env, &end, 10);
		if (*end != '\0' || pid <= 0) {
			snprintf(err, errsz, "$MAINPID is not a pid: '%s'", env);
			return -1;
		}
	}
	if (pid == 0)
		return st->pid;
	if (pid != st->pid) {
		snprintf(err, errsz, "pid %ld is not the daemon answering at "
		    "metrics.listen (pid %ld): a different config?", pid,
		    st->pid);
		return -1;
	}
	return pid;
}

/* Prints the outcome of the reload st reports.  Returns the exit status. */
static int
report(const struct reload_status *st, uint64_t req)
{
	const char *p = st->body, *nl;
	char *line;

	if (strcmp(st->result, "ok") == 0) {
		printf("reloaded (request %" PRIu64 ")\n", req);
		return 0;
	}
	while ((p = strstr(p, "\nerror ")) != NULL) {
		p += 7;
		nl = strchr(p, '\n');
		line = termsafe_dupn(p, nl ? (size_t)(nl - p) : strlen(p), 0);
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	fprintf(stderr, "tidewatch reload: reload failed; the daemon keeps the "
	    "config and rules in force\n");
	return 1;
}

/* Sends SIGHUP and waits for a finished reload covering it. */
static int
reload_wait(const struct endpoint_args *a, const char *host,
    const char *port, struct reload_status *st)
{
	char err[512];
	uint64_t req;
	int64_t deadline;
	long pid;
	struct timespec ts = { 0, POLL_MS * 1000000L };

	if (status_get(host, port, a->timeout_ms, st, err, sizeof err) == -1 ||
	    (pid = target_pid(a, st, err, sizeof err)) == -1) {
		fprintf(stderr, "tidewatch reload: %s\n", err);
		return 1;
	}
	req = st->requested + 1;
	if (kill((pid_t)pid, SIGHUP) == -1) {
		fprintf(stderr, "tidewatch reload: kill %ld: %s\n", pid,
		    strerror(errno));
		return 1;
	}
	deadline = clock_mono_ms() + a->wait_ms;
	for (;;) {
		nanosleep(&ts, NULL);
		if (status_get(host, port, a->timeout_ms, st, err,
		    sizeof err) == -1) {
			fprintf(stderr, "tidewatch reload: %s\n", err);
			return 1;
		}
		if (st->pid != pid) {
			fprintf(stderr, "tidewatch reload: the daemon was "
			    "replaced (pid %ld, now %ld)\n", pid, st->pid);
			return 1;
		}
		if (st->done >= req)
			return report(st, req);
		if (clock_mono_ms() >= deadline) {
			fprintf(stderr, "tidewatch reload: no outcome within "
			    "%d s (request %" PRIu64 ", last done %" PRIu64 ")\n",
			    a->wait_ms / 1000, req, st->done);
			return 1;
		}
	}
}

int
cmd_reload(int argc, char **argv)
{
	struct endpoint_args a;
	struct reload_status st;
	struct diag errs;
	char host[256], port[16];
	int rc;

	if ((rc = cmd_endpoint_args(argc, argv, true, 120, reload_usage,
	    &a)) != -1) {
		free(a.sets);
		return rc;
	}
	memset(&st, 0, sizeof st);
	diag_init(&errs);
	if (cmd_endpoint(&a, host, sizeof host, port, sizeof port, &errs) == -1) {
		cmd_print_diag(&errs);
		rc = 1;
	} else
		rc = reload_wait(&a, host, port, &st);
	free(st.body);
	diag_free(&errs);
	free(a.sets);
	return rc;
}
