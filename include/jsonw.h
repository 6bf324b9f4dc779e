/*
 * jsonw.h — a small JSON writer into a growing buffer.
 *
 * Used for every JSON tidewatch emits (match output, alerts, dead letters):
 * strings are escaped per RFC 8259 and must be valid UTF-8 (the decoder
 * and the normaliser guarantee it); control characters are written as
 * \u00XX.  The buffer owns its memory; jsonw_free() releases it.
 */
#ifndef TW_JSONW_H
#define TW_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

void jsonw_reset(struct jsonw *w);
void jsonw_free(struct jsonw *w);
void jsonw_raw(struct jsonw *w, const char *s, size_t n);
void jsonw_rawz(struct jsonw *w, const char *s);
void jsonw_str(struct jsonw *w, const char *s, size_t n);	/* "escaped" */
void jsonw_strz(struct jsonw *w, const char *s);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_double(struct jsonw *w, double v);	/* %.6g, null if not finite */
/* Writes "key": — s is written escaped. */
void jsonw_key(struct jsonw *w, const char *key);

#endif
