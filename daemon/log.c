/*
 * log.c — event lines on stderr.
 *
 * Format: ts=… level=… msg="…" [func=…] key=value…  The message is quoted
 * and escaped; what a caller writes after " | " in its format is appended
 * as key=value pairs.  The level is a global set at start-up and on reload;
 * callers check it (log_at) before anything is formatted.  Each line goes
 * out in one write(2), so threads do not interleave within a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_level log_level_current = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

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

void
log_emit(enum log_level level, const char *func, const char *fmt, ...)
{
	char body[4096], line[8192], ts[32];
	const char *kv, *p;
	struct timespec now;
	struct tm tm;
	size_t n = 0, msglen;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);

	kv = strstr(body, " | ");
	msglen = kv ? (size_t)(kv - body) : strlen(body);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	n = (size_t)snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s msg=\"",
	    ts, now.tv_nsec / 1000000, level_names[level]);
	for (p = body; p < body + msglen && n < sizeof line - 64; p++) {
		if (*p == '"' || *p == '\\')
			line[n++] = '\\';
		if (*p == '\n') {
			line[n++] = '\\';
			line[n++] = 'n';
			continue;
		}
		line[n++] = *p;
	}
	line[n++] = '"';
	if (kv != NULL)
		n += (size_t)snprintf(line + n, sizeof line - n, " %s", kv + 3);
	if (n < sizeof line - 1 && level == LOG_DEBUG && func != NULL)
		n += (size_t)snprintf(line + n, sizeof line - n, " func=%s", func);
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}
