/*
 * log.h — one line per event on stderr: "level=info msg=\"...\" key=value",
 * with a syslog priority prefix (<3> … <7>) under journald.
 *
 * The level is checked before anything is formatted.  Thread-safe: each
 * line is written with a single write(2).  A rate limit (struct
 * log_limit) keeps an event that can repeat per post to a line now and
 * then, with the count of those held back.
 */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_level_current;

int  log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
void log_set_level(enum log_level level);
/* Formats one event.  The format up to its first " | " becomes the
 * quoted msg; what follows it holds key=value pairs, e.g.
 * log_info("rules loaded | topics=%zu version=%llu", n, v).  The split is
 * made in the format, so an argument holding " | " stays in its place;
 * arguments are escaped (termsafe, '"' and '\\'), a value in the format's
 * quotes (error=\"%s\") stays inside them, and a bare value that needs
 * quotes gets them. */
void log_emit(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether lines start with a syslog priority: JOURNAL_STREAM names the
 * stream stderr is (systemd's journald; decided once). */
bool log_to_journal(void);

/* At most one event of a kind per interval: log_limit_allow() says
 * whether this one may be logged, and if so how many were held back since
 * the last (*suppressed); otherwise it counts this one.  Any thread. */
struct log_limit {
	_Atomic int64_t		next_ms;	/* monotonic */
	_Atomic uint64_t	held;
};
#define LOG_LIMIT_INIT	{ 0, 0 }
bool log_limit_allow(struct log_limit *lim, int64_t interval_ms,
    uint64_t *suppressed);

#define log_at(lvl, ...) do {						\
	if ((lvl) >= log_level_current)					\
		log_emit((lvl), __func__, __VA_ARGS__);			\
} while (0)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)

#endif
