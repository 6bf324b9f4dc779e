/*
 * cmd_health.c — `tidewatch health`: is the running daemon healthy?
 *
 * Asks GET /healthz of the daemon's metrics listener (metrics.listen of the
 * config, or --address), prints its one-line answer ("ok", or the reason
 * such as "redis unreachable for 42s") and exits 0 when the daemon answers
 * 200, 1 otherwise (unhealthy, no answer, metrics disabled).  Meant for a
 * container HEALTHCHECK, where the image has no curl.  Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "httpc.h"
#include "termsafe.h"

static void
health_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch health [-c CONFIG] [-s key=value]...\n"
	    "                        [--address HOST:PORT] [--timeout SECONDS]\n"
	    "  Asks the running daemon's /healthz at metrics.listen of the\n"
	    "  config (default %s, a wildcard host as loopback) or at\n"
	    "  --address, and prints the answer.  Exits 0 when healthy, 1 when\n"
	    "  unhealthy or not answering within --timeout (default 5).\n",
	    CONFIG_DEFAULT_PATH);
}

int
cmd_health(int argc, char **argv)
{
	struct endpoint_args a;
	struct diag errs;
	char host[256], port[16], err[512], *body = NULL;
	int rc, status = 0;

	if ((rc = cmd_endpoint_args(argc, argv, false, 5, health_usage,
	    &a)) != -1) {
		free(a.sets);
		return rc;
	}
	diag_init(&errs);
	if (cmd_endpoint(&a, host, sizeof host, port, sizeof port, &errs) == -1) {
		cmd_print_diag(&errs);
		rc = 1;
	} else if (httpc_get(host, port, "/healthz", a.wait_ms, &status, &body,
	    err, sizeof err) == -1) {
		fprintf(stderr, "tidewatch health: %s\n", err);
		rc = 1;
	} else {
		/* the body is the daemon's, but names Redis's errors: escaped
		 * (a final newline becomes \n, so it is cut first) */
		size_t n = strlen(body);

		if (n > 0 && body[n - 1] == '\n')
			body[n - 1] = '\0';
		termsafe_fputs(body, status == 200 ? stdout : stderr);
		fputc('\n', status == 200 ? stdout : stderr);
		rc = status == 200 ? 0 : 1;
	}
	free(body);
	diag_free(&errs);
	free(a.sets);
	return rc;
}
