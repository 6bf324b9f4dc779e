/*
 * test_decoder.c — JSON and text decoding, field paths, rejects by reason,
 * time parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decoder.h"
#include "../post_same.h"

static struct decoder *
mk_opts(enum dec_format fmt, int full_parse)
{
	static const char *const names[] = { "platform", "region", "n" };
	static const char *const paths[] = { "platform", "user.region", "n" };
	struct decoder_opts o;

	memset(&o, 0, sizeof o);
	o.format = fmt;
	o.id_field = "id";
	o.text_field = "text";
	o.time_field = "time";
	o.fields = names;
	o.field_paths = paths;
	o.nfields = 3;
	o.max_bytes = 1000;
	o.max_depth = 8;
	o.full_parse = full_parse;
	return decoder_new(&o);
}

static struct decoder *
mk(enum dec_format fmt)
{
	return mk_opts(fmt, 0);
}

static enum dec_result
dec(struct decoder *d, const char *s, struct post *p)
{
	return decoder_decode(d, s, strlen(s), p, NULL, 0);
}

static void
test_fields(void **state)
{
	struct decoder *d = mk(DEC_FORMAT_JSON);
	struct post p;
	size_t len;

	(void)state;
	assert_int_equal(dec(d, "{\"id\":\"x1\",\"text\":\"地沟油\",\"platform\":"
	    "\"weibo\",\"user\":{\"region\":\"广东\"},\"n\":12,"
	    "\"time\":\"2026-11-26T05:00:00Z\"}", &p), DEC_OK);
	assert_int_equal(p.text_len, strlen("地沟油"));
	assert_memory_equal(p.text, "地沟油", p.text_len);
	assert_memory_equal(p.id, "x1", 2);
	assert_string_equal(post_field(&p, "platform", &len), "weibo");
	assert_int_equal(len, 5);
	assert_string_equal(post_field(&p, "region", NULL), "广东");
	assert_string_equal(post_field(&p, "n", NULL), "12");
	assert_int_equal(p.time_ms, INT64_C(1795669200000));
	/* fields from the previous post do not leak into the next */
	assert_int_equal(dec(d, "{\"text\":\"a\",\"id\":5}", &p), DEC_OK);
	assert_null(post_field(&p, "platform", NULL));
	assert_memory_equal(p.id, "5", 1);
	assert_int_equal(p.time_ms, -1);
	decoder_free(d);
}

static void
test_rejects(void **state)
{
	struct decoder *d = mk(DEC_FORMAT_JSON);
	struct post p;
	char big[2000];

	(void)state;
	assert_int_equal(dec(d, "not json", &p), DEC_NOT_JSON);
	assert_int_equal(dec(d, "{\"text\":\"a\"} trailing", &p), DEC_NOT_JSON);
	assert_int_equal(dec(d, "", &p), DEC_NOT_JSON);
	assert_int_equal(dec(d, "[1]", &p), DEC_NOT_OBJECT);
	assert_int_equal(dec(d, "\"str\"", &p), DEC_NOT_OBJECT);
	assert_int_equal(dec(d, "{\"id\":1}", &p), DEC_NO_TEXT);
	assert_int_equal(dec(d, "{\"text\":null}", &p), DEC_TEXT_TYPE);
	assert_int_equal(dec(d, "{\"text\":1}", &p), DEC_TEXT_TYPE);
	assert_int_equal(dec(d, "{\"text\":[\"a\"]}", &p), DEC_TEXT_TYPE);
	assert_int_equal(dec(d, "{\"text\":\"a\\u0000b\"}", &p),
	    DEC_NUL_ESCAPE);
	assert_int_equal(decoder_decode(d, "{\"text\":\"a\0b\"}", 13, &p, NULL,
	    0), DEC_NUL);
	assert_int_equal(dec(d, "{\"text\":\"\xff\"}", &p), DEC_NOT_UTF8);
	assert_int_equal(dec(d, "{\"text\":\"\xed\xa0\x80\"}", &p), DEC_NOT_UTF8);
	assert_int_equal(dec(d, "{\"a\":[[[[[[[[[[1]]]]]]]]],\"text\":\"x\"}", &p),
	    DEC_TOO_DEEP);
	assert_int_equal(dec(d, "{\"text\":\"x\",\"time\":\"yesterday\"}", &p),
	    DEC_BAD_TIME);
	assert_int_equal(dec(d, "{\"text\":\"x\",\"time\":-5}", &p), DEC_BAD_TIME);
	memset(big, 'a', sizeof big);
	big[sizeof big - 1] = '\0';
	assert_int_equal(dec(d, big, &p), DEC_TOO_LARGE);
	/* the decoder goes on after every reject */
	assert_int_equal(dec(d, "{\"text\":\"ok\"}", &p), DEC_OK);
	assert_string_equal(decoder_result_name(DEC_NOT_UTF8), "not_utf8");
	assert_string_equal(decoder_result_name(DEC_NUL_ESCAPE), "nul_escape");
	decoder_free(d);
}

/* What cJSON lets through but JSON (RFC 8259) forbids is refused as
 * not_json on both paths, with what and where in the detail; what JSON
 * allows around it still decodes. */
static void
test_strict_json(void **state)
{
	static const struct {
		const char *msg, *detail;
	} bad[] = {
		{ "{\"text\":\"a\x01b\"}",
		    "not valid JSON (control byte in a string at byte 10)" },
		{ "{\"text\":\"a\tb\"}",
		    "not valid JSON (control byte in a string at byte 10)" },
		{ "{\"text\":\"a\nb\"}",
		    "not valid JSON (control byte in a string at byte 10)" },
		{ "{\"te\x1fxt\":\"a\"}",
		    "not valid JSON (control byte in a string at byte 4)" },
		{ "{\"text\":\"a\",\"n\":0123}",
		    "not valid JSON (malformed number at byte 16)" },
		{ "{\"text\":\"a\",\"n\":-007}",
		    "not valid JSON (malformed number at byte 16)" },
		{ "{\"text\":\"a\",\"n\":1.}",
		    "not valid JSON (malformed number at byte 16)" },
		{ "{\"text\":\"a\",\"n\":-.5}",
		    "not valid JSON (malformed number at byte 16)" },
		{ "{\"text\":\"a\",\"time\":01795669200}",
		    "not valid JSON (malformed number at byte 19)" },
		{ "0123", "not valid JSON (malformed number at byte 0)" },
		{ "{\"text\":\"a\"}\x0b",
		    "not valid JSON (control byte outside a string at byte 12)" },
		{ "{\x0c\"text\":\"a\"}",
		    "not valid JSON (control byte outside a string at byte 1)" },
		{ "{\"text\":\x01\"a\"}",
		    "not valid JSON (control byte outside a string at byte 8)" },
	};
	static const char *const good[] = {
		"{\"text\":\"a\\tb\\u0001\", \"n\":0}",
		"\t{\r\n\"text\" :\t\"a\", \"n\": -0.5e-3 }\n",
		"{\"text\":\"a\",\"n\":10,\"m\":[0,-0,0.0,1E+2]}",
		"{\"text\":\"tab\\t and \\\" quote \\\\\",\"x\":\"0123\"}",
	};
	struct decoder *d[2];
	struct decoder_opts o;
	struct post p;
	char detail[128];
	size_t i, k;

	(void)state;
	memset(&o, 0, sizeof o);
	o.format = DEC_FORMAT_JSON;
	o.time_field = "time";
	d[0] = decoder_new(&o);
	o.full_parse = 1;
	d[1] = decoder_new(&o);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			detail[0] = '\0';
			assert_int_equal(decoder_decode(d[k], bad[i].msg,
			    strlen(bad[i].msg), &p, detail, sizeof detail),
			    DEC_NOT_JSON);
			assert_string_equal(detail, bad[i].detail);
		}
		for (i = 0; i < sizeof good / sizeof good[0]; i++)
			assert_int_equal(dec(d[k], good[i], &p), DEC_OK);
		/* a NUL character: a raw byte, or the escape, each named */
		assert_int_equal(decoder_decode(d[k], "{\"text\":\"a\0\"}", 12,
		    &p, detail, sizeof detail), DEC_NUL);
		assert_string_equal(detail, "NUL byte in the message");
		assert_int_equal(decoder_decode(d[k], "{\"text\":\"\\u0000\"}",
		    17, &p, detail, sizeof detail), DEC_NUL_ESCAPE);
		assert_string_equal(detail,
		    "a string holds \\u0000 (a NUL character)");
		/* null is a type: text_type, not no_text */
		assert_int_equal(decoder_decode(d[k], "{\"text\":null}", 13, &p,
		    detail, sizeof detail), DEC_TEXT_TYPE);
		assert_string_equal(detail,
		    "text field 'text' is null, not a string");
		decoder_free(d[k]);
	}
}

static void
test_ten_megabytes(void **state)
{
	struct decoder_opts o;
	struct decoder *d;
	struct post p;
	size_t n = 10 * 1024 * 1024;
	char *big = malloc(n);

	(void)state;
	memset(&o, 0, sizeof o);
	o.format = DEC_FORMAT_JSON;
	o.max_bytes = 1024 * 1024;
	d = decoder_new(&o);
	memset(big, 'a', n);
	memcpy(big, "{\"text\":\"", 9);
	memcpy(big + n - 2, "\"}", 2);
	assert_int_equal(decoder_decode(d, big, n, &p, NULL, 0), DEC_TOO_LARGE);
	assert_int_equal(decoder_decode(d, "{\"text\":\"ok\"}", 13, &p, NULL, 0),
	    DEC_OK);
	free(big);
	decoder_free(d);
}

static void
test_text_mode(void **state)
{
	struct decoder *d = mk(DEC_FORMAT_TEXT);
	struct post p;

	(void)state;
	assert_int_equal(dec(d, "{not json but fine}", &p), DEC_OK);
	assert_int_equal(p.text_len, 19);
	assert_int_equal(decoder_decode(d, "a\0b", 3, &p, NULL, 0), DEC_NUL);
	assert_int_equal(dec(d, "\xc3\x28", &p), DEC_NOT_UTF8);
	decoder_free(d);
}

static void
test_time(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(decoder_parse_time("2026-11-26T05:00:00Z", 20, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200000));
	assert_int_equal(decoder_parse_time("2026-11-26T13:00:00+08:00", 25, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200000));
	assert_int_equal(decoder_parse_time("2026-11-26 05:00:00.250", 23, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200250));
	assert_int_equal(decoder_parse_time("1795669200", 10, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200000));
	assert_int_equal(decoder_parse_time("1795669200123", 13, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200123));
	assert_int_equal(decoder_parse_time("2026-13-01T00:00:00Z", 20, &ms), -1);
	assert_int_equal(decoder_parse_time("2026-11-26T05:00", 16, &ms), -1);
	assert_int_equal(decoder_parse_time("2026-11-26T05:00:00Q", 20, &ms), -1);
	assert_int_equal(decoder_parse_time("", 0, &ms), -1);
	/* a date alone is its midnight UTC */
	assert_int_equal(decoder_parse_time("2026-11-26", 10, &ms), 0);
	assert_int_equal(ms, INT64_C(1795651200000));
	/* zones: z, -05:00, +0800; T or t; a fraction to the millisecond
	 * after '.' or ',' (more digits are cut) */
	assert_int_equal(decoder_parse_time("2026-11-26t05:00:00.5z", 22, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200500));
	assert_int_equal(decoder_parse_time("2026-11-26T00:00:00-05:00", 25,
	    &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200000));
	assert_int_equal(decoder_parse_time("2026-11-26T13:00:00,123456+0800",
	    31, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200123));
	/* a number in a string: decimal seconds (a fraction read to the
	 * millisecond) up to 1e11, milliseconds above */
	assert_int_equal(decoder_parse_time("1795669200.25", 13, &ms), 0);
	assert_int_equal(ms, INT64_C(1795669200250));
	assert_int_equal(decoder_parse_time("100000000000", 12, &ms), 0);
	assert_int_equal(ms, INT64_C(100000000000000));
	assert_int_equal(decoder_parse_time("100000000001", 12, &ms), 0);
	assert_int_equal(ms, INT64_C(100000000001));
	assert_int_equal(decoder_parse_time("1e9", 3, &ms), -1);
	assert_int_equal(decoder_parse_time("0x6b0b2a50", 10, &ms), -1);
	assert_int_equal(decoder_parse_time("1795669200.", 11, &ms), -1);
	/* days checked against their month, offsets against a day */
	assert_int_equal(decoder_parse_time("2026-02-29T00:00:00Z", 20, &ms), -1);
	assert_int_equal(decoder_parse_time("2028-02-29T00:00:00Z", 20, &ms), 0);
	assert_int_equal(decoder_parse_time("2026-04-31", 10, &ms), -1);
	assert_int_equal(decoder_parse_time("2026-11-26T05:00:00+24:00", 25,
	    &ms), -1);
	assert_int_equal(decoder_parse_time("2026-11-26T05:00:00+08:60", 25,
	    &ms), -1);
}

/* A JSON number as a time: seconds up to 1e11 (fractions kept to the
 * millisecond), milliseconds above, at most 1e14; negative refused. */
static void
test_time_numbers(void **state)
{
	struct decoder_opts o;
	struct decoder *d;
	struct post p;

	(void)state;
	memset(&o, 0, sizeof o);
	o.format = DEC_FORMAT_JSON;
	o.time_field = "time";
	d = decoder_new(&o);
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":1795669200}", &p),
	    DEC_OK);
	assert_int_equal(p.time_ms, INT64_C(1795669200000));
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":1795669200.125}",
	    &p), DEC_OK);
	assert_int_equal(p.time_ms, INT64_C(1795669200125));
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":1795669200123}",
	    &p), DEC_OK);
	assert_int_equal(p.time_ms, INT64_C(1795669200123));
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":1e14}", &p),
	    DEC_OK);
	assert_int_equal(p.time_ms, INT64_C(100000000000000));
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":1.5e14}", &p),
	    DEC_BAD_TIME);
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":-1}", &p),
	    DEC_BAD_TIME);
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":\"1970-01-01\"}",
	    &p), DEC_OK);
	assert_int_equal(p.time_ms, 0);
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":\"1969-12-31\"}",
	    &p), DEC_BAD_TIME);
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":null}", &p),
	    DEC_OK);
	assert_int_equal(p.time_ms, -1);
	assert_int_equal(dec(d, "{\"text\":\"a\",\"time\":true}", &p),
	    DEC_BAD_TIME);
	decoder_free(d);
}

/* The fast path answers every message exactly as the full cJSON parse:
 * valid posts in many spellings, malformed JSON and malformed UTF-8 in
 * every place the scan checks. */
static void
test_fast_path_same_as_full(void **state)
{
	static const char *const cases[] = {
		/* valid, in many spellings */
		"{\"text\":\"a\"}",
		" \t\r\n{ \"text\" : \"a\" , \"id\" : 7 } \n",
		"{\"id\":\"p1\",\"text\":\"地沟油\",\"time\":1795686000,"
		    "\"platform\":\"weibo\",\"user\":{\"region\":\"湖北\"}}",
		"{\"text\":\"q\\\"uo\\\\te\\/\\b\\f\\n\\r\\t\"}",
		"{\"text\":\"\\u5730\\u6c9f\\u6cb9 \\ud83d\\ude00\"}",
		"{\"text\":\"a\",\"id\":-0.5e+3,\"n\":1E2,\"platform\":true}",
		"{\"text\":\"a\",\"id\":12345678901234567890123}",
		"{\"text\":\"a\",\"id\":null,\"platform\":false,\"n\":[1,{}]}",
		"{\"text\":\"a\",\"text\":\"b\"}",
		"{\"text\":\"a\",\"user\":{\"region\":1.25},\"user\":{}}",
		"{\"text\":\"a\",\"user.region\":\"exact\",\"user\":{\"region\":\"x\"}}",
		"{\"text\":\"a\",\"user\":[{\"region\":\"x\"}]}",
		"{\"text\":\"a\",\"x\":{\"y\":[[],[[]],{\"z\":[1,2,3]}]}}",
		"{\"text\":\"a\",\"time\":\"2026-11-26T05:00:00+08:00\"}",
		"{\"text\":\"a\",\"time\":\"yesterday\"}",
		"{\"text\":\"a\",\"time\":1e300}",
		"{\"text\":\"a\",\"time\":null}",
		"{\"text\":\"a\\u0000b\"}",
		"{\"text\":\"a\",\"other\":\"\\u0000\"}",
		"{\"text\":\"a\",\"other\":\"\\\\u0000\"}",
		"{\"text\":1}",
		"{\"text\":null}",
		"{}",
		"{\"te\\u0078t\":\"escaped key\"}",
		"{\"text\":\"lone \\ud800 high\"}",
		"{\"txt\":\"\\ud800 \\udc00\"}",
		"{\"text\":\"a\",\"x\":\"\\uDBFF\\uDFFF\"}",
		"{\"text\":\"lone \\udc00 low\"}",
		"{\"text\":\"a\",\"id\":\"\\ud800\\u0041\"}",
		"\xef\xbb\xbf{\"text\":\"bom\"}",
		"{\"text\":\"a\",\"d\":[[[[[[[[[1]]]]]]]]]}",
		"{\"text\":\"a\",\"n\":1234567890123456789012345678901234567890"
		    "12345678901234567890123456789012345678901234567890}",
		"{\"text\":\"a\",\"id\":-0,\"time\":1795686000123}",
		"{\"text\":\"a\",\"id\":123456789012345,\"time\":-12}",
		"{\"text\":\"a\",\"id\":1234567890123456}",
		"{\"text\":\"a\",\"id\":9007199254740993,\"time\":17956860001}",
		"{\"text\":\"a\",\"id\":-9007199254740993.5e-3}",
		"{ \"text\" : \"a\" , \"e\" : { } , \"f\" : [ ] , \"g\":[{}]}",
		"{\"文本\":\"键\",\"text\":\"café ü 中 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"}",
		"{\"text\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\"}",
		"{\"text\":\"abcdefghijklmno\\\"pqrstuvw\\\\xyz0123456789\\n\"}",
		"{\"text\":\"中文中文中文中文中文\\u4e2d中文\\\"中文中文中文中\"}",
		"{\"text\":\"1234567\",\"id\":\"12345678\",\"platform\":\"123456789\"}",
		"{\"text\":\"中文中文\xe0\xa0\x80中文\xed\x9f\xbf中文\xef\xbf\xbf中\"}",
		"{\"text\":\"中文\xe4\xb8\xad\xc3\xa9中文\xf0\x9f\x98\x80中文中文\"}",
		/* malformed */
		"{\"text\":\"a\" \"id\":1}",
		"{\"text\":\"a\",}",
		"{,\"text\":\"a\"}",
		"{\"text\" \"a\"}",
		"{\"text\"::\"a\"}",
		"{\"text\":\"a\",\"n\":[1 2]}",
		"{\"text\":\"a\",\"n\":[1,]}",
		"{\"text\":\"a\",\"n\":[,1]}",
		"{\"text\":\"a\",\"n\":{\"b\":1,}}",
		"{\"text\":\"a\",\"n\":tru}",
		"{\"text\":\"a\",\"n\":nul}",
		"{\"text\":\"a\",\"n\":01}",
		"{\"text\":\"a\",\"n\":1.}",
		"{\"text\":\"a\",\"n\":-}",
		"{\"text\":\"a\",\"n\":1e}",
		"{\"text\":\"a\",\"n\":+1}",
		"{\"text\":\"a\",\"n\":[\"k\":1]}",
		"{\"text\":\"a\",\"n\":1:2}",
		"{\"text\":\"a\"}{\"text\":\"b\"}",
		"{\"text\":\"a\"} x",
		"{\"text\":\"a\"}\v",
		"{\"text\":\"a\tb\"}",
		"{\"text\":\"a\nb\"}",
		"{\"text\":\"a\\x\"}",
		"{\"text\":\"a\\u12\"}",
		"{\"text\":\"a\"",
		"{\"text\":\"a}",
		"{\"text\":\"a\"]",
		"{\"text\":\"a\",\"n\":[}",
		"{\"text\":\"a\",\"d\":[[[[[[[[[[1]]]]]]]]]]}",
		"[\"text\"]",
		"\"text\"",
		"42",
		"{\"text\":\"a\",\"n\":[1}]}",
		"{\"text\":\"a\",1:2}",
		"{\"text\":\"a\",\"n\":{\"k\"}}",
		"{\"text\":\"a\",\"n\":{1}}",
		"{\"text\":\"a\", \"n\" : [ 1 , 2 ] , }",
		/* not UTF-8, inside strings and out, read or not */
		"{\"text\":\"a\xe4\xb8\"}",
		"{\"text\":\"a\xe4\xb8\xad\xe4\"}",
		"{\"text\":\"\xe0\x80\x80 overlong\"}",
		"{\"text\":\"\xed\xa0\x80 surrogate\"}",
		"{\"text\":\"\xf4\x90\x80\x80 too big\"}",
		"{\"text\":\"\xf5\x80\x80\x80\"}",
		"{\"text\":\"\xc0\xaf\"}",
		"{\"text\":\"\xc1\xbf\"}",
		"{\"text\":\"abcdefgh\x80\"}",
		"{\"text\":\"\xc3\"}",
		"{\"text\":\"\xf0\x9f\x98\"}",
		"{\"text\":\"a\",\"other\":\"\xff\"}",
		"{\"text\":\"中文中文\xe0\x9f\xbf中文中文\"}",
		"{\"text\":\"中文中\xed\xa0\x80文中文中文\"}",
		"{\"text\":\"中文\xed\xbf\xbf中文中文中文\"}",
		"{\"text\":\"中\xe4\xb8中文中文中文\"}",
		"{\"text\":\"中文中文中文\xe4\xb8\"}",
		"{\"text\":\"中文中文中文\xe4\"}",
		"{\"text\":\"中文中文中文\x80\x80\x80中文\"}",
		"{\"text\":\"中文中文中文\xe4\xb8\xad\xe4\xb8\x20中文\"}",
		"{\"k\xff\":1,\"text\":\"a\"}",
		"{\"text\":\"a\"}\xe4\xb8\xad",
		"{\"text\":\"a\"}\xff",
		"{\"text\":\"a\",\"n\":\xe4\xb8\xad}",
		"{\"text\":\"a\xe4\xb8\xad",
		"{\"text\":\"a\\",
		"{\"text\":\"a\\u00",
		"{\"text\":\"a\\uzzzz\"}",
		"{\"text\":\"a\",\"n\":truex}",
		"{\"text\":\"a\",\"n\":1.5x}",
		"{\"text\":\"a\",\"n\":-01}",
		"{\"text\":\"a\",\"n\":1e+}",
		"{\"text\":\"a\",\"n\":.5}",
		"{\"text\":\"a\",\"n\":[1,2]]",
		"{\"text\":\"a\",\"n\":{}}}",
		"{\"text\":\"a\",\"n\":{]}",
		"{\"text\":\"a\",\"n\":[}",
		"{\"text\":\"a\" , ",
		"{\"text\":",
		"{\"text\"",
		"{",
		"",
		"   ",
	};
	struct decoder *fast = mk_opts(DEC_FORMAT_JSON, 0);
	struct decoder *full = mk_opts(DEC_FORMAT_JSON, 1);
	struct post p, q;
	char pd[128], qd[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *c = cases[i];
		enum dec_result r, qr;

		pd[0] = qd[0] = '\0';
		r = decoder_decode(fast, c, strlen(c), &p, pd, sizeof pd);
		qr = decoder_decode(full, c, strlen(c), &q, qd, sizeof qd);
		if (r != qr || strcmp(pd, qd) != 0)
			fail_msg("case %zu %s: fast %s (%s), full %s (%s)", i, c,
			    decoder_result_name(r), pd,
			    decoder_result_name(qr), qd);
		if (r == DEC_OK && !post_same(&p, &q))
			fail_msg("case %zu %s: fast and full decode different "
			    "members", i, c);
	}
	/* and a few answers spelt out */
	assert_int_equal(dec(fast, "{\"text\":\"a\",\"n\":tru}", &p), DEC_NOT_JSON);
	assert_int_equal(dec(fast, "{\"text\":\"a\" \"id\":1}", &p), DEC_NOT_JSON);
	assert_int_equal(dec(fast, "{\"text\":\"a\",\"n\":[1 2]}", &p), DEC_NOT_JSON);
	assert_int_equal(dec(fast, "{\"text\":\"\\u5730\\ud83d\\ude00\"}", &p),
	    DEC_OK);
	assert_string_equal(p.text, "地\xf0\x9f\x98\x80");
	assert_int_equal(dec(fast, "{\"user\":{\"region\":\"湖北\"},\"text\":\"x\"}",
	    &p), DEC_OK);
	assert_string_equal(p.fields[1].value, "湖北");
	decoder_free(fast);
	decoder_free(full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_fast_path_same_as_full),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_strict_json),
		cmocka_unit_test(test_ten_megabytes),
		cmocka_unit_test(test_text_mode),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_time_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
