#!/usr/bin/env bash
# Screenshots of the offline demo's pages in headless Chromium, as a reader sees them: the front
# page and a story page with five Related entries, at desktop width, at phone width and in dark
# mode. Not part of `cargo test` (CI needs no browser).
#
#   scripts/screenshots.sh [OUT_DIR]      (default: target/screenshots)
#
# Installs Debian's `chromium` with apt-get when /usr/bin/chromium is missing (as root), builds
# newsdesk, runs the demo once into a temporary directory, serves it with `newsdesk serve` on a
# free loopback port, and stops the server on exit, however the script ends.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/target/screenshots}" && cd "${1:-$root/target/screenshots}" && pwd)
chromium=/usr/bin/chromium

need_package() { # binary, package
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "installing $2 (apt-get)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
}
[ -x "$chromium" ] || need_package chromium chromium
need_package curl curl

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cargo build --quiet --manifest-path "$root/Cargo.toml"
newsdesk="$root/target/debug/newsdesk"

cp -r "$root/config/demo" "$root/config/demo.toml" "$work/"
"$newsdesk" --config "$work/demo.toml" run --once --dry-run >/dev/null

# Port 0: the system picks a free port, and `serve` says which.
"$newsdesk" --config "$work/demo.toml" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
server=$!
base=""
for _ in $(seq 100); do
    base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" || true)
    [ -n "$base" ] && curl -fsS -o /dev/null "$base/healthz" && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || { echo "the server never answered" >&2; exit 1; }

# The first story on the front page whose Related list has five entries.
story=""
for id in $(curl -fsS "$base/" | grep -o 'href="/story/[0-9]*"' | grep -o '[0-9]*'); do
    related=$(curl -fsS "$base/story/$id" | sed -n 's/.*<h2>Related<\/h2>//p' |
        grep -o '<li>' | wc -l)
    if [ "$related" -eq 5 ]; then
        story=$id
        break
    fi
done
[ -n "$story" ] || { echo "no story with five Related entries" >&2; exit 1; }

shoot() { # file, url, width, height, extra flags...
    local file=$1 url=$2 width=$3 height=$4
    shift 4
    local profile
    profile=$(mktemp -d -p "$work")
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$profile" --window-size="$width,$height" \
        "$@" --screenshot="$out/$file" "$url" >/dev/null 2>&1
    [ -s "$out/$file" ] || { echo "no screenshot $file" >&2; exit 1; }
    echo "$out/$file"
}

dark=(--force-dark-mode --blink-settings=preferredColorScheme=0)
shoot front.png "$base/" 1000 1400
shoot story.png "$base/story/$story" 1000 1400
shoot story-phone.png "$base/story/$story" 400 1600
shoot front-phone.png "$base/" 400 1000
shoot story-dark.png "$base/story/$story" 1000 1400 "${dark[@]}"
shoot feeds.png "$base/feeds" 1000 600
shoot feeds-phone.png "$base/feeds" 400 800
