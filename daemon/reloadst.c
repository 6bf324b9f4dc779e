/*
 * reloadst.c — the outcome of the daemon's reloads (reloadst.h).
 *
 * DESIGN: a request counter, the number of the last request a finished
 * reload covered, its result and its errors (at most RELOADST_MAX_ERRORS
 * lines kept), all under one mutex.  The main thread writes (on SIGHUP and
 * when a rule build finishes); the HTTP thread of metrics.c reads for GET
 * /reload-status.  The text is line-oriented ("key value"), so that
 * `tidewatch reload` parses it without a JSON library.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "reloadst.h"
#include "xmalloc.h"

#define RELOADST_MAX_ERRORS	20

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		 requested, done;
static int		 result = -1;		/* -1 none, 0 failed, 1 ok */
static int64_t		 success_ms;
static struct diag	 last_errs;

uint64_t
reloadst_request(void)
{
	uint64_t n;

	pthread_mutex_lock(&mu);
	n = ++requested;
	pthread_mutex_unlock(&mu);
	return n;
}

uint64_t
reloadst_requested(void)
{
	uint64_t n;

	pthread_mutex_lock(&mu);
	n = requested;
	pthread_mutex_unlock(&mu);
	return n;
}

void
reloadst_done(uint64_t upto, bool ok, const struct diag *errs)
{
	size_t i;

	pthread_mutex_lock(&mu);
	if (ok)
		success_ms = clock_wall_ms();
	if (upto < done) {
		/* an older build finishing after a newer request failed:
		 * the newer outcome stays the one reported */
		pthread_mutex_unlock(&mu);
		return;
	}
	done = upto;
	result = ok ? 1 : 0;
	diag_free(&last_errs);
	diag_init(&last_errs);
	for (i = 0; errs != NULL && i < errs->n; i++) {
		if (i == RELOADST_MAX_ERRORS) {
			diag_addf(&last_errs, "… %zu more (in the log)",
			    errs->n - i);
			break;
		}
		diag_addf(&last_errs, "%s", errs->msgs[i]);
	}
	pthread_mutex_unlock(&mu);
}

int64_t
reloadst_last_success_ms(void)
{
	int64_t ms;

	pthread_mutex_lock(&mu);
	ms = success_ms;
	pthread_mutex_unlock(&mu);
	return ms;
}

char *
reloadst_render(void)
{
	static const char *const names[] = { "none", "failed", "ok" };
	char *buf = NULL, *p;
	size_t len = 0, i;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return xstrdup("");
	pthread_mutex_lock(&mu);
	fprintf(fp, "pid %ld\nrequested %" PRIu64 "\ndone %" PRIu64
	    "\nresult %s\n", (long)getpid(), requested, done,
	    names[result + 1]);
	for (i = 0; i < last_errs.n; i++) {
		/* one line per error, whatever the message holds */
		fputs("error ", fp);
		for (p = last_errs.msgs[i]; *p != '\0'; p++)
			fputc(*p == '\n' || *p == '\r' ? ' ' : *p, fp);
		fputc('\n', fp);
	}
	pthread_mutex_unlock(&mu);
	fclose(fp);
	return buf;
}
