/*
 * termsafe.c — the one sanitiser between outside text and a terminal.
 *
 * DESIGN: termsafe() walks the input one UTF-8 character at a time
 * (utf8proc_iterate) and copies each one unless it is unsafe to show: C0
 * and DEL and C1 (a terminal acts on them: ESC starts a sequence that
 * can clear the screen or set the title; U+009B is CSI by itself), a
 * format character of Unicode category Cf (bidi overrides and isolates
 * reorder what follows; zero-width characters and tags hide text), a line
 * or paragraph separator, or a byte that is not part of valid UTF-8.
 * Those become escapes made of printable ASCII, so the output's display
 * width is that of its characters.  One exception keeps emoji whole: a
 * zero width joiner (U+200D) between two pictographs, the base before it
 * possibly followed by modifiers or variation selectors, as in a family
 * emoji.  Output is cut between whole characters or escapes when dst is
 * full.  Pure; no state between calls; any thread.  Used by `top`,
 * `alerts` and every log line (log.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "termsafe.h"
#include "xmalloc.h"

#define ZWJ	0x200D

/* An Extended_Pictographic character, or an emoji base. */
static bool
is_pictograph(utf8proc_int32_t cp)
{
	switch (utf8proc_get_property(cp)->boundclass) {
	case UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC:
	case UTF8PROC_BOUNDCLASS_E_BASE:
	case UTF8PROC_BOUNDCLASS_E_BASE_GAZ:
	case UTF8PROC_BOUNDCLASS_GLUE_AFTER_ZWJ:
		return true;
	default:
		return false;
	}
}

/* A character that extends the one before it (combining marks, variation
 * selectors, skin tone modifiers). */
static bool
is_extend(utf8proc_int32_t cp)
{
	int bc = utf8proc_get_property(cp)->boundclass;

	return bc == UTF8PROC_BOUNDCLASS_EXTEND ||
	    bc == UTF8PROC_BOUNDCLASS_E_MODIFIER;
}

/* Whether cp is shown as an escape (ZWJ is decided by its neighbours). */
static bool
is_unsafe(utf8proc_int32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return true;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_CF:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return true;
	default:
		return false;
	}
}

/* The escape of an unsafe character (cp), or of a byte that is not UTF-8
 * (cp < 0, the byte is -cp - 1), into e; returns its length. */
static size_t
escape_of(utf8proc_int32_t cp, int flags, char *e, size_t esz)
{
	int n;

	if (flags & TERMSAFE_JSON) {
		if (cp < 0)
			n = snprintf(e, esz, "\\ufffd");
		else if (cp == '\t' || cp == '\n' || cp == '\r')
			n = snprintf(e, esz, " ");
		else if (cp > 0xffff)
			n = snprintf(e, esz, "\\u%04x\\u%04x",
			    0xd800 + ((cp - 0x10000) >> 10),
			    0xdc00 + ((cp - 0x10000) & 0x3ff));
		else
			n = snprintf(e, esz, "\\u%04x", (unsigned)cp);
		return (size_t)n;
	}
	if (cp < 0)
		n = snprintf(e, esz, "\\x%02x", (unsigned)(-cp - 1));
	else if (cp == '\n')
		n = snprintf(e, esz, "\\n");
	else if (cp == '\t')
		n = snprintf(e, esz, "\\t");
	else if (cp == '\r')
		n = snprintf(e, esz, "\\r");
	else if (cp < 0x20 || cp == 0x7f)
		n = snprintf(e, esz, "\\x%02x", (unsigned)cp);
	else if (cp > 0xffff)
		n = snprintf(e, esz, "\\U%08x", (unsigned)cp);
	else
		n = snprintf(e, esz, "\\u%04x", (unsigned)cp);
	return (size_t)n;
}

/* The code point at s[i..n) (its length in *len), or -1 - byte for a byte
 * that does not start a valid UTF-8 character (*len 1). */
static utf8proc_int32_t
next_char(const char *s, size_t i, size_t n, size_t *len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
	    (utf8proc_ssize_t)(n - i), &cp);
	if (k <= 0 || cp < 0) {
		*len = 1;
		return -1 - (utf8proc_int32_t)(unsigned char)s[i];
	}
	*len = (size_t)k;
	return cp;
}

size_t
termsafe(char *dst, size_t dst_size, const char *s, size_t n, int flags)
{
	size_t i = 0, o = 0, len, nlen, plen;
	utf8proc_int32_t cp, next;
	bool after_pict = false;	/* last base was a pictograph */
	bool escape;
	char esc[16];
	const char *piece;

	if (dst_size == 0)
		return 0;
	while (i < n) {
		cp = next_char(s, i, n, &len);
		if (cp == ZWJ) {
			next = i + len < n ? next_char(s, i + len, n, &nlen) : -1;
			escape = !(after_pict && next >= 0 && is_pictograph(next));
		} else
			escape = cp < 0 || is_unsafe(cp);
		piece = s + i;
		plen = len;
		if (escape) {
			plen = escape_of(cp, flags, esc, sizeof esc);
			piece = esc;
		} else if ((flags & TERMSAFE_QUOTE) && (cp == '"' || cp == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)cp;
			plen = 2;
			piece = esc;
		}
		if (o + plen >= dst_size)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		if (escape)
			after_pict = false;	/* shown as ASCII */
		else if (cp != ZWJ && !is_extend(cp))
			after_pict = is_pictograph(cp);
		i += len;
	}
	dst[o] = '\0';
	return o;
}

char *
termsafe_dupn(const char *s, size_t n, int flags)
{
	size_t cap = 6 * n + 1;	/* a byte can become \ufffd (JSON), \xff */
	char *d = xmalloc(cap);

	termsafe(d, cap, s, n, flags);
	return d;
}

char *
termsafe_dup(const char *s)
{
	return s != NULL ? termsafe_dupn(s, strlen(s), 0) :
	    termsafe_dupn("", 0, 0);
}

void
termsafe_fputs(const char *s, FILE *fp)
{
	char *d = termsafe_dup(s);

	fputs(d, fp);
	free(d);
}
