/*
 * diag.c — collected diagnostics ("path:line:col: message" lines).
 *
 * Loaders add to a struct diag instead of printing, so that a run reports
 * every error and the caller chooses where they go.  Not thread-safe: one
 * list belongs to one load.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "xmalloc.h"

void
diag_init(struct diag *d)
{
	d->msgs = NULL;
	d->n = d->cap = 0;
}

void
diag_free(struct diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	diag_init(d);
}

static void
diag_push(struct diag *d, char *msg)
{
	d->msgs = xgrow(d->msgs, &d->cap, d->n + 1, sizeof *d->msgs);
	d->msgs[d->n++] = msg;
}

void
diag_add(struct diag *d, const char *path, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	char *body, *msg;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		body = xstrdup(fmt);
	va_end(ap);
	if (line > 0 && col > 0)
		msg = xasprintf("%s:%d:%d: %s", path, line, col, body);
	else if (line > 0)
		msg = xasprintf("%s:%d: %s", path, line, body);
	else
		msg = xasprintf("%s: %s", path, body);
	free(body);
	diag_push(d, msg);
}

void
diag_addf(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	diag_push(d, msg);
}
