#!/usr/bin/env python3
"""Writes N static RSS feeds (and a newsdesk config naming them) for scripts/feed-farm-bench.sh.

Item texts are sentences borrowed from the evaluation sets beside the repository
(../shared/eval), so grouping and Related see a realistic vocabulary. Same arguments, same files.

  feed_farm.py DIR N PORT [--round R]

Round 0 writes ITEMS items per feed; round R > 0 adds NEW items per feed on top (the oldest drop
out), as a changed poll sees them.
"""

import argparse
import json
import os
import random
import re
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

ITEMS = 20
NEW = 2
EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "eval")
SOURCES = ["related/allsides-dated.jsonl", "related/allsides.jsonl",
           "related/ecbplus.jsonl", "summarization/cnndm.jsonl"]
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)


def load_articles():
    titles, sentences = [], []
    for name in SOURCES:
        path = os.path.join(EVAL, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                doc = json.loads(line)
                if doc.get("title"):
                    titles.append(doc["title"].strip())
                for s in re.split(r"(?<=[.!?])\s+", doc.get("text", "")):
                    s = s.strip()
                    if 40 <= len(s) <= 300:
                        sentences.append(s)
    if not titles or not sentences:
        raise SystemExit(f"no evaluation texts under {EVAL}")
    return titles, sentences


def item(rng, titles, sentences, feed, n):
    text = []
    while sum(len(s) + 1 for s in text) < 950:
        text.append(rng.choice(sentences))
    return {
        "title": rng.choice(titles),
        "link": f"https://farm{feed}.example/a/{n}",
        "text": " ".join(text),
        "date": BASE + timedelta(minutes=37 * n + feed % 37),
    }


def write_feed(path, feed, items):
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
             f"<title>Farm {feed}</title><link>https://farm{feed}.example/</link>"
             f"<description>Feed {feed}</description>"]
    for it in items:
        parts.append(
            f"<item><title>{escape(it['title'])}</title><link>{it['link']}</link>"
            f"<guid>{it['link']}</guid><pubDate>{format_datetime(it['date'])}</pubDate>"
            f"<description>{escape(it['text'])}</description></item>")
    parts.append("</channel></rss>\n")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(parts))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("n", type=int)
    ap.add_argument("port", type=int)
    ap.add_argument("--round", type=int, default=0)
    args = ap.parse_args()
    titles, sentences = load_articles()
    feeds = os.path.join(args.dir, "feeds")
    os.makedirs(feeds, exist_ok=True)
    for feed in range(args.n):
        rng = random.Random(feed)
        count = ITEMS + NEW * args.round
        items = [item(rng, titles, sentences, feed, n) for n in range(count)]
        write_feed(os.path.join(feeds, f"{feed}.xml"), feed, list(reversed(items[-ITEMS:])))
    if args.round == 0:
        with open(os.path.join(args.dir, "farm.toml"), "w", encoding="utf-8") as f:
            f.write('[storage]\npath = "farm.db"\n\n[polling]\nconcurrency = 16\n'
                    'per_host_concurrency = 16\nmax_item_age = "off"\n\n')
            for feed in range(args.n):
                f.write(f'[[feed]]\nname = "Farm {feed}"\n'
                        f'url = "http://127.0.0.1:{args.port}/feeds/{feed}.xml"\n\n')


if __name__ == "__main__":
    main()
