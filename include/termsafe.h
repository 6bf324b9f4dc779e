/*
 * termsafe.h — strings from posts and from Redis made safe for a terminal.
 *
 * Every string that comes from outside (a post's text or count_by value,
 * a topic id or an error read back from Redis, an alert's JSON) goes
 * through termsafe() before it reaches a terminal or a log line: control
 * characters (C0, DEL, C1), format characters (Unicode Cf: bidi controls,
 * zero-width characters, tags), line and paragraph separators and bytes
 * that are not UTF-8 are shown as visible escapes instead of acting on
 * the terminal.  A zero width joiner between two pictographs (an emoji
 * sequence such as 👨‍👩‍👧) is kept.  Pure functions; any thread.
 */
#ifndef TW_TERMSAFE_H
#define TW_TERMSAFE_H

#include <stddef.h>
#include <stdio.h>

/* Flags of termsafe(). */
#define TERMSAFE_QUOTE	0x1	/* also escape '"' and '\\' (a quoted
				 * value of a log line) */
#define TERMSAFE_JSON	0x2	/* JSON escapes instead (\u202e, a
				 * surrogate pair above U+FFFF, U+FFFD for
				 * a byte that is not UTF-8; tab, CR and LF
				 * as spaces), for JSON text that stays
				 * JSON with the same meaning */

/*
 * Writes the safe form of s[0..n) into dst, NUL-terminated, at most
 * dst_size - 1 bytes, cut only between whole characters or escapes.
 * Text escapes: \n \t \r, \x1b (another C0 character, DEL, or a byte that
 * is not UTF-8), \u009b (C1), \u202e (a format character), \U000e0041
 * (one above U+FFFF).  Returns the length written.
 */
size_t termsafe(char *dst, size_t dst_size, const char *s, size_t n,
    int flags);
/* The safe form of s[0..n) with termsafe()'s flags, never cut; the caller
 * frees it. */
char *termsafe_dupn(const char *s, size_t n, int flags);
/* The safe form of the string s (NULL gives ""); the caller frees it. */
char *termsafe_dup(const char *s);
/* Writes the safe form of the string s to fp. */
void termsafe_fputs(const char *s, FILE *fp);

#endif
