#!/usr/bin/env bash
# Installs the baselines' own dependencies (the official SpacetimeDB TypeScript SDK 1.3.3 and the undici
# WebSocket it uses on Node 20) exactly as locked in package-lock.json, into bench/baselines/node_modules.
# Benchmarks call this themselves on a fresh machine; it takes a few seconds and needs npm >= 7.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
npm ci --no-audit --no-fund --loglevel=error
