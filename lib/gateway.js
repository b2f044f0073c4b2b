'use strict';
// The Gateway: one SpacetimeDB database, held open by the native core.

const native = require('../index.js');
const { GatewayError, invalidArgument: invalid, awaitNative, callNative } = require('./errors.js');
const { toOptionsJson, toWireJson } = require('./values.js');
const { describe, readOptions, readingArgument, requireString } = require('./args.js');
const { nativeHandles } = require('./internal.js');
const { RelayHub } = require('./stream.js');
const { streamRequestOptions, closeOnAbort } = require('./fetch.js');

// The defaults and rules of the connect and call options are the native layer's (src/gateway/options.rs):
// the options cross as JSON, and only what JSON cannot carry (a token function, a log function, a
// verifier handle) is taken out here.
const DEFAULT_CLOSE_DEADLINE_MS = 5_000;
// The `retry:` hint of the `closed` (`shutdown`) frame: soon, but not all clients in the same instant.
const DEFAULT_SHUTDOWN_RETRY_MS = 1_000;

/** Takes the verifier handle out of `options.userCalls` (the rest crosses as JSON and is checked natively). */
function userCallsOf(value) {
  if (value === null || typeof value !== 'object' || readingArgument('options.userCalls', () => Array.isArray(value))) {
    return { wire: value, verifier: undefined };
  }
  const { verifier, ...wire } = readOptions(value, 'options.userCalls');
  const handle = verifier === undefined ? undefined : nativeHandles.get(verifier);
  if (verifier !== undefined && handle === undefined) {
    throw invalid('userCalls.verifier must be a TokenBroker or a TokenVerifier of this package');
  }
  return { wire, verifier: handle };
}

/** The native call result with absent facts as `null` (the HTTP route reports no timestamp or request id). */
function callResult(r) {
  return {
    status: r.status,
    via: r.via,
    timestamp: r.timestamp ?? null,
    requestId: r.requestId ?? null,
    energyUsed: r.energyUsed ?? null,
    durationMicros: r.durationMicros ?? null,
  };
}

/** The error of a call on a closed gateway, after one turn of the event loop: a loop that keeps calling a
 * closed gateway (`while (running) await gateway.callReducer(…)`) must not starve timers, I/O or the
 * `close()` that is waiting to finish. */
async function closedLater(what) {
  await new Promise((resolve) => setImmediate(resolve));
  throw new GatewayError('CLOSED', `the gateway is closed; ${what} was not sent`);
}

/** Checks a reducer or procedure call's name and args in JS; returns its options as JSON (checked natively:
 * the route, the timeout), or undefined when there are none (most calls). */
function callOptionsJson(kind, name, args, opts) {
  requireString(name, `${kind} name`);
  if (args === null || typeof args !== 'object') throw invalid(`args must be an array or an object keyed by parameter name, got ${describe(args)}`);
  const what = kind === 'reducer' ? 'callReducer opts' : 'callProcedure opts';
  const read = readOptions(opts, what);
  return Object.keys(read).length === 0 ? undefined : toOptionsJson(read, what);
}

function checkQueries(queries, name) {
  const ok = readingArgument(name, () => Array.isArray(queries) && queries.length > 0 && queries.every((q) => typeof q === 'string' && q.trim() !== ''));
  if (!ok) throw invalid(`${name} must be a non-empty array of SQL strings`);
  return [...queries];
}

class Gateway {
  #native;
  #listeners = new Set();
  #stateListeners = new Set();
  #lastStatus = null;
  #schema = null;
  #closed = false;
  #relay = null;

  /** @internal Use `Gateway.connect`. */
  constructor(handle) {
    if (!(handle instanceof native.NativeGateway)) throw new TypeError('use Gateway.connect(options)');
    this.#native = handle;
  }

  /**
   * Connects to a database: fetches its schema, opens the websocket, waits for the identity and, when
   * `subscriptions` are given, for their initial rows.
   */
  static async connect(options) {
    if (options === null || typeof options !== 'object') throw invalid('Gateway.connect needs an options object');
    const { token, userCalls, onLog, ...rest } = readOptions(options, 'Gateway.connect');
    const tokenFunction = typeof token === 'function' ? tokenFunctionOf(token) : undefined;
    const { wire, verifier } = userCallsOf(userCalls);
    const optionsJson = toOptionsJson({ ...rest, token: tokenFunction ? undefined : token, userCalls: wire }, 'the options of Gateway.connect');
    const handle = await awaitNative(() => native.connectGateway(optionsJson, tokenFunction, logFunctionOf(onLog)));
    if (verifier instanceof native.NativeTokenBroker) handle.setUserCallBroker(verifier);
    else if (verifier instanceof native.NativeTokenVerifier) handle.setUserCallVerifier(verifier);
    const gateway = new Gateway(handle);
    // With relay options the relay starts now, not at the first stream: its log then holds every
    // transaction since connect, so a stream another replica served resumes here (docs/scaling.md), and
    // a bad option (e.g. `revocations`) fails the connect instead of the first stream.
    if (options.relay !== undefined) {
      try {
        gateway.#hub();
      } catch (e) {
        await gateway.close();
        throw e;
      }
    }
    return gateway;
  }

  /** This connection's SpacetimeDB identity, 64 hex characters (as SpacetimeDB prints it). */
  get identity() {
    return this.#native.identity;
  }

  /** The id of the connection that carries requests now, 32 hex characters (it changes on reconnect). */
  get connectionId() {
    return this.#native.connectionId;
  }

  /**
   * The websocket protocol the server chose for the connection that carries requests now: `'v1'`, `'v2'`
   * or `'v3'` (from the `protocols` offered at connect; the server picks by its own preference), `null`
   * while there is no connection (reconnecting, closed).
   */
  get protocol() {
    return this.#native.protocol;
  }

  /** The connection state: `{ status: 'connecting'|'live'|'reconnecting'|'closed', reason?, attempt, since }`. */
  get state() {
    return JSON.parse(this.#native.stateJson());
  }

  /**
   * Calls `listener(state)` on every state change (see `state`). Returns a function that removes it.
   * While listeners are registered the gateway keeps the process alive (like an open socket).
   */
  onState(listener) {
    if (typeof listener !== 'function') throw invalid('onState needs a function');
    // A listener on a closed gateway would never be called and would keep the process alive.
    if (this.#closed) throw new GatewayError('CLOSED', 'the gateway is closed');
    this.#stateListeners.add(listener);
    if (this.#stateListeners.size === 1) {
      this.#native.setStateListener((json) => this.#dispatchState(JSON.parse(json)));
    }
    return () => {
      if (this.#stateListeners.delete(listener) && this.#stateListeners.size === 0) this.#native.clearStateListener();
    };
  }

  /** Tables and reducers of the module, with column and parameter types. */
  schema() {
    if (this.#schema === null) this.#schema = deepFreeze(JSON.parse(callNative(() => this.#native.schemaJson())));
    return this.#schema;
  }

  /** Adds subscriptions; resolves when the server applied them and their rows are in the projection. */
  async subscribe(queries) {
    checkQueries(queries, 'queries');
    if (this.#closed) return closedLater('the subscription');
    await awaitNative(() => this.#native.subscribe(queries));
  }

  /**
   * The current rows of a subscribed table as plain objects, optionally filtered by column equality
   * (`{ tenant_id: 't1' }`).
   */
  rows(table, where) {
    requireString(table, 'table');
    if (where !== undefined && (where === null || typeof where !== 'object' || Array.isArray(where))) {
      throw invalid(`where must be an object of column: value pairs, got ${describe(where)}`);
    }
    const json = callNative(() => this.#native.rowsJson(table, where === undefined ? undefined : toWireJson(where, 'where')));
    return JSON.parse(json);
  }

  /**
   * Calls `listener(changes, meta)` once per transaction that changed the projection, in commit order.
   * `changes` is `[{ table, op: 'insert'|'update'|'delete', row, oldRow? }]`; on a v2/v3 connection, rows
   * of event tables come as `op: 'event'` in a batch of their own after their transaction's (never in the
   * projection). Returns a function that removes the listener.
   */
  onChange(listener) {
    if (typeof listener !== 'function') throw invalid('onChange needs a function');
    if (this.#closed) throw new GatewayError('CLOSED', 'the gateway is closed');
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      callNative(() => this.#native.setChangeListener((json) => this.#dispatch(json)));
    }
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0 && !this.#closed) {
        this.#native.clearChangeListener();
      }
    };
  }

  #dispatchState(state) {
    this.#lastStatus = state.status;
    dispatch(this.#stateListeners, [state]);
  }

  #dispatch(json) {
    const { changes, ...meta } = JSON.parse(json);
    dispatch(this.#listeners, [changes, meta]);
  }

  /**
   * Calls a reducer. `args` is an array (in parameter order) or an object keyed by parameter name.
   * Resolves `{ status: 'committed', via, timestamp, … }` once the transaction committed.
   *
   * Who the module sees as the caller (docs/actors.md): without `opts.token`, the gateway's own identity
   * (the service connection), and `opts.actor` fills the reducer's `actor` parameter; with `opts.token`
   * (a user's SpacetimeDB token), the user, over the per-user pool or the HTTP route (`opts.via`).
   */
  async callReducer(name, args = [], opts = {}) {
    const optsJson = callOptionsJson('reducer', name, args, opts);
    if (this.#closed) return closedLater(`reducer '${name}'`);
    return callResult(await awaitNative(() => this.#native.callReducer(name, toWireJson(args, `the arguments of reducer '${name}'`), optsJson)));
  }

  /**
   * Calls a procedure (SpacetimeDB 2.x) and resolves with its return value, decoded like row values
   * (docs/value-mapping.md). `args` is an array (in parameter order) or an object keyed by parameter name,
   * validated against the procedure's parameter types from the module schema; `opts.timeoutMs` overrides
   * `callTimeoutMs`. Procedures need a `v2`/`v3` connection (`protocols` option, a 2.x server): on a `v1`
   * connection it rejects with `UNSUPPORTED` before anything is sent. A failure in the host rejects with
   * `PROCEDURE_FAILED`; `TIMEOUT`, `DISCONNECTED` and `CLOSED` as for `callReducer`. Runs on the gateway's
   * own connection (no `opts.actor` or `opts.token`).
   */
  async callProcedure(name, args = [], opts = {}) {
    const optsJson = callOptionsJson('procedure', name, args, opts);
    if (this.#closed) return closedLater(`procedure '${name}'`);
    return JSON.parse(await awaitNative(() => this.#native.callProcedure(name, toWireJson(args, `the arguments of procedure '${name}'`), optsJson)));
  }

  /**
   * Drops the current SpacetimeDB connection as a network failure would, and lets the gateway recover
   * by its normal path: `reconnecting`, backoff, a new connection, every subscription again, the
   * projection rehydrated by diff (listeners and SSE streams see what changed, nothing twice). Calls in
   * flight on the dropped connection reject with `DISCONNECTED`. For tests and operational checks
   * (`spacetime-gateway smoke --simulate disconnect`); `reason` appears in `state.reason`.
   */
  dropConnection(reason = 'dropped by dropConnection()') {
    requireString(reason, 'reason');
    if (this.#closed) throw new GatewayError('CLOSED', 'the gateway is closed');
    callNative(() => this.#native.dropConnection(reason));
  }

  /**
   * Counters of the per-user pool: `{ connections, busy, idle, evicted, opened }` (`connections` counts
   * every socket held, including ones being opened or closed).
   */
  poolStats() {
    return this.#native.poolStats();
  }

  /** The relay, started on first use (until then the gateway keeps no event log). */
  #hub() {
    if (this.#closed) throw new GatewayError('CLOSED', 'the gateway is closed');
    if (this.#relay === null) this.#relay = new RelayHub(callNative(() => this.#native.startRelay()));
    return this.#relay;
  }

  /**
   * Opens an SSE stream of the projection for one tenant (`tenantId`, or `allTenants: true`): a snapshot,
   * then live changes. Consume it with `stream.pipe(res)`, `stream.toResponse()` or `for await`.
   */
  stream(options) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw invalid(`stream needs an options object, e.g. { tenantId }, got ${describe(options)}`);
    }
    return this.#hub().open(options);
  }

  /**
   * An SSE `Response` for a Fetch API `Request` (TanStack Start server routes, any Fetch-style handler):
   * `stream(options)` resuming after the request's `Last-Event-ID` header, else after its `?after=` query
   * parameter (`options.resumeParam` renames it; `null` ignores it), ended when `request.signal` aborts.
   * `options.headers` are added to the response's.
   */
  streamResponse(request, options) {
    const { streamOptions, headers, signal } = streamRequestOptions(request, options);
    const stream = this.stream(streamOptions);
    closeOnAbort(stream, signal);
    return stream.toResponse({ headers });
  }

  /**
   * The rows a stream of the same options would snapshot now — `{ rows: { [table]: row[] }, lastEventId }`
   * — for rendering a page on the server. `gateway.stream({ ...sameSelection, lastEventId })` continues
   * exactly after them: the changes since, no second snapshot, nothing lost or repeated. A stream whose
   * selection differs (another tenant, narrower rights) gets `resync` and a snapshot instead. Starts the
   * relay if no stream did yet (the id is a position in its log).
   */
  snapshot(options) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw invalid('snapshot needs an options object, e.g. { tenantId }');
    }
    return this.#hub().snapshot(options);
  }

  /**
   * Counters of the SSE relay: open streams, snapshots in progress and waiting for their turn, snapshot
   * rows frames encoded and handed out again to other streams of the same view. All zero before the
   * relay started (the first `stream()` or `snapshot()`).
   */
  relayStats() {
    if (this.#relay === null) return { ...ZERO_RELAY_STATS };
    return this.#relay.stats();
  }

  /**
   * Ends the matching streams with a `revoked` frame: `{ sub }`, `{ sid }`, `{ tenantId }`, `{ streamId }`
   * (every field given must match). Returns how many streams were revoked.
   */
  revoke(selector, options) {
    checkSelector(selector, 'revoke');
    const { reason = 'revoked' } = readOptions(options, 'revoke options', ['reason']);
    requireString(reason, 'options.reason');
    return this.#hub().revoke(selector, reason);
  }

  /**
   * Restricts the matching streams (`{ tables?, where? }`: fewer tables, more column constraints) without
   * disconnecting them; each gets `resync` (`narrowed`) and a snapshot of what it may still see.
   * Returns how many streams were narrowed.
   */
  narrow(selector, narrowing) {
    checkSelector(selector, 'narrow');
    if (narrowing === null || typeof narrowing !== 'object') throw invalid(`narrow needs { tables?, where? }, got ${describe(narrowing)}`);
    return this.#hub().narrow(selector, narrowing);
  }

  /**
   * Closes the gateway. Open SSE streams end first, at once, each with `retry: <retryMs>` (default 1000)
   * and a `closed` frame (`shutdown`): `EventSource` reconnects with its `Last-Event-ID`, and no open
   * stream holds up the server's graceful shutdown. Then new calls reject with CLOSED (not sent), calls in
   * flight get up to `deadlineMs` (default 5000) to settle, then reject with DISCONNECTED (sent, outcome
   * unknown), and sockets close. Afterwards nothing keeps Node alive.
   */
  async close(options) {
    const { deadlineMs = DEFAULT_CLOSE_DEADLINE_MS, retryMs = DEFAULT_SHUTDOWN_RETRY_MS } = readOptions(options, 'close options', [
      'deadlineMs',
      'retryMs',
    ]);
    if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs < 0) {
      throw invalid(`deadlineMs must be a number of milliseconds ≥ 0, got ${describe(deadlineMs)}`);
    }
    if (!Number.isInteger(retryMs) || retryMs < 0 || retryMs > 2 ** 31 - 1) {
      throw invalid(`retryMs must be a whole number of milliseconds ≥ 0, got ${describe(retryMs)}`);
    }
    this.#closed = true;
    this.#relay?.close({ reason: 'shutdown', retryMs });
    await awaitNative(() => this.#native.close(deadlineMs));
    this.#listeners.clear();
    // The native side's last state notification may still be queued: give listeners the final state
    // now, and ignore anything that arrives later.
    const final = this.state;
    if (this.#lastStatus !== final.status) this.#dispatchState(final);
    this.#stateListeners.clear();
  }
}

/** Calls every listener with `args`; one that throws does not stop the others (its error surfaces like
 * an uncaught exception, as in Node's EventEmitter). */
function dispatch(listeners, args) {
  for (const listener of [...listeners]) {
    try {
      listener(...args);
    } catch (e) {
      process.nextTick(() => {
        throw e;
      });
    }
  }
}

/** Wraps the user's `onLog`: the native side hands over batches as JSON arrays (possibly empty). */
function logFunctionOf(onLog) {
  if (onLog === undefined) return undefined;
  if (typeof onLog !== 'function') throw invalid(`options.onLog must be a function, got ${describe(onLog)}`);
  return (json) => {
    const records = JSON.parse(json);
    if (records.length > 0) dispatch([onLog], [records]);
  };
}

/** Wraps the user's token function: always a promise of a non-empty string. */
function tokenFunctionOf(fn) {
  return async () => {
    const token = await fn();
    if (typeof token !== 'string' || token.length === 0) {
      throw new Error(`the token function must return a non-empty string, got ${describe(token)}`);
    }
    return token;
  };
}

/**
 * Closes `gateways` cleanly when the process receives one of `signals` (default SIGTERM and SIGINT): open
 * SSE streams end at once (see `close`; `retryMs` is their reconnect hint), then calls drain up to
 * `deadlineMs`; then the process exits with code 0 — or, with `exit: false`, exiting is left to the other
 * handlers of the signal (e.g. a server framework's own graceful shutdown, which no open stream holds up
 * any more); when there are none, the process exits all the same, as it would without the hook. Returns
 * a function that removes the hooks.
 */
function installShutdownHooks(gateways, options) {
  const list = readingArgument('installShutdownHooks gateways', () => (Array.isArray(gateways) ? [...gateways] : [gateways]));
  if (!list.every((g) => g instanceof Gateway)) throw invalid('installShutdownHooks needs a Gateway or an array of them');
  const { signals = ['SIGTERM', 'SIGINT'], deadlineMs = 10_000, exit = true, retryMs } = readOptions(options, 'installShutdownHooks options', [
    'signals',
    'deadlineMs',
    'exit',
    'retryMs',
  ]);
  const signalList = readingArgument('installShutdownHooks signals', () => Array.isArray(signals) && [...signals]);
  if (!signalList || !signalList.every((s) => typeof s === 'string' && /^SIG[A-Z0-9]+$/.test(s))) {
    throw invalid(`installShutdownHooks: signals must be an array of signal names like 'SIGTERM', got ${describe(signals)}`);
  }
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs < 0) {
    throw invalid(`installShutdownHooks: deadlineMs must be a number of milliseconds ≥ 0, got ${describe(deadlineMs)}`);
  }
  let closing = null;
  const handler = (signal) => {
    // Registered with `once`: the listeners left are other handlers of the signal. Without them, Node
    // would have exited on the signal; a hook must not keep the process alive instead.
    const alone = process.listenerCount(signal) === 0;
    // Each close() ends its streams synchronously, before this handler returns.
    closing ??= Promise.allSettled(list.map((g) => g.close({ deadlineMs, retryMs }))).then(() => {
      if (exit || alone) process.exit(0);
    });
    return closing;
  };
  for (const signal of signalList) process.once(signal, handler);
  return () => {
    for (const signal of signalList) process.removeListener(signal, handler);
  };
}


const ZERO_RELAY_STATS = Object.freeze({
  streams: 0,
  snapshotsInProgress: 0,
  snapshotsWaiting: 0,
  snapshotFramesEncoded: 0,
  snapshotBytesEncoded: 0,
  snapshotFramesShared: 0,
  snapshotBytesShared: 0,
});

function checkSelector(selector, what) {
  if (selector === null || typeof selector !== 'object' || Array.isArray(selector)) {
    throw invalid(`${what} needs a selector: { sub }, { sid }, { tenantId } or { streamId }`);
  }
}

function deepFreeze(value) {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

module.exports = { Gateway, installShutdownHooks };
