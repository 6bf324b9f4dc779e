#!/bin/sh
# The docs and the man pages against the code, without any server.  The
# lists come from the code, never from a copy: subcommands from
# `tidewatch --help` (main.c's dispatch table), config keys from
# `tidewatch config --defaults` (config_table), rule keys from the key
# tables of daemon/rules*.c (topic_keys[], alert_table[], …), metrics from the tidewatch_* names of
# daemon/metrics*.c, Redis key names from the key formats of
# daemon/store*.c, and the reserved names ("_all", "_ops", …) that reach
# Redis from the literals of daemon/*.c.  Each must be in its doc and its
# man page; the man pages (built by `make man` into $BUILD/man) must be
# well-formed roff and render without a warning; and no file cites a
# specification that is not in the repository.
SCRIPT=0003-docs
. tests/integration/helpers.sh

MAN="$BUILD/man"
M1="$MAN/tidewatch.1"
M5R="$MAN/tidewatch-rules.5"
M5C="$MAN/tidewatch.yaml.5"

# at_least N WHAT LIST: an extraction that finds fewer than N items means
# the code changed shape under it; that fails rather than checking nothing.
at_least() {
	_n=$(printf '%s\n' "$3" | grep -c .)
	check "$2: $_n found in the code (at least $1)" test "$_n" -ge "$1"
}

# not_in ITEMS FILE NAME GREP-OPTION PATTERN: NAME:item for each item
# whose PATTERN (@ stands for the item) grep does not find in FILE.
not_in() {
	for _i in $1; do
		_p=$(printf '%s\n' "$5" | sed "s|@|$_i|g")
		grep -q "$4" -- "$_p" "$2" || echo "$3:$_i"
	done
}

# table_literals RE FILE...: the string literals matching RE (quotes
# included) inside the arrays of the FILEs whose name holds "key" or
# "table" (any case), such as topic_keys[], alert_table[] or KEY_NAMES[];
# a literal right after another one (a help text continued) is not one.
table_literals() {
	_re=$1
	shift
	cat "$@" | awk -v re="$_re" '
	    function lastc(x) { sub(/[ \t]+$/, "", x); return substr(x, length(x)) }
	    /^[a-z ]*const [^=]*([Kk][Ee][Yy]|[Tt][Aa][Bb][Ll][Ee])[A-Za-z_]*\[[A-Za-z_0-9]*\] *=/ { t = 1 }
	    t { s = $0; before = prev
	        while (match(s, re)) {
	            head = substr(s, 1, RSTART - 1)
	            if (head ~ /[^ \t]/) before = lastc(head)
	            if (before != "\"") print substr(s, RSTART + 1, RLENGTH - 2)
	            s = substr(s, RSTART + RLENGTH); before = "\""
	        }
	        if (s ~ /[^ \t]/) before = lastc(s)
	        prev = before }
	    t && /};/ { t = 0 }'
}

# report WHAT MISSING: one check per list, naming what is missing.
report() {
	check "$1 ($(echo $2))" test -z "$(echo $2)"
}

check "man pages built ($MAN: make man)" test -s "$M1" -a -s "$M5R" -a -s "$M5C"

# --- the man pages are roff a man(7) reader takes: every request is one of
#     the macros used, and the generated page has no template line left
for f in "$M1" "$M5R" "$M5C"; do
	bad=$(grep -n '^[.'"'"']' "$f" | grep -Ev \
	    '^[0-9]+:\.(\\"|TH|SH|SS|TP|IP|PP|RS|RE|B|I|BR|BI|IR|RB|RI|IB|nf|fi|br)( |$)' |
	    head -3)
	check "$(basename "$f"): only man(7) requests ($bad)" test -z "$bad"
done
# ... and render without a warning (man -l: groff through man-db)
if have man; then
	for f in "$M1" "$M5R" "$M5C"; do
		MANWIDTH=100 man -l "$f" >"$T/man.txt" 2>"$T/man.err"
		check "$(basename "$f") renders without a warning ($(head -1 "$T/man.err"))" \
		    test -s "$T/man.txt" -a ! -s "$T/man.err"
	done
else
	skip "man is not installed (apt-get install man-db)"
fi
check "tidewatch.yaml.5: the key list is filled in" sh -c \
    "! grep -qx '@CONFIG_KEYS@' '$M5C' && grep -q '^\\.SH KEYS' '$M5C'"

# --- subcommands
cmds=$("$TIDEWATCH" --help | awk '/^commands:/ { f = 1; next }
    f && NF == 0 { exit } f { print $1 }')
at_least 7 "subcommands" "$cmds"
cat docs/*.md >"$T/docs.md"
missing="$(not_in "$cmds" "$M1" tidewatch.1:synopsis -x '.B tidewatch @')
$(not_in "$cmds" "$M1" tidewatch.1:commands -x '.B @')
$(not_in "$cmds" README.md README.md -F 'tidewatch @')
$(not_in "$cmds" "$T/docs.md" docs -F 'tidewatch @')"
report "every subcommand in tidewatch(1), the README and docs/" "$missing"

# --- every option of every subcommand's usage (its --help) in tidewatch(1),
#     where roff writes - as \-
missing=$(for c in $cmds; do
	opts=$("$TIDEWATCH" "$c" --help | grep -o '\(^\|[[ (]\)--*[a-z][a-z-]*' |
	    sed 's/^[[ (]*//; s/-/\\\\-/g' | sort -u)
	not_in "$opts" "$M1" "tidewatch.1:$c" -F '@'
done)
report "every option of every subcommand in tidewatch(1)" "$missing"

# --- config keys (sections, keys with digits such as normalize.t2s, and
#     top-level keys); cross-checked against `config --man`, one entry a key
keys=$("$TIDEWATCH" config --defaults | awk '
    /^[a-z0-9_]+:$/ { s = substr($1, 1, length($1) - 1); next }
    /^  [a-z0-9_]+: / { k = $1; sub(/:$/, "", k); print s "." k; next }
    /^[a-z0-9_]+: / { k = $1; sub(/:$/, "", k); print k }')
at_least 30 "config keys" "$keys"
nman=$("$TIDEWATCH" config --man | grep -c '^\.TP$')
check "config --defaults and config --man list the same number of keys" \
    test "$(printf '%s\n' "$keys" | grep -c .)" -eq "$nman"
missing="$(not_in "$keys" "$M5C" tidewatch.yaml.5 -x '\.B @')
$(not_in "$keys" docs/operations.md operations.md -F '`@`')"
report "every config key in tidewatch.yaml(5) and docs/operations.md" "$missing"

# --- rule keys: the string literals of the rule loader's key tables (any
#     array whose name holds "key", e.g. alert_keys[] or a key table)
rkeys=$(table_literals '"[a-z_][a-z0-9_]*"' daemon/rules*.c | sort -u)
at_least 30 "rule keys" "$rkeys"
missing="$(not_in "$rkeys" "$M5R" tidewatch-rules.5 -x '\.B @')
$(not_in "$rkeys" docs/rules.md rules.md -F '`@`')"
report "every rule key in tidewatch-rules(5) and docs/rules.md" "$missing"

# --- metrics (a histogram's _bucket/_sum/_count series go with its name)
mets=$(grep -oh '"\(tidewatch\|process\)_[a-z0-9_]*' daemon/metrics*.c |
    tr -d '"' | sort -u)
mets=$(for m in $mets; do
	b=${m%_bucket}; b=${b%_sum}; b=${b%_count}
	[ "$b" != "$m" ] && printf '%s\n' "$mets" | grep -qx "$b" || echo "$m"
done)
at_least 25 "metrics" "$mets"
missing="$(not_in "$mets" "$M1" tidewatch.1 -w '@')
$(not_in "$mets" docs/operations.md operations.md -E '`@[`{]')"
report "every metric in tidewatch(1) and docs/operations.md" "$missing"

# --- Redis keys: the names of store's key table ("c:%s:%s", "since"), or of
#     its formats that put the prefix first ("%sc:%s:%s"): up to ':' or '%'
dkeys=$( (table_literals '"[a-z_][^"]*"' daemon/store*.c
    grep -oh '"[^"]*' daemon/store*.c | grep -o '%s[a-z_][a-z_-]*' |
    sed 's/^%s//') | sed 's/[:%].*//' | grep . | sort -u)
at_least 6 "Redis key names" "$dkeys"
missing="$(not_in "$dkeys" "$M1" tidewatch.1 -E '^\.B[IR]? ([^ ]*:)?@(:| |$)')
$(not_in "$dkeys" docs/operations.md operations.md -E '[`:]@[:`]')"
report "every Redis key in tidewatch(1) and docs/operations.md" "$missing"


# --- reserved names in keys, fields and channels: "_all", "_other",
#     "_ops", and suffixes such as "%s_digest"
names=$(grep -oh '"_[a-z]*"\|%s_[a-z]*' daemon/*.c | sed 's/^"//; s/"$//; s/^%s//' |
    sort -u)
at_least 5 "reserved names" "$names"
report "every reserved name in docs/operations.md" \
    "$(not_in "$names" docs/operations.md operations.md -E '[`:]@[:`]')"

# --- nothing cites a specification the repository does not hold
cites=$(grep -rliw 'spec' daemon include docs deploy tests README.md Makefile |
    grep -v "^tests/integration/$SCRIPT.sh\$")
report "no file cites an outside specification" "$cites"
