#!/bin/sh
#
# check-bad-rules.sh — every broken rule file must fail with exactly the
# errors it announces.
#
# Each tests/rules-bad/*.yaml (and each directory there, loaded as one rule
# set) holds lines "# error: PATH:LINE:COL: MESSAGE".  `$TIDEWATCH check PATH`
# must exit non-zero and print on stderr exactly those lines (in any order)
# among its lines that start with the file's path; nothing else about the
# rule files.  Run from anywhere; paths are relative to the source tree.
# Prints PASS/FAIL per case and ends with "N passed, N failed".

cd "$(dirname "$0")/.." || exit 2
TIDEWATCH=${TIDEWATCH:-./tidewatch}
dir=tests/rules-bad
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0

check() {
	path=$1
	shift
	# Expected: the "# error:" lines of every file of the case.
	sed -n 's/^# error: //p' "$@" | LC_ALL=C sort >"$tmp/want"
	"$TIDEWATCH" check "$path" >/dev/null 2>"$tmp/err"
	rc=$?
	grep "^$dir/" "$tmp/err" | LC_ALL=C sort >"$tmp/got"
	if [ "$rc" -eq 0 ]; then
		echo "FAIL $path: exit status 0"
		fail=$((fail + 1))
	elif [ ! -s "$tmp/want" ]; then
		echo "FAIL $path: no '# error:' line"
		fail=$((fail + 1))
	elif ! cmp -s "$tmp/want" "$tmp/got"; then
		echo "FAIL $path"
		diff "$tmp/want" "$tmp/got" | sed -n 's/^</  missing:   /p; s/^>/  unexpected:/p'
		fail=$((fail + 1))
	else
		echo "PASS $path"
		pass=$((pass + 1))
	fi
}

for f in "$dir"/*.yaml; do
	check "$f" "$f"
done
for d in "$dir"/*/; do
	[ -d "$d" ] || continue
	d=${d%/}
	set --
	for f in "$d"/*.yaml "$d"/*.yml; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
	check "$d" "$@"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
