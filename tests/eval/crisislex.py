#!/usr/bin/env python3
"""crisislex.py — the CrisisLex discovery stream, and its score.

stream DATA OUT.jsonl EVENTS.json
    Builds one timeline from ../shared/data/crisislex-tweets (DATA):
    each CrisisLexT26 event with timestamps gets its labelled tweets
    (joined on tweet id with its *-tweetids_entire_period.csv) at their
    real times; its onset is the start of its first clock hour with at
    least 10 labelled tweets (an event without one is left out); its
    segment runs from onset - 48 h to onset + 72 h, and the segments are
    laid one after another (in onset order) from T0.  The CrisisLexT6
    off-topic tweets are spread at a steady rate over the whole timeline
    (in a fixed shuffled order).  Reposts and copies stay as they are.
    Posts are JSON lines {"id", "text", "time" (epoch s), "event"}.
    EVENTS.json gets, per event, its name, onset and segment on the
    timeline, and the terms a story must carry to be about it: the words
    and hashtags of its collection keywords and its place names (from
    *-event_description.json), lower case.

score EVENTS.json STORIES.jsonl
    Reads the stories `tidewatch backtest --discover --json` printed
    (lines with "type": "emerging") and prints, per event, whether a
    story about it was detected within its segment (a story term among the
    event's terms), the delay from its onset, and the story's distinct
    text share (CrisisLex has no authors); then false stories per day
    (stories about no event of their segment) and the summary line
    eval-discovery events=N discovered=D median_delay_min=M false_per_day=F
    where D counts events detected no later than 2 h after onset and M is
    the median delay of those (a story before the onset counts 0).
"""
import csv
import glob
import json
import os
import random
import re
import statistics
import sys
from datetime import datetime, timezone

T0 = 1577836800            # 2020-01-01T00:00:00Z: the timeline's start
BEFORE = 48 * 3600
AFTER = 72 * 3600
SEGMENT = BEFORE + AFTER
WITHIN = 2 * 3600          # the target: discovered within 2 h of onset


def read_csv(path):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.reader(f))
    return [[c.strip() for c in r] for r in rows[1:] if r]


def event_terms(desc):
    terms = set()
    phrases = list(desc.get("keywords") or [])
    loc = desc.get("location") or {}
    for k in ("location_description", "country"):
        if loc.get(k):
            phrases.append(loc[k])
    for p in phrases:
        for w in re.findall(r"#?[\w']+", p.lower()):
            terms.add(w)
            terms.add(w.lstrip("#"))
            if w.startswith("#"):
                terms.add(w)
    # words of a keyword phrase too common to name the event on their own
    common = {"de", "us", "the", "of", "in", "new", "city", "san", "la",
              "el", "and"}
    return sorted(t for t in terms if len(t) > 1 and t not in common)


def load_event(d):
    name = os.path.basename(d)
    ids = glob.glob(os.path.join(d, "*-tweetids_entire_period.csv"))
    lab = glob.glob(os.path.join(d, "*-tweets_labeled.csv"))
    desc = glob.glob(os.path.join(d, "*-event_description.json"))
    if not ids or not lab or not desc:
        return None
    when = {}
    for r in read_csv(ids[0]):
        if len(r) < 2:
            continue
        try:
            t = datetime.strptime(r[0], "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            continue
        when[r[1].strip("'\"")] = int(t.timestamp())
    tweets = []
    for r in read_csv(lab[0]):
        if len(r) >= 2 and r[0].strip("'\"") in when:
            tweets.append((when[r[0].strip("'\"")], r[1]))
    tweets.sort()
    hours = {}
    for t, _ in tweets:
        hours[t // 3600] = hours.get(t // 3600, 0) + 1
    onset = next((h * 3600 for h in sorted(hours) if hours[h] >= 10), None)
    if onset is None:
        return {"name": name, "onset": None}
    with open(desc[0], encoding="utf-8") as f:
        description = json.load(f)
    return {"name": name, "onset_real": onset, "tweets": tweets,
            "terms": event_terms(description)}


def cmd_stream(data, out, events_out):
    events, skipped = [], []
    for d in sorted(glob.glob(os.path.join(data, "CrisisLexT26", "*"))):
        if not os.path.isdir(d):
            continue
        e = load_event(d)
        if e is None:
            continue
        if e.get("onset") is None and "onset_real" not in e:
            skipped.append(e["name"])
            continue
        events.append(e)
    events.sort(key=lambda e: e["onset_real"])
    posts = []
    for i, e in enumerate(events):
        start = T0 + i * SEGMENT
        e["segment_start"] = start
        e["onset"] = start + BEFORE
        shift = e["onset"] - e["onset_real"]
        n = 0
        for t, text in e["tweets"]:
            if e["onset_real"] - BEFORE <= t < e["onset_real"] + AFTER:
                posts.append((t + shift, text, e["name"]))
                n += 1
        e["posts"] = n
    end = T0 + len(events) * SEGMENT
    background = []
    for f in sorted(glob.glob(os.path.join(data, "CrisisLexT6", "*", "*.csv"))):
        for r in read_csv(f):
            if len(r) >= 3 and r[2] == "off-topic":
                background.append(r[1])
    random.Random(12).shuffle(background)
    step = (end - T0) / max(len(background), 1)
    for i, text in enumerate(background):
        posts.append((T0 + int(i * step), text, ""))
    posts.sort(key=lambda p: p[0])
    with open(out, "w", encoding="utf-8") as f:
        for i, (t, text, ev) in enumerate(posts):
            f.write(json.dumps({"id": str(i), "text": text, "time": t,
                                "event": ev}, ensure_ascii=False) + "\n")
    with open(events_out, "w", encoding="utf-8") as f:
        json.dump({"start": T0, "end": end, "background": len(background),
                   "skipped": skipped,
                   "events": [{k: e[k] for k in ("name", "onset",
                               "segment_start", "posts", "terms")}
                              for e in events]}, f, indent=1)
    print("eval-discovery: stream of %d posts: %d events (%s without an "
          "onset hour), %d background tweets over %.0f days"
          % (len(posts), len(events), ", ".join(skipped) or "none",
             len(background), (end - T0) / 86400))


def parse_time(s):
    return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp()


def cmd_score(events_path, stories_path):
    with open(events_path, encoding="utf-8") as f:
        ev = json.load(f)
    stories = []
    with open(stories_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            s = json.loads(line)
            if s.get("type") == "emerging":
                stories.append(s)
    false_stories = 0
    found = {}
    for s in stories:
        t = parse_time(s["detected"])
        terms = set(x.lower() for x in s["terms"])
        about = None
        for e in ev["events"]:
            if e["segment_start"] <= t < e["segment_start"] + SEGMENT:
                if terms & set(e["terms"]):
                    about = e
                break
        if about is None:
            false_stories += 1
            if os.environ.get("EVAL_DISCOVERY_VERBOSE"):
                print("eval-discovery: false story %s at %s: %s"
                      % (s["id"], s["detected"], ", ".join(s["terms"])))
            continue
        found.setdefault(about["name"], []).append((t, s))
    delays = []
    discovered = 0
    for e in ev["events"]:
        hits = found.get(e["name"])
        if not hits:
            print("eval-discovery event=%s posts=%d discovered=no"
                  % (e["name"], e["posts"]))
            continue
        t, s = min(hits, key=lambda h: h[0])
        delay = (t - e["onset"]) / 60
        seen = s.get("seen") or 0
        texts = s.get("texts") or 0
        authors = s.get("authors")
        ok = delay <= WITHIN / 60
        if ok:
            discovered += 1
            delays.append(max(delay, 0))
        print("eval-discovery event=%s posts=%d discovered=%s delay_min=%.0f "
              "stories=%d terms=%s texts=%d/%d authors=%s"
              % (e["name"], e["posts"], "yes" if ok else "late", delay,
                 len(hits), ",".join(s["terms"][:5]), texts, seen,
                 "n/a" if authors is None else authors))
    days = (ev["end"] - ev["start"]) / 86400
    median = statistics.median(delays) if delays else float("nan")
    print("eval-discovery stories=%d false=%d days=%.0f"
          % (len(stories), false_stories, days))
    print("eval-discovery events=%d discovered=%d median_delay_min=%.0f "
          "false_per_day=%.2f" % (len(ev["events"]), discovered, median,
                                  false_stories / days))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "stream":
        cmd_stream(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        cmd_score(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
