#!/usr/bin/env python3
"""Bytes per item in the store (issue 16): N items of 1-3 kB of text in static RSS files, polled
and processed by the real pipeline (`newsdesk poll --all`), then measured; then `newsdesk prune`
with `[storage] keep = "2y"` (dates spread over the last four years: about half expire), and
again with every item expired and every story out of every window ("settled": each item as it
ends up once older than `keep` and its story out of the `[related]` windows).

Each measurement checkpoints the WAL and reports the file per item (page_count x page_size), its
free pages (reused by new items before the file grows) and the pages in use, the size of a
VACUUM'd copy per item with its per-table bytes from the `dbstat` virtual table, and the items
table's bytes per column (sum(length())).

  scripts/storage_per_item.py [N]            (default 2000)

Texts are sentences borrowed at run time from the evaluation set beside the repository
(../shared/eval/summarization/cnndm.jsonl); nothing of it is kept. Same N, same files.
Environment: NEWSDESK_BIN (default target/debug/newsdesk, `cargo build` first), WORK_DIR
(default a fresh temp directory, removed afterwards unless given).
"""

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVAL = os.path.join(REPO, "..", "shared", "eval", "summarization", "cnndm.jsonl")
FEEDS = 20
SPAN_DAYS = 4 * 365


def sentences():
    out = []
    with open(EVAL, encoding="utf-8") as f:
        for line in f:
            for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]):
                s = s.strip()
                if 40 <= len(s) <= 300:
                    out.append(s)
    if not out:
        raise SystemExit(f"no sentences in {EVAL}")
    return out


def item(rng, pool, n, now):
    target = rng.randint(1000, 3000)
    paragraphs, size = [], 0
    while size < target:
        para = [rng.choice(pool) for _ in range(rng.randint(2, 4))]
        paragraphs.append(" ".join(para))
        size += sum(len(s) + 1 for s in para)
    title = " ".join(rng.choice(pool).split()[:10]).rstrip(".,;:")
    return {
        "title": title,
        "link": f"https://outlet{n % FEEDS}.example/a/{n}",
        "paragraphs": paragraphs,
        # Spread evenly over the span, newest last.
        "date": now - timedelta(days=SPAN_DAYS) + timedelta(days=SPAN_DAYS * n / max(1, N)),
    }


def write_feed(path, feed, items):
    # Even feeds carry the article as HTML (content:encoded) with a one-sentence description, as
    # many publishers do; odd feeds the whole text as the description.
    html = feed % 2 == 0
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
             'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
             f"<title>Outlet {feed}</title><link>https://outlet{feed}.example/</link>"
             f"<description>Outlet {feed}</description>"]
    for it in items:
        if html:
            body = "".join(f"<p>{escape(p)}</p>" for p in it["paragraphs"])
            first = it["paragraphs"][0].split(". ")[0]
            content = (f"<description>{escape(first)}</description>"
                       f"<content:encoded>{escape(body)}</content:encoded>")
        else:
            content = f"<description>{escape(chr(10).join(it['paragraphs']))}</description>"
        parts.append(
            f"<item><title>{escape(it['title'])}</title><link>{it['link']}</link>"
            f"<guid>{it['link']}</guid><pubDate>{format_datetime(it['date'])}</pubDate>"
            f"{content}</item>")
    parts.append("</channel></rss>\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(parts))


def write_config(work, keep, window=None):
    with open(os.path.join(work, "desk.toml"), "w", encoding="utf-8") as f:
        f.write('[storage]\npath = "desk.db"\n')
        if keep:
            f.write(f'keep = "{keep}"\n')
        if window:
            f.write(f'\n[related]\nwindow = "{window}"\ngroup_window = "{window}"\n')
        f.write('\n[polling]\nmax_item_age = "off"\n\n')
        for feed in range(FEEDS):
            f.write(f'[[feed]]\nname = "Outlet {feed}"\nurl = "file:feeds/{feed}.xml"\n'
                    'full_text = "never"\n\n')


def newsdesk(work, *args):
    done = subprocess.run([BIN, "--config", os.path.join(work, "desk.toml"), *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"newsdesk {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def measure(work, label):
    db = os.path.join(work, "desk.db")
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    items = con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    page = con.execute("PRAGMA page_size").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    columns = [c[1] for c in con.execute("PRAGMA table_info(items)")]
    lengths = con.execute(
        "SELECT " + ", ".join(f"COALESCE(SUM(LENGTH({c})), 0)" for c in columns)
        + " FROM items").fetchone()
    copy = os.path.join(work, "vacuumed.db")
    if os.path.exists(copy):
        os.remove(copy)
    con.execute("VACUUM INTO ?", (copy,))
    con.close()
    vacuumed = os.path.getsize(copy)
    # Per table on the compacted copy: what each holds, not the free room inside its pages.
    con = sqlite3.connect(copy)
    tables = con.execute(
        "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    con.close()
    os.remove(copy)
    used = (pages - free) * page
    print(f"\n## {label}: {items} items")
    print(f"file {pages * page / items:.0f} B/item ({pages} pages of {page} B), of which "
          f"free pages {free * page / items:.0f} B/item ({free}), in use {used / items:.0f} "
          f"B/item; VACUUM'd copy {vacuumed / items:.0f} B/item ({vacuumed} B)")
    print("VACUUM'd copy per table and index (dbstat), B/item: " + ", ".join(
        f"{name} {size / items:.0f}" for name, size in tables if size / items >= 5))
    print("items columns, sum(length()) B/item: " + ", ".join(
        f"{c} {n / items:.0f}" for c, n in zip(columns, lengths) if n / items >= 5))


def main():
    global N, BIN
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    BIN = os.environ.get("NEWSDESK_BIN", os.path.join(REPO, "target", "debug", "newsdesk"))
    given = os.environ.get("WORK_DIR")
    work = given or tempfile.mkdtemp(prefix="newsdesk-storage-")
    os.makedirs(os.path.join(work, "feeds"), exist_ok=True)
    rng = random.Random(16)
    pool = sentences()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    items = [item(rng, pool, n, now) for n in range(N)]
    for feed in range(FEEDS):
        mine = [it for n, it in enumerate(items) if n % FEEDS == feed]
        write_feed(os.path.join(work, "feeds", f"{feed}.xml"), feed, list(reversed(mine)))
    try:
        write_config(work, None)
        print(newsdesk(work, "poll", "--all"))
        measure(work, "processed, nothing expired")
        # Items keep their search words until their story is out of every window (`[related]`
        # window, group_window) too: the settled store is one where all are.
        for keep, window, label in [
                ("2y", None, "keep = 2y (about half expired)"),
                ("1d", "1d", "settled: every item expired, every story out of every window")]:
            write_config(work, keep, window)
            print(newsdesk(work, "prune"))
            measure(work, label)
        # Re-polling after retention stores and announces nothing again.
        print(newsdesk(work, "poll", "--all"))
    finally:
        if not given:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
