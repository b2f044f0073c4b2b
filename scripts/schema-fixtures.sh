#!/usr/bin/env bash
# Regenerates tests/fixtures/module-2x.v10.json and module-2x.v9.json: a module definition as a SpacetimeDB
# 2.x server serves it at /schema?version=10 and ?version=9, made by the server's own crates
# (tools/schema-fixtures: build the raw definition, validate it into a ModuleDef, convert and serialize it
# like the schema route). No 2.x server can run here; this is the record `cargo test` decodes.
#   scripts/schema-fixtures.sh        (CARGO_TARGET_DIR is honoured; first build ~1-2 min)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cargo run --quiet --manifest-path "$root/tools/schema-fixtures/Cargo.toml"
