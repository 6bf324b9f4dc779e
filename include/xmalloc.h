/*
 * xmalloc.h — allocators that never return NULL.
 *
 * On allocation failure they print one line to stderr and abort: tidewatch
 * has no useful way to go on without memory, and every caller is spared a
 * check.  Everything returned is owned by the caller and released with free().
 */
#ifndef TW_XMALLOC_H
#define TW_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
/* What they do when malloc fails: one line on stderr, then abort();
 * for allocators of their own (arenas) to fail the same way. */
void xmalloc_fail(size_t size) __attribute__((noreturn));
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows *ptr so that it holds at least need elements of size elem; *cap
 * is updated.  Doubling, so appends are amortised O(1). */
void *xgrow(void *ptr, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* asprintf that never fails. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
