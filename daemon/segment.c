/*
 * segment.c — a post's text → its set of terms, for discovery.
 *
 * DESIGN.  The text goes through the normaliser in full form (separators
 * kept, every character folded: width, case, traditional → simplified), and
 * one pass over the normalised characters cuts it into pieces:
 *   - "#…#" (Weibo topic) or "#tag": a hashtag term "#…" of the folded
 *     characters between, whose content is then segmented as text too;
 *   - "@name": a mention term, or nothing (seg_opts.mentions);
 *   - "http://…", "https://…": skipped up to the next space;
 *   - runs of Han characters: joined across short separator runs that are
 *     not punctuation (地*沟 油 → 地沟油: the spellings that evade keyword
 *     matching), then cut into words by libfriso (complex mode: its
 *     simple mode, forward maximum matching, is four times as fast but
 *     cuts 用地沟油 into 用地 沟油, docs/design.md; its stop words
 *     cleared); runs of single characters are kept as singles_flush()
 *     says, other single characters are dropped;
 *   - runs of other ideographic script (kana, hangul): one word each;
 *   - Latin words: letters and digits; single letters each followed by one
 *     to max_gap separators (f.o.o.d, f-o-o-d) join into one word when at
 *     least three of them come in a row.
 * With max_terms at most 32, a context remembers the terms of its last
 * texts (SEG_MEMO, direct-mapped by a hash of the normalised characters,
 * which are all the pass reads), so a copy of a recent text, as reposts
 * and bots make, is not segmented again.
 * Segmentation stops as soon as seg_opts.max_terms terms are kept (the
 * rest of the text could only add later terms: the first ones are the same
 * as without a limit); discovery counts a post's first 32, and friso's
 * complex mode costs about 1 µs a character, so a long post costs what
 * its first 32 terms take.
 * Terms are kept once per text, in order, except stop terms (the built-in
 * lists below plus seg_opts.stop_terms, each normalised the same way),
 * numbers, one-letter words and anything longer than SEG_MAX_TERM bytes.
 *
 * Threads: the segmenter (friso's dictionary and config, the stop set) is
 * read-only after seg_new(); friso keeps its per-text state in a task, one
 * per seg_ctx, and a seg_ctx belongs to one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#include <friso.h>
#pragma GCC diagnostic pop

#include "segment.h"
#include "strmap.h"
#include "xmalloc.h"

#define SEG_MAX_TERMS	256	/* terms kept per text */
#define SEG_MAX_HASHTAG	40	/* characters between a Weibo topic's #s */
#define SEG_MEMO	64	/* texts a context remembers the terms of */
#define SEG_MEMO_TERMS	32	/* ... when max_terms is at most this */

/* Built-in stop terms: function words (Chinese, English and the most
 * common of a few European languages), chat filler and platform noise
 * that rise with any busy hour and name no event. */
static const char *const seg_builtin_stop[] = {
	/* Chinese (single characters are never terms) */
	"我们", "你们", "他们", "她们", "它们", "咱们", "自己", "大家",
	"这个", "那个", "这些", "那些", "这样", "那样", "这么", "那么",
	"什么", "怎么", "怎样", "为什么", "如何", "哪里", "一个", "一些",
	"一下", "一点", "一直", "一起", "没有", "不是", "就是", "还是",
	"但是", "因为", "所以", "如果", "虽然", "而且", "或者", "以及",
	"已经", "可以", "可能", "应该", "需要", "现在", "今天", "昨天",
	"明天", "时候", "知道", "觉得", "真的", "还有", "然后", "其实",
	"的话", "关于", "对于", "通过", "进行", "表示", "认为", "这里",
	"那里", "有点", "非常", "特别", "出来", "起来", "不要", "不会",
	"不能", "不过", "只是", "只有", "一样", "之后", "之前", "以后",
	"以前", "转发", "微博", "转发微博", "网页链接", "链接", "视频",
	"图片", "回复", "分享", "全文", "展开", "收起", "哈哈", "哈哈哈",
	/* English */
	"the", "an", "and", "or", "but", "if", "of", "to", "in", "on",
	"at", "for", "with", "by", "from", "as", "is", "are", "was", "were",
	"be", "been", "being", "it", "its", "this", "that", "these",
	"those", "you", "he", "she", "we", "they", "me", "my", "your",
	"our", "their", "his", "her", "him", "them", "us", "not", "no",
	"so", "do", "does", "did", "have", "has", "had", "will", "would",
	"can", "could", "should", "may", "might", "must", "just", "than",
	"then", "there", "here", "what", "which", "who", "whom", "when",
	"where", "why", "how", "all", "any", "some", "more", "most", "very",
	"also", "about", "into", "over", "after", "before", "up", "down",
	"out", "off", "rt", "via", "amp", "http", "https", "www", "com",
	"co", "get", "got", "im", "dont", "cant", "lol", "now", "go",
	"one", "all", "only", "new", "like", "too", "am", "pm", "re",
	"ve", "ll", "don", "didn", "doesn", "isn", "aren", "wasn", "let",
	"see", "still", "our", "out", "what", "s", "t", "u",
	/* Spanish, Portuguese, Italian, French, German function words */
	"de", "la", "el", "los", "las", "del", "que", "en", "un", "una",
	"por", "para", "con", "se", "su", "al", "lo", "es", "da", "do",
	"dos", "das", "na", "no", "em", "um", "uma", "com", "os", "il",
	"di", "che", "per", "le", "les", "des", "du", "et", "est", "pour",
	"dans", "sur", "pas", "der", "die", "das", "und", "ist", "mit",
	"von", "den", "zu", "y", "e", "o", "a", "mas", "muy", "ya",
	NULL
};

struct segmenter {
	friso_t			 friso;
	friso_config_t		 fcfg;
	const struct normalizer	*norm;
	int			 max_gap;
	bool			 mentions;
	size_t			 max_terms;
	uint64_t		*stop;		/* open addressing; 0: empty */
	size_t			 stop_mask;
};

/* The terms of a recent text, by the hash of its normalised characters. */
struct seg_memo {
	uint64_t		 key;		/* 0: empty */
	size_t			 n;
	struct seg_term		 v[SEG_MEMO_TERMS];
	char			 str[SEG_MEMO_TERMS * SEG_MAX_TERM];
};

struct seg_ctx {
	const struct segmenter	*s;
	struct seg_memo		*memo;		/* SEG_MEMO, direct-mapped;
						 * NULL: max_terms too many */
	friso_task_t		 task;
	struct norm_buf		 nb;
	char			*run;		/* a Han run's UTF-8, for friso */
	size_t			 run_len, run_cap;
	char			 str[SEG_MAX_TERMS * SEG_MAX_TERM];
	size_t			 str_len;
	struct seg_term		 v[SEG_MAX_TERMS];
	size_t			 n;
};

uint64_t
seg_hash(const char *s, size_t len)
{
	uint64_t h = strmap_hash64(s, len);

	/* splitmix64's finaliser: every bit of the key reaches every bit */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h == 0 ? 1 : h;
}

/* ---- character classes -------------------------------------------------- */

static bool
cp_is_han(uint32_t cp)
{
	return (cp >= 0x4e00 && cp <= 0x9fff) ||
	    (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0x20000 && cp <= 0x3134f) || cp == 0x3007;
}

static bool
cp_is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == 0x3000 || cp == 0xa0 || cp == 0x0b || cp == 0x0c;
}

/* Punctuation that ends a phrase: a run of characters never joins across
 * it (evasion uses * · - _ / spaces and emoji, not these). */
static bool
cp_is_break(uint32_t cp)
{
	static const uint32_t brk[] = {
		',', '!', '?', ';', ':', '"', '(', ')', '[', ']', '{', '}',
		'<', '>', '\n', '\r', '#', '@',
		0x3001, 0x3002, 0xff0c, 0xff01, 0xff1f, 0xff1b, 0xff1a,
		0x201c, 0x201d, 0x2018, 0x2019, 0x300a, 0x300b, 0x3010,
		0x3011, 0x300c, 0x300d, 0x300e, 0x300f, 0xff08, 0xff09,
		0x2026, 0x2014,
	};
	size_t i;

	for (i = 0; i < sizeof brk / sizeof brk[0]; i++)
		if (cp == brk[i])
			return true;
	return false;
}

size_t
seg_utf8_put(char *dst, uint32_t cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xc0 | cp >> 6);
		dst[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xe0 | cp >> 12);
		dst[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		dst[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (char)(0xf0 | cp >> 18);
	dst[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	dst[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	dst[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---- stop terms --------------------------------------------------------- */

static bool
stop_has(const struct segmenter *s, uint64_t h)
{
	size_t i;

	for (i = h & s->stop_mask; s->stop[i] != 0; i = (i + 1) & s->stop_mask)
		if (s->stop[i] == h)
			return true;
	return false;
}

static void
stop_add(struct segmenter *s, uint64_t h)
{
	size_t i;

	for (i = h & s->stop_mask; s->stop[i] != 0; i = (i + 1) & s->stop_mask)
		if (s->stop[i] == h)
			return;
	s->stop[i] = h;
}

/* Adds a stop term as the segmenter would see it: normalised, separators
 * dropped ("R.T." and "ＲＴ" stop "rt"). */
static void
stop_add_term(struct segmenter *s, struct norm_buf *nb, const char *t)
{
	char buf[SEG_MAX_TERM + 4];
	size_t i, len = 0;

	if (norm_text_full(s->norm, t, strlen(t), nb) == -1)
		return;
	for (i = 0; i < nb->n && len + 4 <= SEG_MAX_TERM; i++)
		if (nb->v[i].cls != NC_SEP || (i == 0 &&
		    (nb->v[i].cp == '#' || nb->v[i].cp == '@')))
			len += seg_utf8_put(buf + len, nb->v[i].cp);
	if (len > 0)
		stop_add(s, seg_hash(buf, len));
}

/* ---- the segmenter ------------------------------------------------------ */

struct segmenter *
seg_new(const struct seg_opts *o, const struct normalizer *n, char *errstr,
    size_t errsz)
{
	struct segmenter *s;
	struct norm_buf nb = { 0 };
	struct stat sb;
	char path[4096];
	size_t i, nstop, cap;

	snprintf(path, sizeof path, "%s/friso.lex.ini", o->dictionary);
	if (stat(path, &sb) == -1) {
		snprintf(errstr, errsz, "no Chinese dictionary: %s not found "
		    "(the friso-dict package)", path);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->norm = n;
	s->max_gap = norm_options(n)->max_gap;
	s->mentions = o->mentions;
	s->max_terms = o->max_terms > 0 && o->max_terms < SEG_MAX_TERMS ?
	    o->max_terms : SEG_MAX_TERMS;
	s->friso = friso_new();
	s->fcfg = friso_new_config();
	s->friso->charset = FRISO_UTF8;
	s->fcfg->max_len = 5;
	s->fcfg->r_name = 1;
	s->fcfg->mix_len = 2;
	s->fcfg->lna_len = 1;
	s->fcfg->clr_stw = 1;
	s->fcfg->keep_urec = 0;
	s->fcfg->add_syn = 0;
	s->fcfg->en_sseg = 0;
	friso_set_mode(s->fcfg, __FRISO_COMPLEX_MODE__);
	s->friso->dic = friso_dic_new();
	/* friso reads "<dir>/" + each file named in friso.lex.ini */
	snprintf(path, sizeof path, "%s/", o->dictionary);
	friso_dic_load_from_ifile(s->friso, s->fcfg, path,
	    s->fcfg->max_len * 3);
	if (friso_all_dic_size(s->friso->dic) == 0) {
		snprintf(errstr, errsz, "the Chinese dictionary in %s is empty",
		    o->dictionary);
		seg_free(s);
		return NULL;
	}
	for (nstop = 0; seg_builtin_stop[nstop] != NULL; nstop++)
		;
	nstop += o->nstop_terms;
	for (cap = 64; cap < nstop * 2; cap *= 2)
		;
	s->stop = xcalloc(cap, sizeof *s->stop);
	s->stop_mask = cap - 1;
	for (i = 0; seg_builtin_stop[i] != NULL; i++)
		stop_add_term(s, &nb, seg_builtin_stop[i]);
	for (i = 0; i < o->nstop_terms; i++)
		stop_add_term(s, &nb, o->stop_terms[i]);
	norm_buf_free(&nb);
	return s;
}

void
seg_free(struct segmenter *s)
{
	if (s == NULL)
		return;
	if (s->friso != NULL)
		friso_free(s->friso);
	if (s->fcfg != NULL)
		friso_free_config(s->fcfg);
	free(s->stop);
	free(s);
}

struct seg_ctx *
seg_ctx_new(const struct segmenter *s)
{
	struct seg_ctx *c = xcalloc(1, sizeof *c);

	c->s = s;
	c->task = friso_new_task();
	if (s->max_terms <= SEG_MEMO_TERMS)
		c->memo = xcalloc(SEG_MEMO, sizeof *c->memo);
	return c;
}

void
seg_ctx_free(struct seg_ctx *c)
{
	if (c == NULL)
		return;
	friso_free_task(c->task);
	free(c->memo);
	norm_buf_free(&c->nb);
	free(c->run);
	free(c);
}

/* ---- emitting terms ----------------------------------------------------- */

/* Keeps one term: not too short or long, not a number, not a stop term,
 * not seen before in this text. */
static void
term_keep(struct seg_ctx *c, enum seg_kind kind, const char *t, size_t len,
    size_t ncp)
{
	uint64_t h;
	size_t i;

	if (len == 0 || len > SEG_MAX_TERM || c->n >= c->s->max_terms)
		return;
	if (kind == SEG_WORD) {
		if (ncp < 2)
			return;
		for (i = 0; i < len && t[i] >= '0' && t[i] <= '9'; i++)
			;
		if (i == len)
			return;
	} else if (ncp < 2) {
		return;		/* a lone '#' or '@' */
	}
	h = seg_hash(t, len);
	if (stop_has(c->s, h))
		return;
	for (i = 0; i < c->n; i++)
		if (c->v[i].hash == h)
			return;
	memcpy(c->str + c->str_len, t, len);
	c->v[c->n].hash = h;
	c->v[c->n].off = (uint32_t)c->str_len;
	c->v[c->n].len = (uint16_t)len;
	c->v[c->n].kind = (uint8_t)kind;
	c->n++;
	c->str_len += len;
}

/* The characters [a, b) of the normalised text as one term (separators
 * skipped); kind's sigil first when it has one. */
static void
term_of_chars(struct seg_ctx *c, enum seg_kind kind, size_t a, size_t b)
{
	char buf[SEG_MAX_TERM + 8];
	size_t len = 0, ncp = 0, i;

	if (kind == SEG_HASHTAG)
		buf[len++] = '#';
	else if (kind == SEG_MENTION)
		buf[len++] = '@';
	for (i = a; i < b; i++) {
		if (c->nb.v[i].cls == NC_SEP)
			continue;
		if (len + 4 > SEG_MAX_TERM)
			break;
		len += seg_utf8_put(buf + len, c->nb.v[i].cp);
		ncp++;
	}
	term_keep(c, kind, buf, len, ncp + (kind != SEG_WORD));
}

/* A run of n >= 2 single characters friso found no word for, run[a, b):
 * mostly a name or a new word (王 俊 凯, 金 鹰 奖, 杨 幂 逛).  Kept whole
 * when short, and as its character bigrams when longer than two, so that
 * a name keeps one spelling whatever character follows it. */
static void
singles_flush(struct seg_ctx *c, size_t a, size_t b, size_t n)
{
	const char *r = c->run;
	size_t i, l1, l2;

	if (n < 2)
		return;
	if (n <= 4)
		term_keep(c, SEG_WORD, r + a, b - a, n);
	if (n < 3)
		return;
	for (i = a; i < b; i += l1) {
		l1 = utf8_seq_len((const unsigned char *)r + i, b - i);
		if (l1 == 0 || i + l1 >= b)
			break;
		l2 = utf8_seq_len((const unsigned char *)r + i + l1,
		    b - i - l1);
		if (l2 == 0)
			break;
		term_keep(c, SEG_WORD, r + i, l1 + l2, 2);
	}
}

/* Cuts the Han characters of [a, b) (separators skipped) into words:
 * friso's words of two or more characters, and runs of adjacent single
 * characters as singles_flush() keeps them. */
static void
han_words(struct seg_ctx *c, size_t a, size_t b)
{
	const struct segmenter *s = c->s;
	friso_token_t tok;
	size_t i, need = (b - a) * 4 + 1, wl, off, ra = 0, rb = 0, rn = 0;

	if (c->run_cap < need)
		c->run = xgrow(c->run, &c->run_cap, need, 1);
	c->run_len = 0;
	for (i = a; i < b; i++)
		if (c->nb.v[i].cls != NC_SEP)
			c->run_len += seg_utf8_put(c->run + c->run_len,
			    c->nb.v[i].cp);
	c->run[c->run_len] = '\0';
	friso_set_text(c->task, c->run);
	while (c->n < s->max_terms && (tok = s->fcfg->next_token(s->friso,
	    s->fcfg, c->task)) != NULL) {
		if (tok->type == __LEX_PUNC_WORDS__)
			continue;
		wl = strlen(tok->word);
		off = tok->offset >= 0 ? (size_t)tok->offset : 0;
		/* a Han character is 3 or 4 bytes: two or more make a word */
		if (wl >= 6 || off + wl > c->run_len) {
			singles_flush(c, ra, rb, rn);
			rn = 0;
			term_keep(c, SEG_WORD, tok->word, wl, 2);
			continue;
		}
		if (rn == 0 || off != rb) {
			singles_flush(c, ra, rb, rn);
			ra = off;
			rn = 0;
		}
		rb = off + wl;
		rn++;
	}
	singles_flush(c, ra, rb, rn);
}

/* ---- the pass over the normalised text --------------------------------- */

static bool
is_sep(const struct seg_ctx *c, size_t i)
{
	return c->nb.v[i].cls == NC_SEP;
}

/* Index past the separators from i, or i when they are more than max_gap,
 * include a break, or (spaces_ok false) a space. */
static size_t
skip_joinable(const struct seg_ctx *c, size_t i, size_t n, bool spaces_ok)
{
	size_t j = i;

	while (j < n && is_sep(c, j)) {
		if (cp_is_break(c->nb.v[j].cp) ||
		    (!spaces_ok && cp_is_space(c->nb.v[j].cp)) ||
		    (int)(j - i) >= c->s->max_gap)
			return i;
		j++;
	}
	return j;
}

/* A run of Han characters from i, joined across joinable separators; or
 * of other ideographic characters (one word).  Returns its end. */
static size_t
scan_cjk(struct seg_ctx *c, size_t i, size_t n)
{
	bool han = cp_is_han(c->nb.v[i].cp);
	size_t a = i, j;

	for (;;) {
		while (i < n && c->nb.v[i].cls == NC_CJK &&
		    cp_is_han(c->nb.v[i].cp) == han)
			i++;
		if (!han || i == n || !is_sep(c, i))
			break;
		j = skip_joinable(c, i, n, true);
		if (j == i || j == n || c->nb.v[j].cls != NC_CJK ||
		    !cp_is_han(c->nb.v[j].cp))
			break;
		i = j;
	}
	if (han)
		han_words(c, a, i);
	else
		term_of_chars(c, SEG_WORD, a, i);
	return i;
}

/* A Latin word from i, or single letters spelt apart (f.o.o.d).  Returns
 * its end. */
static size_t
scan_word(struct seg_ctx *c, size_t i, size_t n)
{
	size_t a = i, j, k, letters = 1;

	while (i < n && c->nb.v[i].cls == NC_WORD)
		i++;
	if (i - a == 1) {
		/* single letters, each after 1..max_gap non-space separators */
		for (k = i; k < n && is_sep(c, k);) {
			j = skip_joinable(c, k, n, false);
			if (j == k || j >= n || c->nb.v[j].cls != NC_WORD ||
			    (j + 1 < n && c->nb.v[j + 1].cls == NC_WORD))
				break;
			letters++;
			k = j + 1;
		}
		if (letters >= 3)
			i = k;
	}
	term_of_chars(c, SEG_WORD, a, i);
	return i;
}

static bool
at_url(const struct seg_ctx *c, size_t i, size_t n)
{
	static const char pre[] = "http";
	size_t k;

	for (k = 0; k < 4; k++)
		if (i + k >= n || c->nb.v[i + k].cp != (uint32_t)pre[k])
			return false;
	k = i + 4;
	if (k < n && c->nb.v[k].cp == 's')
		k++;
	return k + 2 < n && c->nb.v[k].cp == ':' && c->nb.v[k + 1].cp == '/' &&
	    c->nb.v[k + 2].cp == '/';
}

static void segment_range(struct seg_ctx *c, size_t i, size_t n);

/* '#' at i: a Weibo topic "#…#" or a "#tag".  A closing '#' right before
 * a Latin letter opens the next #tag instead, and a topic with a space in
 * it must have Chinese in it ("#yyc #flood" is two tags).  Returns the
 * index after it. */
static size_t
scan_hashtag(struct seg_ctx *c, size_t i, size_t n)
{
	size_t j, sig = 0;
	bool space = false, cjk = false;

	for (j = i + 1; j < n && sig <= SEG_MAX_HASHTAG; j++) {
		if (c->nb.v[j].cp == '#' || c->nb.v[j].cp == '\n')
			break;
		if (!is_sep(c, j))
			sig++;
		space |= cp_is_space(c->nb.v[j].cp);
		cjk |= c->nb.v[j].cls == NC_CJK;
	}
	if (j < n && c->nb.v[j].cp == '#' && sig > 0 && (!space || cjk) &&
	    !cp_is_space(c->nb.v[i + 1].cp) &&
	    (j + 1 == n || c->nb.v[j + 1].cls != NC_WORD)) {
		term_of_chars(c, SEG_HASHTAG, i + 1, j);
		segment_range(c, i + 1, j);
		return j + 1;
	}
	for (j = i + 1; j < n && !is_sep(c, j); j++)
		;
	if (j > i + 1) {
		term_of_chars(c, SEG_HASHTAG, i + 1, j);
		segment_range(c, i + 1, j);
	}
	return j;
}

/* '@' at i: a mention, kept as "@name" or skipped.  Returns its end. */
static size_t
scan_mention(struct seg_ctx *c, size_t i, size_t n)
{
	size_t j;

	for (j = i + 1; j < n && (!is_sep(c, j) || c->nb.v[j].cp == '_' ||
	    c->nb.v[j].cp == '-'); j++)
		;
	if (c->s->mentions)
		term_of_chars(c, SEG_MENTION, i + 1, j);
	return j;
}

static void
segment_range(struct seg_ctx *c, size_t i, size_t n)
{
	uint32_t cp;

	while (i < n && c->n < c->s->max_terms) {
		cp = c->nb.v[i].cp;
		if (is_sep(c, i)) {
			if (cp == '#')
				i = scan_hashtag(c, i, n);
			else if (cp == '@')
				i = scan_mention(c, i, n);
			else
				i++;
		} else if (c->nb.v[i].cls == NC_CJK) {
			i = scan_cjk(c, i, n);
		} else if ((i == 0 || is_sep(c, i - 1)) && at_url(c, i, n)) {
			while (i < n && !cp_is_space(c->nb.v[i].cp))
				i++;
		} else {
			i = scan_word(c, i, n);
		}
	}
}

/* The hash of the normalised text: all that segment_range() reads. */
static uint64_t
memo_key(const struct seg_ctx *c)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < c->nb.n; i++) {
		h ^= c->nb.v[i].cp | (uint64_t)c->nb.v[i].cls << 32;
		h *= 0x100000001b3ULL;
	}
	return (h ^ (h >> 29)) | 1;
}

int
seg_text(struct seg_ctx *c, const char *text, size_t len,
    struct seg_result *r)
{
	struct seg_memo *m = NULL;
	uint64_t key = 0;
	int rc;

	c->n = 0;
	c->str_len = 0;
	r->v = c->v;
	r->str = c->str;
	rc = norm_text_full(c->s->norm, text, len, &c->nb);
	if (rc == 0 && c->memo != NULL) {
		/* a copy of a recent text (a repost, a bot's text): the
		 * same normalised characters give the same terms */
		key = memo_key(c);
		m = &c->memo[key % SEG_MEMO];
		if (m->key == key) {
			r->v = m->v;
			r->n = m->n;
			r->str = m->str;
			return 0;
		}
	}
	if (rc == 0)
		segment_range(c, 0, c->nb.n);
	if (m != NULL) {
		m->key = key;
		m->n = c->n;
		memcpy(m->v, c->v, c->n * sizeof *c->v);
		memcpy(m->str, c->str, c->str_len);
	}
	r->n = c->n;
	return rc;
}
