/*
 * post.h — one decoded post, as the matcher and the counters see it.
 *
 * A post does not own its strings: they point into the decoder's buffers
 * (or the caller's) and stay valid until the next decode on that decoder.
 * Strings are not NUL-terminated unless said so; use the lengths.
 */
#ifndef TW_POST_H
#define TW_POST_H

#include <stddef.h>
#include <stdint.h>

struct post_field {
	const char	*name;		/* NUL-terminated */
	const char	*value;		/* NULL: absent */
	size_t		 len;
};

struct post {
	const char		*id;		/* NULL when the post has none */
	size_t			 id_len;
	const char		*text;		/* valid UTF-8 */
	size_t			 text_len;
	int64_t			 time_ms;	/* post time, ms since the epoch; -1 unknown */
	struct post_field	*fields;	/* other fields (where, count_by) */
	size_t			 nfields;
};

/* Returns the value of field name (and its length), or NULL. */
const char *post_field(const struct post *p, const char *name, size_t *len);

#endif
