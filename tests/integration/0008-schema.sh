#!/bin/sh
# The JSON Schemas of rule files and of the config against the loaders,
# with a real validator (Debian's python3-jsonschema; YAML through
# python3-yaml on libyaml, read as YAML 1.2 as yaml-language-server reads
# it: tests/tools/schema_check.py).  The schemas are generated afresh by
# `tidewatch schema`, never read from a copy: they must be valid draft
# 2020-12 with a description on every key, equal to what make built into
# $BUILD/share/tidewatch/, and agree with the loaders: every file under
# rules/ and tests/rules-bad/ (each bad file alone, a directory as one rule
# set) is valid for the schema exactly when `tidewatch check` takes it, and
# every file under tests/configs/ (and the example config) exactly when
# `tidewatch config -c` does.  The cases where they cannot agree are listed
# below with the reason; docs/rules.md lists the same limits.
SCRIPT=0008-schema
. tests/integration/helpers.sh

# Debian's python3 with python3-jsonschema and python3-yaml (README)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need "$PY"
if ! "$PY" -c 'import jsonschema, yaml; yaml.CSafeLoader' 2>/dev/null; then
	skip "python3-jsonschema or python3-yaml (with libyaml) is not installed"
	exit 0
fi
SC="$PY tests/tools/schema_check.py"

# Rule cases only the loader catches: name, then why a schema cannot.
RULES_LOADER_ONLY='
dup-id.yaml|topic ids are unique across the rule set
dup-across|topic ids are unique across files
inhibit-cycle.yaml|inhibit names topics that exist, without cycles
unknown-list.yaml|a $list must be defined, in any file
bad-regex.yaml|regex syntax (PCRE2)
regex-matches-empty.yaml|a regex must not match empty text
baseline-short.yaml|a baseline at least as long as the window
seasonal-period.yaml|a period longer than the window
window-resolution.yaml|windows are multiples of counters.resolution (config)
'
# Config cases where the verdicts differ: name|schema verdict|why.
CONFIG_DIFFER='
bad-log-level.yaml|ok|log.level is a string in the config table, checked as debug, info, warn or error after it
bad-duration-range.yaml|ok|the bounds of a duration or size written with a unit
bad-duplicate-key.yaml|invalid|a key given twice: the YAML reader refuses it, the config loader keeps the last
'

# listed LIST NAME: the line of LIST for NAME, if any.
listed() { printf '%s\n' "$1" | grep -F "$2|" | head -1; }

# --- the schemas: generated, valid, described, and what make installs
for s in rules config; do
	"$TIDEWATCH" schema "$s" >"$T/$s.schema.json" 2>"$T/$s.err"
	check "tidewatch schema $s ($(head -c 200 "$T/$s.err"))" \
	    test $? -eq 0 -a -s "$T/$s.schema.json"
	check "$s schema is what make built into $BUILD/share/tidewatch" \
	    same "$BUILD/share/tidewatch/$s.schema.json" "$T/$s.schema.json"
done
$SC check-schema "$T/rules.schema.json" "$T/config.schema.json" >"$T/meta.out"
check "draft 2020-12 schemas, every key described ($(head -3 "$T/meta.out"))" \
    test $? -eq 0 -a ! -s "$T/meta.out"
check "tidewatch schema with no kind is a usage error" \
    sh -c "! '$TIDEWATCH' schema >/dev/null 2>&1"

# every key of the config table is in the config schema, every rule key of
# the loader's tables (as 0003-docs finds them) in the rules schema
ckeys=$("$TIDEWATCH" config --man | sed -n '/^\.TP$/{n;s/^\.B //p;}')
# (one python for every key: prints each key whose path is not there)
missing=$("$PY" -c 'import json, sys
schema = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    s = schema
    try:
        for k in key.split(".", 1):
            s = s["properties"][k]
    except (KeyError, TypeError):
        print(key)' "$T/config.schema.json" $ckeys 2>&1)
check "every config key in the config schema ($(echo $missing))" test -z "$missing"
# every key table the rule loader exports (rules_int.h) is read by the
# generator, which describes each row of the tables it reads or fails
tables=$(sed -n 's/^extern const struct [ra]keys \([a-z_]*\);.*/\1/p' daemon/rules_int.h)
at_least=$(printf '%s\n' "$tables" | grep -c .)
missing=$(for t in $tables; do grep -q "&$t\b" daemon/schema.c || echo "$t"; done)
check "every key table of the rule loader ($at_least) read by schema.c ($(echo $missing))" \
    test "$at_least" -ge 7 -a -z "$missing"

# --- the example rule files carry the editor line
missing=$(for f in rules/*.yaml; do
	head -1 "$f" | grep -qx '# yaml-language-server: $schema=../build/share/tidewatch/rules.schema.json' ||
	    echo "$f"
done)
check "rules/*.yaml start with the yaml-language-server line ($(echo $missing))" \
    test -z "$missing"

# --- rule files: schema verdict against loader verdict
# validate_all SCHEMA FILE...: the validator once over every file of the
# cases below (one process, not one per case), its lines in SCHEMA.v
validate_all() {
	_s=$1
	shift
	$SC validate "$_s" "$@" >"$_s.v" 2>&1 ||
	    echo "validator failed: $(head -1 "$_s.v")" >"$_s.failed"
}

# verdicts SCHEMA FILE...: "ok" if every file is valid for the schema, else
# the first complaint (a file validate_all has no line for is one)
verdicts() {
	_s=$1
	shift
	if [ -e "$_s.failed" ]; then
		cat "$_s.failed"
		return
	fi
	for _f in "$@"; do
		awk -v f="$_f: " 'index($0, f) == 1 { print; found = 1; exit }
		    END { if (!found) print f "no verdict from the validator" }' "$_s.v"
	done >"$T/v.out"
	if grep -v ': ok$' "$T/v.out" | grep -q .; then
		grep -v ': ok$' "$T/v.out" | head -1
	else
		echo ok
	fi
}

# agree NAME SCHEMA-VERDICT LOADER-STATUS LOADER-OUTPUT: both take the case
# or both refuse it
agree() {
	if [ "$2" = ok ]; then
		check "$1: schema-valid and loader-valid ($(head -1 "$4"))" \
		    test "$3" -eq 0
	else
		check "$1: schema-invalid and loader-invalid (schema: $2)" \
		    test "$3" -ne 0
	fi
}

# rule_case NAME PATH: one rule set (a file or a directory)
rule_case() {
	if [ -d "$2" ]; then
		sv=$(verdicts "$T/rules.schema.json" "$2"/*.yaml)
	else
		sv=$(verdicts "$T/rules.schema.json" "$2")
	fi
	"$TIDEWATCH" check -c "$T/empty.yaml" "$2" >"$T/check.out" 2>&1
	lv=$?
	[ "$lv" -eq 0 ] || check "$1: the loader's errors are the rule file's" \
	    grep -qF "$2" "$T/check.out"
	only=$(listed "$RULES_LOADER_ONLY" "$1")
	if [ -n "$only" ]; then
		check "$1: only the loader catches it (${only#*|}): schema $sv, check exit $lv" \
		    test "$sv" = ok -a "$lv" -ne 0
	else
		agree "$1" "$sv" "$lv" "$T/check.out"
	fi
}

: >"$T/empty.yaml"	# the default config
validate_all "$T/rules.schema.json" rules/*.yaml tests/rules-bad/*.yaml \
    tests/rules-bad/*/*.yaml
rule_case rules/ rules
n=0
for f in tests/rules-bad/*.yaml tests/rules-bad/*/; do
	f=${f%/}
	rule_case "${f#tests/rules-bad/}" "$f"
	n=$((n + 1))
done
check "rules-bad cases checked: $n (at least 50)" test "$n" -ge 50
for l in $(printf '%s\n' "$RULES_LOADER_ONLY" | cut -d'|' -f1); do
	check "listed rule case $l exists" test -e "tests/rules-bad/$l"
done

# --- config files: schema verdict against `tidewatch config -c`
validate_all "$T/config.schema.json" deploy/tidewatch.yaml tests/configs/*.yaml
n=0
for f in deploy/tidewatch.yaml tests/configs/*.yaml; do
	name=${f##*/}
	sv=$(verdicts "$T/config.schema.json" "$f")
	"$TIDEWATCH" config -c "$f" >"$T/config.out" 2>&1
	lv=$?
	n=$((n + 1))
	diff=$(listed "$CONFIG_DIFFER" "$name")
	case $diff in
	*'|ok|'*)
		check "config $name: only the loader catches it (${diff##*|}): schema $sv, config exit $lv" \
		    test "$sv" = ok -a "$lv" -ne 0 ;;
	*'|invalid|'*)
		check "config $name: only the schema side catches it (${diff##*|}): schema $sv, config exit $lv" \
		    test "$sv" != ok -a "$lv" -eq 0 ;;
	*)
		agree "config $name" "$sv" "$lv" "$T/config.out"
		case $name in
		ok-*|tidewatch.yaml)
			check "config $name is meant to be valid" test "$lv" -eq 0 ;;
		bad-*)
			check "config $name is meant to be invalid" test "$lv" -ne 0 ;;
		esac ;;
	esac
done
check "config cases checked: $n (at least 15)" test "$n" -ge 15
