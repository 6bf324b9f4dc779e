/*
 * diag.h — a list of diagnostics collected while loading rules or config.
 *
 * Loaders do not stop at the first problem: they add every error they find
 * as one line "path:line:col: message" and the caller decides what to print.
 * Lines are kept in the order they were added.  The list owns its strings.
 */
#ifndef TW_DIAG_H
#define TW_DIAG_H

#include <stddef.h>

struct diag {
	char	**msgs;
	size_t	  n;
	size_t	  cap;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* Adds "path:line:col: message"; line and col are 1-based (0: omitted). */
void diag_add(struct diag *d, const char *path, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Adds a line as it is. */
void diag_addf(struct diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
