'use strict';
// Help texts, one per command. `--help` on any command prints its text and exits 0.

const EXIT_CODES = `Exit codes:
  0  success (valid token, no error findings, done)
  1  the token is bad (verification refused it, diagnose found an error, cannot be decoded)
  2  usage error (unknown command or option, missing or invalid argument)
  3  environment error (unreadable or invalid key file, unreachable issuer/JWKS, port in use)`;

const TOKEN_ARG = `<jwt>  the token; \`-\` (or nothing, with a pipe) reads it from standard input`;

const HELP = {
  main: `Usage: spacetime-gateway <command> [options]

Commands:
  token decode <jwt>        Show a token's header and payload (no verification)
  token verify <jwt>        Verify a token's signature and claims
  token diagnose <jwt>      Explain why SpacetimeDB (or the gateway) would refuse a token
  token mint                Mint a SpacetimeDB access token with a key file
  identity <iss> <sub>      Print the SpacetimeDB Identity of an issuer and subject
  identity migrate          Link users' Identities under a new issuer (dry run; --apply writes)
  identity retire-check     Has anyone used an old issuer lately? (exit 1 while they have)
  keys generate             Generate an ES256 or RS256 key pair (a JSON key file)
  issuer serve              Serve OIDC discovery + JWKS for key files on 127.0.0.1 (development)
  smoke                     End-to-end check for CI: token, connect, subscribe, call, SSE envelope

Every command takes --help, and --json for machine-readable output.

${EXIT_CODES}`,
  token: `Usage: spacetime-gateway token <decode|verify|diagnose|mint> [options]

  decode <jwt>     Show the header and payload (no verification)
  verify <jwt>     Verify signature and claims
  diagnose <jwt>   Findings with severity and a one-line fix
  mint             Mint a token with a key file

Run \`spacetime-gateway token <command> --help\` for options.`,
  'token decode': `Usage: spacetime-gateway token decode <jwt> [--json]

Prints the token's header and payload without checking its signature, plus the SpacetimeDB
Identity its iss/sub give. Never trust what it shows: use \`token verify\`.

  ${TOKEN_ARG}
  --json   print {"header", "payload", "identity"}

${EXIT_CODES}`,
  'token verify': `Usage: spacetime-gateway token verify <jwt> --issuer ISS --audience AUD [options]
       spacetime-gateway token verify <jwt> --issuers FILE [--json]

Verifies the signature (algorithm pinned to the key: ES256 for P-256, RS256 for RSA; never none/HS*)
and the claims (iss, aud, exp, nbf, iat, sub).

  ${TOKEN_ARG}
  --issuer ISS              the exact expected iss (required without --issuers)
  --audience AUD            an accepted audience (required; repeat for several)
  --jwks FILE|URL           the keys: a JWKS file, a JWK or key file, or a JWKS URL
                            (default: discover them at <issuer>/.well-known/openid-configuration)
  --alg ES256|RS256         restrict the algorithms (repeatable)
  --clock-tolerance SECS    tolerated clock skew for exp/nbf/iat (default 0)
  --issuers FILE            several issuers (an issuer migration's dual run), as TokenVerifier takes
                            them: a JSON array of {issuer, audience, jwks|jwksUri|discovery,
                            algorithms?, clockToleranceSeconds?}; the token's iss picks its entry, any
                            other iss is TOKEN_ISSUER_UNTRUSTED. Replaces the five options above.
  --json                    print {"valid", "payload", "identity"} or {"valid": false, "error"}

${EXIT_CODES}`,
  'token diagnose': `Usage: spacetime-gateway token diagnose <jwt> [options]

Lists findings (error / warning / info), each with a stable code and a one-line fix: algorithms
SpacetimeDB refuses (EdDSA, HS*), missing iat/kid, expiry, opaque tokens, issuer problems, audience,
e-mail subjects, dev issuers used against remote servers. It fetches the issuer's discovery document
and JWKS like SpacetimeDB does and, with --spacetimedb-url, asks the server (HS* tokens are never sent).

  ${TOKEN_ARG}
  --spacetimedb-url URL     the SpacetimeDB server the token is for
  --issuer ISS              the expected issuer (repeatable: any of them; others are not fetched)
  --audience AUD            the expected audience (repeatable)
  --offline                 no network: check the token alone
  --json                    print {"ok", "findings": [{code, severity, message, fix}]}

${EXIT_CODES}`,
  'token mint': `Usage: spacetime-gateway token mint --key FILE --issuer ISS --audience AUD --sub SUB [options]

Mints a SpacetimeDB access token (for development, tests and scripts) and prints it.

  --key FILE                key file from \`keys generate\` (or a private JWK with kid)
  --issuer ISS              the issuer URL (where discovery is served)
  --audience AUD            the audience (repeatable)
  --sub SUB                 the subject (stable user id; robots: robot:<id>)
  --claim NAME=VALUE        an extra claim (repeatable; VALUE is parsed as JSON when it can be)
  --claims JSON             extra claims as a JSON object
  --ttl SECS                lifetime (default 300)
  --json                    print {"token", "identity", "expiresAt"}

${EXIT_CODES}`,
  identity: `Usage: spacetime-gateway identity <iss> <sub> [--json]
       spacetime-gateway identity migrate|retire-check [options]   (see their --help)

Prints the SpacetimeDB Identity (hex) that tokens with this iss and sub get. The issuer is used
verbatim: a trailing "/" gives a different Identity.

  --json   print {"identity", "issuer", "subject"}

${EXIT_CODES}`,
  'identity migrate': `Usage: spacetime-gateway identity migrate --old-issuer ISS --new-issuer ISS --map FILE|-
                                         [--url URL --database DB (--token JWT | --token-file FILE)] [--apply]

Moves users to a new issuer without losing their rows: for each line of the subject map, derives the
old and the new Identity and links the new one to the same app user in the module's identity_link
(through its link_identity reducer), so tokens of both issuers reach the same rows. A DRY RUN unless
--apply: it prints each old Identity, new Identity and the rows it would write.

The map (a file, or - for standard input), one line per old subject; blank lines and # comments are
skipped, and so is a first line "old_subject,app_user_id,new_subject":
  old_subject,app_user_id,new_subject                              e.g.  00u1a2b3,user_42,8f1e-77c0
  {"old_subject": "…", "app_user_id": "…", "new_subject": "…"}      for a subject with a comma
Nothing is trimmed: the Identity hashes the exact string.

Refused, with the line numbers, before anything is written: malformed lines, an old subject on two
lines, one new subject for two users, a robot subject for a person (or the reverse); with the database:
an app user the module does not know (no actor_identity_map row), an old or new Identity linked to
another user. Warned: subjects that look like e-mail addresses (reassigned, renamed, case-sensitive:
map stable ids), an old Identity that is not linked.

  --old-issuer ISS      the issuer of the tokens in use now, exactly (a trailing "/" matters)
  --new-issuer ISS      the issuer to move to
  --map FILE|-          the subject map
  --url URL             the SpacetimeDB server (http(s)://)
  --database DB         the database (name or identity)
  --token JWT           the database owner's token (identity_link is a private table: only the owner
  --token-file FILE     reads it); or a file holding it
                        With them the dry run checks the database too; --apply needs them.
  --apply               write the missing links (idempotent: links already in place are skipped)
  --json                print {ok, mode, entries, problems, warnings, summary, message}

Exit codes:
  0  done (dry run: nothing refused; --apply: written, or nothing to do)
  1  problems found: the map or the database refused (nothing written), or a write failed
  2  usage error (unknown option, missing or invalid argument)
  3  environment error (unreadable map or token file, server unreachable, not the owner's token)`,
  'identity retire-check': `Usage: spacetime-gateway identity retire-check --issuer ISS [--since DURATION|TIME]
                                              --url URL --database DB (--token JWT | --token-file FILE)

May the old issuer be switched off? Lists the users and robots whose identity_link under ISS was used
(a connection, or a reducer call that committed) within --since, from the module's last_seen_at. The
module records a use at most once a minute, so the window starts 60 s earlier. Calls that a trusted
gateway makes naming an actor carry no issuer the module can see and are not counted.

  --issuer ISS          the old issuer, exactly
  --since D|TIME        a duration back from now (90s, 15m, 12h, 30d, 2w) or an ISO 8601 time
                        (default 30d)
  --url, --database, --token, --token-file   as for "identity migrate" (the owner's token)
  --json                print {ok, issuer, since, windowStart, links, inUse, idle}

Exit codes:
  0  nobody used the issuer within the window
  1  someone did (listed): keep the issuer
  2  usage error
  3  environment error (server unreachable, not the owner's token)`,
  keys: `Usage: spacetime-gateway keys generate [options]

Run \`spacetime-gateway keys generate --help\` for options.`,
  'keys generate': `Usage: spacetime-gateway keys generate [--alg ES256|RS256] [--kid KID] [--out FILE] [--force] [--json]

Generates a key pair and prints (or writes, mode 0600) a JSON key file:
{ alg, kid, privateKeyPem, publicKeyPem, publicJwk }. TokenBroker accepts it as-is.

  --alg ES256|RS256   the algorithm (default ES256; RS256 uses RSA-2048)
  --kid KID           the key id (default: its RFC 7638 thumbprint)
  --out FILE          write the key file there instead of printing it
  --force             overwrite FILE
  --json              with --out: print {"alg", "kid", "file", "publicJwk"}

${EXIT_CODES}`,
  issuer: `Usage: spacetime-gateway issuer serve --key FILE [options]

Run \`spacetime-gateway issuer serve --help\` for options.`,
  'issuer serve': `Usage: spacetime-gateway issuer serve --key FILE [--key FILE...] [options]

A local OIDC issuer for development and tests: serves <issuer>/.well-known/openid-configuration and
the JWKS of the key files on 127.0.0.1. The first key is the active one; the others are published as
retiring keys. Runs until interrupted. Never expose it: it is for local SpacetimeDB servers only.

  --key FILE        key file (repeatable)
  --port PORT       port (default 0: any free port)
  --host HOST       loopback address to bind (default 127.0.0.1)
  --path PATH       mount path, e.g. /api/auth (default: none)
  --json            print one line {"issuer", "discoveryUrl", "jwksUrl"} when ready

${EXIT_CODES}`,
  smoke: `Usage: spacetime-gateway smoke --url URL --database DB <token source> --call 'REDUCER [JSON]'
                              (--tenant ID | --all-tenants) (--table NAME | --subscribe SQL)... [options]

The browser-free end-to-end check an app's CI runs against local or staging SpacetimeDB: gets a token,
connects a gateway, subscribes, opens an SSE stream through a real HTTP server on 127.0.0.1, calls the
reducer through the same path the app uses (callReducer), and checks the call's event on the stream:
its envelope (event, id, tenant_id, schema_version, payload) and your expectations. Every step has a
deadline and a name; a progress line per step is printed on a terminal (or with --progress).

In arguments, the tenant and expectations, {run} is this run's random id and {marker} is unique per
call (smoke-<run>-<n>): put {marker} in the call's arguments so its event can be recognised.

Token source (one):
  --key FILE --issuer ISS   mint with a key file; SpacetimeDB must find the issuer's JWKS
    [--audience AUD] [--sub SUB] [--ttl SECS]      (defaults: spacetimedb, robot:smoke, 300; 6 with expiry)
  --token JWT | --token-file FILE                  a ready-made token (a robot credential)
  --token-url URL [--token-header 'Name: value']   POST to an app or issuer endpoint returning
                                                   {"token": "…"} or the token as text

What to do:
  --subscribe SQL           a subscription (repeatable; default: SELECT * FROM each --table)
  --table NAME              a table to stream (repeatable; default: every table with a tenant column)
  --tenant ID | --all-tenants   the stream's tenant
  --tenant-column COL       the gateway's tenantColumn (default tenant_id)
  --schema-version N        the stream's schema_version (default 1)
  --setup 'REDUCER [JSON]'  a call before the checked one (repeatable), e.g. creating the tenant
  --call 'REDUCER [JSON]'   the checked call (required)
  --actor JSON|STRING       opts.actor of the calls (the service topology; docs/actors.md)

Expectations of the call's event (default: tenant_id = --tenant, schema_version = --schema-version):
  --expect FILE             a JSON object {event?, tenant_id?, schema_version?, payload?}
  --expect-event NAME       e.g. document.insert
  --expect-tenant ID
  --expect-schema-version N
  --expect-payload JSON     the payload must contain this (objects: recursively, by key)

Failures to live through:
  --simulate expiry         short tokens: calls keep coming while the gateway refreshes its token
  --simulate disconnect     the gateway drops its connection; a second one writes meanwhile; the
                            gateway reconnects and catches up
  --simulate-calls N        calls during the simulation (default 6); each event must arrive exactly once

  --timeout MS              the deadline of each step (default 10000)
  --progress                progress lines even when stderr is not a terminal
  --json                    print the report {ok, steps, event, simulate?, failure?}

Exit codes:
  0  passed
  1  an expectation failed (a call refused, no or a wrong event, lost or repeated events)
  2  usage error (unknown option, missing or invalid argument, unknown reducer or table)
  3  environment error (server unreachable, no such database, token refused, unreadable key file)`,
};

module.exports = { HELP };
