/*
 * jsonw.c — JSON writing into a growing buffer.
 *
 * Escaping is table-free and byte-wise: bytes >= 0x80 are copied (the input
 * is valid UTF-8), '"' and '\\' are escaped, control bytes become \n, \t…
 * or \u00XX.  No state beyond the buffer; one writer per thread.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "jsonw.h"
#include "xmalloc.h"

static inline void
reserve(struct jsonw *w, size_t n)
{
	if (w->len + n + 1 > w->cap)
		w->buf = xgrow(w->buf, &w->cap, w->len + n + 1, 1);
}

void
jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	if (w->buf != NULL)
		w->buf[0] = '\0';
}

void
jsonw_free(struct jsonw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void
jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	reserve(w, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void
jsonw_rawz(struct jsonw *w, const char *s)
{
	jsonw_raw(w, s, strlen(s));
}

void
jsonw_str(struct jsonw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	char *o;

	reserve(w, n * 6 + 2);
	o = w->buf + w->len;
	*o++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':  *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

void
jsonw_strz(struct jsonw *w, const char *s)
{
	jsonw_str(w, s, strlen(s));
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);

	jsonw_raw(w, tmp, (size_t)n);
}

void
jsonw_double(struct jsonw *w, double v)
{
	char tmp[48];
	int n;

	if (!isfinite(v)) {
		jsonw_raw(w, "null", 4);
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15)
		n = snprintf(tmp, sizeof tmp, "%.1f", v);
	else
		n = snprintf(tmp, sizeof tmp, "%.6g", v);
	jsonw_raw(w, tmp, (size_t)n);
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_strz(w, key);
	jsonw_raw(w, ":", 1);
}
