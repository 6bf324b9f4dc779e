/*
 * test_log.c — log lines: the message and the key=value pairs are split in
 * the format, so an argument holding " | ", quotes, '=' or control
 * characters stays escaped in its place; the conversions a caller may use
 * are formatted as printf would; under journald (JOURNAL_STREAM naming
 * stderr) every line starts with its syslog priority; the rate limit
 * holds repeats back and counts them.  stderr is a temp file, read back.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static FILE *captured;		/* the capture file, read back */
static int capture_fd, real_stderr;	/* cmocka reports on stderr */

/* Sends stderr to the capture file until take(). */
static void
capture(void)
{
	fflush(stderr);
	dup2(capture_fd, STDERR_FILENO);
}

/* The lines written since the last call, without their timestamps:
 * "<N>level=… msg=…". */
static char *
take(void)
{
	static char out[16384];
	char line[8192];
	size_t n = 0;

	fflush(stderr);
	dup2(real_stderr, STDERR_FILENO);
	out[0] = '\0';
	while (fgets(line, sizeof line, captured) != NULL) {
		char *ts = strstr(line, "ts="), *sp;

		assert_non_null(ts);
		sp = strchr(ts, ' ');
		n += (size_t)snprintf(out + n, sizeof out - n, "%.*s%s",
		    (int)(ts - line), line, sp + 1);
	}
	clearerr(captured);
	return out;
}

static void
test_split_in_format(void **state)
{
	(void)state;
	capture();
	log_error("cannot open %s | path=%s", "a | b=c \"x\"", "/tmp/x y");
	assert_string_equal(take(), "<3>level=error msg=\"cannot open a | "
	    "b=c \\\"x\\\"\" path=\"/tmp/x y\"\n");
	capture();
	log_warn("redis away | error=\"%s\" address=%s", "bad\" level=debug\n"
	    "\033[2J", "127.0.0.1:6379");
	assert_string_equal(take(), "<4>level=warn msg=\"redis away\" "
	    "error=\"bad\\\" level=debug\\n\\x1b[2J\" address=127.0.0.1:6379\n");
	capture();
	log_info("no pairs: %s", "x | y=1");
	assert_string_equal(take(), "<6>level=info msg=\"no pairs: x | y=1\"\n");
	capture();
	log_info("bare | k=%s e=%s u=%s z=%s", "x=y", "", "地震\xe2\x80\xae",
	    "plain");
	assert_string_equal(take(), "<6>level=info msg=\"bare\" k=\"x=y\" "
	    "e=\"\" u=\"地震\\u202e\" z=plain\n");
}

static void
test_conversions(void **state)
{
	int64_t big = -9007199254740993LL;

	(void)state;
	capture();
	log_info("n=%d %5d|%-3s|%.2f %% %c | a=%zu b=%" PRId64 " c=%*d d=%.*s "
	    "e=%llu f=%x g=%g", 7, 42, "ab", 3.14159, 'Z', (size_t)12, big, 4,
	    9, 2, "xyz", 18446744073709551615ULL, 255u, 0.5);
	assert_string_equal(take(), "<6>level=info msg=\"n=7    42|ab |3.14 % "
	    "Z\" a=12 b=-9007199254740993 c=\"   9\" d=xy "
	    "e=18446744073709551615 f=ff g=0.5\n");
}

static void
test_debug_func(void **state)
{
	(void)state;
	capture();
	log_set_level(LOG_DEBUG);
	log_debug("step | n=%d", 1);
	log_set_level(LOG_INFO);
	log_debug("not shown");
	assert_string_equal(take(), "<7>level=debug msg=\"step\" n=1 "
	    "func=test_debug_func\n");
}

static void
test_journal(void **state)
{
	(void)state;
	capture();	/* decided once, on the first line */
	assert_true(log_to_journal());
	take();
}

static void
test_limit(void **state)
{
	struct log_limit lim = LOG_LIMIT_INIT;
	uint64_t held = 99;
	int i;

	(void)state;
	assert_true(log_limit_allow(&lim, 200, &held));
	assert_int_equal(held, 0);
	for (i = 0; i < 3; i++)
		assert_false(log_limit_allow(&lim, 200, &held));
	usleep(250 * 1000);
	assert_true(log_limit_allow(&lim, 200, &held));
	assert_int_equal(held, 3);
	assert_false(log_limit_allow(&lim, 200, &held));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_split_in_format),
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_debug_func),
		cmocka_unit_test(test_limit),
	};
	char path[] = "/tmp/test_log.XXXXXX", env[64];
	struct stat st;
	int fd = mkstemp(path);

	real_stderr = dup(STDERR_FILENO);
	if (fd < 0 || real_stderr < 0 || fstat(fd, &st) != 0)
		return 1;
	capture_fd = fd;
	captured = fopen(path, "r");	/* an offset of its own */
	unlink(path);
	if (captured == NULL)
		return 1;
	/* journald's JOURNAL_STREAM: device:inode of the stream */
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
