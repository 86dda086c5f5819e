#!/usr/bin/env bash
# Installs the peers the load benchmark compares mockcrm with (json-server,
# at the version in package-lock.json) into benches/peers/node_modules.
# Needs Node.js and npm; `cargo bench --bench load` skips the peer stage
# with a note when they are not installed.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
