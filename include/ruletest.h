/*
 * ruletest.h — running the tests embedded in rule files.
 *
 * Each topic's tests.match texts must match that topic and its
 * tests.no_match texts must not.  Used by `tidewatch check` and before a
 * reloaded rule set replaces the running one.
 */
#ifndef TW_RULETEST_H
#define TW_RULETEST_H

#include <stddef.h>

#include "diag.h"
#include "matcher.h"

/* Runs every embedded test.  Each failure is added to fails as
 * "path:line:col: test failed: topic 'id': expected match, got no match:
 * \"text\"".  Returns the number of failures; *passed gets the others. */
size_t ruletest_run(const struct matcher *m, size_t *passed,
    struct diag *fails);

#endif
