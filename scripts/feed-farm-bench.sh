#!/usr/bin/env bash
# How newsdesk's cost grows with the installation (issue 16): N static RSS feeds of 20 items
# (texts borrowed from ../shared/eval) served by nginx on 127.0.0.1, polled with
# `newsdesk poll --all` cold (empty store: fetch, store and process everything), warm (every feed
# answers 304) and changed (two new items per feed), beside a Python requests + feedparser
# poller (parse only) with the same concurrency, in the same run. Prints seconds, the ratio to
# the first N, peak RSS and database size.
#
#   scripts/feed-farm-bench.sh [N ...]        (default: 1000 5000 10000)
#
# Run by hand, not in CI: it installs nginx with apt-get when missing, and the Python poller's
# two packages in a virtualenv under the work directory. Environment: FARM_DIR (work directory,
# default /tmp/newsdesk-feed-farm), FARM_PORT (18080), NEWSDESK_BIN (target/release/newsdesk,
# built if missing), FARM_THREADS (16: polling.concurrency and the Python poller's threads),
# FARM_REUSE (1: keep the farm and both pollers' state that an earlier run left for each N, skip
# the cold polls, and measure warm, then changed with the farm's next round of new items; the
# round reached is kept in the farm's `round` file).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${FARM_DIR:-/tmp/newsdesk-feed-farm}
port=${FARM_PORT:-18080}
threads=${FARM_THREADS:-16}
bin=${NEWSDESK_BIN:-$repo/target/release/newsdesk}
reuse=${FARM_REUSE:-0}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 5000 10000)

[ -x "$bin" ] || (cd "$repo" && cargo build --release)
for tool in nginx:nginx-light sqlite3:sqlite3; do
    if ! command -v "${tool%%:*}" > /dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${tool#*:}" > /dev/null
    fi
done
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q feedparser requests
fi

nginx_conf=$work/nginx.conf
stop_nginx() { [ -f "$work/nginx.pid" ] && nginx -c "$nginx_conf" -s quit 2> /dev/null || true; }
trap stop_nginx EXIT

# One timed run: prints "seconds peak_kB" of the command (its output goes to $work/last.log).
timed() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/last.log" 2>&1 \
        || { echo "failed: $*" >&2; tail -5 "$work/last.log" >&2; exit 1; }
    cat "$work/time"
}

declare -A result
for n in "${sizes[@]}"; do
    farm=$work/n$n
    fresh=1
    if [ "$reuse" = 1 ] && [ -f "$farm/farm.db" ] && [ -f "$farm/py-state.json" ]; then
        fresh=0
    else
        rm -rf "$farm"
        mkdir -p "$farm/tmp"
        python3 "$repo/scripts/feed_farm.py" "$farm" "$n" "$port"
        echo 0 > "$farm/round"
    fi
    round=$(( $(cat "$farm/round" 2> /dev/null || echo 1) + 1 ))
    stop_nginx
    cat > "$nginx_conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $farm/tmp;
    types { application/rss+xml xml; }
    server { listen 127.0.0.1:$port; root $farm; etag on; }
}
CONF
    nginx -c "$nginx_conf"
    sed -i "s/^concurrency = .*/concurrency = $threads/; s/^per_host_concurrency = .*/per_host_concurrency = $threads/" "$farm/farm.toml"
    py() { timed "$work/venv/bin/python" "$repo/scripts/feed_farm_poll.py" "$farm/farm.toml" "$farm/py-state.json" "$threads"; }
    nd() { timed "$bin" --config "$farm/farm.toml" poll --all; }
    if [ "$fresh" = 1 ]; then
        result[py,cold,$n]=$(py); result[py,warm,$n]=$(py)
        result[nd,cold,$n]=$(nd); result[nd,warm,$n]=$(nd)
    else
        result[py,warm,$n]=$(py); result[nd,warm,$n]=$(nd)
    fi
    python3 "$repo/scripts/feed_farm.py" "$farm" "$n" "$port" --round "$round"
    echo "$round" > "$farm/round"
    result[py,changed,$n]=$(py); result[nd,changed,$n]=$(nd)
    items=$(sqlite3 "file:$farm/farm.db?mode=ro" "SELECT COUNT(*) FROM items")
    bytes=$(cat "$farm"/farm.db "$farm"/farm.db-wal 2> /dev/null | wc -c)
    result[nd,db,$n]="$((bytes / 1048576)) MiB, $((bytes / items)) B/item"
    echo "N=$n done" >&2
done

base=${sizes[0]}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
cell() {
    local sys=$1 kind=$2 n=$3 secs kb
    if [ -z "${result[$sys,$kind,$n]:-}" ]; then
        printf "–"
        return
    fi
    read -r secs kb <<< "${result[$sys,$kind,$n]}"
    read -r base_secs _ <<< "${result[$sys,$kind,$base]:-0 0}"
    printf "%s s (×%s), %s MB" "$secs" "$(ratio "$secs" "$base_secs")" "$((kb / 1024))"
}
echo
echo "| feeds | system | cold | warm (all 304) | changed (2 new per feed) | database |"
echo "|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
    echo "| $n | newsdesk poll --all | $(cell nd cold "$n") | $(cell nd warm "$n") | $(cell nd changed "$n") | ${result[nd,db,$n]} |"
    echo "| $n | requests + feedparser (parse only) | $(cell py cold "$n") | $(cell py warm "$n") | $(cell py changed "$n") | |"
done
echo
echo "($threads at a time for both; ratios to N=$base; MB = peak RSS)"
