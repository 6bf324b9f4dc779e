/*
 * decoder.c — message bytes → struct post (JSON with a field mapping, or
 * plain text).
 *
 * DESIGN: cJSON parses the message (it decoded ~6× faster than jansson on
 * the same 300-byte posts); before that the bytes are checked for size and
 * strict UTF-8, because cJSON passes invalid bytes through.  Members are
 * found by dotted paths ("user.region").  The post's strings point into the
 * parsed tree or into the decoder's scratch buffer, both kept until the next
 * call, so a decoder belongs to one thread.  Every refusal maps to one
 * enum dec_result so the daemon can count rejects by reason.
 *
 * Allocation: each decoder has an arena; while it parses, cJSON's allocator
 * hooks (installed once, process-wide) take memory from that arena (a
 * thread-local pointer says which), and the next decode simply empties
 * it: a post costs no malloc/free per JSON node, which was a third of the
 * decoding time.  Outside a decoder's parse the hooks are plain malloc and
 * free, so other users of cJSON are unaffected.  The checks before parsing
 * (NUL bytes, nesting depth, \u0000 escapes) are one pass over the bytes.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "decoder.h"
#include "normalize.h"
#include "xmalloc.h"

/* A bump allocator: blocks of ARENA_BLOCK bytes (or one larger block for a
 * big request), emptied as a whole. */
#define ARENA_BLOCK	(64 * 1024)
#define ARENA_KEEP	(4 * 1024 * 1024)	/* blocks kept between posts */

struct ablock {
	struct ablock	*next;
	size_t		 size, used;
	max_align_t	 data[];
};

struct arena {
	struct ablock	*head;		/* the block being filled first */
	size_t		 total;
};

static _Thread_local struct arena *tl_arena;	/* set during a parse */
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct ablock *b = a->head;
	size_t need = (n + sizeof (max_align_t) - 1) &
	    ~(sizeof (max_align_t) - 1);
	void *p;

	if (b == NULL || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		if ((b = malloc(sizeof *b + size)) == NULL)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->total += size;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	return p;
}

static int
arena_owns(const struct arena *a, const void *p)
{
	const struct ablock *b;

	for (b = a->head; b != NULL; b = b->next)
		if ((const char *)p >= (const char *)b->data &&
		    (const char *)p < (const char *)b->data + b->size)
			return 1;
	return 0;
}

/* Empties the arena; keeps the newest block, and more if small. */
static void
arena_reset(struct arena *a)
{
	struct ablock *b, *next;

	for (b = a->head; b != NULL; b = b->next)
		b->used = 0;
	if (a->total <= ARENA_KEEP || a->head == NULL)
		return;
	for (b = a->head->next; b != NULL; b = next) {
		next = b->next;
		a->total -= b->size;
		free(b);
	}
	a->head->next = NULL;
}

static void
arena_free_all(struct arena *a)
{
	struct ablock *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->total = 0;
}

static void *
hook_malloc(size_t n)
{
	return tl_arena != NULL ? arena_alloc(tl_arena, n) : malloc(n);
}

static void
hook_free(void *p)
{
	if (p != NULL && tl_arena != NULL && arena_owns(tl_arena, p))
		return;		/* goes with the arena */
	free(p);
}

static void
install_hooks(void)
{
	cJSON_Hooks h = { hook_malloc, hook_free };

	cJSON_InitHooks(&h);
}

struct decoder {
	enum dec_format		 format;
	char			*id_field;
	char			*text_field;
	char			*time_field;
	char		       **names;
	char		       **paths;
	size_t			 nfields;
	size_t			 max_bytes;
	int			 max_depth;

	cJSON			*root;		/* in arena */
	struct arena		 arena;
	struct post_field	*fields;
	char			 numbuf[64][32];	/* numbers as text */
	char			*textbuf;		/* text mode copy */
	size_t			 textcap;
};

static const char *const result_names[DEC__COUNT] = {
	[DEC_OK] = "ok",
	[DEC_TOO_LARGE] = "too_large",
	[DEC_NOT_UTF8] = "not_utf8",
	[DEC_NOT_JSON] = "not_json",
	[DEC_NOT_OBJECT] = "not_object",
	[DEC_TOO_DEEP] = "too_deep",
	[DEC_NO_TEXT] = "no_text",
	[DEC_TEXT_TYPE] = "text_type",
	[DEC_NUL] = "nul_byte",
	[DEC_BAD_TIME] = "bad_time",
};

const char *
decoder_result_name(enum dec_result r)
{
	return (unsigned)r < DEC__COUNT ? result_names[r] : "unknown";
}

static char *
dupornull(const char *s)
{
	return (s != NULL && *s != '\0') ? xstrdup(s) : NULL;
}

struct decoder *
decoder_new(const struct decoder_opts *o)
{
	struct decoder *d = xcalloc(1, sizeof *d);
	size_t i;

	pthread_once(&hooks_once, install_hooks);
	d->format = o->format;
	d->id_field = dupornull(o->id_field);
	d->text_field = xstrdup(o->text_field && *o->text_field ?
	    o->text_field : "text");
	d->time_field = dupornull(o->time_field);
	d->nfields = o->nfields > 64 ? 64 : o->nfields;
	d->names = xcalloc(d->nfields + 1, sizeof *d->names);
	d->paths = xcalloc(d->nfields + 1, sizeof *d->paths);
	d->fields = xcalloc(d->nfields + 1, sizeof *d->fields);
	for (i = 0; i < d->nfields; i++) {
		d->names[i] = xstrdup(o->fields[i]);
		d->paths[i] = xstrdup(o->field_paths && o->field_paths[i] ?
		    o->field_paths[i] : o->fields[i]);
		d->fields[i].name = d->names[i];
	}
	d->max_bytes = o->max_bytes ? o->max_bytes : 1024 * 1024;
	d->max_depth = o->max_depth ? o->max_depth : 64;
	return d;
}

void
decoder_free(struct decoder *d)
{
	size_t i;

	if (d == NULL)
		return;
	arena_free_all(&d->arena);	/* and the tree in it */
	for (i = 0; i < d->nfields; i++) {
		free(d->names[i]);
		free(d->paths[i]);
	}
	free(d->names);
	free(d->paths);
	free(d->fields);
	free(d->id_field);
	free(d->text_field);
	free(d->time_field);
	free(d->textbuf);
	free(d);
}

/* Follows a dotted path from an object; exact member names are tried
 * first so a member that itself holds a dot still works. */
static cJSON *
json_path(cJSON *obj, const char *path)
{
	const char *dot;
	char part[256];
	cJSON *it;

	it = cJSON_GetObjectItemCaseSensitive(obj, path);
	if (it != NULL)
		return it;
	while ((dot = strchr(path, '.')) != NULL) {
		if ((size_t)(dot - path) >= sizeof part)
			return NULL;
		memcpy(part, path, (size_t)(dot - path));
		part[dot - path] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, part);
		if (obj == NULL || !cJSON_IsObject(obj))
			return NULL;
		path = dot + 1;
	}
	return cJSON_GetObjectItemCaseSensitive(obj, path);
}

/* A scalar member as text: strings as they are, numbers and booleans
 * written out.  Returns NULL for null, objects and arrays. */
static const char *
json_text(cJSON *it, char *buf, size_t bufsz, size_t *len)
{
	if (cJSON_IsString(it)) {
		*len = strlen(it->valuestring);
		return it->valuestring;
	}
	if (cJSON_IsNumber(it)) {
		double v = it->valuedouble;

		if (v == floor(v) && fabs(v) < 1e15)
			snprintf(buf, bufsz, "%.0f", v);
		else
			snprintf(buf, bufsz, "%.17g", v);
		*len = strlen(buf);
		return buf;
	}
	if (cJSON_IsBool(it)) {
		snprintf(buf, bufsz, "%s", cJSON_IsTrue(it) ? "true" : "false");
		*len = strlen(buf);
		return buf;
	}
	return NULL;
}

/*
 * One pass before parsing: a raw NUL byte (DEC_NUL: cJSON would stop at
 * it), nesting deeper than max (DEC_TOO_DEEP, so cJSON's recursion stays
 * bounded), and whether a string holds a \u0000 escape (cJSON's strings
 * are NUL-terminated, so it would cut the text short without a trace; the
 * caller refuses it once the text field is known to be a string).
 */
static enum dec_result
json_prescan(const char *s, size_t len, int max, int *nul_escape)
{
	const char *p = s, *end = s + len, *q, *bs;
	int depth = 0, deep = 0;

	*nul_escape = 0;
	if (memchr(s, '\0', len) != NULL)
		return DEC_NUL;		/* before depth, as it always was */
	while (p < end) {
		switch (*p++) {
		case '"':
			/* a string: to its closing quote, escapes skipped */
			for (;;) {
				if ((q = memchr(p, '"', (size_t)(end - p))) == NULL) {
					p = end;
					break;
				}
				if ((bs = memchr(p, '\\', (size_t)(q - p))) == NULL) {
					p = q + 1;
					break;
				}
				if (end - bs > 5 && bs[1] == 'u' &&
				    memcmp(bs + 2, "0000", 4) == 0)
					*nul_escape = 1;
				p = bs + 2 < end ? bs + 2 : end;
			}
			break;
		case '{':
		case '[':
			if (++depth > max)
				deep = 1;
			break;
		case '}':
		case ']':
			depth--;
			break;
		default:
			break;
		}
	}
	return deep ? DEC_TOO_DEEP : DEC_OK;
}

static void
set_detail(char *detail, size_t sz, const char *fmt, const char *arg)
{
	if (detail != NULL && sz > 0)
		snprintf(detail, sz, fmt, arg);
}

enum dec_result
decoder_decode(struct decoder *d, const char *buf, size_t len, struct post *out,
    char *detail, size_t dsz)
{
	const char *endp = NULL, *v;
	cJSON *it;
	size_t i, vlen;
	enum dec_result pre;
	int nul_escape;

	memset(out, 0, sizeof *out);
	out->time_ms = -1;
	out->fields = d->fields;
	out->nfields = d->nfields;
	for (i = 0; i < d->nfields; i++)
		d->fields[i].value = NULL;

	if (len > d->max_bytes) {
		set_detail(detail, dsz, "message larger than %s", "max_post_bytes");
		return DEC_TOO_LARGE;
	}
	if (!utf8_valid(buf, len)) {
		set_detail(detail, dsz, "%s", "invalid UTF-8");
		return DEC_NOT_UTF8;
	}
	if (d->format == DEC_FORMAT_TEXT) {
		if (memchr(buf, '\0', len) != NULL) {
			set_detail(detail, dsz, "%s", "NUL byte in text");
			return DEC_NUL;
		}
		d->textbuf = xgrow(d->textbuf, &d->textcap, len + 1, 1);
		memcpy(d->textbuf, buf, len);
		d->textbuf[len] = '\0';
		out->text = d->textbuf;
		out->text_len = len;
		return DEC_OK;
	}

	d->root = NULL;
	arena_reset(&d->arena);
	if ((pre = json_prescan(buf, len, d->max_depth, &nul_escape)) ==
	    DEC_NUL) {
		set_detail(detail, dsz, "%s", "NUL byte in the message");
		return DEC_NUL;
	}
	if (pre == DEC_TOO_DEEP) {
		set_detail(detail, dsz, "%s", "JSON nested too deeply");
		return DEC_TOO_DEEP;
	}
	tl_arena = &d->arena;
	d->root = cJSON_ParseWithLengthOpts(buf, len, &endp, 0);
	tl_arena = NULL;
	if (d->root == NULL) {
		char what[64];

		if (endp != NULL && endp >= buf && endp <= buf + len) {
			snprintf(what, sizeof what, "%zu", (size_t)(endp - buf));
			set_detail(detail, dsz, "not valid JSON (at byte %s)", what);
		} else
			set_detail(detail, dsz, "%s", "not valid JSON");
		return DEC_NOT_JSON;
	}
	/* Anything but whitespace after the value is an error too. */
	if (endp != NULL) {
		while (endp < buf + len && isspace((unsigned char)*endp))
			endp++;
		if (endp < buf + len) {
			set_detail(detail, dsz, "%s", "not valid JSON (trailing data)");
			return DEC_NOT_JSON;
		}
	}
	if (!cJSON_IsObject(d->root)) {
		set_detail(detail, dsz, "%s", "JSON value is not an object");
		return DEC_NOT_OBJECT;
	}
	it = json_path(d->root, d->text_field);
	if (it == NULL || cJSON_IsNull(it)) {
		set_detail(detail, dsz, "no text field '%s'", d->text_field);
		return DEC_NO_TEXT;
	}
	if (!cJSON_IsString(it)) {
		set_detail(detail, dsz, "text field '%s' is not a string",
		    d->text_field);
		return DEC_TEXT_TYPE;
	}
	if (nul_escape) {
		set_detail(detail, dsz, "%s", "text holds a NUL character");
		return DEC_NUL;
	}
	out->text = it->valuestring;
	out->text_len = strlen(it->valuestring);

	if (d->id_field != NULL && (it = json_path(d->root, d->id_field)) != NULL) {
		v = json_text(it, d->numbuf[63], sizeof d->numbuf[63], &vlen);
		if (v != NULL) {
			out->id = v;
			out->id_len = vlen;
		}
	}
	if (d->time_field != NULL &&
	    (it = json_path(d->root, d->time_field)) != NULL && !cJSON_IsNull(it)) {
		int64_t ms;

		if (cJSON_IsNumber(it)) {
			double t = it->valuedouble;

			if (!isfinite(t) || t < 0 || t > 1e14) {
				set_detail(detail, dsz, "time field '%s' out of range",
				    d->time_field);
				return DEC_BAD_TIME;
			}
			out->time_ms = t > 1e11 ? (int64_t)t : (int64_t)(t * 1000.0);
		} else if (cJSON_IsString(it) &&
		    decoder_parse_time(it->valuestring, strlen(it->valuestring),
		    &ms) == 0 && ms >= 0)	/* as for numbers: none before 1970 */
			out->time_ms = ms;
		else {
			set_detail(detail, dsz, "time field '%s' is not a time",
			    d->time_field);
			return DEC_BAD_TIME;
		}
	}
	for (i = 0; i < d->nfields; i++) {
		it = json_path(d->root, d->paths[i]);
		if (it == NULL)
			continue;
		v = json_text(it, d->numbuf[i], sizeof d->numbuf[i], &vlen);
		if (v != NULL) {
			d->fields[i].value = v;
			d->fields[i].len = vlen;
		}
	}
	return DEC_OK;
}

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
decoder_parse_time(const char *s, size_t len, int64_t *ms)
{
	int Y, M, D, h = 0, m = 0, sec = 0, frac_ms = 0, oh, om, sign;
	size_t i = 19;
	char *end;

	/* a number in a string */
	if (len > 0 && len < 32 && isdigit((unsigned char)s[0]) &&
	    memchr(s, '-', len) == NULL) {
		char tmp[32];
		double t;

		memcpy(tmp, s, len);
		tmp[len] = '\0';
		t = strtod(tmp, &end);
		if (*end != '\0' || !isfinite(t) || t < 0 || t > 1e14)
			return -1;
		*ms = t > 1e11 ? (int64_t)t : (int64_t)(t * 1000.0);
		return 0;
	}
	if (len < 10 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
	    s[7] != '-' || digits(s + 8, 2, &D))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > 31)
		return -1;
	if (len == 10) {
		*ms = days_from_civil(Y, M, D) * 86400000;
		return 0;
	}
	if (len < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (h > 23 || m > 59 || sec > 60)
		return -1;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		int scale = 100;

		for (i++; i < len && isdigit((unsigned char)s[i]); i++) {
			frac_ms += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	sign = 0;
	oh = om = 0;
	if (i == len)
		sign = 0;	/* no zone: UTC */
	else if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		sign = 0;
	else if ((s[i] == '+' || s[i] == '-') && len - i == 6 &&
	    digits(s + i + 1, 2, &oh) == 0 && s[i + 3] == ':' &&
	    digits(s + i + 4, 2, &om) == 0)
		sign = s[i] == '+' ? 1 : -1;
	else if ((s[i] == '+' || s[i] == '-') && len - i == 5 &&
	    digits(s + i + 1, 2, &oh) == 0 && digits(s + i + 3, 2, &om) == 0)
		sign = s[i] == '+' ? 1 : -1;
	else
		return -1;
	*ms = ((days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec) -
	    sign * (oh * 3600 + om * 60)) * 1000 + frac_ms;
	return 0;
}

/* The post fields that where conditions and count_by read, with their
 * JSON paths from the field map; also the map's other fields. */
void
decoder_rule_fields(const struct ruleset *rs, const struct kv *map, size_t nmap,
    const char ***names, const char ***paths, size_t *n)
{
	size_t cap = 0, ti, i, j, k;
	const char *nm;

	*names = NULL;
	*paths = NULL;
	*n = 0;
	for (k = 0; k < nmap; k++) {
		*names = xgrow(*names, &cap, *n + 1, sizeof **names);
		*paths = xrealloc(*paths, cap * sizeof **paths);
		(*names)[*n] = map[k].key;
		(*paths)[*n] = map[k].value;
		(*n)++;
	}
	for (ti = 0; ti < rs->ntopics; ti++) {
		const struct rule_topic *t = &rs->topics[ti];

		for (i = 0; i < t->nwhere + t->ncount_by; i++) {
			nm = i < t->nwhere ? t->where[i].field :
			    t->count_by[i - t->nwhere];
			for (j = 0; j < *n; j++)
				if (strcmp((*names)[j], nm) == 0)
					break;
			if (j < *n)
				continue;
			*names = xgrow(*names, &cap, *n + 1, sizeof **names);
			*paths = xrealloc(*paths, cap * sizeof **paths);
			(*names)[*n] = nm;
			(*paths)[*n] = nm;
			for (k = 0; k < nmap; k++)
				if (strcmp(map[k].key, nm) == 0)
					(*paths)[*n] = map[k].value;
			(*n)++;
		}
	}
}
