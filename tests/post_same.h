/*
 * post_same.h — do two decoded posts carry the same members?  For the
 * tests that compare the decoder's fast path with its full parse (the unit
 * test and the post fuzzer).
 */
#ifndef TW_TESTS_POST_SAME_H
#define TW_TESTS_POST_SAME_H

#include <stdbool.h>
#include <string.h>

#include "post.h"

static inline bool
post_same_str(const char *a, size_t alen, const char *b, size_t blen)
{
	if (a == NULL || b == NULL)
		return a == b;
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Text, id, time and every field's value equal (NULL only to NULL). */
static inline bool
post_same(const struct post *p, const struct post *q)
{
	size_t i;

	if (!post_same_str(p->text, p->text_len, q->text, q->text_len) ||
	    !post_same_str(p->id, p->id_len, q->id, q->id_len) ||
	    p->time_ms != q->time_ms || p->nfields != q->nfields)
		return false;
	for (i = 0; i < p->nfields; i++)
		if (!post_same_str(p->fields[i].value, p->fields[i].len,
		    q->fields[i].value, q->fields[i].len))
			return false;
	return true;
}

#endif
