#!/usr/bin/env bash
# Issue #18's create ÷ health ratio under wrk: `GET /health`, then
# `POST /activity` with 1.5 KiB bodies (create.lua), each for 10 s over 16
# connections on 2 threads, against one `mockcrm serve` on a fresh file
# database in a temporary directory. Prints wrk's output, the load average
# before each, the server's CPU per request, and the ratio.
#
#   benches/wrk/run.sh [MOCKCRM_BINARY]     (default: target/release/mockcrm)
#
# WRK_ARGS overrides "-t2 -c16 -d10s". Needs wrk (Debian: apt-get install wrk).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../target/release/mockcrm}
args=${WRK_ARGS:--t2 -c16 -d10s}
command -v wrk >/dev/null || { echo "wrk is not installed (Debian: apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || { echo "no mockcrm binary at $bin (cargo build --release)" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/mockcrm-wrk-XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

RUST_LOG=warn "$bin" serve --addr 127.0.0.1:0 --db "$dir/crm.db" >"$dir/stdout" 2>"$dir/stderr" &
pid=$!
url=
for _ in $(seq 1 500); do
    url=$(sed -n 's/^mockcrm listening on //p' "$dir/stdout" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/stderr" >&2; exit 1; }
    sleep 0.02
done
[ -n "$url" ] || { echo "no ready line from $bin" >&2; exit 1; }
echo "$bin on $url"

# User + system CPU seconds of the server so far.
cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$pid/stat"; }
# Requests wrk made: "N requests in ...".
requests() { sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p' "$1"; }
rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }

run() { # name, wrk arguments...
    local name=$1; shift
    echo; echo "== $name: wrk $args $*  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    local before; before=$(cpu)
    # shellcheck disable=SC2086
    wrk $args "$@" | tee "$dir/$name.out"
    local after; after=$(cpu)
    awk -v b="$before" -v a="$after" -v n="$(requests "$dir/$name.out")" -v name="$name" \
        'BEGIN { printf "%s: server CPU %.0f µs per request\n", name, (a - b) * 1e6 / n }'
}

run health "$url/health"
run create -s "$here/create.lua" "$url"
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$dir/create.out")
[ -z "$non2xx" ] || echo "warning: $non2xx creates were not answered 201" >&2
awk -v c="$(rate "$dir/create.out")" -v h="$(rate "$dir/health.out")" \
    'BEGIN { printf "\ncreate %.0f/s ÷ health %.0f/s = %.2f\n", c, h, c / h }'
