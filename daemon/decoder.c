/*
 * decoder.c — message bytes → struct post (JSON with a field mapping, or
 * plain text).
 *
 * DESIGN: after the size check, two paths.  The fast path (below) is one
 * validating scan that checks the JSON grammar and the UTF-8 of the whole
 * message and records where each key and value lies; it takes the usual
 * post, a well-formed object.  Everything else goes to the full path:
 * strict UTF-8 check, then cJSON's tree (which decoded ~6x faster than
 * jansson), which also gives the reason for a refusal.  Both read the
 * members through fill_post(), so they answer alike.  Members are found by
 * dotted paths ("user.region").  The post's strings point into the arena
 * (the tree, or the fast path's unescaped copies) or the text-mode buffer,
 * kept until the next call, so a decoder belongs to one thread.  Every
 * refusal maps to one enum dec_result so the daemon can count rejects by
 * reason.
 *
 * Allocation: each decoder has an arena; while it parses, cJSON's allocator
 * hooks (installed once, process-wide) take memory from that arena (a
 * thread-local pointer says which), and the next decode simply empties
 * it: a post costs no malloc/free per JSON node, which was a third of the
 * decoding time.  Outside a decoder's parse the hooks are plain malloc and
 * free, so other users of cJSON are unaffected.  The checks before the
 * cJSON parse (NUL bytes, nesting depth, \u0000 escapes, and what cJSON
 * takes but JSON forbids: control bytes, numbers such as 0123) are one
 * pass over the bytes.
 */
#include <ctype.h>
#include <endian.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
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
	int			 full_parse;

	cJSON			*root;		/* in arena */
	const char		*buf;		/* the message (fast path) */
	struct ftok		*tok;		/* its tokens (fast path) */
	size_t			 ntok, tokcap;
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
	[DEC_NUL_ESCAPE] = "nul_escape",
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
	d->full_parse = o->full_parse;
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
	free(d->tok);
	free(d);
}

/*
 * A member's value as both parsers see it.  The fields of a post are read
 * through one routine (fill_post) whichever parser found them, so the two
 * paths cannot drift apart in what they accept.
 */
enum jkind { JV_ABSENT, JV_NULL, JV_STRING, JV_NUMBER, JV_BOOL, JV_OTHER };

struct jval {
	enum jkind	 kind;
	const char	*str;		/* JV_STRING: NUL-terminated */
	size_t		 len;
	double		 num;		/* JV_NUMBER */
	int		 truth;		/* JV_BOOL */
};

/* Looks a dotted path up (absent: JV_ABSENT). */
typedef void (*lookup_fn)(struct decoder *d, const char *path, struct jval *v);

/* --- cJSON: every message the fast path does not take -------------------- */

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

static void
cjson_lookup(struct decoder *d, const char *path, struct jval *v)
{
	cJSON *it = json_path(d->root, path);

	memset(v, 0, sizeof *v);
	if (it == NULL)
		v->kind = JV_ABSENT;
	else if (cJSON_IsNull(it))
		v->kind = JV_NULL;
	else if (cJSON_IsString(it)) {
		v->kind = JV_STRING;
		v->str = it->valuestring;
		v->len = strlen(it->valuestring);
	} else if (cJSON_IsNumber(it)) {
		v->kind = JV_NUMBER;
		v->num = it->valuedouble;
	} else if (cJSON_IsBool(it)) {
		v->kind = JV_BOOL;
		v->truth = cJSON_IsTrue(it);
	} else
		v->kind = JV_OTHER;
}

/* --- the fast path: one validating scan ----------------------------------
 *
 * Most posts are one flat object of a few short members and one long text.
 * The scan reads the message once, left to right: it checks the JSON
 * grammar (every separator where it must be, literals and numbers spelt
 * right, no control bytes in strings, every escape well formed) and the
 * UTF-8 of every string (Unicode's well-formed byte sequences; outside
 * strings only ASCII grammar is allowed, so the whole message is checked),
 * eight bytes at a time where a word holds nothing to look at, and records
 * a token per key and value with the index of the token after it, so a
 * member is found without walking what is inside its siblings.  No library
 * in Debian does this in one pass: jsmn, used here before, reads strings a
 * character at a time and needs a second pass for the grammar it lets
 * through and a third for UTF-8, three times the instructions per post
 * (callgrind, the benchmark's posts).  The scan takes only what it can
 * answer exactly as cJSON would; anything else (malformed input or UTF-8, escaped keys, surrogate
 * escapes, numbers longer than cJSON reads, deep nesting, a byte-order
 * mark, a root that is not an object) goes to the full path below, which
 * then gives the reason.  The post fuzzer compares the two paths on every
 * input.
 */
#define FAST_MAX_DEPTH	64
#define FAST_MAX_NUM	63	/* longer numbers: cJSON's own limit */

enum { FT_OBJECT, FT_ARRAY, FT_STRING, FT_PRIM };

struct ftok {
	uint32_t	start, end;	/* strings: content without quotes */
	uint32_t	next;		/* the token after this value and
					 * everything inside it */
	uint32_t	size;		/* members or elements */
	uint8_t		type;
	uint8_t		escaped;	/* a string holding a backslash */
};

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The bytes of a little-endian word that a string scan must look at: a
 * quote, a backslash, a control byte or a byte above 0x7f, each marked by
 * its top bit (bit tricks from "Bit Twiddling Hacks": hasless, haszero).
 * The lowest mark is exact; marks above it may be false (borrows), so only
 * the lowest is used.
 */
static uint64_t
word_stops(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t high = UINT64_C(0x8080808080808080);
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return ((w - ones * 0x20) | (q - ones) | (b - ones) | w) & high;
}

/* The low byte of w is a three-byte lead other than E0 and ED, so any two
 * continuation bytes make a well-formed character. */
static inline int
plain_lead(uint64_t w)
{
	unsigned n = (unsigned)w & 0x0f;

	return n != 0x0 && n != 0xd;
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * The string whose opening quote is at s[*ip - 1]: moves *ip past its
 * closing quote and returns its end (the quote's index), or returns 0 if
 * the fast path cannot take it.  Notes a backslash and a \u0000 escape.
 */
static size_t
scan_string(const unsigned char *s, size_t len, size_t *ip, int *escaped,
    int *nul_escape)
{
	size_t i = *ip, k;
	uint64_t w, m;

	*escaped = 0;
	for (;;) {
		unsigned c;

		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if ((m = word_stops(le64toh(w))) == 0) {
				i += 8;
				continue;
			}
			i += (size_t)__builtin_ctzll(m) >> 3;	/* to the stop */
		} else if (i >= len)
			return 0;
		c = s[i];
		if (c == '"') {
			*ip = i + 1;
			return i;
		}
		if (c >= 0x80) {
			/* a run of multi-byte characters; two three-byte ones
			 * at a time where their lead bytes need no more look
			 * (E0 and ED limit the next byte) */
			do {
				if (len - i >= 8) {
					memcpy(&w, s + i, 8);
					w = le64toh(w);
					if ((w & UINT64_C(0xc0c0f0c0c0f0)) ==
					    UINT64_C(0x8080e08080e0) &&
					    plain_lead(w) && plain_lead(w >> 24)) {
						i += 6;
						continue;
					}
				}
				if ((k = utf8_seq_len(s + i, len - i)) == 0)
					return 0;
				i += k;
			} while (i < len && s[i] >= 0x80);
		} else if (c == '\\') {
			*escaped = 1;
			if (len - i < 2)
				return 0;
			switch (s[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				i += 2;
				break;
			case 'u':
				if (len - i < 6 || !is_hex(s[i + 2]) ||
				    !is_hex(s[i + 3]) || !is_hex(s[i + 4]) ||
				    !is_hex(s[i + 5]))
					return 0;
				/* \uD800-\uDFFF: cJSON checks the pairing,
				 * in any member; let it */
				if ((s[i + 2] | 0x20) == 'd' && s[i + 3] >= '8')
					return 0;	/* 8-9, A-F, a-f */
				if (memcmp(s + i + 2, "0000", 4) == 0)
					*nul_escape = 1;
				i += 6;
				break;
			default:
				return 0;
			}
		} else if (c < 0x20)
			return 0;
		else
			i++;
	}
}

/* The end of the JSON number at s[i],
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, or 0 if none starts
 * there.  Whatever follows it is the caller's to judge. */
static size_t
number_end(const unsigned char *s, size_t len, size_t i)
{
	size_t k;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		for (k = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == k)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == k)
			return 0;
	}
	return i;
}

/* A JSON number at s[*ip] of at most FAST_MAX_NUM bytes.  Moves *ip past
 * it; 0 if there is none. */
static int
scan_number(const unsigned char *s, size_t len, size_t *ip)
{
	size_t e = number_end(s, len, *ip);

	if (e == 0 || e - *ip > FAST_MAX_NUM)
		return 0;
	*ip = e;
	return 1;
}

/* A new token of the given type at start (its end there too). */
static struct ftok *
tok_add(struct decoder *d, unsigned type, size_t start)
{
	struct ftok *t;

	if (d->ntok == d->tokcap)
		d->tok = xgrow(d->tok, &d->tokcap, d->ntok + 1, sizeof *d->tok);
	t = &d->tok[d->ntok++];
	t->type = (uint8_t)type;
	t->start = (uint32_t)start;
	t->end = (uint32_t)start;
	t->size = 0;
	t->escaped = 0;
	t->next = d->ntok;
	return t;
}

/*
 * Scans buf; returns 1 if the fast path takes it (d->tok, d->ntok and
 * *nul_escape set), 0 if the full path must.
 */
static int
fast_parse(struct decoder *d, const char *buf, size_t len, int *nul_escape)
{
	const unsigned char *s = (const unsigned char *)buf;
	uint32_t stack[FAST_MAX_DEPTH];
	struct ftok *t;
	size_t i = 0, e;
	int sp = 0, maxd, esc;

	*nul_escape = 0;
	d->ntok = 0;
	if (d->full_parse || len > INT32_MAX / 2)
		return 0;
	if (d->tokcap > 16384) {	/* a big post went by */
		free(d->tok);
		d->tok = NULL;
		d->tokcap = 0;
	}
	maxd = d->max_depth < FAST_MAX_DEPTH ? d->max_depth : FAST_MAX_DEPTH;
	d->buf = buf;
	while (i < len && is_ws(s[i]))
		i++;
	if (i == len || s[i] != '{')
		return 0;	/* not an object (or a BOM): cJSON says */

value:	/* a value starts at s[i] (whitespace skipped) */
	if (i >= len)
		return 0;
	switch (s[i]) {
	case '{':
	case '[':
		if (sp >= maxd)
			return 0;	/* cJSON says too deep */
		stack[sp++] = d->ntok;
		tok_add(d, s[i] == '{' ? FT_OBJECT : FT_ARRAY, i);
		for (i++; i < len && is_ws(s[i]); i++)
			;
		if (i < len && s[i] == (d->tok[stack[sp - 1]].type ==
		    FT_OBJECT ? '}' : ']'))
			goto close;
		if (d->tok[stack[sp - 1]].type == FT_OBJECT)
			goto key;
		goto value;
	case '"':
		t = tok_add(d, FT_STRING, ++i);
		if ((e = scan_string(s, len, &i, &esc, nul_escape)) == 0)
			return 0;
		t->end = (uint32_t)e;
		t->escaped = (uint8_t)esc;
		break;
	case 't':
	case 'f':
	case 'n':
		e = s[i] == 'f' ? 5 : 4;
		if (len - i < e || memcmp(s + i, s[i] == 't' ? "true" :
		    s[i] == 'f' ? "false" : "null", e) != 0)
			return 0;
		t = tok_add(d, FT_PRIM, i);
		i += e;
		t->end = (uint32_t)i;
		break;
	default:
		t = tok_add(d, FT_PRIM, i);
		if (!scan_number(s, len, &i))
			return 0;
		t->end = (uint32_t)i;
		break;
	}

next:	/* a value ended before s[i]: a separator, or the end */
	while (i < len && is_ws(s[i]))
		i++;
	d->tok[stack[sp - 1]].size++;
	if (i >= len)
		return 0;
	if (s[i] == ',') {
		for (i++; i < len && is_ws(s[i]); i++)
			;
		if (d->tok[stack[sp - 1]].type == FT_OBJECT)
			goto key;
		goto value;
	}
	if (s[i] != (d->tok[stack[sp - 1]].type == FT_OBJECT ? '}' : ']'))
		return 0;
close:	/* s[i] closes the innermost container */
	t = &d->tok[stack[--sp]];
	t->end = (uint32_t)++i;
	t->next = d->ntok;
	if (sp == 0) {
		while (i < len && is_ws(s[i]))
			i++;
		return i == len;
	}
	goto next;

key:	/* a member starts at s[i] (whitespace skipped) */
	if (i >= len || s[i] != '"')
		return 0;
	t = tok_add(d, FT_STRING, ++i);
	if ((e = scan_string(s, len, &i, &esc, nul_escape)) == 0 || esc)
		return 0;	/* an escaped key: cJSON */
	t->end = (uint32_t)e;
	while (i < len && is_ws(s[i]))
		i++;
	if (i >= len || s[i] != ':')
		return 0;
	for (i++; i < len && is_ws(s[i]); i++)
		;
	goto value;
}

/* The value of member key[0, klen) of object o (the first, as cJSON), or
 * -1.  Keys hold no escapes (fast_parse). */
static int
fast_member(const struct decoder *d, int o, const char *key, size_t klen)
{
	const struct ftok *tk = d->tok;
	uint32_t k = (uint32_t)o + 1, m;

	for (m = 0; m < tk[o].size; m++) {
		if (tk[k].end - tk[k].start == klen &&
		    memcmp(d->buf + tk[k].start, key, klen) == 0)
			return (int)k + 1;
		k = tk[k + 1].next;
	}
	return -1;
}

static void
put_utf8(char **o, uint32_t c)
{
	char *p = *o;

	if (c < 0x80)
		*p++ = (char)c;
	else if (c < 0x800) {
		*p++ = (char)(0xc0 | (c >> 6));
		*p++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (char)(0xe0 | (c >> 12));
		*p++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (char)(0xf0 | (c >> 18));
		*p++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*p++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	}
	*o = p;
}

/* A string token's text, unescaped into the arena and NUL-terminated
 * (fast_parse let no surrogate escape in). */
static void
fast_string(struct decoder *d, const struct ftok *t, struct jval *v)
{
	const char *s = d->buf + t->start, *e = d->buf + t->end;
	size_t n = (size_t)(t->end - t->start);
	char *out, *o;

	if ((out = arena_alloc(&d->arena, n + 1)) == NULL)
		xmalloc_fail(n + 1);
	if (!t->escaped) {
		memcpy(out, s, n);
		o = out + n;
	} else {
		for (o = out; s < e; ) {
			uint32_t c;

			if (*s != '\\') {
				*o++ = *s++;
				continue;
			}
			switch (s[1]) {
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case 't': *o++ = '\t'; break;
			case 'u':
				c = (uint32_t)strtoul((char[5]){ s[2], s[3], s[4],
				    s[5], 0 }, NULL, 16);
				put_utf8(&o, c);
				s += 4;
				break;
			default:	/* \" \\ \/ */
				*o++ = s[1];
				break;
			}
			s += 2;
		}
	}
	*o = '\0';
	v->kind = JV_STRING;
	v->str = out;
	v->len = (size_t)(o - out);
}

static void
fast_value(struct decoder *d, int i, struct jval *v)
{
	const struct ftok *t = &d->tok[i];
	const char *s = d->buf + t->start;
	char num[FAST_MAX_NUM + 1];
	uint64_t u = 0;
	size_t n, k;

	memset(v, 0, sizeof *v);
	switch (t->type) {
	case FT_STRING:
		fast_string(d, t, v);
		return;
	case FT_PRIM:
		n = (size_t)(t->end - t->start);
		switch (s[0]) {
		case 'n':
			v->kind = JV_NULL;
			return;
		case 't':
		case 'f':
			v->kind = JV_BOOL;
			v->truth = s[0] == 't';
			return;
		default:	/* scan_number: n <= FAST_MAX_NUM */
			v->kind = JV_NUMBER;
			/* an integer of up to 15 digits is exact in a
			 * double: no strtod (-0 stays -0, as strtod has it) */
			k = s[0] == '-';
			if (n - k <= 15) {
				for (; k < n && s[k] >= '0' && s[k] <= '9'; k++)
					u = u * 10 + (uint64_t)(s[k] - '0');
				if (k == n) {
					v->num = s[0] == '-' ? -(double)u : (double)u;
					return;
				}
			}
			memcpy(num, s, n);
			num[n] = '\0';
			v->num = strtod(num, NULL);
			return;
		}
	default:
		v->kind = JV_OTHER;
		return;
	}
}

/* As json_path: the exact name first, then the dotted walk. */
static void
fast_lookup(struct decoder *d, const char *path, struct jval *v)
{
	const char *dot;
	int o = 0, i;

	memset(v, 0, sizeof *v);	/* JV_ABSENT */
	if ((i = fast_member(d, 0, path, strlen(path))) >= 0) {
		fast_value(d, i, v);
		return;
	}
	while ((dot = strchr(path, '.')) != NULL) {
		if (dot - path >= 256)
			return;		/* as json_path: absent */
		o = fast_member(d, o, path, (size_t)(dot - path));
		if (o < 0 || d->tok[o].type != FT_OBJECT)
			return;
		path = dot + 1;
	}
	if ((i = fast_member(d, o, path, strlen(path))) >= 0)
		fast_value(d, i, v);
}

/* --- both paths ----------------------------------------------------------- */

/* A scalar value as text: strings as they are, numbers and booleans
 * written out.  Returns NULL for null, objects and arrays. */
static const char *
jval_text(const struct jval *v, char *buf, size_t bufsz, size_t *len)
{
	switch (v->kind) {
	case JV_STRING:
		*len = v->len;
		return v->str;
	case JV_NUMBER:
		if (v->num == floor(v->num) && fabs(v->num) < 1e15)
			snprintf(buf, bufsz, "%.0f", v->num);
		else
			snprintf(buf, bufsz, "%.17g", v->num);
		*len = strlen(buf);
		return buf;
	case JV_BOOL:
		snprintf(buf, bufsz, "%s", v->truth ? "true" : "false");
		*len = strlen(buf);
		return buf;
	default:
		return NULL;
	}
}

static void
set_detail(char *detail, size_t sz, const char *fmt, const char *arg)
{
	if (detail != NULL && sz > 0)
		snprintf(detail, sz, fmt, arg);
}

/* Reads the post's members through get. */
static enum dec_result
fill_post(struct decoder *d, lookup_fn get, int nul_escape, struct post *out,
    char *detail, size_t dsz)
{
	struct jval v;
	const char *t;
	size_t i, vlen;

	get(d, d->text_field, &v);
	if (v.kind == JV_ABSENT) {
		set_detail(detail, dsz, "no text field '%s'", d->text_field);
		return DEC_NO_TEXT;
	}
	if (v.kind != JV_STRING) {
		set_detail(detail, dsz, v.kind == JV_NULL ? "text field '%s' "
		    "is null, not a string" : "text field '%s' is not a string",
		    d->text_field);
		return DEC_TEXT_TYPE;
	}
	if (nul_escape) {
		set_detail(detail, dsz, "%s", "a string holds \\u0000 (a NUL "
		    "character)");
		return DEC_NUL_ESCAPE;
	}
	out->text = v.str;
	out->text_len = v.len;

	if (d->id_field != NULL) {
		get(d, d->id_field, &v);
		if ((t = jval_text(&v, d->numbuf[63], sizeof d->numbuf[63],
		    &vlen)) != NULL) {
			out->id = t;
			out->id_len = vlen;
		}
	}
	if (d->time_field != NULL) {
		int64_t ms;

		get(d, d->time_field, &v);
		if (v.kind == JV_NUMBER) {
			if (!isfinite(v.num) || v.num < 0 || v.num > 1e14) {
				set_detail(detail, dsz, "time field '%s' out of "
				    "range", d->time_field);
				return DEC_BAD_TIME;
			}
			out->time_ms = v.num > 1e11 ? (int64_t)v.num :
			    (int64_t)(v.num * 1000.0);
		} else if (v.kind == JV_STRING && decoder_parse_time(v.str, v.len,
		    &ms) == 0 && ms >= 0)	/* as for numbers: none before 1970 */
			out->time_ms = ms;
		else if (v.kind != JV_ABSENT && v.kind != JV_NULL) {
			set_detail(detail, dsz, "time field '%s' is not a time",
			    d->time_field);
			return DEC_BAD_TIME;
		}
	}
	for (i = 0; i < d->nfields; i++) {
		get(d, d->paths[i], &v);
		if ((t = jval_text(&v, d->numbuf[i], sizeof d->numbuf[i],
		    &vlen)) != NULL) {
			d->fields[i].value = t;
			d->fields[i].len = vlen;
		}
	}
	return DEC_OK;
}

/* A byte of a JSON number, for the check that one ended where it must. */
static int
in_number(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
	    c == 'e' || c == 'E';
}

/* DEC_NOT_JSON with what was wrong and where. */
static enum dec_result
not_json_at(char *detail, size_t dsz, const char *what, size_t at)
{
	char where[96];

	snprintf(where, sizeof where, "%s at byte %zu", what, at);
	set_detail(detail, dsz, "not valid JSON (%s)", where);
	return DEC_NOT_JSON;
}

/*
 * One pass before parsing: a raw NUL byte (DEC_NUL: cJSON would stop at
 * it); what cJSON lets through but RFC 8259 forbids (DEC_NOT_JSON): a
 * control byte in a string, one outside a string other than tab, LF and
 * CR, and a number not spelt as JSON spells them (0123, 1., -.5);
 * nesting deeper than max (DEC_TOO_DEEP, so cJSON's recursion stays
 * bounded); and whether a string holds a \u0000 escape (cJSON's strings
 * are NUL-terminated, so it would cut the text short without a trace; the
 * caller refuses it once the text field is known to be a string).  Where
 * the message is JSON at all, strings and numbers lie where this pass
 * sees them; where it is not, cJSON refuses it anyway.
 */
static enum dec_result
json_prescan(const char *buf, size_t len, int max, int *nul_escape,
    char *detail, size_t dsz)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, e;
	int depth = 0, deep = 0;

	*nul_escape = 0;
	if (memchr(buf, '\0', len) != NULL) {
		set_detail(detail, dsz, "%s", "NUL byte in the message");
		return DEC_NUL;		/* before depth, as it always was */
	}
	while (i < len) {
		unsigned char c = s[i];

		if (c == '"') {
			/* a string: to its closing quote, escapes skipped */
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] < 0x20)
					return not_json_at(detail, dsz,
					    "control byte in a string", i);
				if (s[i] != '\\')
					continue;
				if (len - i > 5 && s[i + 1] == 'u' &&
				    memcmp(s + i + 2, "0000", 4) == 0)
					*nul_escape = 1;
				i++;
			}
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			e = number_end(s, len, i);
			if (e == 0 || (e < len && in_number(s[e])))
				return not_json_at(detail, dsz,
				    "malformed number", i);
			i = e;
		} else if (c < 0x20 && !is_ws(c)) {
			return not_json_at(detail, dsz,
			    "control byte outside a string", i);
		} else {
			if ((c == '{' || c == '[') && ++depth > max)
				deep = 1;
			else if (c == '}' || c == ']')
				depth--;
			i++;
		}
	}
	if (deep) {
		set_detail(detail, dsz, "%s", "JSON nested too deeply");
		return DEC_TOO_DEEP;
	}
	return DEC_OK;
}

enum dec_result
decoder_decode(struct decoder *d, const char *buf, size_t len, struct post *out,
    char *detail, size_t dsz)
{
	const char *endp = NULL;
	size_t i;
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
	if (d->format == DEC_FORMAT_TEXT) {
		if (!utf8_valid(buf, len)) {
			set_detail(detail, dsz, "%s", "invalid UTF-8");
			return DEC_NOT_UTF8;
		}
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
	if (fast_parse(d, buf, len, &nul_escape))
		return fill_post(d, fast_lookup, nul_escape, out, detail, dsz);

	/* the full path: UTF-8 first (cJSON does not check it) */
	if (!utf8_valid(buf, len)) {
		set_detail(detail, dsz, "%s", "invalid UTF-8");
		return DEC_NOT_UTF8;
	}

	if ((pre = json_prescan(buf, len, d->max_depth, &nul_escape, detail,
	    dsz)) != DEC_OK)
		return pre;
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
	return fill_post(d, cjson_lookup, nul_escape, out, detail, dsz);
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

/* s is digits, or digits '.' digits. */
static int
is_decimal(const char *s, size_t len)
{
	size_t n = strspn(s, "0123456789");

	if (n == len)
		return n > 0;
	return n > 0 && s[n] == '.' && n + 1 < len &&
	    strspn(s + n + 1, "0123456789") == len - n - 1;
}

/* Days in month m (1-12) of year y. */
static int
month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
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

	/* a decimal number in a string: digits, then maybe a fraction */
	if (len > 0 && len < 32 && isdigit((unsigned char)s[0]) &&
	    memchr(s, '-', len) == NULL) {
		char tmp[32];
		double t;

		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (!is_decimal(tmp, len))
			return -1;	/* no exponent, hex or sign */
		t = strtod(tmp, &end);
		if (*end != '\0' || !isfinite(t) || t < 0 || t > 1e14)
			return -1;
		*ms = t > 1e11 ? (int64_t)t : (int64_t)(t * 1000.0);
		return 0;
	}
	if (len < 10 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
	    s[7] != '-' || digits(s + 8, 2, &D))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > month_days(Y, M))
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
	if (oh > 23 || om > 59)
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
