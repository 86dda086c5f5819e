#!/usr/bin/env bash
# How long `mockcrm contract` takes for 100 generated cases of the good
# example connector (fixtures/connectors/good.js), against a throwaway
# in-memory server, with the release build:
#
#   benches/contract.sh
#
# It prints one row per setting: no faults; the default faults with
# good.js's own 5 s request timeout (a create delayed past it costs ~6 s,
# a 429 waits its 1 s Retry-After), played one case at a time (--jobs 1,
# as every run was before --jobs) and with the default --jobs; the default
# faults with that timeout shortened to 0.3 s, as the tests run them; for
# comparison, the proxy config fixtures/proxy-configs/minimal.json
# without faults, which runs in-process with no Node.js; and the message
# half (--only messages) without faults and under the default ones. A figure, not a
# test: it fails only when a property fails. MOCKCRM_BENCH_CASES and
# MOCKCRM_BENCH_SEED change the number of cases and the seed;
# MOCKCRM_BENCH_JOBS="2 4 16" adds a row per --jobs value under the default
# faults (how the default was chosen); MOCKCRM_BENCH_BIN times another
# build (an older one, for a before and after) instead of building this one.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=${MOCKCRM_BENCH_CASES:-100}
seed=${MOCKCRM_BENCH_SEED:-1}
command -v node >/dev/null 2>&1 || { echo "node not found: install Node.js 18 or later" >&2; exit 1; }
if [ -n "${MOCKCRM_BENCH_BIN:-}" ]; then
  bin=$MOCKCRM_BENCH_BIN
else
  cargo build --release --locked --quiet
  bin=target/release/mockcrm
fi
# The call rows play calls alone (--only calls), as every run did before the
# message half; a build without --only plays nothing else.
if "$bin" contract --help | grep -q -- '--only'; then
  calls=(--only calls)
else
  calls=()
fi
# A build from before --jobs takes no such flag: its rows are one job.
if "$bin" contract --help | grep -q -- '--jobs'; then
  one_job=(--jobs 1)
else
  one_job=()
fi

echo "mockcrm contract, ${cases} cases of fixtures/connectors/good.js, seed ${seed}, $(node --version), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-50s %10s %12s\n' "faults" "seconds" "ms per case"
row() {
  local label=$1
  shift
  local started ended
  started=$(date +%s%N)
  "$@" >/dev/null
  ended=$(date +%s%N)
  awk -v label="$label" -v ns=$((ended - started)) -v cases="$cases" \
    'BEGIN { printf "%-50s %10.1f %12.1f\n", label, ns / 1e9, ns / 1e6 / cases }'
}
row "none" \
  "$bin" contract "${calls[@]}" --serve --cases "$cases" --seed "$seed" --faults none fixtures/connectors/good.js
row "default (connector timeout 5 s), 1 job" \
  "$bin" contract "${calls[@]}" --serve --cases "$cases" --seed "$seed" --faults default "${one_job[@]}" fixtures/connectors/good.js
if [ ${#one_job[@]} -gt 0 ]; then
  row "default (connector timeout 5 s), default jobs" \
    "$bin" contract "${calls[@]}" --serve --cases "$cases" --seed "$seed" --faults default fixtures/connectors/good.js
  for jobs in ${MOCKCRM_BENCH_JOBS:-}; do
    row "default (connector timeout 5 s), $jobs jobs" \
      "$bin" contract "${calls[@]}" --serve --cases "$cases" --seed "$seed" --faults default --jobs "$jobs" fixtures/connectors/good.js
  done
fi
row "default (connector timeout 0.3 s)" \
  env MOCKCRM_CONNECTOR_ATTEMPT_TIMEOUT_MS=300 \
  "$bin" contract "${calls[@]}" --serve --cases "$cases" --seed "$seed" --faults default --connector-timeout 0.3 fixtures/connectors/good.js
# A proxy config runs in-process, with no Node.js; under faults it writes
# twice (App Connect's engine sends no idempotency key), so only no faults.
row "none, proxy config minimal.json (no Node.js)" \
  "$bin" contract --serve --cases "$cases" --seed "$seed" --faults none fixtures/proxy-configs/minimal.json
# The message half: as many conversations, each a few syncs of messages.
if [ ${#calls[@]} -gt 0 ]; then
  row "messages, none" \
    "$bin" contract --only messages --serve --cases "$cases" --seed "$seed" --faults none fixtures/connectors/good.js
  row "messages, default (connector timeout 5 s)" \
    "$bin" contract --only messages --serve --cases "$cases" --seed "$seed" --faults default fixtures/connectors/good.js
fi
