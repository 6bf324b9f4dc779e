#!/bin/sh
# The store's unit test (tests/unit/test_store.c) against scratch
# redis-servers: the tests it leaves out without one (publish once, the
# dedup key given back, the alert log by pages, a subscriber, a flush and
# its positions, the rejects it stores, a flush staged in chunks; AUTH against a server with a password) run here, one
# PASS/FAIL line each; a test that did not run is a FAIL.
SCRIPT=0004-store-redis
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis --requirepass s3cret
AUTH_PORT=$REDIS_PORT
REDIS_PORT=
start_redis
TW_REDIS_PORT=$REDIS_PORT TW_REDIS_AUTH_PORT=$AUTH_PORT \
    "$BUILD"/tests/test_store >"$T/out" 2>&1
rc=$?
sed -n 's/^\[       OK \] \(.*\)/\1/p' "$T/out" | while read -r name; do
	pass "$name"
done
sed -n 's/^\[  \(FAILED\|SKIPPED\) *\] \(test_[a-z_]*\)$/\2 (\1)/p' "$T/out" |
    sort -u | while read -r name; do
	fail "$name"
done
check "the tests that need a server ran, and every test passed" sh -c "
    [ $rc -eq 0 ] && ! grep -q '^\[  \(FAILED\|SKIPPED\) *\]' '$T/out' &&
    for t in publish_once publish_gives_dedup_back alert_log_pages \
        subscriber flush_and_positions flush_rejects flush_staged auth; do
	grep -q \"^\\[       OK \\] test_\$t\$\" '$T/out' || exit 1
    done"
