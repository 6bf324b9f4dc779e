/*
 * test_textkey.c — text keys: what is dropped before hashing (repost
 * chains, 转发微博, RT @user:, URLs, mentions, hashtags unless nothing else
 * is left), that copies share a key and distinct texts do not, that
 * folding (全角, 繁體, punctuation) keeps the key, and that the key is the
 * same whatever the scratch held before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "normalize.h"
#include "textkey.h"

static struct normalizer	*norm;
static struct norm_buf		 nb;
static struct textkey_scratch	 sc;
static char			 out[4096];

static int
setup(void **state)
{
	struct norm_opts o;
	char err[256];

	(void)state;
	norm_opts_default(&o);
	if ((norm = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "norm_new: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	norm_free(norm);
	norm_buf_free(&nb);
	textkey_scratch_free(&sc);
	return 0;
}

/* The content textkey_content() keeps of s, as UTF-8. */
static const char *
content(const char *s)
{
	size_t i, o = 0;

	assert_int_equal(norm_text(norm, s, strlen(s), &nb), 0);
	textkey_content(s, strlen(s), &nb, &sc);
	for (i = 0; i < sc.ncps; i++) {
		uint32_t c = sc.cps[i];

		if (c < 0x80)
			out[o++] = (char)c;
		else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = '\0';
	return out;
}

static uint64_t
key(const char *s)
{
	struct textkey_params p;

	textkey_params_default(&p);
	assert_int_equal(norm_text(norm, s, strlen(s), &nb), 0);
	return textkey_of(&p, s, strlen(s), &nb, &sc);
}

static void
test_dropped(void **state)
{
	(void)state;
	assert_string_equal(content("转发微博//@张三:学校食堂出事了"),
	    "学校食堂出事了");
	assert_string_equal(content("好//@张三: //@李四：学校食堂"),
	    "好学校食堂");
	assert_string_equal(content("RT @alice: school canteen"),
	    "schoolcanteen");
	assert_string_equal(content("看这里 https://t.cn/A6xYz 和 http://x.cn/a?b=1"),
	    "看这里和");
	assert_string_equal(content("@王五 你看 @bob_1 这个"), "你看这个");
	assert_string_equal(content("#食品安全# 学校食堂 #food"), "学校食堂");
	/* a text of hashtags only keeps them */
	assert_string_equal(content("#食品安全#"), "食品安全");
	/* an @ with no name is not a mention; RT inside a word stays */
	assert_string_equal(content("a @ b ART @x: c"), "abartc");
	/* a lone # and an unclosed #… */
	assert_string_equal(content("# 1"), "1");
}

static void
test_copies_share(void **state)
{
	const char *t = "某某中学食堂发现过期肉品，家长们要求学校给个说法，"
	    "教育局已经介入调查此事";
	uint64_t k = key(t);
	char buf[1024];

	(void)state;
	snprintf(buf, sizeof buf, "转发微博//@路人甲:%s", t);
	assert_true(key(buf) == k);
	snprintf(buf, sizeof buf, "RT @x: %s http://t.cn/abc #食品安全#", t);
	assert_true(key(buf) == k);
	snprintf(buf, sizeof buf, "%s！！！", t);	/* punctuation */
	assert_true(key(buf) == k);
	/* fullwidth and traditional spellings fold */
	assert_true(key("ＡＢＣ 學校食堂") == key("abc 学校食堂"));
	assert_true(key("完全不同的一段话，说的是天气很好") != k);
	/* the empty text has one key, whatever dropped it */
	assert_true(key("") == key("http://t.cn/x @a"));
	assert_true(key("") != key("a"));
}

/* A one-character edit of a long text keeps its key at most positions
 * (a MinHash row changes only when the least shingle is hit). */
static void
test_near_duplicates(void **state)
{
	const char *t = "今天上午市中心发生一起交通事故，一辆公交车与货车相撞，"
	    "目前已造成三人受伤，伤者已被送往医院救治，事故原因正在调查中";
	uint64_t k = key(t);
	size_t len = strlen(t), i, same = 0, n = 0;
	char buf[1024];

	(void)state;
	for (i = 0; i + 3 <= len; i += 3) {
		memcpy(buf, t, len + 1);
		memcpy(buf + i, "囧", 3);
		same += key(buf) == k;
		n++;
	}
	print_message("%zu of %zu edits keep the key\n", same, n);
	assert_true(same * 10 >= n * 7);
}

static void
test_hash(void **state)
{
	(void)state;
	assert_true(textkey_hash("alice", 5) == textkey_hash("alice", 5));
	assert_true(textkey_hash("alice", 5) != textkey_hash("alicf", 5));
	assert_true(textkey_hash("", 0) != textkey_hash("a", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_copies_share),
		cmocka_unit_test(test_near_duplicates),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
