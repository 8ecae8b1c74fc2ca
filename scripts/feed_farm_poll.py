#!/usr/bin/env python3
"""The baseline poller of scripts/feed-farm-bench.sh: Python requests + feedparser, conditional
GETs (ETag / Last-Modified kept in a state file between runs), parse only, THREADS at a time.

  feed_farm_poll.py FARM_TOML STATE_JSON THREADS
"""

import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import feedparser
import requests

TIMEOUT = 20


def main():
    config, state_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(config, encoding="utf-8") as f:
        urls = re.findall(r'^url = "([^"]+)"', f.read(), re.M)
    state = {}
    if os.path.exists(state_path):
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=threads)
    session.mount("http://", adapter)

    def poll(url):
        headers = {}
        known = state.get(url, {})
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("modified"):
            headers["If-Modified-Since"] = known["modified"]
        r = session.get(url, headers=headers, timeout=TIMEOUT)
        if r.status_code == 304:
            return url, known, 0
        parsed = feedparser.parse(r.content)
        seen = set(known.get("seen", []))
        new = [e.get("id") or e.get("link") for e in parsed.entries]
        fresh = [k for k in new if k not in seen]
        return url, {"etag": r.headers.get("ETag"), "modified": r.headers.get("Last-Modified"),
                     "seen": sorted(seen.union(new))}, len(fresh)

    items = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for url, known, fresh in pool.map(poll, urls):
            state[url] = known
            items += fresh
    with open(state_path, "w", encoding="utf-8") as f:
        json.dump(state, f)
    print(f"{len(urls)} feeds, {items} new items")


if __name__ == "__main__":
    main()
