#!/bin/sh
# Redis over TLS through the documented client sidecar: a redis-server that
# speaks only TLS (port 0, tls-port), stunnel as a TLS client on loopback
# verifying the server's certificate, the daemon pointed at stunnel.  Every
# post is counted, exactly; a sidecar that cannot verify the certificate
# (wrong name) lets nothing through.
SCRIPT=0081-redis-tls
. tests/integration/helpers.sh
need redis-server redis-cli stunnel openssl

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
    -out "$T/cert.pem" -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$T/openssl.log" 2>&1 || {
	echo "FAIL $SCRIPT: openssl could not make a certificate"; cat "$T/openssl.log"; exit 1; }
TLS_PORT=$(free_port)
mkdir -p "$T/redis"
redis-server --port 0 --tls-port "$TLS_PORT" --bind 127.0.0.1 --save "" \
    --appendonly no --dir "$T/redis" --daemonize no \
    --tls-cert-file "$T/cert.pem" --tls-key-file "$T/key.pem" \
    --tls-ca-cert-file "$T/cert.pem" --tls-auth-clients no >>"$T/redis.log" 2>&1 &
track_pid $!

# sidecar NAME PORT HOST: stunnel accepting on 127.0.0.1:PORT, verifying
# the server as HOST
sidecar() {
	cat >"$T/$1.conf" <<C
foreground = yes
pid =
[redis]
client = yes
accept = 127.0.0.1:$2
connect = 127.0.0.1:$TLS_PORT
verifyChain = yes
CAfile = $T/cert.pem
checkHost = $3
C
	stunnel "$T/$1.conf" >"$T/$1.log" 2>&1 &
	track_pid $!
}
REDIS_PORT=$(free_port)
sidecar stunnel "$REDIS_PORT" localhost
check "Redis answers through the sidecar (TLS verified)" wait_for 10 \
    sh -c "redis-cli -p $REDIS_PORT ping | grep -qx PONG"
BAD_PORT=$(free_port)
sidecar bad "$BAD_PORT" not-this-host
sleep 1
check "a sidecar that cannot verify the name lets nothing through" \
    sh -c "! redis-cli -p $BAD_PORT ping 2>/dev/null | grep -qx PONG"

start_kafka posts:4
write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 3000 -d 600 -s now-600 -r 81 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")
start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
check "every post counted over TLS" all_consumed "$n"
check "counts exact" counts_match "$T/posts.jsonl" "$TOP/rules"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
