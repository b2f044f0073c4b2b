#!/usr/bin/env bash
# `npm run demo`: starts a local SpacetimeDB with the reference module (building what is missing), runs
# examples/demo.mjs against it, and stops the server again.
exec bash "$(dirname "${BASH_SOURCE[0]}")/with-spacetimedb.sh" --release -- node examples/demo.mjs "$@"
