/*
 * test_termsafe.c — the terminal sanitiser against a table of hostile
 * strings: escape sequences, C1 controls, bidi overrides and isolates,
 * zero-width and tag characters, separators, bytes that are not UTF-8,
 * and what must stay as it is (Chinese text, emoji and emoji sequences).
 * No fakes: termsafe() is pure.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <utf8proc.h>

#include "termsafe.h"

struct tcase {
	const char	*in;
	const char	*text;		/* flags 0 */
	const char	*json;		/* TERMSAFE_JSON */
};

static const struct tcase cases[] = {
	/* what a terminal acts on */
	{ "\033[2J\033[H\033[41mred", "\\x1b[2J\\x1b[H\\x1b[41mred",
	  "\\u001b[2J\\u001b[H\\u001b[41mred" },
	{ "\033]0;owned\007title", "\\x1b]0;owned\\x07title",
	  "\\u001b]0;owned\\u0007title" },
	{ "a\xc2\x9b" "31mb", "a\\u009b31mb", "a\\u009b31mb" },	/* C1 CSI */
	{ "\xc2\x85next", "\\u0085next", "\\u0085next" },		/* NEL */
	{ "del\x7f", "del\\x7f", "del\\u007f" },
	{ "nul\x01\x08x", "nul\\x01\\x08x", "nul\\u0001\\u0008x" },
	{ "line1\nline2\r\tend", "line1\\nline2\\r\\tend",
	  "line1 line2  end" },
	/* bidi controls reorder what follows */
	{ "abc\xe2\x80\xae" "cba", "abc\\u202ecba", "abc\\u202ecba" },	/* RLO */
	{ "\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069", "\\u2066x\\u2069" },
	{ "\xe2\x80\x8f\xd8\x9c", "\\u200f\\u061c", "\\u200f\\u061c" },
	/* invisible: zero width space, BOM, soft hyphen, separators, tags */
	{ "a\xe2\x80\x8b" "b\xef\xbb\xbf", "a\\u200bb\\ufeff",
	  "a\\u200bb\\ufeff" },
	{ "soft\xc2\xad", "soft\\u00ad", "soft\\u00ad" },
	{ "p\xe2\x80\xa8q\xe2\x80\xa9", "p\\u2028q\\u2029",
	  "p\\u2028q\\u2029" },
	{ "\xf3\xa0\x81\x81", "\\U000e0041", "\\udb40\\udc41" },	/* tag A */
	/* not UTF-8: stray bytes, overlong, surrogate, cut short */
	{ "\xff\xfe", "\\xff\\xfe", "\\ufffd\\ufffd" },
	{ "\xc0\xaf", "\\xc0\\xaf", "\\ufffd\\ufffd" },
	{ "\xed\xa0\x80", "\\xed\\xa0\\x80", "\\ufffd\\ufffd\\ufffd" },
	{ "\xe9\xa3", "\\xe9\\xa3", "\\ufffd\\ufffd" },
	/* kept as it is */
	{ "食品安全 地沟油 ×∞ …", "食品安全 地沟油 ×∞ …",
	  "食品安全 地沟油 ×∞ …" },
	{ "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "👍🏽", "👍🏽" },
	/* ZWJ inside an emoji sequence (family; with skin tone and VS16) */
	{ "👨\xe2\x80\x8d👩\xe2\x80\x8d👧", "👨\xe2\x80\x8d👩\xe2\x80\x8d👧",
	  "👨\xe2\x80\x8d👩\xe2\x80\x8d👧" },
	{ "👩🏽\xe2\x80\x8d💻", "👩🏽\xe2\x80\x8d💻", "👩🏽\xe2\x80\x8d💻" },
	{ "❤\xef\xb8\x8f\xe2\x80\x8d🔥", "❤\xef\xb8\x8f\xe2\x80\x8d🔥",
	  "❤\xef\xb8\x8f\xe2\x80\x8d🔥" },
	/* ZWJ anywhere else is escaped */
	{ "a\xe2\x80\x8d" "b", "a\\u200db", "a\\u200db" },
	{ "👨\xe2\x80\x8d", "👨\\u200d", "👨\\u200d" },
	{ "\xe2\x80\x8d👩", "\\u200d👩", "\\u200d👩" },
	{ "👨\xe2\x80\x8d\033", "👨\\u200d\\x1b", "👨\\u200d\\u001b" },
	{ "👨\xf3\xa0\x81\x81\xe2\x80\x8d👩", "👨\\U000e0041\\u200d👩",
	  "👨\\udb40\\udc41\\u200d👩" },
};

static void
test_table(void **state)
{
	char out[256];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = termsafe(out, sizeof out, cases[i].in, strlen(cases[i].in), 0);
		if (strcmp(out, cases[i].text) != 0)
			fail_msg("case %zu: text '%s', want '%s'", i, out,
			    cases[i].text);
		assert_int_equal(n, strlen(out));
		termsafe(out, sizeof out, cases[i].in, strlen(cases[i].in),
		    TERMSAFE_JSON);
		if (strcmp(out, cases[i].json) != 0)
			fail_msg("case %zu: json '%s', want '%s'", i, out,
			    cases[i].json);
	}
}

/* No output byte is a control character or starts a format character,
 * whatever the input: every byte value, every 2-byte C1 sequence. */
static void
test_no_control_out(void **state)
{
	char in[4], out[64];
	size_t i, j;
	int b;

	(void)state;
	for (b = 0; b < 256; b++) {
		in[0] = (char)b;
		termsafe(out, sizeof out, in, 1, 0);
		for (j = 0; out[j] != '\0'; j++)
			assert_true((unsigned char)out[j] >= 0x20 &&
			    (unsigned char)out[j] != 0x7f);
	}
	for (b = 0x80; b <= 0x9f; b++) {
		in[0] = (char)0xc2;
		in[1] = (char)b;
		termsafe(out, sizeof out, in, 2, 0);
		for (i = 0; out[i] != '\0'; i++)
			assert_true((unsigned char)out[i] < 0x80);
	}
}

/* Whether out is valid UTF-8 holding no character a terminal acts on or
 * hides: no C0, DEL, C1, Cf (but a ZWJ between two characters that are
 * not ASCII), Zl or Zp. */
static bool
is_safe_output(const char *out)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)out;
	utf8proc_ssize_t n = (utf8proc_ssize_t)strlen(out), k;
	utf8proc_int32_t cp, prev = 0;
	utf8proc_category_t c;

	while (n > 0) {
		if ((k = utf8proc_iterate(p, n, &cp)) <= 0)
			return false;
		c = utf8proc_category(cp);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP)
			return false;
		if (c == UTF8PROC_CATEGORY_CF && !(cp == 0x200d && prev > 0x7f &&
		    k < n && p[k] >= 0xc0))
			return false;
		prev = cp;
		p += k;
		n -= k;
	}
	return true;
}

/* Random strings from an alphabet of hostile and ordinary pieces: the
 * output is always valid UTF-8 without an unsafe character, and at most
 * 4n bytes long (termsafe_dup's buffer). */
static void
test_random(void **state)
{
	static const char *const pieces[] = {
		"a", " ", "\"", "\\", "\033", "\007", "\n", "\x7f", "\xc2\x9b",
		"\xe2\x80\xae", "\xe2\x80\x8d", "\xe2\x80\x8b", "\xef\xbb\xbf",
		"\xf3\xa0\x81\x81", "\xe2\x80\xa8", "地", "👨", "🏽", "\xef\xb8\x8f",
		"\xff", "\xc0", "\xe9\xa3", "\xed\xa0\x80", "\xf0\x9f", "\x00",
	};
	const size_t npieces = sizeof pieces / sizeof pieces[0];
	char in[256], out[4 * sizeof in + 1];
	uint32_t seed = 11;
	size_t n, k, len, w;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 16) % 24;
		for (n = 0; k-- > 0;) {
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 16) % npieces;
			len = pieces[len][0] == '\0' ? 1 : strlen(pieces[len]);
			if (n + len >= sizeof in)
				break;
			memcpy(in + n, pieces[(seed >> 16) % npieces], len);
			n += len;
		}
		w = termsafe(out, sizeof out, in, n, round % 2 ? TERMSAFE_QUOTE : 0);
		if (!is_safe_output(out))
			fail_msg("round %d: unsafe output '%s'", round, out);
		assert_int_equal(w, strlen(out));
		assert_true(w <= 4 * n);
		w = termsafe(out, sizeof out, in, n, TERMSAFE_JSON);
		if (!is_safe_output(out))
			fail_msg("round %d: unsafe JSON output '%s'", round, out);
	}
}

static void
test_embedded_nul(void **state)
{
	char out[32];

	(void)state;
	termsafe(out, sizeof out, "a\0b", 3, 0);
	assert_string_equal(out, "a\\x00b");
}

static void
test_quote(void **state)
{
	char out[64];

	(void)state;
	termsafe(out, sizeof out, "say \"hi\" \\ \033", 12, TERMSAFE_QUOTE);
	assert_string_equal(out, "say \\\"hi\\\" \\\\ \\x1b");
	termsafe(out, sizeof out, "say \"hi\"", 8, 0);
	assert_string_equal(out, "say \"hi\"");
}

/* A full buffer cuts between whole characters and whole escapes. */
static void
test_cut(void **state)
{
	char out[8];
	size_t n;

	(void)state;
	n = termsafe(out, sizeof out, "ab\033cd", 5, 0);
	assert_string_equal(out, "ab\\x1bc");
	assert_int_equal(n, 7);
	n = termsafe(out, 6, "ab\033cd", 5, 0);
	assert_string_equal(out, "ab");
	n = termsafe(out, sizeof out, "食品安全", strlen("食品安全"), 0);
	assert_string_equal(out, "食品");
	assert_int_equal(n, 6);
	assert_int_equal(termsafe(out, 1, "x", 1, 0), 0);
	assert_string_equal(out, "");
}

static void
test_dup(void **state)
{
	char *d;

	(void)state;
	d = termsafe_dup("\xff\xff\xff\xff");
	assert_string_equal(d, "\\xff\\xff\\xff\\xff");
	free(d);
	d = termsafe_dup(NULL);
	assert_string_equal(d, "");
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_control_out),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
