/*
 * decoder.h — Kafka message bytes → struct post.
 *
 * A decoder holds the field mapping (which JSON member is the id, the text,
 * the time, and the extra fields that where conditions and count_by read)
 * and the buffers of the last decoded post: a post is valid until the next
 * decoder_decode() on the same decoder.  One decoder per thread.  Every
 * rejection has a reason from a fixed list so it can be counted.
 */
#ifndef TW_DECODER_H
#define TW_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "post.h"
#include "rules.h"

enum dec_result {
	DEC_OK = 0,
	DEC_TOO_LARGE,		/* longer than max_bytes */
	DEC_NOT_UTF8,
	DEC_NOT_JSON,		/* not RFC 8259 JSON: also a raw control
				 * byte in a string, a number such as 0123 */
	DEC_NOT_OBJECT,		/* valid JSON but not an object */
	DEC_TOO_DEEP,		/* nesting beyond max_depth */
	DEC_NO_TEXT,		/* the text field is missing */
	DEC_TEXT_TYPE,		/* the text field is not a string (null too) */
	DEC_NUL,		/* the message holds a NUL byte */
	DEC_BAD_TIME,		/* the time field cannot be read */
	DEC_NUL_ESCAPE,		/* a string holds the escape \u0000 */
	DEC__COUNT
};

enum dec_format { DEC_FORMAT_JSON, DEC_FORMAT_TEXT };

struct decoder_opts {
	enum dec_format		 format;
	const char		*id_field;	/* dotted JSON path; NULL: none */
	const char		*text_field;	/* default "text" */
	const char		*time_field;	/* NULL: none */
	const char *const	*fields;	/* extra fields by post name */
	const char *const	*field_paths;	/* their JSON paths (NULL: same) */
	size_t			 nfields;
	size_t			 max_bytes;	/* 0: 1 MiB */
	int			 max_depth;	/* 0: 64 */
	int			 full_parse;	/* 1: never the fast path
						 * (tests compare the two) */
};

struct decoder;

/* Copies what it needs from opts. */
struct decoder *decoder_new(const struct decoder_opts *opts);
void decoder_free(struct decoder *d);

/* Decodes one message.  On DEC_OK fills *out; otherwise a short detail is
 * written to detail (may be NULL). */
enum dec_result decoder_decode(struct decoder *d, const char *buf, size_t len,
    struct post *out, char *detail, size_t detail_size);

/* "not_json", "not_utf8", … (stable names for metrics, logs and the
 * rejected-total hash in Redis). */
const char *decoder_result_name(enum dec_result r);

/* Parses a time held in a JSON string: a decimal number of seconds or
 * milliseconds since the epoch (values above 1e11 are milliseconds, as
 * for a JSON number), a date ("2026-11-26", midnight UTC), or an RFC 3339
 * date and time ("2026-11-26T05:00:00Z"; T, t or a space between them; a
 * fraction after '.' or ',' read to the millisecond; Z, z, +08:00, +0800,
 * or no zone for UTC).  Returns 0 and *ms, or -1. */
int decoder_parse_time(const char *s, size_t len, int64_t *ms);

/* The post fields a rule set reads (where conditions, count_by) plus those
 * of the field map, each with its JSON path (the map's, or its own name).
 * The strings belong to rs and map; free() the two arrays. */
void decoder_rule_fields(const struct ruleset *rs, const struct kv *map,
    size_t nmap, const char ***names, const char ***paths, size_t *n);

#endif
