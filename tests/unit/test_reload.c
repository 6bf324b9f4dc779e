/*
 * test_reload.c — the pieces of `tidewatch reload` and `health` that need
 * no daemon: the reload outcome record (reloadst.c: numbering, an older
 * build finishing after a newer failed request, the /reload-status text)
 * and the address a listen address is asked at (httpc_target: wildcards
 * to loopback, a fixed port required).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "httpc.h"
#include "reloadst.h"

static void
test_reload_status(void **state)
{
	struct diag errs;
	char *body, want[128];
	uint64_t a, b;

	(void)state;
	body = reloadst_render();
	snprintf(want, sizeof want, "pid %ld\nrequested 0\ndone 0\nresult none\n",
	    (long)getpid());
	assert_string_equal(body, want);
	free(body);
	assert_int_equal(reloadst_last_success_ms(), 0);

	reloadst_done(0, true, NULL);			/* the load at start */
	assert_true(reloadst_last_success_ms() > 0);
	a = reloadst_request();
	b = reloadst_request();
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(reloadst_requested(), 2);

	diag_init(&errs);
	diag_addf(&errs, "a.yaml:3:5: unknown key 'x'");
	diag_addf(&errs, "two\nlines");
	reloadst_done(2, false, &errs);
	/* the build for request 1 ends after request 2 failed: the newer
	 * outcome stays the one reported */
	reloadst_done(1, true, NULL);
	body = reloadst_render();
	snprintf(want, sizeof want, "pid %ld\nrequested 2\ndone 2\nresult failed\n"
	    "error a.yaml:3:5: unknown key 'x'\nerror two lines\n", (long)getpid());
	assert_string_equal(body, want);
	free(body);

	reloadst_done(reloadst_request(), true, NULL);
	body = reloadst_render();
	assert_non_null(strstr(body, "\ndone 3\nresult ok\n"));
	assert_null(strstr(body, "error"));
	free(body);
	diag_free(&errs);
}

static void
test_target(void **state)
{
	char host[64], port[16], err[256];

	(void)state;
#define T(listen, h, p) do {						\
	assert_int_equal(httpc_target(listen, host, sizeof host, port,	\
	    sizeof port, err, sizeof err), 0);				\
	assert_string_equal(host, h);					\
	assert_string_equal(port, p);					\
} while (0)
	T("127.0.0.1:9464", "127.0.0.1", "9464");
	T("0.0.0.0:9464", "127.0.0.1", "9464");
	T(":9464", "127.0.0.1", "9464");
	T("*:80", "127.0.0.1", "80");
	T("[::]:9464", "::1", "9464");
	T("[::1]:9", "::1", "9");
	T("host.example:9464", "host.example", "9464");
#undef T
	assert_int_equal(httpc_target("", host, sizeof host, port, sizeof port,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "metrics.listen is empty"));
	assert_int_equal(httpc_target("127.0.0.1:0", host, sizeof host, port,
	    sizeof port, err, sizeof err), -1);
	assert_int_equal(httpc_target("localhost", host, sizeof host, port,
	    sizeof port, err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_status),
		cmocka_unit_test(test_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
