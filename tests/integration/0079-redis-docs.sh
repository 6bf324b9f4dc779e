#!/bin/sh
# What the docs promise about Redis deployments holds: no hash-tag advice
# for Redis Cluster (tidewatch follows no MOVED/ASK redirect), Cluster said
# to be unsupported, and TLS through a documented client sidecar (Debian's
# hiredis 0.14 has no TLS) whose example points redis.address at loopback.
SCRIPT=0079-redis-docs
. tests/integration/helpers.sh

"$TIDEWATCH" config --man >"$T/keys.roff"
"$TIDEWATCH" config --defaults >"$T/defaults.yaml"
check "no hash-tag advice for Redis Cluster (docs, man pages, config help)" sh -c "
    ! grep -n '{tidewatch}' README.md docs/*.md deploy/tidewatch.1 deploy/tidewatch.yaml '$T/keys.roff' '$T/defaults.yaml'"
check "the docs say Redis Cluster is not supported" \
    grep -q 'Redis Cluster is not supported' docs/operations.md
check "a TLS sidecar (stunnel client) is documented" sh -c "
    sed -n '/^### Redis over TLS/,/^## /p' docs/operations.md >'$T/tls.md' &&
    grep -qx 'client = yes' '$T/tls.md' && grep -qx 'accept = 127.0.0.1:6380' '$T/tls.md' &&
    grep -q '^  address: 127.0.0.1:6380' '$T/tls.md' && grep -qx 'verifyChain = yes' '$T/tls.md'"
