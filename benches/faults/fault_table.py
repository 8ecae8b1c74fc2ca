#!/usr/bin/env python3
"""Issue 10's fault table: runs each fault scenario against one newsdesk binary and prints one
markdown row per scenario.

    python3 benches/faults/fault_table.py --binary target/release/newsdesk

Everything happens on 127.0.0.1: a feed server in this process serves feeds and pages, and a
receiver plays Discord (webhooks and bot channel messages, nonces honoured as Discord does).
Python 3 standard library only. See README.md beside this file for what each scenario shows.
"""

import argparse
import collections
import hashlib
import html
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCAL = "127.0.0.1"
TOKEN_ENV = "NEWSDESK_DISCORD_TOKEN"
BOT_CHANNEL = 4242
HOOK_ID, HOOK_TOKEN = 77, "hooktoken"
HOOK_ENV = "FAULT_HOOK"
# Item links carry this path, so each item is found by its token wherever it shows.
STORY_RE = re.compile(r"/story/([a-z0-9-]+)")
# A story's headline line in terminal output: "┃ **Title** <URL>".
HEADLINE_RE = re.compile(r"^┃ \*\*.*\*\* <([^>]+)>\s*$")
SYLLABLES = "ka lo mi ne su ta ri vo pe zu da fi go hu je ba xo wy qu ce".split()


# --- text and feeds ---------------------------------------------------------------------------


def words(rng, n):
    return [
        "".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(n)
    ]


def sentences(rng, count, per=10):
    out = []
    for _ in range(count):
        w = words(rng, per)
        out.append(w[0].capitalize() + " " + " ".join(w[1:]) + ".")
    return " ".join(out)


def long_text(rng, size):
    """About `size` bytes of sentences (built from a reused block: millions of words would
    take the harness longer than the binary)."""
    block = sentences(rng, 200) + " "
    return (block * (size // len(block) + 1))[:size].rsplit(" ", 1)[0] + "."


class Item:
    def __init__(self, token, title, text, link, published):
        self.token, self.title, self.text = token, title, text
        self.link, self.published = link, published


def make_items(prefix, count, base, seed, text_sentences=3, started=None, spacing=0.0):
    """`count` items with unrelated random words (so no two group into one story)."""
    items = []
    t0 = started if started is not None else time.time()
    for n in range(count):
        rng = random.Random(f"{seed}-{prefix}-{n}")
        token = f"{prefix}-{n:05d}"
        title = " ".join(words(rng, 6)).capitalize() + f" {token}"
        items.append(
            Item(
                token,
                title,
                sentences(rng, text_sentences),
                f"{base}/story/{token}",
                t0 + n * spacing,
            )
        )
    return items


def rss(items, base, title="Fault feed"):
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>{html.escape(title)}</title><link>{base}/</link>",
        "<description>fault harness</description>",
    ]
    for it in items:
        parts.append(
            "<item><title>{}</title><link>{}</link><guid isPermaLink=\"false\">{}</guid>"
            "<pubDate>{}</pubDate><description>{}</description></item>".format(
                html.escape(it.title),
                it.link,
                it.token,
                formatdate(it.published, usegmt=True),
                html.escape(it.text),
            )
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


class GrowingFeed:
    """A feed that shows `initial` items, then one more every `step` seconds up to `cap`, until
    frozen. Remembers the most items any answer carried (what was served)."""

    def __init__(self, items, initial, step, cap, base):
        self.items, self.initial, self.step, self.cap = items, initial, step, cap
        self.base = base
        self.started = time.monotonic()
        self.frozen_at = None
        self.served = 0
        self.cache = {}
        self.lock = threading.Lock()

    def count(self):
        t = (self.frozen_at or time.monotonic()) - self.started
        return min(self.cap, self.initial + int(t / self.step))

    def freeze(self):
        self.frozen_at = time.monotonic()

    def body(self):
        n = self.count()
        with self.lock:
            self.served = max(self.served, n)
            if n not in self.cache:
                self.cache = {n: rss(self.items[:n], self.base)}
            return self.cache[n]

    def served_tokens(self):
        return {it.token for it in self.items[: self.served]}


# --- the local servers ------------------------------------------------------------------------


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client killed mid-request (scenario 2 does that on purpose) is no error here."""


class Site:
    """Feeds and pages on 127.0.0.1. A route is a function returning (status, type, body), or
    None to hold the connection without answering until the scenario ends."""

    def __init__(self):
        self.routes = {}
        self.hits = collections.Counter()
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urlsplit(self.path).path
                site.hits[path] += 1
                route = site.routes.get(path)
                if route is None:
                    return self.answer(404, "text/plain", b"not found")
                got = route()
                if got is None:
                    site.release.wait(120)
                    return
                self.answer(*got)

            def answer(self, status, ctype, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = QuietServer((LOCAL, 0), Handler)
        self.base = f"http://{LOCAL}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def free_port():
    """A port nothing listens on (connections to it are refused)."""
    s = socket.socket()
    s.bind((LOCAL, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """Plays Discord: webhook executions and bot channel messages are recorded and answered 200
    with a message object; a channel message whose nonce was seen (with enforce_nonce) gets the
    first message back, as Discord does, instead of a new one. The gateway's address refuses
    connections."""

    def __init__(self):
        self.messages = []  # dict(target, nonce, urls)
        self.by_nonce = {}
        self.replays = 0
        self.requests = collections.Counter()
        self.lock = threading.Lock()
        self.next_id = 1_300_000_000_000_000_000
        gateway = f"ws://{LOCAL}:{free_port()}"
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def body_json(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    return json.loads(raw or b"{}")
                except ValueError:
                    return {}

            def do_GET(self):
                path = urlsplit(self.path).path
                rec.requests["GET " + path] += 1
                if path in ("/api/v10/gateway", "/api/v10/gateway/bot"):
                    return self.send_json(
                        200,
                        {
                            "url": gateway,
                            "shards": 1,
                            "session_start_limit": {
                                "total": 1000,
                                "remaining": 999,
                                "reset_after": 14_400_000,
                                "max_concurrency": 1,
                            },
                        },
                    )
                if path == "/api/v10/users/@me":
                    return self.send_json(200, user(1, "newsdesk"))
                self.send_json(404, {"message": "404: Not Found", "code": 0})

            def do_POST(self):
                parts = urlsplit(self.path)
                rec.requests["POST " + parts.path] += 1
                body = self.body_json()
                m = re.fullmatch(r"/api/v10/channels/(\d+)/messages", parts.path)
                if m:
                    return self.send_json(200, rec.create(int(m[1]), body, webhook=False))
                m = re.fullmatch(r"/api/v10/webhooks/(\d+)/([^/]+)", parts.path)
                if m and int(m[1]) == HOOK_ID and m[2] == HOOK_TOKEN:
                    return self.send_json(200, rec.create(HOOK_ID, body, webhook=True))
                self.send_json(404, {"message": "Unknown Webhook", "code": 10015})

            def do_PUT(self):
                self.body_json()
                self.send_json(200, [])

            def send_json(self, status, value):
                data = json.dumps(value).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = QuietServer((LOCAL, 0), Handler)
        self.base = f"http://{LOCAL}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def create(self, target, body, webhook):
        nonce = body.get("nonce")
        key = (target, str(nonce))
        with self.lock:
            if not webhook and nonce is not None and body.get("enforce_nonce"):
                if key in self.by_nonce:
                    self.replays += 1
                    return self.by_nonce[key]
            self.next_id += 1
            embeds = body.get("embeds") or []
            urls = [e.get("url") for e in embeds if e.get("url")]
            msg = {
                "id": str(self.next_id),
                "channel_id": str(target),
                "author": user(HOOK_ID if webhook else 1, "newsdesk"),
                "content": body.get("content") or "",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [dict(e, type="rich") for e in embeds],
                "reactions": [],
                "pinned": False,
                "type": 0,
                "flags": 0,
                "components": [],
            }
            if webhook:
                msg["webhook_id"] = str(HOOK_ID)
            if nonce is not None:
                msg["nonce"] = nonce
                self.by_nonce[key] = msg
            self.messages.append(
                {"target": target, "nonce": nonce, "urls": urls, "embeds": embeds}
            )
            return msg

    def tokens(self, since=0):
        """Item tokens in the embeds of the messages created from the `since`th on."""
        return [t for m in self.messages[since:] for u in m["urls"] for t in STORY_RE.findall(u)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def user(uid, name):
    return {
        "id": str(uid),
        "username": name,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": True,
        "flags": 0,
        "public_flags": 0,
    }


# --- processes --------------------------------------------------------------------------------


TIME = "/usr/bin/time"


class Proc:
    """A child run under /usr/bin/time, which reports its peak RSS (ru_maxrss of a process it
    forked: a child of this Python process would inherit Python's own high-water mark). Signals
    go to the program itself, not to time."""

    def __init__(self, argv, env, cwd, out, err, stdin=subprocess.DEVNULL):
        self.started = time.monotonic()
        self.out_path, self.err_path = out, err
        self.rss_path = out[: -len(".out")] + ".rss"
        self.files = (open(out, "ab"), open(err, "ab"))
        self.popen = subprocess.Popen(
            [TIME, "-f", "%M", "-o", self.rss_path, *argv],
            env=env, cwd=cwd, stdin=stdin, stdout=self.files[0], stderr=self.files[1],
        )
        self.rc = None
        self.maxrss_kb = 0
        self.ended = None
        self.target = None
        self.done = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self):
        rc = self.popen.wait()
        self.ended = time.monotonic()
        for f in self.files:
            f.close()
        try:
            with open(self.rss_path) as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            lines = []
        found = (re.search(r"terminated by signal (\d+)", line) for line in lines)
        killed = [int(m[1]) for m in found if m]
        figures = [l.strip() for l in lines if l.strip().isdigit()]
        self.maxrss_kb = int(figures[-1]) if figures else 0
        self.rc = -killed[0] if killed else rc
        self.done.set()

    def program_pid(self):
        """The program's pid (time's child), waiting up to 1 s for time to fork it."""
        if self.target is None:
            path = f"/proc/{self.popen.pid}/task/{self.popen.pid}/children"
            for _ in range(1000):
                try:
                    kids = open(path).read().split()
                except OSError:
                    return None
                if kids:
                    self.target = int(kids[0])
                    break
                time.sleep(0.001)
        return self.target

    def wait(self, timeout):
        """The exit code (negative: killed by that signal), or None if still running."""
        self.done.wait(timeout)
        return self.rc if self.done.is_set() else None

    def alive(self):
        return not self.done.is_set()

    def send(self, sig):
        pid = self.program_pid() if self.alive() else None
        if pid is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace=20):
        """SIGTERM, then SIGKILL after `grace` s. Returns (exit code, seconds to exit)."""
        asked = time.monotonic()
        self.send(signal.SIGTERM)
        rc = self.wait(grace)
        if rc is None:
            self.send(signal.SIGKILL)
            self.wait(10)
            return None, None
        return rc, self.ended - asked

    def runtime(self):
        return (self.ended or time.monotonic()) - self.started


class Harness:
    def __init__(self, binary, work, seed, legacy):
        self.binary, self.work, self.seed, self.legacy = binary, work, seed, legacy
        self.procs = []

    def env(self, extra=None, token=False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
        env.pop(HOOK_ENV, None)
        env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            env.pop(k, None)
        if token:
            env[TOKEN_ENV] = "fault-harness-token"
        env.update(extra or {})
        return env

    def start(self, dir, config, args, env=None, tag="run"):
        n = len(self.procs)
        p = Proc(
            [self.binary, "--config", config, *args],
            env or self.env(),
            dir,
            os.path.join(dir, f"{tag}{n}.out"),
            os.path.join(dir, f"{tag}{n}.err"),
        )
        self.procs.append(p)
        return p

    def run(self, dir, config, args, env=None, timeout=60, tag="cmd"):
        p = self.start(dir, config, args, env, tag)
        if p.wait(timeout) is None:
            p.send(signal.SIGKILL)
            p.wait(10)
            return p, True
        return p, False

    def cleanup(self):
        for p in self.procs:
            p.send(signal.SIGKILL)


def scenario_dir(h, name):
    d = os.path.join(h.work, name)
    os.makedirs(d, exist_ok=True)
    return d


def write_config(dir, db, feeds, channels, polling=None, discord=None):
    """A config file. `feeds`: (name, url, extra lines); `channels`: TOML blocks."""
    lines = ["[storage]", f'path = "{db}"', "", "[polling]"]
    pol = {
        "interval": '"1s"',
        "min_interval": '"1s"',
        "announce_first_fetch": "true",
        "max_item_age": '"off"',
    }
    pol.update(polling or {})
    lines += [f"{k} = {v}" for k, v in pol.items()]
    for name, url, more in feeds:
        lines += ["", "[[feed]]", f'name = "{name}"', f'url = "{url}"', *more]
    for block in channels:
        lines += ["", "[[channel]]", *block]
    if discord:
        lines += ["", "[discord]", *[f"{k} = {v}" for k, v in discord.items()]]
    path = os.path.join(dir, "newsdesk.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


LIVE = ['name = "live"', 'mode = "live"', "max_stories = 50"]


def bot_channel():
    return LIVE + [f'discord_channel_id = "{BOT_CHANNEL}"']


def hook_channel():
    return ['name = "hook"', 'mode = "live"', "max_stories = 50", f'webhook_env = "{HOOK_ENV}"']


def printed_tokens(paths):
    """Tokens of the story headlines printed in these stdout files (with repeats)."""
    out = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = HEADLINE_RE.match(line)
                    if m:
                        out += STORY_RE.findall(m[1])
        except FileNotFoundError:
            pass
    return out


def store_stats(db):
    """(items, processed, integrity) from the SQLite file, or None if it cannot be read."""
    if not os.path.exists(db):
        return None
    try:
        conn = sqlite3.connect(db, timeout=10)
        items = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        done = conn.execute(
            "SELECT COUNT(*) FROM items WHERE processed_at IS NOT NULL"
        ).fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
        return items, done, integrity
    except sqlite3.Error as e:
        return None, None, f"unreadable: {e}"


def tally(served, got):
    """(delivered, duplicates, losses) of the served tokens in the delivered list."""
    counts = collections.Counter(t for t in got if t in served)
    delivered = len(counts)
    duplicates = sum(c - 1 for c in counts.values())
    return delivered, duplicates, len(served) - delivered


def wait_for(check, limit, every=0.1):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if check():
            return True
        time.sleep(every)
    return check()


def stderr_of(p):
    try:
        with open(p.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def panicked(procs):
    return any("panicked" in stderr_of(p) for p in procs)


def row(name, outcome, served="—", stored="—", delivered="—", dup="—", loss="—", procs=(),
        wall=0.0):
    rss = max((p.maxrss_kb for p in procs), default=0)
    return dict(
        scenario=name,
        outcome=outcome,
        served=served,
        stored=stored,
        delivered=delivered,
        dup=dup,
        loss=loss,
        rss=f"{rss / 1024:.0f} MB" if rss else "—",
        wall=f"{wall:.1f} s",
    )


def stored_cell(stats):
    if stats is None:
        return "no db"
    items, done, _ = stats
    return f"{items}/{done}" if items is not None else "unreadable"


# --- scenarios --------------------------------------------------------------------------------


def s1_webhook(h, site, rec):
    """A webhook channel without a bot token: do the stories reach the webhook?"""
    t0 = time.monotonic()
    d = scenario_dir(h, "s1")
    items = make_items("s1", 6, site.base, h.seed)
    site.routes["/s1.xml"] = lambda: (200, "application/rss+xml", rss(items, site.base))
    discord = None if h.legacy else {"api_base": f'"{rec.base}"'}
    cfg = write_config(
        d, "s1.db", [("Hooked", f"{site.base}/s1.xml", ['full_text = "never"'])],
        [hook_channel()], discord=discord,
    )
    hook_url = f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
    before = len(rec.messages)
    p, hung = h.run(d, cfg, ["run", "--once"], h.env({HOOK_ENV: hook_url}), timeout=60)
    served = {it.token for it in items}
    got = rec.tokens(before)
    printed = printed_tokens([p.out_path])
    stats = store_stats(os.path.join(d, "s1.db"))
    conn = sqlite3.connect(os.path.join(d, "s1.db"))
    sent = conn.execute("SELECT COUNT(*) FROM digests WHERE status = 'sent'").fetchone()[0]
    conn.close()
    dl, dup, loss = tally(served, got)
    if hung:
        outcome = "run --once did not end in 60 s"
    elif dl == len(served):
        outcome = f"posted to the webhook; {sent} digest(s) recorded sent; {len(printed)} printed"
    else:
        outcome = (
            f"webhook got {dl}; {len(printed)} printed to the terminal instead, "
            f"{sent} digest(s) recorded sent"
        )
    return row("1 webhook, no bot token", outcome, len(served), stored_cell(stats), dl, dup,
               loss, [p], time.monotonic() - t0)


def s2_kills(h, site, rec):
    """kill -9 at random moments of `run`, then one clean run: each item delivered once?"""
    t0 = time.monotonic()
    d = scenario_dir(h, "s2")
    rng = random.Random(h.seed)
    items = make_items("s2", 200, site.base, h.seed)
    feed = GrowingFeed(items, 5, 0.25, 200, site.base)
    site.routes["/s2.xml"] = lambda: (200, "application/rss+xml", feed.body())
    feeds = [("Growing", f"{site.base}/s2.xml", ['full_text = "never"'])]
    if h.legacy:
        cfg = write_config(d, "s2.db", feeds, [LIVE])
        env = h.env()
    else:
        cfg = write_config(d, "s2.db", feeds, [bot_channel()],
                           discord={"api_base": f'"{rec.base}"'})
        env = h.env(token=True)
    delays = [rng.uniform(0.0, 0.05) for _ in range(8)]
    delays += [rng.uniform(0.05, 1.5) for _ in range(26)]
    rng.shuffle(delays)
    before, replays = len(rec.messages), rec.replays
    runs = []
    for delay in delays:
        p = h.start(d, cfg, ["run"], env, tag="kill")
        time.sleep(delay)
        p.send(signal.SIGKILL)
        p.wait(10)
        runs.append(p)
    early_exits = sum(1 for p in runs if p.rc not in (-9,))
    feed.freeze()
    served = feed.served_tokens() | {it.token for it in items[: feed.count()]}

    def delivered_now():
        if h.legacy:
            return printed_tokens([p.out_path for p in runs + [drain]])
        return rec.tokens(before)

    drain = h.start(d, cfg, ["run"], env, tag="drain")
    wait_for(lambda: set(delivered_now()) >= served, 30, 0.2)
    time.sleep(1)  # a straggler duplicate would show now
    rc, _ = drain.stop()
    served = feed.served_tokens()
    got = delivered_now()
    dl, dup, loss = tally(served, got)
    stats = store_stats(os.path.join(d, "s2.db"))
    where = "terminal channel (no api_base)" if h.legacy else "bot channel via receiver"
    outcome = (
        f"{len(delays)} kills ({sum(1 for x in delays if x < 0.05)} < 50 ms), {where}; "
        f"integrity {stats[2] if stats else 'n/a'}; drain exit {rc}"
    )
    if not h.legacy:
        outcome += f"; {rec.replays - replays} nonce replays"
    if early_exits:
        outcome += f"; {early_exits} runs ended before their kill"
    if panicked(runs + [drain]):
        outcome += "; PANIC"
    return row("2 kill -9 ×34, then drain", outcome, len(served), stored_cell(stats), dl, dup,
               loss, runs + [drain], time.monotonic() - t0)


def s3_two_daemons(h, site, rec):
    """Two `run` daemons on one database, started together."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s3")
    items = make_items("s3", 60, site.base, h.seed)
    feed = GrowingFeed(items, 0, 3600, 60, site.base)
    site.routes["/s3.xml"] = lambda: (200, "application/rss+xml", feed.body())
    cfg = write_config(d, "s3.db", [("Growing", f"{site.base}/s3.xml", ['full_text = "never"'])],
                       [LIVE])
    # The store exists already (as when a second daemon is started beside a running one).
    setup, _ = h.run(d, cfg, ["poll"], timeout=30, tag="setup")
    feed.initial, feed.step, feed.started = 5, 0.3, time.monotonic()
    a = h.start(d, cfg, ["run"], tag="a")
    b = h.start(d, cfg, ["run"], tag="b")
    time.sleep(6)
    feed.freeze()
    served = {it.token for it in items[: feed.count()]}
    wait_for(lambda: set(printed_tokens([a.out_path, b.out_path])) >= served, 15, 0.2)
    time.sleep(1)
    ra, _ = a.stop()
    rb, _ = b.stop()
    served = feed.served_tokens()
    got = printed_tokens([a.out_path, b.out_path])
    dl, dup, loss = tally(served, got)
    stats = store_stats(os.path.join(d, "s3.db"))
    refused = [p for p in (a, b) if "in use" in stderr_of(p)]
    if refused:
        p = refused[0]
        first = rb if p is a else ra
        outcome = f"second refused at once (exit {p.rc}, 'in use'); first exit {first}"
    else:
        failed = [p for p in (a, b) if p.rc not in (0, None)]
        outcome = f"no refusal: both started (exits {ra}, {rb})"
        for p in failed:
            last = [l for l in stderr_of(p).splitlines() if l.startswith("error")]
            if last:
                outcome += (f"; one died after {p.runtime():.1f} s: "
                            f"{last[-1].rsplit(': ', 1)[-1][:60]}")
    if panicked([a, b]):
        outcome += "; PANIC"
    return row("3 two daemons, one db", outcome, len(served), stored_cell(stats), dl, dup, loss,
               [a, b], time.monotonic() - t0)


# Room for the store and its write-ahead log in normal operation (about 6 MB here: the log
# grows to ~4 MB between checkpoints), so only the filler makes the disk full.
TMPFS_MB = 12


def s4_disk_full(h, site, rec):
    """The database on a small tmpfs filled up while the daemon runs, then space freed; then a
    restart on the same store, which must deliver nothing again."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s4")
    mnt = os.path.join(d, "tmpfs")
    os.makedirs(mnt, exist_ok=True)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", mnt],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        return row(f"4 disk full (tmpfs {TMPFS_MB} MB)",
                   f"skipped: mount refused ({mount.stderr.strip()[:80]})",
                   wall=time.monotonic() - t0)
    try:
        items = make_items("s4", 80, site.base, h.seed, text_sentences=60)
        feed = GrowingFeed(items, 5, 0.4, 80, site.base)
        site.routes["/s4.xml"] = lambda: (200, "application/rss+xml", feed.body())
        db = os.path.join(mnt, "s4.db")
        cfg = write_config(d, db, [("Growing", f"{site.base}/s4.xml", ['full_text = "never"'])],
                           [LIVE])
        p = h.start(d, cfg, ["run"], tag="full")
        wait_for(lambda: printed_tokens([p.out_path]), 15, 0.1)
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:  # ENOSPC: full
            pass
        finally:
            os.close(fd)
        os.truncate(filler, max(0, os.path.getsize(filler) - 12 * 1024))
        full_at = time.monotonic()
        delivered_before = len(set(printed_tokens([p.out_path])))
        time.sleep(8)
        alive_full = p.alive()
        delivered_full = len(set(printed_tokens([p.out_path]))) - delivered_before
        os.remove(filler)
        full_for = time.monotonic() - full_at
        time.sleep(3)
        feed.freeze()
        served = {it.token for it in items[: feed.count()]}
        if p.alive():
            wait_for(lambda: set(printed_tokens([p.out_path])) >= served, 20, 0.2)
            time.sleep(1)
        alive_after = p.alive()
        # Read by another connection while the daemon runs: what it has committed.
        running_stats = store_stats(db)
        rc, _ = p.stop()
        stopped_stats = store_stats(db)
        # A restart on the same store and the same (frozen) feed must add nothing.
        again = h.start(d, cfg, ["run"], tag="restart")
        wait_for(lambda: set(printed_tokens([p.out_path, again.out_path])) >= served, 15, 0.2)
        time.sleep(3)  # repeats, if any, come now
        again.stop()
        served = feed.served_tokens()
        got = printed_tokens([p.out_path, again.out_path])
        dl, dup, loss = tally(served, got)
        stats = store_stats(db)
        err = stderr_of(p)
        full_errors = sum(1 for line in err.splitlines() if re.search(r"full|No space", line))
        outcome = (
            f"{'alive' if alive_full else 'DIED'} while full ({full_for:.0f} s, "
            f"{full_errors} disk-full log lines, {delivered_full} delivered meanwhile); "
            f"{'carried on' if alive_after else 'gone'} after; exit {rc}; "
            f"integrity {stats[2] if stats else 'n/a'}; committed while running after the fault "
            f"{stored_cell(running_stats)}, after exit {stored_cell(stopped_stats)}; "
            f"restart printed {len(printed_tokens([again.out_path]))}, "
            f"{len(set(printed_tokens([again.out_path])) & set(printed_tokens([p.out_path])))} "
            "of them already printed before"
        )
        if "panicked" in err:
            outcome += "; PANIC"
        return row(f"4 disk full (tmpfs {TMPFS_MB} MB), then restart", outcome, len(served),
                   stored_cell(stats), dl, dup, loss, [p, again], time.monotonic() - t0)
    finally:
        for p in h.procs:
            p.send(signal.SIGKILL)
            p.wait(5)
        # What the tmpfs held, for a look afterwards (--keep).
        shutil.copytree(mnt, os.path.join(d, "tmpfs-copy"), dirs_exist_ok=True)
        subprocess.run(["umount", mnt], capture_output=True)


def s5_secret(h, site, rec):
    """A config feed's item links to a loopback page holding a secret."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s5")
    secret = "SECRET-" + hashlib.sha256(f"{h.seed}".encode()).hexdigest()[:16]
    rng = random.Random(h.seed)
    body = " ".join(sentences(rng, 6) + f" The vault code is {secret}." for _ in range(4))
    page = (f"<html><head><title>Internal</title></head><body><article><h1>Internal page</h1>"
            f"<p>{body}</p><p>{body}</p></article></body></html>").encode()
    site.routes["/secret"] = lambda: (200, "text/html; charset=utf-8", page)
    item = Item("s5-00000", "Teaser about an internal page s5-00000", "Short teaser.",
                f"{site.base}/secret", time.time())
    site.routes["/s5.xml"] = lambda: (200, "application/rss+xml", rss([item], site.base))
    cfg = write_config(d, "s5.db", [("Teasers", f"{site.base}/s5.xml", [])], [LIVE])
    hits = site.hits["/secret"]
    p, hung = h.run(d, cfg, ["run", "--once"], timeout=60)
    fetched = site.hits["/secret"] - hits
    conn = sqlite3.connect(os.path.join(d, "s5.db"))
    cols = [r[1] for r in conn.execute("PRAGMA table_info(items)") if r[2].upper() == "TEXT"]
    stored_secret = any(
        secret in (v or "")
        for r in conn.execute(f"SELECT {', '.join(cols)} FROM items")
        for v in r
    )
    conn.close()
    with open(p.out_path, encoding="utf-8", errors="replace") as f:
        posted = secret in f.read()
    stats = store_stats(os.path.join(d, "s5.db"))
    # The item's link is the secret page: it is found by the token in its title.
    with open(p.out_path, encoding="utf-8", errors="replace") as f:
        shown = sum(1 for line in f if HEADLINE_RE.match(line) and "s5-00000" in line)
    dl, dup, loss = min(shown, 1), max(shown - 1, 0), 1 - min(shown, 1)
    outcome = (f"page fetched {fetched}×; secret stored: {'YES' if stored_secret else 'no'}; "
               f"posted: {'YES' if posted else 'no'}")
    if hung:
        outcome += "; did not end in 60 s"
    return row("5 link to 127.0.0.1 secret", outcome, 1, stored_cell(stats), dl, dup, loss, [p],
               time.monotonic() - t0)


def s6_big_item(h, site, rec, size, label):
    """One item with a `size`-byte description: `poll` time and peak memory."""
    t0 = time.monotonic()
    d = scenario_dir(h, f"s6-{label}")
    rng = random.Random(h.seed)
    item = Item(f"s6-{label}", f"Huge item {label}", long_text(rng, size),
                f"{site.base}/story/s6-{label}", time.time())
    body = rss([item], site.base)
    site.routes[f"/s6-{label}.xml"] = lambda: (200, "application/rss+xml", body)
    cfg = write_config(d, "s6.db", [("Huge", f"{site.base}/s6-{label}.xml",
                                     ['full_text = "never"'])], [LIVE])
    p, hung = h.run(d, cfg, ["poll"], timeout=60)
    stats = store_stats(os.path.join(d, "s6.db"))
    took = p.runtime()
    outcome = f"poll {took:.2f} s, exit {p.rc}" if not hung else "poll did not end in 60 s"
    return row(f"6 one item, {label[:-2]} MB description", outcome, 1, stored_cell(stats),
               procs=[p], wall=time.monotonic() - t0)


def s7_slow_feed(h, site, rec):
    """A feed that never answers beside a normal one: time to the normal feed's story."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s7a")
    items = make_items("s7a", 1, site.base, h.seed)
    site.routes["/s7-normal.xml"] = lambda: (200, "application/rss+xml", rss(items, site.base))
    site.routes["/s7-never.xml"] = lambda: None
    cfg = write_config(d, "s7.db", [
        ("Never", f"{site.base}/s7-never.xml", ['full_text = "never"']),
        ("Normal", f"{site.base}/s7-normal.xml", ['full_text = "never"']),
    ], [LIVE], polling={"timeout": '"20s"'})
    p = h.start(d, cfg, ["run"], tag="slow")
    seen = wait_for(lambda: printed_tokens([p.out_path]), 45, 0.05)
    first = time.monotonic() - p.started if seen else None
    rc, stop_s = p.stop(30)
    stats = store_stats(os.path.join(d, "s7.db"))
    dl, dup, loss = tally({items[0].token}, printed_tokens([p.out_path]))
    outcome = (f"normal story after {first:.1f} s" if first is not None
               else "normal story not delivered in 45 s")
    outcome += " (poll timeout 20 s); " + (
        f"SIGTERM: exit {rc} after {stop_s:.1f} s" if rc is not None
        else "SIGTERM: still running after 30 s")
    return row("7a never-answering feed + normal feed", outcome, 1, stored_cell(stats), dl, dup,
               loss, [p], time.monotonic() - t0)


def s7_huge_feed(h, site, rec):
    """A feed of 20,000 items: time until the first delivery."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s7b")
    items = make_items("s7b", 20_000, site.base, h.seed, text_sentences=1)
    body = rss(items, site.base)
    site.routes["/s7-huge.xml"] = lambda: (200, "application/rss+xml", body)
    cfg = write_config(d, "s7b.db", [("Huge", f"{site.base}/s7-huge.xml",
                                      ['full_text = "never"'])],
                       [LIVE], polling={"max_body_size": "50000000", "interval": '"1h"'})
    p = h.start(d, cfg, ["run"], tag="huge")
    seen = wait_for(lambda: printed_tokens([p.out_path]), 60, 0.1)
    first = time.monotonic() - p.started if seen else None
    rc, stop_s = p.stop(30)
    stats = store_stats(os.path.join(d, "s7b.db"))
    got = printed_tokens([p.out_path])
    served = {it.token for it in items}
    dl, dup, _ = tally(served, got)
    outcome = (f"first delivery after {first:.1f} s" if first is not None
               else "nothing delivered in 60 s")
    outcome += f" ({len(body) / 1e6:.1f} MB feed); then SIGTERM: " + (
        f"exit {rc} after {stop_s:.1f} s" if rc is not None else "still running after 30 s")
    return row("7b feed of 20,000 items", outcome, len(served), stored_cell(stats), dl, dup,
               "n/a (stopped)", [p], time.monotonic() - t0)


def s8_sigterm(h, site, rec):
    """SIGTERM 50 ms after start, five times."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s8a")
    items = make_items("s8", 20, site.base, h.seed)
    site.routes["/s8.xml"] = lambda: (200, "application/rss+xml", rss(items, site.base))
    cfg = write_config(d, "s8.db", [("F", f"{site.base}/s8.xml", ['full_text = "never"'])],
                       [LIVE])
    codes, times, procs = [], [], []
    for _ in range(5):
        p = h.start(d, cfg, ["run"], tag="term")
        time.sleep(0.05)
        rc, took = p.stop(20)
        codes.append(rc)
        times.append(took or 20)
        procs.append(p)
    stats = store_stats(os.path.join(d, "s8.db"))
    outcome = f"exit codes {codes}; exit within {max(times):.2f} s"
    if panicked(procs):
        outcome += "; PANIC"
    return row("8a SIGTERM 50 ms after start ×5", outcome, procs=procs,
               stored=stored_cell(stats), wall=time.monotonic() - t0)


HOLE_PORT = 7777
# Run inside a fresh network namespace (only loopback): opens a listener that is never
# accepted from (the kernel completes connections into its backlog, nobody answers) and keeps
# it open across exec into the program.
ISOLATE = """
import os, socket, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
s.set_inheritable(True)
os.execv(sys.argv[2], sys.argv[2:])
"""


def s8_unresponsive_discord(h, site, rec):
    """A bot token and a Discord that accepts but never answers: `run --once` ends? `run`
    stops on SIGTERM? Run in a network namespace of its own: when the gateway's address cannot
    be had from the API, serenity falls back to Discord's public gateway host, which must not
    be reached from here."""
    rows = []
    hole = f"http://{LOCAL}:{HOLE_PORT}"
    for mode in ("once", "run"):
        t0 = time.monotonic()
        d = scenario_dir(h, f"s8{mode}")
        items = make_items(f"s8{mode}", 3, site.base, h.seed)
        with open(os.path.join(d, "feed.xml"), "wb") as f:
            f.write(rss(items, site.base))
        feeds = [("F", "file:feed.xml", ['full_text = "never"'])]
        if h.legacy:
            # No api_base: Discord's https URLs go through a proxy that never answers.
            cfg = write_config(d, "s8.db", feeds, [bot_channel()])
            env = h.env({"HTTPS_PROXY": hole, "https_proxy": hole}, token=True)
        else:
            cfg = write_config(d, "s8.db", feeds, [bot_channel()],
                               discord={"api_base": f'"{hole}"'})
            env = h.env(token=True)
        argv = ["unshare", "--net", sys.executable, "-c", ISOLATE, str(HOLE_PORT),
                h.binary, "--config", cfg]
        if mode == "once":
            p = Proc([*argv, "run", "--once"], env, d, os.path.join(d, "once.out"),
                     os.path.join(d, "once.err"))
            h.procs.append(p)
            hung = p.wait(60) is None
            if hung:
                p.send(signal.SIGKILL)
                p.wait(10)
            outcome = ("run --once did not end in 60 s" if hung
                       else f"run --once ended after {p.runtime():.1f} s, exit {p.rc}")
            name = "8b unresponsive Discord: run --once"
        else:
            p = Proc([*argv, "run"], env, d, os.path.join(d, "daemon.out"),
                     os.path.join(d, "daemon.err"))
            h.procs.append(p)
            time.sleep(1.5)
            rc, took = p.stop(30)
            outcome = (f"exit {rc} {took:.1f} s after SIGTERM" if rc is not None
                       else "still running 30 s after SIGTERM (killed)")
            if p.runtime() < 1.5:
                outcome = f"ended by itself after {p.runtime():.1f} s (exit {p.rc})"
            name = "8c unresponsive Discord: run, SIGTERM at 1.5 s"
        err = stderr_of(p)
        if "ip: " in err or "unshare:" in err:
            outcome = "skipped: no network namespace (" + err.strip()[:60] + ")"
        stats = store_stats(os.path.join(d, "s8.db"))
        if "panicked" in err:
            outcome += "; PANIC"
        rows.append(row(name, outcome + " (default 20 s timeout)", 3, stored_cell(stats), 0, 0,
                        "—", [p], time.monotonic() - t0))
    return rows


def s9_closed_pipe(h, site, rec):
    """`feeds list | head -1` with 3000 feeds (more than a pipe holds)."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s9")
    port = free_port()
    feeds = [(f"Feed {i:04d} with a long enough name", f"http://{LOCAL}:{port}/f{i}.xml", [])
             for i in range(3000)]
    cfg = write_config(d, "s9.db", feeds, [LIVE], polling={"interval": '"1h"'})
    setup, _ = h.run(d, cfg, ["poll"], timeout=60, tag="setup")
    script = (f'"{h.binary}" --config "{cfg}" feeds list | head -1 > /dev/null; '
              'echo "${PIPESTATUS[0]}" >&2')
    # time measures bash, whose peak includes the newsdesk it waited for.
    p = Proc(["bash", "-c", script], h.env(), d, os.path.join(d, "pipe.out"),
             os.path.join(d, "pipe.err"))
    h.procs.append(p)
    p.wait(60)
    err = stderr_of(p).strip().splitlines()
    code = err[-1] if err else "?"
    outcome = f"newsdesk exit {code}; " + ("PANIC (broken pipe)" if panicked([p]) else "no panic")
    return row("9 feeds list | head -1", outcome, procs=[p], wall=time.monotonic() - t0)


CHECK_TOML = """[storage]
path = "x.db"

[polling]
interval = true
user_agnet = "typo"

[[feed]]
name = "A"
url = "http://127.0.0.1:9/a.xml"

[[feed]]
name = "A"
url = "http://127.0.0.1:9/b.xml"

[[topic]]
name = "Bad Name"
query = 'policy'

[summarizer]
max_chars = 10

[[channel]]
name = "live"
mode = "live"
max_stories = 0
topics = ["nope"]
"""


def s10_check(h, site, rec):
    """`check` on a file with 7 mistakes."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s10")
    cfg = os.path.join(d, "seven.toml")
    with open(cfg, "w") as f:
        f.write(CHECK_TOML)
    p, _ = h.run(d, cfg, ["check"], timeout=30, tag="check")
    with open(p.out_path, encoding="utf-8", errors="replace") as f:
        text = f.read() + stderr_of(p)
    reported = len(re.findall(r"seven\.toml:\d+:\d+:", text))
    return row("10 check, 7 mistakes", f"{reported} of 7 reported, exit {p.rc}", procs=[p],
               wall=time.monotonic() - t0)


def overlapping_articles(seed, count=400):
    """Articles about pairs of events told in the same words but for their names and numbers,
    drawing most words from one pool of 3000: stories then hold more terms than a centroid
    keeps, and later articles match both events of a pair equally, so only tie rules (never a
    hash map's per-process order) may decide what comes first."""
    rng = random.Random(seed)
    common = words(rng, 3000)
    kinds = [words(rng, 12) for _ in range(6)]
    events = [(e // 2 % 6, [w.capitalize() for w in words(rng, 4)], rng.randrange(10, 100))
              for e in range(40)]
    lines = []
    while len(lines) < count:
        pair = rng.randrange(20)
        # A template: slots are ("name", i), ("kind", i), ("number",) or ("common", i).
        def slot():
            r = rng.random()
            if r < 0.2:
                return ("name", rng.randrange(4))
            if r < 0.4:
                return ("kind", rng.randrange(12))
            if r < 0.5:
                return ("number",)
            return ("common", rng.randrange(3000))
        title = [("name", rng.randrange(4)), ("kind", rng.randrange(12)),
                 ("common", rng.randrange(3000)), ("kind", rng.randrange(12))]
        body = [[slot() for _ in range(12 + rng.randrange(8))] for _ in range(8 + rng.randrange(5))]
        for kind, names, number in events[2 * pair: 2 * pair + 2]:
            def render(slots):
                out = []
                for s in slots:
                    if s[0] == "name":
                        out.append(names[s[1]])
                    elif s[0] == "kind":
                        out.append(kinds[kind][s[1]])
                    elif s[0] == "number":
                        out.append(str(number))
                    else:
                        out.append(common[s[1]])
                return " ".join(out)
            n = len(lines)
            if n == count:
                break
            lines.append(json.dumps({
                "id": f"a{n}",
                "title": render(title),
                "text": " ".join(f"The {render(b)}." for b in body),
                "source": f"outlet{n % 5}",
                "published": f"2026-01-{5 + n // 600:02d}T{n // 60 % 10 + 8:02d}:{n % 60:02d}:00Z",
            }))
    return "\n".join(lines) + "\n"


def s11_relate(h, site, rec):
    """`relate` twice on the same 400-line input."""
    t0 = time.monotonic()
    d = scenario_dir(h, "s11")
    inp = os.path.join(d, "articles.jsonl")
    with open(inp, "w") as f:
        f.write(overlapping_articles(h.seed))
    cfg = write_config(d, "unused.db", [], [LIVE])
    outs, procs = [], []
    for _ in range(2):
        p, _ = h.run(d, cfg, ["relate", "--input", inp], timeout=60, tag="relate")
        with open(p.out_path, "rb") as f:
            outs.append(f.read().splitlines())
        procs.append(p)
    differ = sum(1 for a, b in zip(*outs) if a != b) + abs(len(outs[0]) - len(outs[1]))
    outcome = ("identical" if differ == 0 else f"DIFFERENT: {differ} of {len(outs[0])} lines")
    outcome += f" ({len(outs[0])} lines, exits {[p.rc for p in procs]})"
    return row("11 relate twice, 400 lines", outcome, procs=procs, wall=time.monotonic() - t0)


SCENARIOS = {
    "1": s1_webhook,
    "2": s2_kills,
    "3": s3_two_daemons,
    "4": s4_disk_full,
    "5": s5_secret,
    "6": lambda h, s, r: [s6_big_item(h, s, r, 1_000_000, "1MB"),
                          s6_big_item(h, s, r, 5_000_000, "5MB")],
    "7": lambda h, s, r: [s7_slow_feed(h, s, r), s7_huge_feed(h, s, r)],
    "8": lambda h, s, r: [s8_sigterm(h, s, r), *s8_unresponsive_discord(h, s, r)],
    "9": s9_closed_pipe,
    "10": s10_check,
    "11": s11_relate,
}

COLUMNS = [
    ("scenario", "scenario"),
    ("outcome", "outcome"),
    ("served", "items served"),
    ("stored", "stored (items/processed)"),
    ("delivered", "delivered"),
    ("dup", "duplicates"),
    ("loss", "losses"),
    ("rss", "peak RSS"),
    ("wall", "wall time"),
]


def legacy_config(binary, work):
    """True when the binary refuses `[discord] api_base` (the code before issue 10's fixes)."""
    d = os.path.join(work, "probe")
    os.makedirs(d, exist_ok=True)
    cfg = write_config(d, "probe.db", [], [LIVE], discord={"api_base": '"http://127.0.0.1:9"'})
    out = subprocess.run([binary, "--config", cfg, "check"], capture_output=True, text=True,
                         timeout=30)
    return out.returncode != 0 and "api_base" in out.stdout + out.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True, help="the newsdesk binary to test")
    ap.add_argument("--only", help="comma-separated scenario numbers (default: all)")
    ap.add_argument("--seed", type=int, default=10, help="seed for kill moments and texts")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if not os.access(TIME, os.X_OK):
        sys.exit(f"{TIME} is needed (peak RSS of each newsdesk process)")
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="newsdesk-faults-")
    legacy = legacy_config(binary, work)
    h = Harness(binary, work, args.seed, legacy)
    site, rec = Site(), Receiver()
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    print(f"binary: {binary}")
    kind = ("legacy (no api_base/allow_private: Discord only through a proxy, or the terminal)"
            if legacy else "current (api_base)")
    print(f"config: {kind}; seed {args.seed}; work dir {work}")
    print()
    print("| " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    try:
        for key in chosen:
            try:
                got = SCENARIOS[key](h, site, rec)
            except Exception as e:  # one broken scenario must not hide the others
                got = row(f"{key} (harness error)", f"{type(e).__name__}: {e}")
            for r in got if isinstance(got, list) else [got]:
                print("| " + " | ".join(str(r[k]).replace("|", "\\|") for k, _ in COLUMNS) + " |",
                      flush=True)
            # Held connections end with their scenario.
            site.release.set()
            site.release = threading.Event()
            h.cleanup()
    finally:
        h.cleanup()
        site.close()
        rec.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
