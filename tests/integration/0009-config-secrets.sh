#!/bin/sh
# kafka.properties as `run` takes them: `config -c` and `check -c` set every
# entry on a scratch librdkafka configuration and refuse what librdkafka
# refuses, naming the property; NAME_file and NAME_env read a secret from a
# file (relative: under $CREDENTIALS_DIRECTORY) or the environment, and the
# secret never appears in any output; `-s kafka.properties.NAME=value` and
# `check -s` apply overrides as `run -s` does.
SCRIPT=0009-config-secrets
. tests/integration/helpers.sh

mkdir -p "$T/creds" "$T/rules"
cat >"$T/rules/a.yaml" <<'YAML'
topics:
  - id: food
    match: {any: [地沟油]}
YAML
SECRET=s3cr3t-Pa55-value
printf '%s\n' "$SECRET" >"$T/creds/kafka-password"
printf 'not-a-bool-%s\n' "$SECRET" >"$T/creds/bad"

cfg() {
	{
		echo "rules: {paths: [\"$T/rules\"]}"
		echo "kafka:"
		echo "  properties:"
		cat
	} >"$T/$1.yaml"
}

# --- librdkafka refuses: config and check say so, naming the property
cfg bad <<'YAML'
    fetch.min.bytes: lots
    no.such.property: 1
YAML
"$TIDEWATCH" config -c "$T/bad.yaml" >"$T/out" 2>&1
check "config: a value librdkafka refuses exits 1" test $? -eq 1
check "config: names the property and librdkafka's reason" grep -qx \
    "$T/bad.yaml: kafka.properties.fetch.min.bytes: Invalid value for configuration property \"fetch.min.bytes\"" "$T/out"
check "config: an unknown librdkafka property is named" grep -qx \
    "$T/bad.yaml: kafka.properties.no.such.property: no such librdkafka property 'no.such.property'" "$T/out"
"$TIDEWATCH" check -c "$T/bad.yaml" >"$T/out" 2>&1
check "check: the same properties, both errors" sh -c "
    grep -q 'kafka.properties.fetch.min.bytes' '$T/out' &&
    grep -q 'kafka.properties.no.such.property' '$T/out' && grep -qx '2 errors' '$T/out'" ||
    cat "$T/out"
"$TIDEWATCH" check -c "$T/bad.yaml" >/dev/null 2>&1
check "check: exit 1" test $? -eq 1

# a property librdkafka takes one by one but refuses as a whole at start
cfg ca <<'YAML'
    security.protocol: ssl
    ssl.ca.location: /nonexistent/ca.pem
YAML
"$TIDEWATCH" config -c "$T/ca.yaml" >"$T/out" 2>&1
check "config: a configuration librdkafka cannot start with exits 1" sh -c "
    [ $? -eq 1 ] && grep -q 'kafka.properties: librdkafka refuses the configuration: ssl.ca.location' '$T/out'" ||
    cat "$T/out"
cfg coop <<'YAML'
    partition.assignment.strategy: cooperative-sticky
YAML
"$TIDEWATCH" check -c "$T/coop.yaml" >"$T/out" 2>&1
check "check: a cooperative assignor is refused as run refuses it" sh -c "
    [ $? -eq 1 ] && grep -q 'partition.assignment.strategy: cooperative-sticky is not supported' '$T/out'"

# --- secrets from a file, the environment, $CREDENTIALS_DIRECTORY
cfg secrets <<YAML
    sasl.password_file: "$T/creds/kafka-password"
    ssl.key.password_env: TW_TEST_KEY_PASSWORD
YAML
TW_TEST_KEY_PASSWORD=$SECRET "$TIDEWATCH" config -c "$T/secrets.yaml" >"$T/out" 2>&1
check "config: secrets from a file and a variable are taken" sh -c "
    [ $? -eq 0 ] && grep -qx '$T/secrets.yaml: ok' '$T/out'"
"$TIDEWATCH" config -c "$T/secrets.yaml" >"$T/out" 2>&1
check "config: an unset secret variable is named" sh -c "
    [ $? -eq 1 ] && grep -qx '$T/secrets.yaml: kafka.properties.ssl.key.password_env: environment variable TW_TEST_KEY_PASSWORD is not set' '$T/out'"
cfg refused <<YAML
    enable.auto.commit_file: "$T/creds/bad"
    sasl.username_env: TW_TEST_SECRET
YAML
TW_TEST_SECRET=$SECRET "$TIDEWATCH" config -c "$T/refused.yaml" >"$T/out" 2>&1
check "config: a refused secret names where it came from, not its value" sh -c "
    [ $? -eq 1 ] &&
    grep -q 'kafka.properties.enable.auto.commit_file: librdkafka refuses the value of enable.auto.commit read from file $T/creds/bad (not shown)' '$T/out' &&
    ! grep -q '$SECRET' '$T/out'" || cat "$T/out"
TW_TEST_SECRET=$SECRET "$TIDEWATCH" check -c "$T/refused.yaml" >"$T/out" 2>&1
check "check: the secret is not shown either" sh -c "[ $? -eq 1 ] && ! grep -q '$SECRET' '$T/out'"
TW_TEST_SECRET=$SECRET "$TIDEWATCH" run -c "$T/refused.yaml" \
    -s metrics.listen= -s redis.address=127.0.0.1:1 >"$T/run.out" 2>&1
check "run: the same secret refused, exit 1, value not logged" sh -c "
    [ $? -eq 1 ] && grep -q 'enable.auto.commit_file: librdkafka refuses the value' '$T/run.out' &&
    ! grep -q '$SECRET' '$T/run.out'" || cat "$T/run.out"

cfg cred <<'YAML'
    sasl.password_file: kafka-password
YAML
"$TIDEWATCH" config -c "$T/cred.yaml" >"$T/out" 2>&1
check "relative secret path without \$CREDENTIALS_DIRECTORY: named" sh -c "
    [ $? -eq 1 ] && grep -q 'kafka.properties.sasl.password_file: kafka-password: a relative path is read under \$CREDENTIALS_DIRECTORY' '$T/out'"
CREDENTIALS_DIRECTORY="$T/creds" "$TIDEWATCH" config -c "$T/cred.yaml" >"$T/out" 2>&1
check "relative secret path under \$CREDENTIALS_DIRECTORY (LoadCredential=)" sh -c "
    [ $? -eq 0 ] && grep -qx '$T/cred.yaml: ok' '$T/out'"
: >"$T/creds/empty"
CREDENTIALS_DIRECTORY="$T/creds" "$TIDEWATCH" config -c "$T/cred.yaml" \
    -s kafka.properties.sasl.password_file=empty >"$T/out" 2>&1
check "an empty secret file is refused (a credential that was not loaded)" sh -c "
    [ $? -eq 1 ] && grep -q 'sasl.password_file: $T/creds/empty: is empty' '$T/out'" || cat "$T/out"

# --- -s overrides: kafka.properties.NAME, and check -s
"$TIDEWATCH" config -c "$T/cred.yaml" -s kafka.properties.sasl.password_file="$T/creds/kafka-password" \
    -s kafka.properties.fetch.min.bytes=1 >"$T/out" 2>&1
check "config -s kafka.properties.NAME=value replaces and adds properties" sh -c "
    [ $? -eq 0 ] && grep -qx '$T/cred.yaml: ok' '$T/out'"
"$TIDEWATCH" config -c "$T/cred.yaml" -s kafka.properties.fetch.min.bytes=lots >"$T/out" 2>&1
check "config -s: a refused property exits 1" test $? -eq 1
mkdir -p "$T/rules2"
cat >"$T/rules2/b.yaml" <<'YAML'
topics:
  - id: flood
    match: {any: [暴雨]}
  - id: fire
    match: {any: [火灾]}
YAML
"$TIDEWATCH" check -c "$T/secrets.yaml" -s rules.paths="$T/rules2" \
    -s kafka.properties.ssl.key.password_env=HOME >"$T/out" 2>&1
check "check -s: overrides as run takes them (rules.paths, properties)" sh -c "
    [ $? -eq 0 ] && grep -qx '2 topics, 2 keywords, 0 tests passed' '$T/out'" || cat "$T/out"
"$TIDEWATCH" check -s kafka.properties.fetch.min.bytes=lots "$T/rules" >"$T/out" 2>&1
check "check -s without -c: over the defaults, still validated" sh -c "
    [ $? -eq 1 ] && grep -q 'kafka.properties.fetch.min.bytes' '$T/out'"
"$TIDEWATCH" check -c "$T/secrets.yaml" -s no.such=1 >"$T/out" 2>&1
check "check -s: an unknown key exits 1" sh -c "
    [ $? -eq 1 ] && grep -q \"unknown config key 'no.such'\" '$T/out'"
