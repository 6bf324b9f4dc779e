#!/bin/sh
# Redis is spoken from store only: no daemon/*.c file but store.c and
# store_*.c names a Redis command (as a quoted string: an argv element, a
# format), holds a Lua script (redis.call), calls hiredis, or spells a key
# name (the fragments of store_key's table, with or without the prefix
# before them).  Config defaults (config.c) may name the configured channel
# and stream; the HTTP method of metrics.c and the HTTP request line of
# httpc.c are not Redis.  Each finding is printed as file:line.
SCRIPT=0005-redis-owner
. tests/integration/helpers.sh

CMDS='EVAL|EVALSHA|XADD|XREAD|XRANGE|XLEN|XTRIM|HGET|HSET|HSETNX|HMGET|HGETALL'
CMDS="$CMDS|HVALS|HKEYS|HLEN|HDEL|HINCRBY|GET|SET|SETNX|DEL|EXISTS|EXPIRE"
CMDS="$CMDS|EXPIREAT|PEXPIRE|TTL|PTTL|ZADD|ZRANGE|ZREVRANGEBYSCORE"
CMDS="$CMDS|ZREMRANGEBYRANK|PUBLISH|SUBSCRIBE|PSUBSCRIBE|UNSUBSCRIBE|AUTH"
CMDS="$CMDS|SELECT|PING|SCAN|SCRIPT|INCR|INCRBY|MULTI|EXEC|WATCH|KEYS"
COMMANDS="\"($CMDS)( [^\"]*)?\"|redis\\.p?call|[^a-z_]redis[A-Z][a-zA-Z]*\\(|<hiredis\\.h>|HIREDIS_"
KEYS='%s(c|k|b|s|pos|state|dedup):|"(pos|state|dedup):|%s(held|leader|since|rejected)"|"(held|leader|rejected)"|alert-log|"alerts:'

others=$(ls daemon/*.c | grep -v '^daemon/store[_.]')
check "store.c is there (the check looks in the right place)" \
    grep -qE "$COMMANDS" daemon/store.c

grep -nE "$COMMANDS" $others |
    grep -vE '^daemon/metrics\.c:[0-9]+:.*strcmp\(method, "(GET|HEAD)"\)' |
    grep -vE '^daemon/httpc\.c:[0-9]+:.*"GET [^"]* HTTP/1\.0' \
    >"$T/cmds"
check "no Redis command, Lua script or hiredis call outside store" \
    test ! -s "$T/cmds" || sed 's/^/  /' "$T/cmds"

grep -nE "$KEYS" $others | grep -vE '^daemon/config\.c:' >"$T/keys"
check "no Redis key name outside store" \
    test ! -s "$T/keys" || sed 's/^/  /' "$T/keys"

# the check finds what it looks for: a planted line in a copy is caught
mkdir -p "$T/daemon"
printf 'static const char *a[] = { "HGET", key };\n' >"$T/daemon/x.c"
printf 'snprintf(k, sz, "%%sstate:%%s", p, t);\n' >"$T/daemon/y.c"
check "a planted command and key name are found" sh -c "
    grep -qE '$COMMANDS' '$T/daemon/x.c' && grep -qE '$KEYS' '$T/daemon/y.c'"
