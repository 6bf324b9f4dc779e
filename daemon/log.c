/*
 * log.c — event lines on stderr.
 *
 * DESIGN.  Format: [<N>]ts=… level=… msg="…" key=value… [func=…].  A
 * caller's format is split at its first " | ": the part before is the
 * message, the part after holds key=value pairs.  The split is made in
 * the format, never in the formatted text, and every conversion is
 * formatted on its own (format_conv), so what an argument holds (an error
 * string from Redis, a path, a post's field) cannot end the message or
 * add a key: in the message, every character goes through termsafe with
 * '"' and '\' escaped; in the pairs, a value inside the caller's quotes
 * is escaped the same way, and a bare value that holds a space, '=', a
 * quote or an unsafe character is quoted.  Under journald (JOURNAL_STREAM
 * names our stderr) each line starts with its syslog priority, <3> error
 * … <7> debug, which journald takes as the entry's priority.  The level is
 * a global set at start-up and on reload; callers check it (log_at) before
 * anything is formatted.  Each line goes out in one write(2), so threads
 * do not interleave within a line; log_limit_allow() is lock-free.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "termsafe.h"

enum log_level log_level_current = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const int level_prio[] = { 7, 6, 4, 3 };	/* syslog priorities */

static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static bool journal;		/* stderr is a journald stream */

#define LINE_MAX_BYTES	8192
#define CONV_MAX_BYTES	4096

int
log_level_parse(const char *name, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

void
log_set_level(enum log_level level)
{
	log_level_current = level;
}

/* JOURNAL_STREAM is "device:inode" of the stream journald gave us; it
 * counts only while stderr is still that stream (not redirected since). */
static void
detect_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	journal = v != NULL && sscanf(v, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

bool
log_to_journal(void)
{
	pthread_once(&journal_once, detect_journal);
	return journal;
}

/* One line being built; writes past the end are dropped (the line is cut,
 * the closing quote and newline always fit: LINE_MAX_BYTES - 16). */
struct line {
	char	 b[LINE_MAX_BYTES];
	size_t	 n;
};

static void
put(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof l->b - 16 - l->n;

	if (l->n > sizeof l->b - 16)
		return;
	if (n > room)
		n = room;
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

/* s made safe (termsafe with flags) at the end of the line. */
static void
put_safe(struct line *l, const char *s, size_t n, int flags)
{
	if (l->n >= sizeof l->b - 16)
		return;
	l->n += termsafe(l->b + l->n, sizeof l->b - 16 - l->n, s, n, flags);
}

/*
 * Formats the conversion at fmt (just past its '%') with its argument
 * from ap into out; returns the length of the conversion in fmt.  Flags,
 * width and precision ('*' taken from ap), the length modifiers hh h l ll
 * z j t L and the conversions d i u o x X c s p f F e E g G a A and %
 * are understood; anything else is copied as it is.
 */
static size_t
format_conv(const char *fmt, va_list *ap, char *out, size_t outsz)
{
	char cf[64];
	size_t i = 0, o = 0;
	char len[3] = "";

	cf[o++] = '%';
	while (fmt[i] != '\0' && strchr("-+ #0'", fmt[i]) != NULL && o < 40)
		cf[o++] = fmt[i++];
	for (int part = 0; part < 2; part++) {	/* width, then precision */
		if (part == 1) {
			if (fmt[i] != '.')
				break;
			cf[o++] = fmt[i++];
		}
		if (fmt[i] == '*') {
			o += (size_t)snprintf(cf + o, sizeof cf - o, "%d",
			    va_arg(*ap, int));
			i++;
		} else
			while (fmt[i] >= '0' && fmt[i] <= '9' && o < 50)
				cf[o++] = fmt[i++];
	}
	while (fmt[i] != '\0' && strchr("hlzjtL", fmt[i]) != NULL &&
	    strlen(len) < 2) {
		len[strlen(len)] = fmt[i];
		cf[o++] = fmt[i++];
	}
	cf[o++] = fmt[i];
	cf[o] = '\0';
	out[0] = '\0';
	switch (fmt[i]) {
	case 'd': case 'i':
		if (strcmp(len, "l") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, long));
		else if (strcmp(len, "ll") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, long long));
		else if (strcmp(len, "z") == 0 || strcmp(len, "t") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, ptrdiff_t));
		else if (strcmp(len, "j") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, intmax_t));
		else
			snprintf(out, outsz, cf, va_arg(*ap, int));
		break;
	case 'u': case 'o': case 'x': case 'X':
		if (strcmp(len, "l") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, unsigned long));
		else if (strcmp(len, "ll") == 0)
			snprintf(out, outsz, cf,
			    va_arg(*ap, unsigned long long));
		else if (strcmp(len, "z") == 0 || strcmp(len, "t") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, size_t));
		else if (strcmp(len, "j") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, uintmax_t));
		else
			snprintf(out, outsz, cf, va_arg(*ap, unsigned));
		break;
	case 'c':
		snprintf(out, outsz, cf, va_arg(*ap, int));
		break;
	case 's':
		snprintf(out, outsz, cf, va_arg(*ap, const char *));
		break;
	case 'p':
		snprintf(out, outsz, cf, va_arg(*ap, void *));
		break;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
	case 'a': case 'A':
		if (strcmp(len, "L") == 0)
			snprintf(out, outsz, cf, va_arg(*ap, long double));
		else
			snprintf(out, outsz, cf, va_arg(*ap, double));
		break;
	case '%':
		snprintf(out, outsz, "%%");
		break;
	default:
		snprintf(out, outsz, "%s", cf);
		return fmt[i] != '\0' ? i + 1 : i;
	}
	return i + 1;
}

/* A bare value that a logfmt reader would split or misread. */
static bool
needs_quotes(const char *v, size_t n)
{
	char safe[CONV_MAX_BYTES * 2];

	if (n == 0 || strpbrk(v, " =\"\\") != NULL)
		return true;
	return termsafe(safe, sizeof safe, v, n, 0) != n;
}

/* The message: fmt up to end, every character escaped as in a quoted
 * value. */
static void
put_message(struct line *l, const char *fmt, const char *end, va_list *ap)
{
	char conv[CONV_MAX_BYTES];
	const char *p = fmt, *q;

	while (p < end) {
		if (*p == '%') {
			p += 1 + format_conv(p + 1, ap, conv, sizeof conv);
			put_safe(l, conv, strlen(conv), TERMSAFE_QUOTE);
			continue;
		}
		for (q = p; q < end && *q != '%'; q++)
			;
		put_safe(l, p, (size_t)(q - p), TERMSAFE_QUOTE);
		p = q;
	}
}

/* The key=value pairs: the caller's text as it is, each value escaped
 * (inside the caller's quotes) or quoted (a bare value that needs it). */
static void
put_pairs(struct line *l, const char *fmt, va_list *ap)
{
	char conv[CONV_MAX_BYTES];
	const char *p = fmt;
	bool quoted = false;
	size_t n;

	while (*p != '\0') {
		if (*p != '%') {
			if (*p == '"')
				quoted = !quoted;
			if (*p == '\n')
				put(l, " ", 1);
			else
				put(l, p, 1);
			p++;
			continue;
		}
		p += 1 + format_conv(p + 1, ap, conv, sizeof conv);
		n = strlen(conv);
		if (quoted)
			put_safe(l, conv, n, TERMSAFE_QUOTE);
		else if (needs_quotes(conv, n)) {
			put(l, "\"", 1);
			put_safe(l, conv, n, TERMSAFE_QUOTE);
			put(l, "\"", 1);
		} else
			put(l, conv, n);
	}
}

void
log_emit(enum log_level level, const char *func, const char *fmt, ...)
{
	struct line l;
	char ts[32], head[96];
	const char *kv = strstr(fmt, " | ");
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	l.n = 0;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	n = 0;
	if (log_to_journal())
		n = snprintf(head, sizeof head, "<%d>", level_prio[level]);
	n += snprintf(head + n, sizeof head - (size_t)n,
	    "ts=%s.%03ldZ level=%s msg=\"", ts, now.tv_nsec / 1000000,
	    level_names[level]);
	put(&l, head, (size_t)n);

	va_start(ap, fmt);
	put_message(&l, fmt, kv != NULL ? kv : fmt + strlen(fmt), &ap);
	put(&l, "\"", 1);
	if (kv != NULL) {
		put(&l, " ", 1);
		put_pairs(&l, kv + 3, &ap);
	}
	va_end(ap);
	if (level == LOG_DEBUG && func != NULL) {
		put(&l, " func=", 6);
		put(&l, func, strlen(func));
	}
	if (l.n > sizeof l.b - 16)
		l.n = sizeof l.b - 16;
	l.b[l.n++] = '\n';
	if (write(STDERR_FILENO, l.b, l.n) < 0) {
		/* nowhere left to report it */
	}
}

bool
log_limit_allow(struct log_limit *lim, int64_t interval_ms,
    uint64_t *suppressed)
{
	int64_t now = clock_mono_ms(), next = atomic_load(&lim->next_ms);

	if (now >= next && atomic_compare_exchange_strong(&lim->next_ms,
	    &next, now + interval_ms)) {
		*suppressed = atomic_exchange(&lim->held, 0);
		return true;
	}
	atomic_fetch_add(&lim->held, 1);
	return false;
}
