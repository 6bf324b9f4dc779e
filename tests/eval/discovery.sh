#!/bin/sh
# discovery.sh — discovery on real data: the CrisisLex stream.
#
# tests/eval/crisislex.py builds one timeline from DATA/crisislex-tweets:
# each CrisisLexT26 event's labelled tweets at their real times within its
# segment (onset - 48 h to onset + 72 h; the onset is the start of its
# first hour with at least 10 labelled tweets), segments one after
# another, and the CrisisLexT6 off-topic tweets at a steady rate over the
# whole of it.  `tidewatch backtest --discover --json` replays it with the
# example rules and the default discovery.* keys (DISCOVERY_CONFIG adds a
# config file), and crisislex.py scores the stories: per event discovered
# or not and the delay from its onset, false stories per day, and the
# line
#   eval-discovery events=N discovered=D median_delay_min=M false_per_day=F
# Prints "eval-discovery: skipped: …" when the data is absent.
#
# Environment: BUILD (build), TIDEWATCH ($BUILD/tidewatch), DISCOVERY_DATA
# (../shared/data), DISCOVERY_CONFIG, EVAL_DISCOVERY_VERBOSE (list the
# false stories).
set -eu
BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}
DATA=${DISCOVERY_DATA:-../shared/data}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

if [ ! -d "$DATA/crisislex-tweets/CrisisLexT26" ]; then
	echo "eval-discovery: skipped: $DATA/crisislex-tweets is absent (set DISCOVERY_DATA)"
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
$PY tests/eval/crisislex.py stream "$DATA/crisislex-tweets" "$T/posts.jsonl" \
    "$T/events.json"
set -- -r rules/
[ -n "${DISCOVERY_CONFIG:-}" ] && set -- "$@" -c "$DISCOVERY_CONFIG"
"$TIDEWATCH" backtest "$@" --discover --json --threads 1 "$T/posts.jsonl" \
    >"$T/out.jsonl" 2>"$T/err.txt" || { cat "$T/err.txt"; exit 1; }
$PY tests/eval/crisislex.py score "$T/events.json" "$T/out.jsonl"
