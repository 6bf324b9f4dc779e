/*
 * test_normalize.c — the normaliser: evasion folding (繁體, 全角, ①, ⓕ,
 * 地*沟*油, zero-width), gaps and classes, byte spans for multi-byte input
 * and expansions, other scripts, strict UTF-8, each option switched off,
 * norm_text_full() and norm_utf8(), and two sweeps over every code point:
 * folding is idempotent and agrees with utf8proc where it should.
 *
 * One default normaliser serves most tests (group setup); the option tests
 * build their own.  txt() runs norm_text() and returns the emitted
 * characters as UTF-8, so expectations read as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <utf8proc.h>

#include "normalize.h"

static struct normalizer	*dflt;
static struct norm_buf		 buf;
static char			*u8;
static size_t			 u8len, u8cap;

static int
setup(void **state)
{
	struct norm_opts o;
	char err[256];

	(void)state;
	norm_opts_default(&o);
	if ((dflt = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "norm_new: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	norm_free(dflt);
	norm_buf_free(&buf);
	free(u8);
	return 0;
}

static struct normalizer *
mk(bool nfkc, bool casefold, bool t2s, bool strip)
{
	struct normalizer *n;
	struct norm_opts o;
	char err[256];

	norm_opts_default(&o);
	o.nfkc = nfkc;
	o.casefold = casefold;
	o.t2s = t2s;
	o.strip_format = strip;
	n = norm_new(&o, err, sizeof err);
	if (n == NULL)
		fail_msg("norm_new: %s", err);
	return n;
}

/* Normalises s with n (full or not) into buf and returns it as UTF-8. */
static const char *
run(const struct normalizer *n, const char *s, int full)
{
	int rc;

	if (full)
		rc = norm_text_full(n, s, strlen(s), &buf);
	else
		rc = norm_text(n, s, strlen(s), &buf);
	assert_int_equal(rc, 0);
	norm_utf8(&buf, &u8, &u8len, &u8cap, NULL, NULL);
	return u8;
}

static const char *
txt(const char *s)
{
	return run(dflt, s, 0);
}

static const char *
full(const char *s)
{
	return run(dflt, s, 1);
}

/* Checks the gaps of buf: one digit per character, e.g. "100". */
static void
gaps(const char *want)
{
	char got[512];
	size_t i;

	assert_true(buf.n < sizeof got);
	for (i = 0; i < buf.n; i++)
		got[i] = buf.v[i].gap > 9 ? '+' : (char)('0' + buf.v[i].gap);
	got[i] = '\0';
	assert_string_equal(got, want);
}

/* Checks the classes of buf: W (word), C (CJK), S (separator). */
static void
classes(const char *want)
{
	char got[512];
	size_t i;

	assert_true(buf.n < sizeof got);
	for (i = 0; i < buf.n; i++) {
		switch (buf.v[i].cls) {
		case NC_WORD:
			got[i] = 'W';
			break;
		case NC_CJK:
			got[i] = 'C';
			break;
		case NC_SEP:
			got[i] = 'S';
			break;
		default:
			got[i] = '?';
			break;
		}
	}
	got[i] = '\0';
	assert_string_equal(got, want);
}

static void
span(size_t i, uint32_t start, uint32_t end)
{
	assert_true(i < buf.n);
	assert_int_equal(buf.v[i].src_start, start);
	assert_int_equal(buf.v[i].src_end, end);
}

static size_t
enc(uint32_t c, char *d)
{
	return (size_t)utf8proc_encode_char((utf8proc_int32_t)c,
	    (utf8proc_uint8_t *)d);
}

static void
test_defaults(void **state)
{
	struct norm_opts o;

	(void)state;
	memset(&o, 0xff, sizeof o);
	norm_opts_default(&o);
	assert_true(o.nfkc && o.casefold && o.t2s && o.strip_format);
	assert_int_equal(o.max_gap, 3);
	assert_int_equal(norm_options(dflt)->max_gap, 3);
	assert_true(norm_options(dflt)->t2s);
}

static void
test_traditional(void **state)
{
	(void)state;
	assert_string_equal(txt("地溝油"), "地沟油");
	classes("CCC");
	gaps("100");
	assert_string_equal(txt("地沟油"), "地沟油");
	assert_string_equal(txt("食物中毒"), "食物中毒");
	assert_string_equal(txt("學校食堂發生食物中毒"), "学校食堂发生食物中毒");
	/* Compatibility ideographs fold to the unified ones, then t2s. */
	assert_string_equal(txt("\xef\xa4\x80"), "岂");	/* U+F900 豈 */
	/* Kangxi radical ⼈ U+2F08 → 人 (NFKC). */
	assert_string_equal(txt("\xe2\xbc\x88"), "人");
}

static void
test_cjk_separators(void **state)
{
	(void)state;
	assert_string_equal(txt("地*沟*油"), "地沟油");
	gaps("111");
	assert_string_equal(txt("地 沟 油"), "地沟油");
	gaps("111");
	assert_string_equal(txt("地\xe2\x80\x8b沟油"), "地沟油");  /* ZWSP */
	gaps("100");
	assert_string_equal(txt("地\xe2\x80\x8b\xe2\x80\x8b*沟油"), "地沟油");
	gaps("110");
	/* Full-width and ideographic punctuation and spaces. */
	assert_string_equal(txt("地，沟。　油！"), "地沟油");
	gaps("112");
	assert_string_equal(txt("地**  *沟"), "地沟");
	gaps("15");
}

static void
test_latin_words(void **state)
{
	(void)state;
	assert_string_equal(txt("FOOD Poisoning"), "foodpoisoning");
	classes("WWWWWWWWWWWWW");
	gaps("1000100000000");
	assert_string_equal(txt("ＦＯＯＤ ｐｏｉｓｏｎｉｎｇ"), "foodpoisoning");
	gaps("1000100000000");
	assert_string_equal(txt("food-poisoning"), "foodpoisoning");
	gaps("1000100000000");
	assert_string_equal(txt("f.o.o.d"), "food");
	gaps("1111");
	assert_string_equal(txt("category"), "category");
	classes("WWWWWWWW");
	gaps("10000000");
	assert_string_equal(txt("Straße"), "strasse");
}

static void
test_compat(void **state)
{
	(void)state;
	assert_string_equal(txt("①①⓪"), "110");
	classes("WWW");
	gaps("100");
	assert_string_equal(txt("ⓕ"), "f");
	classes("W");
	assert_string_equal(txt("ⓕⓞⓞⓓ"), "food");
	assert_string_equal(txt("２０２３年"), "2023年");
	classes("WWWWC");
	assert_string_equal(txt("ﬁle"), "file");
	gaps("1000");
	assert_string_equal(txt("㎏"), "kg");
}

static void
test_decomposed(void **state)
{
	char a[64], b[64];

	(void)state;
	/* café precomposed and with U+0301 give the same characters. */
	strcpy(a, txt("caf\xc3\xa9"));
	classes("WWWWW");
	gaps("10000");
	span(3, 3, 5);
	span(4, 3, 5);
	strcpy(b, txt("cafe\xcc\x81"));
	classes("WWWWW");
	gaps("10000");
	span(3, 3, 4);
	span(4, 4, 6);
	assert_string_equal(a, b);
	assert_string_equal(a, "cafe\xcc\x81");
	/* É folds to é too. */
	assert_string_equal(txt("CAF\xc3\x89"), "cafe\xcc\x81");
	/* A zero-width character between base and mark changes nothing. */
	assert_string_equal(txt("cafe\xe2\x80\x8b\xcc\x81"), "cafe\xcc\x81");
	gaps("10000");
}

static void
test_marks(void **state)
{
	(void)state;
	/* A mark with nothing to attach to is a separator. */
	assert_string_equal(txt("\xcc\x81" "ab"), "ab");
	gaps("20");
	assert_string_equal(txt("a \xcc\x81" "b"), "ab");
	gaps("12");
	/* Marks after CJK are CJK: ガ from half-width ｶﾞ. */
	assert_string_equal(txt("ｶﾞ"), "カ\xe3\x82\x99");
	classes("CC");
	assert_string_equal(txt("ガ"), "カ\xe3\x82\x99");
	/* Devanagari: letters and vowel signs are one word. */
	assert_string_equal(txt("हिन्दी"), "हिन्दी");
	classes("WWWWWW");
	gaps("100000");
	/* Keycap: the enclosing mark is decoration. */
	assert_string_equal(txt("1\xef\xb8\x8f\xe2\x83\xa3"), "1");
	/* In full mode a mark at the start is a separator. */
	full("\xcc\x81" "a");
	classes("SW");
	/*
	 * Ideographs take no marks: dropped into the span of their base
	 * (地 + U+0301 U+0300 is bytes 0..7), in both modes.  Kana keep
	 * theirs (above).
	 */
	assert_string_equal(txt("地\xcc\x81\xcc\x80沟油"), "地沟油");
	gaps("100");
	span(0, 0, 7);
	span(1, 7, 10);
	assert_string_equal(full("地\xcc\x81 油"), "地 油");
	classes("CSC");
	span(0, 0, 5);
	/* After a separator the mark is still a separator. */
	assert_string_equal(txt("地*\xcc\x81沟"), "地沟");
	gaps("12");
}

/*
 * Conjoining jamo compose into syllables as NFC composes them; the
 * syllable spans its jamo.  한 = ᄒ ᅡ ᆫ (U+1112 U+1161 U+11AB).
 */
static void
test_hangul_jamo(void **state)
{
	(void)state;
	assert_string_equal(txt("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"),
	    "한");
	classes("C");
	span(0, 0, 9);
	/* A precomposed LV syllable takes a trailing jamo: 하 + ᆫ. */
	assert_string_equal(txt("하\xe1\x86\xab국"), "한국");
	span(0, 0, 6);
	span(1, 6, 9);
	assert_string_equal(full("\xe1\x84\x92\xe1\x85\xa1 "), "하 ");
	classes("CS");
	/* Nothing composes across a separator or onto an LVT syllable. */
	assert_string_equal(txt("\xe1\x84\x92*\xe1\x85\xa1"),
	    "\xe1\x84\x92\xe1\x85\xa1");
	gaps("11");
	assert_string_equal(txt("한\xe1\x86\xa8"), "한\xe1\x86\xa8");
	/* A removed format character does not stand in the way. */
	assert_string_equal(txt("\xe1\x84\x92\xe2\x80\x8b\xe1\x85\xa1"),
	    "하");
	/* Compatibility jamo: NFKC folds ㅎ ㅏ to ᄒ ᅡ, which compose. */
	assert_string_equal(txt("ㅎㅏ"), "하");
}

static void
test_other_scripts(void **state)
{
	(void)state;
	assert_string_equal(txt("ΑΘΗΝΑ"), "αθηνα");
	classes("WWWWW");
	assert_string_equal(txt("Москва сегодня"), "москвасегодня");
	gaps("1000001000000");
	assert_string_equal(txt("שלום עולם"), "שלוםעולם");
	classes("WWWWWWWW");
	assert_string_equal(txt("مرحبا"), "مرحبا");
	classes("WWWWW");
	/* Scripts without spaces are CJK-class. */
	assert_string_equal(txt("カタカナ"), "カタカナ");
	classes("CCCC");
	assert_string_equal(txt("ｶﾀｶﾅ"), "カタカナ");
	assert_string_equal(txt("ひらがな"), "ひらか\xe3\x82\x99な");
	classes("CCCCC");
	assert_string_equal(txt("한국"), "한국");	/* syllables stay whole */
	classes("CC");
	assert_string_equal(txt("ไทย"), "ไทย");
	classes("CCC");
	assert_string_equal(txt("ㄅㄆㄇ"), "ㄅㄆㄇ");
	classes("CCC");
	/* A parenthesised syllable: (주), the jamo put back together. */
	assert_string_equal(full("㈜"), "(주)");
	classes("SCS");
	assert_string_equal(txt("㈜"), "주");
	gaps("2");
	/* Mixed Chinese and Latin. */
	assert_string_equal(txt("iPhone手机"), "iphone手机");
	classes("WWWWWWCC");
	gaps("10000000");
}

static void
test_emoji(void **state)
{
	(void)state;
	assert_string_equal(txt("食物😀中毒"), "食物中毒");
	gaps("1010");
	span(2, 10, 13);
	/* A ZWJ family: separators and removed joiners. */
	assert_string_equal(txt("地👨‍👩‍👧沟"), "地沟");
	gaps("13");
	/* Flags, variation selectors. */
	assert_string_equal(txt("🇨🇳地\xef\xb8\x8f沟"), "地沟");
	gaps("30");
	/* Private use and unassigned code points are separators too. */
	assert_string_equal(txt("地\xee\x80\x80沟\xf0\xaf\xbf\xbd油"), "地沟油");
	gaps("111");
}

static void
test_format(void **state)
{
	(void)state;
	/* Soft hyphen, BOM, word joiner, bidi controls, CGJ, tag, VS17. */
	assert_string_equal(txt("foo\xc2\xad" "d"), "food");
	gaps("1000");
	assert_string_equal(txt("\xef\xbb\xbf" "food"), "food");
	gaps("1000");
	assert_string_equal(txt("fo\xe2\x81\xa0od"), "food");
	gaps("1000");
	assert_string_equal(txt("地\xe2\x80\xae沟\xe2\x81\xa6油"), "地沟油");
	gaps("100");
	assert_string_equal(txt("fo\xcd\x8fod"), "food");
	gaps("1000");
	assert_string_equal(txt("地\xf3\xa0\x80\x81沟\xf3\xa0\x84\x80油"),
	    "地沟油");
	gaps("100");
	/* Hangul filler U+3164, used to fake blank names. */
	assert_string_equal(txt("地\xe3\x85\xa4沟"), "地沟");
	gaps("10");
}

static void
test_gap_start_and_saturation(void **state)
{
	char s[600];

	(void)state;
	assert_string_equal(txt("   abc"), "abc");
	gaps("400");
	assert_string_equal(txt(""), "");
	assert_int_equal(buf.n, 0);
	assert_string_equal(txt("  ,, "), "");
	memset(s, ' ', 300);
	strcpy(s + 300, "a");
	txt(s);
	assert_int_equal(buf.n, 1);
	assert_int_equal(buf.v[0].gap, 255);
	memset(s, '-', 254);
	strcpy(s + 254, "a");
	txt(s);
	assert_int_equal(buf.v[0].gap, 255);
	memset(s, '-', 253);
	strcpy(s + 253, "a");
	txt(s);
	assert_int_equal(buf.v[0].gap, 254);
	memcpy(s, "a", 1);
	memset(s + 1, '-', 400);
	strcpy(s + 401, "b");
	txt(s);
	assert_int_equal(buf.n, 2);
	assert_int_equal(buf.v[1].gap, 255);
}

static void
test_nul(void **state)
{
	(void)state;
	assert_int_equal(norm_text(dflt, "a\0b", 3, &buf), 0);
	assert_int_equal(buf.n, 2);
	gaps("11");
	span(1, 2, 3);
	assert_int_equal(norm_text_full(dflt, "a\0b", 3, &buf), 0);
	assert_int_equal(buf.n, 3);
	assert_int_equal(buf.v[1].cp, 0);
	classes("WSW");
}

static void
test_offsets(void **state)
{
	const char *s = "学校ＦＯＯＤ poison中毒!";
	size_t i;

	(void)state;
	assert_string_equal(txt(s), "学校foodpoison中毒");
	for (i = 0; i < 2; i++)
		span(i, (uint32_t)(3 * i), (uint32_t)(3 * i + 3));
	for (i = 0; i < 4; i++)			/* ＦＯＯＤ */
		span(2 + i, (uint32_t)(6 + 3 * i), (uint32_t)(9 + 3 * i));
	for (i = 0; i < 6; i++)			/* poison */
		span(6 + i, (uint32_t)(19 + i), (uint32_t)(20 + i));
	span(12, 25, 28);
	span(13, 28, 31);
	assert_int_equal(buf.n, 14);
	/* A hit 中毒 covers bytes [25, 31) of the original. */
	assert_memory_equal(s + buf.v[12].src_start, "中毒",
	    buf.v[13].src_end - buf.v[12].src_start);
	/* 4-byte characters: 𠀀 (U+20000) then a. */
	assert_string_equal(txt("\xf0\xa0\x80\x80" "a"),
	    "\xf0\xa0\x80\x80" "a");
	span(0, 0, 4);
	span(1, 4, 5);
	/* 2-byte: Ωa. */
	assert_string_equal(txt("\xce\xa9" "a"), "ωa");
	span(0, 0, 2);
	span(1, 2, 3);
}

static void
test_expansions(void **state)
{
	(void)state;
	/* ﬁ → fi: both from bytes [1, 4). */
	assert_string_equal(txt("xﬁy"), "xfiy");
	gaps("1000");
	span(1, 1, 4);
	span(2, 1, 4);
	span(3, 4, 5);
	/* ㈱ → (株): the parentheses are separators. */
	assert_string_equal(txt("a㈱b"), "a株b");
	classes("WCW");
	gaps("111");
	span(1, 1, 4);
	assert_string_equal(full("a㈱b"), "a(株)b");
	classes("WSCSW");
	gaps("00000");
	span(1, 1, 4);
	span(3, 1, 4);
	/* ½ → 1⁄2. */
	assert_string_equal(txt("½"), "12");
	gaps("11");
	assert_string_equal(full("½"), "1⁄2");
	/* … is one separator, three dots in full mode. */
	assert_string_equal(txt("地…沟"), "地沟");
	gaps("11");
	assert_string_equal(full("地…沟"), "地...沟");
	span(1, 3, 6);
	span(3, 3, 6);
	span(4, 6, 9);
}

static void
test_growth(void **state)
{
	struct norm_buf b = { NULL, 0, 0 };
	char s[3 * 500 + 1];
	size_t i;

	(void)state;
	/* ﷺ U+FDFA expands to 18 code points from 3 bytes. */
	for (i = 0; i < 500; i++)
		memcpy(s + 3 * i, "\xef\xb7\xba", 3);
	s[3 * 500] = '\0';
	assert_int_equal(norm_text_full(dflt, s, strlen(s), &b), 0);
	assert_int_equal(b.n, 18 * 500);
	assert_int_equal(b.v[18 * 499].src_start, 3 * 499);
	assert_int_equal(b.v[18 * 500 - 1].src_end, 3 * 500);
	assert_int_equal(norm_text(dflt, s, strlen(s), &b), 0);
	assert_true(b.n >= 15 * 500);
	/* Reuse: a short text after a long one. */
	assert_int_equal(norm_text(dflt, "ab", 2, &b), 0);
	assert_int_equal(b.n, 2);
	norm_buf_free(&b);
	assert_null(b.v);
	norm_buf_free(&b);
	norm_buf_free(NULL);
}

static void
test_full(void **state)
{
	(void)state;
	assert_string_equal(full("ＦＯＯＤ！ 地溝油"), "food! 地沟油");
	classes("WWWWSSCCC");
	gaps("000000000");
	assert_string_equal(full("地\xe2\x80\x8b沟"), "地沟");
	assert_string_equal(full("A  b\tc\n"), "a  b\tc\n");
	/* NFKC of the ideographic space is a space. */
	assert_string_equal(full("地　沟"), "地 沟");
}

static void
test_utf8_offs(void **state)
{
	uint32_t *offs = NULL;
	size_t offs_cap = 0;
	static const uint32_t want[] = { 0, 1, 1, 1, 2, 3, 3, 3, 3, 4 };

	(void)state;
	full("a地 \xf0\xa0\x80\x80");
	norm_utf8(&buf, &u8, &u8len, &u8cap, &offs, &offs_cap);
	assert_int_equal(u8len, 9);
	assert_string_equal(u8, "a地 \xf0\xa0\x80\x80");
	assert_memory_equal(offs, want, sizeof want);
	free(offs);
}

static void
test_invalid(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} bad[] = {
		{ "\x80", 1 },				/* lone continuation */
		{ "ab\xbf" "cd", 5 },
		{ "\xc0\x80", 2 },			/* overlong NUL */
		{ "\xc1\xbf" "abcd", 6 },
		{ "\xe0\x80\x80" "abc", 6 },		/* overlong, 3 bytes */
		{ "\xe0\x9f\xbf", 3 },
		{ "\xf0\x80\x80\x80", 4 },		/* overlong, 4 bytes */
		{ "\xf0\x8f\xbf\xbf" "a", 5 },
		{ "\xed\xa0\x80" "abc", 6 },		/* surrogates */
		{ "\xed\xbf\xbf", 3 },
		{ "x\xed\xb0\x80", 4 },
		{ "\xf4\x90\x80\x80", 4 },		/* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4 },
		{ "\xff", 1 },
		{ "\xfe" "abc", 4 },
		{ "\xe6\x97", 2 },			/* truncated */
		{ "\xe6\x97" "abc", 5 },
		{ "abc\xe6", 4 },
		{ "\xf0\xa0\x80", 3 },
		{ "\xf0\xa0\x80" "a", 4 },
		{ "\xc3", 1 },
		{ "\xc3" "a", 2 },
		{ "\xe6\x97\xc3\xa9", 4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		txt("prefill");
		assert_int_equal(norm_text(dflt, bad[i].s, bad[i].len, &buf),
		    -1);
		assert_int_equal(buf.n, 0);
		txt("prefill");
		assert_int_equal(norm_text_full(dflt, bad[i].s, bad[i].len,
		    &buf), -1);
		assert_int_equal(buf.n, 0);
		assert_false(utf8_valid(bad[i].s, bad[i].len));
	}
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii text, long enough", 29));
	assert_true(utf8_valid("\xed\x9f\xbf\xee\x80\x80", 6));	/* D7FF E000 */
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));		/* 10FFFF */
	assert_true(utf8_valid("\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80", 9));
	assert_true(utf8_valid("地沟油 food 😀", strlen("地沟油 food 😀")));
	assert_int_equal(norm_text(dflt, "\xed\x9f\xbf\xee\x80\x80" "a", 7,
	    &buf), 0);
}

static void
test_opt_t2s_off(void **state)
{
	struct normalizer *n = mk(true, true, false, true);

	(void)state;
	assert_string_equal(run(n, "地溝油", 0), "地溝油");
	assert_string_equal(run(n, "ＦＯＯＤ", 0), "food");
	assert_false(norm_options(n)->t2s);
	norm_free(n);
}

static void
test_opt_nfkc_off(void **state)
{
	struct normalizer *n = mk(false, true, true, true);

	(void)state;
	assert_string_equal(run(n, "ＦＯＯＤ", 0), "ｆｏｏｄ");
	classes("WWWW");
	assert_string_equal(run(n, "①", 0), "①");
	classes("W");
	assert_string_equal(run(n, "ⓕ", 0), "");	/* a symbol */
	assert_string_equal(run(n, "㎏", 0), "");	/* a symbol */
	assert_string_equal(run(n, "ｶ", 0), "ｶ");
	/* Canonical equivalence stays: é is still e + U+0301. */
	assert_string_equal(run(n, "caf\xc3\xa9", 0), "cafe\xcc\x81");
	assert_string_equal(run(n, "地溝油", 0), "地沟油");
	norm_free(n);
}

static void
test_opt_casefold_off(void **state)
{
	struct normalizer *n = mk(true, false, true, true);

	(void)state;
	assert_string_equal(run(n, "FOOD Poisoning", 0), "FOODPoisoning");
	assert_string_equal(run(n, "ＦＯＯＤ", 0), "FOOD");
	assert_string_equal(run(n, "ⓕ", 0), "f");
	assert_string_equal(run(n, "Ⓕ", 0), "F");
	norm_free(n);
}

static void
test_opt_strip_off(void **state)
{
	struct normalizer *n = mk(true, true, true, false);

	(void)state;
	assert_string_equal(run(n, "地\xe2\x80\x8b沟油", 0), "地沟油");
	gaps("110");
	assert_string_equal(run(n, "foo\xc2\xad" "d", 0), "food");
	gaps("1001");
	assert_string_equal(run(n, "地\xe2\x80\x8b沟", 1),
	    "地\xe2\x80\x8b沟");
	classes("CSC");
	norm_free(n);
}

static void
test_all_off(void **state)
{
	struct normalizer *n = mk(false, false, false, false);

	(void)state;
	assert_string_equal(run(n, "地溝油 ＦＯＯＤ", 0), "地溝油ＦＯＯＤ");
	gaps("1001000");
	norm_free(n);
}

/*
 * Every code point: normalising the normalised text changes nothing (the
 * matcher normalises keywords and posts alike, but rule tests and regexes
 * see normalised text again).
 */
static void
test_idempotent(void **state)
{
	struct norm_buf b2 = { NULL, 0, 0 };
	char s[8];
	uint32_t cp;
	size_t i, l, bad = 0;

	(void)state;
	for (cp = 0; cp < 0x110000; cp++) {
		if (cp >= 0xd800 && cp < 0xe000)
			continue;
		l = enc(cp, s);
		assert_int_equal(norm_text_full(dflt, s, l, &buf), 0);
		norm_utf8(&buf, &u8, &u8len, &u8cap, NULL, NULL);
		assert_int_equal(norm_text_full(dflt, u8, u8len, &b2), 0);
		if (b2.n != buf.n)
			bad++;
		else
			for (i = 0; i < buf.n; i++)
				if (b2.v[i].cp != buf.v[i].cp) {
					bad++;
					break;
				}
		if (bad == 1 && cp != 0)
			print_message("not idempotent: U+%04X\n", (unsigned)cp);
	}
	norm_buf_free(&b2);
	assert_int_equal(bad, 0);
}

/*
 * Every code point outside the places where we differ on purpose (Han and
 * t2s, Hangul syllables, removed characters) folds exactly as utf8proc's
 * NFKD + case folding.
 */
static void
test_agrees_with_utf8proc(void **state)
{
	utf8proc_int32_t want[64];
	utf8proc_ssize_t nw;
	const utf8proc_property_t *pr;
	char s[8];
	uint32_t cp;
	size_t l, i, bad = 0;

	(void)state;
	for (cp = 0; cp < 0x110000; cp++) {
		if ((cp >= 0xd800 && cp < 0xe000) ||
		    (cp >= 0xac00 && cp <= 0xd7a3) ||		/* Hangul */
		    (cp >= 0x3200 && cp <= 0x33ff) ||		/* ㈜, ㈱… */
		    (cp >= 0x2e80 && cp <= 0x2fdf) ||		/* radicals */
		    (cp >= 0x3400 && cp <= 0x9fff) ||
		    (cp >= 0xf900 && cp <= 0xfaff) ||
		    (cp >= 0xff00 && cp <= 0xffef) ||		/* half-width */
		    (cp >= 0x1f100 && cp <= 0x1f2ff) ||	/* 🈐… */
		    (cp >= 0x20000 && cp <= 0x3134f))
			continue;
		pr = utf8proc_get_property((utf8proc_int32_t)cp);
		if (pr->ignorable || pr->category == UTF8PROC_CATEGORY_CF)
			continue;
		nw = utf8proc_decompose_char((utf8proc_int32_t)cp, want, 64,
		    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
		    UTF8PROC_IGNORE, NULL);
		l = enc(cp, s);
		assert_int_equal(norm_text_full(dflt, s, l, &buf), 0);
		if ((size_t)nw != buf.n) {
			if (bad++ < 5)
				print_message("U+%04X: %zu vs %zd\n",
				    (unsigned)cp, buf.n, nw);
			continue;
		}
		for (i = 0; i < buf.n; i++)
			if (buf.v[i].cp != (uint32_t)want[i]) {
				if (bad++ < 5)
					print_message("U+%04X differs\n",
					    (unsigned)cp);
				break;
			}
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_traditional),
		cmocka_unit_test(test_cjk_separators),
		cmocka_unit_test(test_latin_words),
		cmocka_unit_test(test_compat),
		cmocka_unit_test(test_decomposed),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_hangul_jamo),
		cmocka_unit_test(test_other_scripts),
		cmocka_unit_test(test_emoji),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_gap_start_and_saturation),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_expansions),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_utf8_offs),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_opt_t2s_off),
		cmocka_unit_test(test_opt_nfkc_off),
		cmocka_unit_test(test_opt_casefold_off),
		cmocka_unit_test(test_opt_strip_off),
		cmocka_unit_test(test_all_off),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_agrees_with_utf8proc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
