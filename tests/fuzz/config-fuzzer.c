/*
 * config-fuzzer.c — libFuzzer harness for the config loader.
 *
 * Each input is one config file, loaded with config_load_string() over the
 * defaults (no file is read or written).  Then every line of the input that
 * holds a '=' is also applied with config_set() as a "key=value" override,
 * as the command line would (over the defaults if the load failed).  Whatever happens, config_free() must
 * release everything (LeakSanitizer checks).  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

/* A few bounds of the config table that must hold after any load. */
static void
check_bounds(const struct config *c)
{
	CHECK(c->max_post_bytes >= 64 && c->max_post_bytes <= (INT64_C(1) << 30));
	CHECK(c->norm.max_gap >= 0 && c->norm.max_gap <= 16);
	CHECK(c->resolution_s >= 1 && c->resolution_s <= 3600);
	CHECK(c->flush_interval_ms >= 10 && c->flush_interval_ms <= 60000);
}

/* Applies every "key=value" line of s (at most 16). */
static void
apply_overrides(struct config *c, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *nl;
	struct diag errs;
	char line[512];
	size_t n;
	int count = 0;

	diag_init(&errs);
	while (p < end && count < 16) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n > 0 && n < sizeof line && memchr(p, '=', n) != NULL &&
		    memchr(p, '\0', n) == NULL) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (config_set(c, line, &errs) == -1)
				CHECK(errs.n > 0);
			count++;
		}
		p = nl ? nl + 1 : end;
	}
	diag_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct diag errs;
	int rc;

	diag_init(&errs);
	rc = config_load_string("fuzz.yaml", (const char *)data, size, &c,
	    &errs);
	CHECK(rc == 0 || rc == -1);
	CHECK((rc == -1) == (errs.n > 0));
	check_bounds(&c);
	apply_overrides(&c, (const char *)data, size);
	check_bounds(&c);
	diag_free(&errs);
	config_free(&c);
	return 0;
}
