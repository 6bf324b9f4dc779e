/*
 * log.h — one line per event on stderr: "level=info msg=\"...\" key=value".
 *
 * The level is checked before anything is formatted.  Thread-safe: each
 * line is written with a single write(2).
 */
#ifndef TW_LOG_H
#define TW_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_level_current;

int  log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
void log_set_level(enum log_level level);
/* Formats one event.  The text up to the first " | " becomes the quoted
 * msg; what follows it is appended as it is (key=value pairs), e.g.
 * log_info("rules loaded | topics=%zu version=%llu", n, v). */
void log_emit(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(lvl, ...) do {						\
	if ((lvl) >= log_level_current)					\
		log_emit((lvl), __func__, __VA_ARGS__);			\
} while (0)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)

#endif
