/*
 * test_segment.c — a post's terms for discovery (segment.c), no servers.
 *
 * Evasion spellings must give the same terms as the plain spelling
 * (separators inside Chinese and Latin words, full width, traditional
 * characters, upper case); hashtags of both kinds, mentions kept or
 * skipped, URLs, numbers, single characters and stop terms (built-in and
 * configured) left out; each term once per text.  Uses the dictionary of
 * the friso-dict package.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "segment.h"

#define DICT	"/usr/share/friso/dict/UTF-8"

struct fx {
	struct normalizer	*norm;
	struct segmenter	*seg;
	struct seg_ctx		*ctx;
	char			 out[4096];
};

static struct fx *
fx_new(bool mentions, char *const *stop, size_t nstop)
{
	struct fx *f = calloc(1, sizeof *f);
	struct norm_opts no;
	struct seg_opts so;
	char err[256];

	norm_opts_default(&no);
	f->norm = norm_new(&no, err, sizeof err);
	assert_non_null(f->norm);
	memset(&so, 0, sizeof so);
	so.dictionary = DICT;
	so.mentions = mentions;
	so.stop_terms = stop;
	so.nstop_terms = nstop;
	f->seg = seg_new(&so, f->norm, err, sizeof err);
	if (f->seg == NULL)
		fail_msg("seg_new: %s", err);
	f->ctx = seg_ctx_new(f->seg);
	return f;
}

static void
fx_free(struct fx *f)
{
	seg_ctx_free(f->ctx);
	seg_free(f->seg);
	norm_free(f->norm);
	free(f);
}

/* The terms of text joined by '|'. */
static const char *
terms(struct fx *f, const char *text)
{
	struct seg_result r;
	size_t i, len = 0;

	assert_int_equal(seg_text(f->ctx, text, strlen(text), &r), 0);
	f->out[0] = '\0';
	for (i = 0; i < r.n; i++) {
		len += (size_t)snprintf(f->out + len, sizeof f->out - len,
		    "%s%.*s", i > 0 ? "|" : "", (int)r.v[i].len,
		    r.str + r.v[i].off);
		assert_int_equal(r.v[i].hash,
		    seg_hash(r.str + r.v[i].off, r.v[i].len));
	}
	return f->out;
}

static void
test_chinese_evasion(void **state)
{
	struct fx *f = fx_new(false, NULL, 0);
	char plain[256];

	(void)state;
	snprintf(plain, sizeof plain, "%s", terms(f, "地沟油流入学校食堂"));
	assert_non_null(strstr(plain, "地沟油"));
	assert_non_null(strstr(plain, "食堂"));
	/* separators, spaces, emoji and zero-width characters inside */
	assert_string_equal(terms(f, "地*沟*油流入学校食堂"), plain);
	assert_string_equal(terms(f, "地 沟 油 流入 学校 食堂"), plain);
	assert_string_equal(terms(f, "地😀沟油流入学\u200b校食堂"), plain);
	/* traditional characters fold to simplified */
	assert_string_equal(terms(f, "地溝油流入學校食堂"), plain);
	/* a greedy cut would give 用地 沟油 */
	assert_non_null(strstr(terms(f, "食堂被曝用地沟油"), "|地沟油"));
	/* punctuation ends a phrase: no word across a comma */
	assert_string_equal(terms(f, "食品，安全"), "食品|安全");
	fx_free(f);
}

static void
test_latin_evasion(void **state)
{
	struct fx *f = fx_new(false, NULL, 0);

	(void)state;
	assert_string_equal(terms(f, "Food poisoning"), "food|poisoning");
	assert_string_equal(terms(f, "ＦＯＯＤ poisoning"), "food|poisoning");
	assert_string_equal(terms(f, "f.o.o.d poisoning"), "food|poisoning");
	assert_string_equal(terms(f, "F-O-O-D poisoning"), "food|poisoning");
	/* two letters are not a spelling apart; one-letter words go */
	assert_string_equal(terms(f, "a b poisoning"), "poisoning");
	/* a space is not an evasion between Latin letters */
	assert_string_equal(terms(f, "x y z"), "");
	fx_free(f);
}

static void
test_hashtags_mentions_urls(void **state)
{
	struct fx *f = fx_new(false, NULL, 0);
	struct fx *g = fx_new(true, NULL, 0);

	(void)state;
	assert_string_equal(terms(f, "#食品安全# 学校食堂"),
	    "#食品安全|食品|安全|学校|食堂");
	assert_string_equal(terms(f, "#YYCflood downtown"),
	    "#yycflood|yycflood|downtown");
	assert_string_equal(terms(f, "RT @some_user: flooding http://t.co/AbC123 now"),
	    "flooding");
	assert_string_equal(terms(g, "RT @some_user: flooding"),
	    "@someuser|flooding");
	assert_string_equal(terms(g, "//@小明: 转发微博"), "@小明");
	fx_free(f);
	fx_free(g);
}

static void
test_filters(void **state)
{
	static char s1[] = "Flooding", s2[] = "＃ＹＹＣ";
	char *stop[] = { s1, s2 };
	struct fx *f = fx_new(false, stop, 2);

	(void)state;
	/* numbers, stop terms (built-in and configured), each term once */
	assert_string_equal(terms(f, "the 2013 flooding in Calgary, calgary!"),
	    "calgary");
	assert_string_equal(terms(f, "#yyc #YYCflood"), "yyc|#yycflood|yycflood");
	assert_string_equal(terms(f, "我们的学校"), "学校");
	/* invalid UTF-8 gives no terms */
	{
		struct seg_result r;

		assert_int_equal(seg_text(f->ctx, "\xff\xfe", 2, &r), -1);
		assert_int_equal(r.n, 0);
	}
	fx_free(f);
}

/* max_terms 3: the first three terms of the unlimited segmentation; and a
 * copy of a recent text (remembered, not segmented again) gets the same
 * terms, another text in between or not. */
static void
test_max_terms_and_copies(void **state)
{
	static const char *const text = "红星中学食堂被曝用地沟油 #食品安全# "
	    "家长 学校 回应 调查 food safety";
	struct fx *all = fx_new(false, NULL, 0), *f = calloc(1, sizeof *f);
	struct norm_opts no;
	struct seg_opts so;
	char err[256], want[4096], first3[4096];
	const char *p;
	int bars = 0;

	(void)state;
	snprintf(want, sizeof want, "%s", terms(all, text));
	for (p = want; *p != '\0' && bars < 3; p++)
		if (*p == '|' && ++bars == 3)
			snprintf(first3, sizeof first3, "%.*s",
			    (int)(p - want), want);
	assert_int_equal(bars, 3);
	norm_opts_default(&no);
	f->norm = norm_new(&no, err, sizeof err);
	assert_non_null(f->norm);
	memset(&so, 0, sizeof so);
	so.dictionary = DICT;
	so.max_terms = 3;
	f->seg = seg_new(&so, f->norm, err, sizeof err);
	assert_non_null(f->seg);
	f->ctx = seg_ctx_new(f->seg);
	assert_string_equal(terms(f, text), first3);
	assert_string_equal(terms(f, text), first3);
	assert_string_equal(terms(f, "地震 救援"), "地震|救援");
	assert_string_equal(terms(f, text), first3);
	fx_free(f);
	fx_free(all);
}

static void
test_no_dictionary(void **state)
{
	struct norm_opts no;
	struct seg_opts so;
	struct normalizer *n;
	char err[256];

	(void)state;
	norm_opts_default(&no);
	n = norm_new(&no, err, sizeof err);
	memset(&so, 0, sizeof so);
	so.dictionary = "/nonexistent";
	assert_null(seg_new(&so, n, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent"));
	norm_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chinese_evasion),
		cmocka_unit_test(test_latin_evasion),
		cmocka_unit_test(test_hashtags_mentions_urls),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_max_terms_and_copies),
		cmocka_unit_test(test_no_dictionary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
