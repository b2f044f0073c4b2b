#!/usr/bin/env bash
# Stand-in enterprise identity providers (Keycloak, Entra ID, Google Workspace, a WorkOS-style broker) on
# 127.0.0.1, each a real OpenID Provider (the `oidc-provider` package) with discovery and a JWKS.
#
#   scripts/oidc.sh up [--provider NAME]... [--port NAME=PORT]...   start in the background; prints
#       OIDC_STANDINS=<state file> and OIDC_<NAME>_ISSUER=… lines
#   scripts/oidc.sh token PROVIDER USER [--json]                     sign USER in; prints the ID token
#   scripts/oidc.sh down [STATE_FILE] | --all                        stop (by pid) and clean up
#   scripts/oidc.sh serve …                                          run in the foreground
#
# docs/enterprise-identity.md describes the providers' claims and users.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $root/node_modules/oidc-provider ]] || bash "$root/scripts/setup.sh" --deps-only
# On Node 24 (scripts/node.sh): oidc-provider 9 supports Node 22 and later only ("Unsupported runtime" on 20).
exec bash "$root/scripts/node.sh" -- node "$root/tools/oidc-standins/cli.mjs" "$@"
