import type { TokenBroker, TokenVerifier } from './auth.js';

/** Stable error codes; `GatewayError.code` is one of these (later versions may add codes). */
export type GatewayErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CONNECT_FAILED'
  | 'UNAUTHORIZED'
  | 'NO_SUCH_DATABASE'
  | 'SUBSCRIPTION_FAILED'
  | 'REDUCER_FAILED'
  | 'PROCEDURE_FAILED'
  | 'UNSUPPORTED'
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'CLOSED'
  | 'PROTOCOL'
  | 'INTERNAL'
  | (string & {});

/** An error of spacetime-gateway: `code` is stable, `message` names the cause. */
export declare class GatewayError extends Error {
  constructor(code: string, message: string, options?: ErrorOptions);
  readonly code: GatewayErrorCode;
}

/** The version of the native addon. */
export declare function nativeVersion(): string;

/**
 * A value as the gateway reads and writes it (docs/value-mapping.md): numbers for integers up to 32 bits
 * and floats, decimal strings for 64-bit and wider integers, hex strings for identities, connection ids
 * and byte arrays, RFC 3339 strings (µs) for timestamps, `null` for an empty Option, strings or
 * `{ tag, value }` for enums, objects for structs.
 */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** What may be passed as a value: the mapped forms, plus `bigint`, `Uint8Array` and `Date`. */
export type ValueInput = Value | bigint | Uint8Array | Date | undefined | ValueInput[] | { [key: string]: ValueInput };

/** A row as a plain object keyed by column name. */
export type Row = { [column: string]: Value };

export interface ConnectOptions {
  /** The SpacetimeDB server: `ws://`, `wss://`, `http://` or `https://` (a path prefix is kept). */
  uri: string;
  /** The database name or identity. */
  database: string;
  /**
   * A SpacetimeDB access token (JWT), or a function returning one (sync or async). A function is called
   * before every connect and again before each token expires (at 80 % of its lifetime): the gateway then
   * opens a new connection with the fresh token and switches to it only once it is live. Without a token
   * the server mints an anonymous identity, which the gateway keeps across reconnects.
   */
  token?: string | (() => string | Promise<string>);
  /** Queries to subscribe to before `connect` resolves. */
  subscriptions?: string[];
  /** Compression the server applies to large messages. Default `'none'` (loopback and LAN). */
  compression?: 'none' | 'gzip' | 'brotli';
  /**
   * Deadline for each `subscribe`, and for everything `connect` does (the token function, the schema fetch,
   * the websocket and the initial `subscriptions`), in ms. Default 10000.
   */
  timeoutMs?: number;
  /** Default deadline of `callReducer`, in ms. Default 30000. */
  callTimeoutMs?: number;
  /**
   * The largest websocket message the gateway sends, in bytes. Default 33554432 (32 MiB), SpacetimeDB 1.3's
   * limit: the server closes the connection on a larger message, failing every call in flight on it, so a
   * larger call is refused with `INVALID_ARGUMENT` before it is sent. Lower it to bound what one request
   * handler may send.
   */
  maxMessageBytes?: number;
  /** Reconnecting after a lost connection (on by default), or `false` to close the gateway instead. */
  reconnect?: false | ReconnectOptions;
  /**
   * Where each table keeps its tenant, for `stream({ tenantId })`: one column name for every table that has
   * it, or one per table (then only the listed tables have a tenant). Default `'tenant_id'`. Tables without a
   * tenant column reach only `allTenants` streams, unless listed in `sharedTables`.
   */
  tenantColumn?: string | { [table: string]: string };
  /**
   * Tables every stream may select whatever its tenant (e.g. reference data). Default none. A table that has
   * a tenant column cannot be shared (every tenant would see every tenant's rows): with the per-table form of
   * `tenantColumn`, leave it out of the map to share it.
   */
  sharedTables?: string[];
  /** Relay settings and the defaults of every stream. */
  relay?: RelayOptions;
  /** How calls with a user's token (`callReducer(…, { token })`) reach SpacetimeDB. */
  userCalls?: UserCallsOptions;
  /**
   * Receives the gateway's diagnostics in batches: connected, connection lost and reconnecting, switched
   * to a new connection, a token refresh that failed, a row the schema cannot decode… Without it nothing
   * is printed or kept. Called on the JS thread with every record logged since the last call (never
   * once per record); an exception it throws is rethrown as an uncaught exception.
   */
  onLog?: (records: LogRecord[]) => void;
  /** The least severe records `onLog` receives. Default `'info'`. */
  logLevel?: LogLevel;
  /**
   * The websocket protocols offered to SpacetimeDB, distinct, at least one. The server picks the first of
   * its own list that is offered (1.x speaks only `'v1'`; 2.x prefers `'v3'`, then `'v2'`, then `'v1'`), so
   * the order here does not matter and a list with `'v1'` still connects to 1.x. `gateway.protocol` says
   * which one was chosen. Default `['v1']`: only v1 has been run against a live server here (1.3.0); v2/v3
   * are checked against the official message encodings only (docs/protocol-2x.md). Unknown values, an empty
   * list or duplicates are refused with `INVALID_ARGUMENT`.
   */
  protocols?: Protocol[];
}

/** A SpacetimeDB websocket protocol version (`v1.bsatn.spacetimedb`, `v2.…`, `v3.…`). */
export type Protocol = 'v1' | 'v2' | 'v3';

/** Severity of a log record, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** One diagnostic of the gateway (see `ConnectOptions.onLog`). */
export interface LogRecord {
  level: LogLevel;
  /** Where in the native core it comes from, e.g. `'spacetime_gateway::session::driver::reconnect'`. */
  target: string;
  /** What happened, e.g. `'not connected; reconnecting'`. */
  message: string;
  /** Its facts, e.g. `{ reason: '…', attempt: 1, retry_in_ms: 500 }`. */
  fields: { [name: string]: string | number | boolean };
  /** When, in ms since the epoch. */
  time: number;
}

/** The two per-user routes: a pooled websocket connection per user, or one HTTP request per call. */
export type UserRoute = 'pool' | 'http';

/** Per-user calls (docs/actors.md): the module sees the token's holder as `ctx.sender`. */
export interface UserCallsOptions {
  /** The default route. Default `'pool'`. */
  via?: UserRoute;
  /** Most sockets the per-user pool holds at once; at the limit the least recently used idle connection
   * closes for room, and when all are busy a call waits (within its timeout). Default 100. */
  maxConnections?: number;
  /** A pooled connection without calls for this long closes. Default 60000. */
  idleTimeoutMs?: number;
  /** When given, every user token must verify (signature, issuer, audience, expiry) before it is used,
   * and any verified token of a user may share that user's pooled connection. Without it, a pooled
   * connection only carries the exact token string it was opened with. */
  verifier?: TokenBroker | TokenVerifier;
  /** A delegated token (with an `act` claim: a robot or an admin acting for `sub`) on a per-user call runs
   * as `sub` itself — SpacetimeDB derives the Identity from `iss` and `sub` only, and a 1.3 module cannot
   * read `act`. `'refuse'` (default): such calls fail with INVALID_ARGUMENT before anything is sent (pass
   * the verified `{ sub, act }` as `opts.actor` on the service connection instead); `'as-subject'`: they run
   * as `sub` (docs/machine-actors.md). */
  delegatedTokens?: 'refuse' | 'as-subject';
}

/** `gateway.poolStats()`: counters of the per-user pool. */
export interface PoolStats {
  /** Sockets held: open, being opened or being closed (never more than `maxConnections`). */
  connections: number;
  /** Open connections with a call in flight. */
  busy: number;
  /** Open connections without one. */
  idle: number;
  /** Connections closed for room or after `idleTimeoutMs`, since connect. */
  evicted: number;
  /** Connections opened since connect. */
  opened: number;
}

/** What a stream may hold for a client that does not keep up, and what happens beyond. */
export interface StreamLimits {
  /** Heartbeat comment after this long without output, ms (≥ 100). Default 15000. */
  heartbeatMs?: number;
  /** The `retry:` hint: how long `EventSource` waits before reconnecting, ms. Default 2000. */
  retryMs?: number;
  /** Live events queued per stream at most. Default 1000. */
  maxQueueEvents?: number;
  /** Bytes queued per stream at most (≥ 1024). Default 1048576. */
  maxQueueBytes?: number;
  /** On overflow: drop the backlog and `resync` when the client is ready (default), or `close` the stream. */
  overflow?: 'resync' | 'close';
}

/** The `relay` options of `Gateway.connect`. Giving them (even `{}`) starts the relay at connect instead of at
 * the first `stream()` / `snapshot()`: its log then covers every transaction since connect, which a gateway
 * replica needs to resume streams another replica served. */
export interface RelayOptions extends StreamLimits {
  /** Events kept for resuming after `Last-Event-ID` (and after `snapshot()`'s `lastEventId`). Default 10000. */
  logCapacity?: number;
  /**
   * Snapshots one principal (`principal.sub`; a stream without one counts alone) has in progress at once.
   * Its other streams wait their turn, in order, with `retry:` and heartbeats; their snapshot is read when
   * it starts, so nothing queues and nothing is lost meanwhile. Default 4.
   */
  maxSnapshotsPerPrincipal?: number;
  /**
   * Snapshot bytes the relay hands out per take (one pass of its output pump), over all streams, about
   * (≥ 65536: one rows frame). Live events are not counted: they leave in every take, however many
   * snapshots are under way. Default 262144.
   */
  snapshotBytesPerTake?: number;
  /**
   * A module table of revoke requests that every gateway replica subscribed to it applies: when a row
   * arrives, each replica ends its own matching streams with `revoked` (before any change of the same
   * transaction reaches them), so one `revoke` reaches the streams on every replica. Values are column
   * names; a row matches like a `revoke` selector (every non-empty column must match; a row naming nobody
   * ends nothing). Subscribe to the table. See docs/scaling.md.
   */
  revocations?: RevocationTable;
}

/** The `revocations` relay option: a table and which of its columns say what (column names). */
export interface RevocationTable {
  table: string;
  /** The column holding the user (`principal.sub`). */
  sub?: string;
  /** The column holding the lowercase hex SHA-256 of the session id (`principal.sid`) — never the id itself. */
  sidSha256?: string;
  /** The column holding the tenant. */
  tenantId?: string;
  /** The column holding the `revoked` frame's reason (default `'revoked'`). */
  reason?: string;
}

/** Column equalities per table: `{ document: { owner: '…' } }`. */
export type StreamWhere = { [table: string]: { [column: string]: ValueInput } };

export interface StreamOptions extends StreamLimits {
  /** The tenant whose rows the stream carries (the value of each table's tenant column). */
  tenantId?: string | number;
  /** Stream every tenant's rows (instead of `tenantId`). */
  allTenants?: boolean;
  /** The tables to stream. Default: every table with a tenant column and every shared table (all tables for
   * `allTenants`). */
  tables?: string[];
  where?: StreamWhere;
  /** The rows the stream's authorization depends on (`{ membership: { id: '42' } }`): when a transaction
   * inserts, updates or deletes one, the stream ends with `closed` (`authorization_changed`, after a `retry:`
   * hint: the client reconnects) before any
   * change of that transaction reaches it. The tables must be subscribed. */
  revokeOn?: StreamWhere;
  /** The `Last-Event-ID` request header: continue after it, or `resync` when that is impossible. */
  lastEventId?: string;
  /** Who the stream is for, so `revoke({ sub })` / `revoke({ sid })` can end it. `act` names who acts for
   * `sub` (an impersonating admin, from the verified `act` claim): every envelope of the stream then carries
   * `act: { sub }`, and its ids never resume a stream without it. */
  principal?: { sub?: string; sid?: string; act?: { sub: string } };
  /** Echoed as `schema_version` in every envelope. Default 1. */
  schemaVersion?: number;
}

/** Options of `gateway.streamResponse`: the stream's options, without `lastEventId` (read from the request). */
export interface StreamResponseOptions extends Omit<StreamOptions, 'lastEventId'> {
  /**
   * The query parameter that names the resume position when the request has no `Last-Event-ID` header
   * (`EventSource` cannot send one on its first request: the page starts its stream at `?after=<id>` of
   * the rows it rendered). Default `'after'`; `null` ignores the query.
   */
  resumeParam?: string | null;
  /** Headers added to the response's (the SSE headers are set unless given here). */
  headers?: HeadersInit;
}

/** What `gateway.snapshot()` reads: a stream's selection (`principal` is accepted and changes no rows). */
export interface SnapshotOptions {
  /** The tenant whose rows to read (the value of each table's tenant column). */
  tenantId?: string | number;
  /** Every tenant's rows (instead of `tenantId`). */
  allTenants?: boolean;
  /** Default: the tables a stream of the same options selects. */
  tables?: string[];
  where?: StreamWhere;
  principal?: { sub?: string; sid?: string };
}

/** `gateway.snapshot()`: rows for a server-rendered page, and where its stream continues. */
export interface PageSnapshot<R extends Row = Row> {
  /** Every selected table (empty arrays included), rows as `rows()` and SSE payloads carry them. */
  rows: { [table: string]: R[] };
  /**
   * Pass it to `gateway.stream({ ...sameSelection, lastEventId })` (e.g. from `?after=` in the
   * `EventSource` URL: `EventSource` cannot set `Last-Event-ID` on its first request): the stream sends the
   * changes after these rows, without a snapshot.
   */
  lastEventId: string;
}

/** `gateway.relayStats()`. */
export interface RelayStats {
  streams: number;
  /** Snapshots being sent, and streams waiting for their turn (`maxSnapshotsPerPrincipal`). */
  snapshotsInProgress: number;
  snapshotsWaiting: number;
  /** Snapshot rows frames encoded since the relay started, and handed out again to other streams of the same view. */
  snapshotFramesEncoded: number;
  snapshotBytesEncoded: number;
  snapshotFramesShared: number;
  snapshotBytesShared: number;
}

/** Which streams `revoke` and `narrow` apply to; every field given must match. */
export interface StreamSelector {
  streamId?: number;
  sub?: string;
  sid?: string;
  tenantId?: string | number;
}

/** A restriction of a live stream: fewer tables, more column constraints. */
export interface Narrowing {
  tables?: string[];
  where?: StreamWhere;
}

/** The JSON of every SSE `data:` line. */
export interface SseEnvelope<P = unknown> {
  event: string;
  /** Also the SSE `id:`; `null` on frames that carry no resume position. */
  id: string | null;
  tenant_id: Value;
  schema_version: number;
  /** Present only on streams opened with `principal.act`: who acts for the stream's subject. */
  act?: { sub: string };
  payload: P;
}

/**
 * One SSE stream of a gateway: a snapshot, then live changes. Consume it once: `pipe(res)`, `toResponse()`
 * or `for await (const chunk of stream)`.
 */
export declare class SseStream implements AsyncIterable<Uint8Array> {
  private constructor();
  /** The stream's id (for `revoke({ streamId })`). */
  readonly id: number;
  /** Whether the stream has ended. */
  readonly ended: boolean;
  /**
   * Writes the stream to a Node `http.ServerResponse` with the SSE headers and backpressure. On HTTP/1.1
   * the body is close-delimited (`Connection: close`, no chunked encoding) unless `chunked: true`.
   */
  pipe<R extends import('node:http').ServerResponse>(res: R, options?: PipeOptions): R;
  /** A Web `Response` with the SSE headers, for Fetch-style handlers (TanStack Start API routes). */
  toResponse(init?: ResponseInit): Response;
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /** Restricts this stream without disconnecting it; returns 1. */
  narrow(narrowing: Narrowing): number;
  /** Ends the stream. */
  close(): void;
}

/** Options of `SseStream.pipe`. */
export interface PipeOptions {
  /**
   * Keep Node's chunked transfer encoding (and the connection reusable after the stream ends). Default
   * `false`: the body ends when the connection closes, which saves the chunk framing on every write.
   */
  chunked?: boolean;
  /** Headers added to the response's (the SSE headers are set unless given here). */
  headers?: HeadersInit;
}

/** The headers `pipe` and `toResponse` set. */
export declare const SSE_HEADERS: Readonly<Record<string, string>>;

export interface ReconnectOptions {
  /** Delay before the first retry, ms. Default 200. */
  initialDelayMs?: number;
  /** Longest delay between retries, ms. Default 10000. */
  maxDelayMs?: number;
  /** Growth of the delay per failed attempt. Default 2. */
  multiplier?: number;
  /** Random fraction of each delay (0–1), so many gateways do not retry in step. Default 0.5. */
  jitter?: number;
  /** How long a `callReducer` made while disconnected waits for the connection before failing with
   * DISCONNECTED (not sent). Default 10000. */
  callWaitMs?: number;
  /** A connection silent this long (SpacetimeDB pings every 15 s) is considered dead. Default 45000. */
  idleTimeoutMs?: number;
  /** How long a token refresh may look for its exact switch point before falling back to a diff. Default 5000. */
  alignTimeoutMs?: number;
}

/** The connection state of a gateway. */
export interface GatewayState {
  status: 'connecting' | 'live' | 'reconnecting' | 'closed';
  /** Why the state changed: the lost connection's cause, 'reconnected', 'token refreshed', 'closed'. */
  reason?: string;
  /** Reconnect attempts so far (0 when live). */
  attempt: number;
  /** When the state began, ms since the Unix epoch. */
  since: number;
}

export interface CloseOptions {
  /**
   * How long calls in flight may take to settle, ms. Default 5000. Calls still unanswered then reject with
   * `DISCONNECTED` (they were sent: their outcome is unknown); calls not yet sent reject with `CLOSED`.
   */
  deadlineMs?: number;
  /** The `retry:` hint open streams end with (before their `closed` frame, reason `shutdown`): how long
   * `EventSource` waits before reconnecting, ms. Default 1000. */
  retryMs?: number;
}

export interface ShutdownHookOptions {
  /** Default ['SIGTERM', 'SIGINT']. */
  signals?: NodeJS.Signals[];
  /** Passed to `close`. Default 10000. */
  deadlineMs?: number;
  /** Exit the process (code 0) once the gateways are closed. Default true. `false` leaves exiting to the
   * signal's other handlers (a framework's graceful shutdown); with none, the process exits anyway. */
  exit?: boolean;
  /** Passed to `close`: the reconnect hint of the streams it ends. Default 1000. */
  retryMs?: number;
}

/**
 * Closes the gateways cleanly when the process receives one of `signals`, then exits (unless
 * `exit: false`). Returns a function that removes the hooks.
 */
export declare function installShutdownHooks(gateways: Gateway | Gateway[], options?: ShutdownHookOptions): () => void;

export interface ColumnSchema {
  name: string;
  /** A readable type: `u64`, `String`, `Identity`, `Option<String>`, `Vec<u8>`, a named type such as `Color`. */
  type: string;
}

export interface TableSchema {
  name: string;
  columns: ColumnSchema[];
  /** The primary key column, or null. */
  primaryKey: string | null;
  /** Private tables are visible only to the database owner. */
  public: boolean;
}

export interface ReducerSchema {
  name: string;
  params: ColumnSchema[];
}

/** A procedure of the module (SpacetimeDB 2.x; see `Gateway.callProcedure`). */
export interface ProcedureSchema {
  name: string;
  params: ColumnSchema[];
  /** The return type, e.g. `'Option<String>'`. */
  returns: string;
}

export interface Schema {
  tables: TableSchema[];
  reducers: ReducerSchema[];
  /** Empty for 1.x modules (procedures arrived with 2.x). */
  procedures: ProcedureSchema[];
}

export interface Change {
  table: string;
  /** `'event'`: a row of an event table (SpacetimeDB 2.x over `v2`/`v3`), told once and never kept in the
   * projection (`rows()` does not have it); a transaction's events come in their own batch, right after
   * the batch of its changes, with the same meta. */
  op: 'insert' | 'update' | 'delete' | 'event';
  /** The row after the change (the removed row for a delete, the event for an event). */
  row: Row;
  /** The row before an update. */
  oldRow?: Row;
}

/** Facts about the transaction behind a change batch, when the server sent them. */
export interface ChangeMeta {
  /** When the reducer started (RFC 3339, µs). */
  timestamp?: string;
  reducer?: string;
  callerIdentity?: string;
  callerConnectionId?: string;
  /** The batch is the difference between what the gateway held and what it found after a reconnect
   * (everything that changed while it was away), not one transaction. */
  rehydrated?: boolean;
}

export interface CallOptions {
  /** Deadline for the result, in ms (default: the gateway's `callTimeoutMs`). On expiry the call rejects
   * with TIMEOUT; the reducer may still commit. */
  timeoutMs?: number;
  /** The effective actor for a reducer whose first parameter is `actor` (the service topology): for
   * `actor: String`, the app's stable actor id from the *verified* session (the token `sub`, e.g.
   * `user_123`); for a structured parameter (e.g. `actor: Option<ActorClaim>`), an object such as
   * `{ sub, act }` read from a token the app verified (docs/machine-actors.md). Never browser input.
   * `args` must then leave the `actor` parameter out. */
  actor?: string | Record<string, unknown>;
  /** A SpacetimeDB access token of the user: the call runs as that user (`ctx.sender`), over the per-user
   * pool or the HTTP route. Without it the call uses the gateway's own connection. */
  token?: string;
  /** The per-user route for this call (only with `token`). Default: `userCalls.via`. */
  via?: UserRoute;
}

/** A committed call on a websocket connection: the gateway's own (`service`) or a pooled one. */
export interface ConnectionCallResult {
  status: 'committed';
  via: 'service' | 'pool';
  /** When the reducer started (RFC 3339, µs). */
  timestamp: string;
  /** The request id the call used on its connection. */
  requestId: number;
  /** Energy used (a u128 as a decimal string). */
  energyUsed: string;
  /** How long the reducer ran, in µs. */
  durationMicros: number;
}

/** A committed call over the HTTP call route, which reports neither a timestamp nor a request id. */
export interface HttpCallResult {
  status: 'committed';
  via: 'http';
  timestamp: null;
  requestId: null;
  /** Energy used, when the server reported it. */
  energyUsed: string | null;
  /** How long the reducer ran, in µs, when the server reported it. */
  durationMicros: number | null;
}

/** The result of `callReducer`; narrow on `via` (`timestamp` is `string | null`). */
export type CallResult = ConnectionCallResult | HttpCallResult;

/** A connection to one SpacetimeDB database, with a server-side projection of the subscribed tables. */
export declare class Gateway {
  private constructor();
  /** Connects: fetches the schema, opens the websocket, waits for the identity and the `subscriptions`. */
  static connect(options: ConnectOptions): Promise<Gateway>;
  /** This connection's identity, 64 hex characters. */
  readonly identity: string;
  /** The id of the connection that carries requests now, 32 hex characters (it changes on reconnect). */
  readonly connectionId: string;
  /** The connection state. */
  readonly state: GatewayState;
  /** The protocol the server chose for the connection that carries requests now (`null` while there is
   * none: reconnecting, closed). See `ConnectOptions.protocols`. */
  readonly protocol: Protocol | null;
  /** Calls `listener` on every state change; returns a function that removes it. Registered listeners
   * keep the process alive until removed or until `close`. */
  onState(listener: (state: GatewayState) => void): () => void;
  /** Tables and reducers of the module. */
  schema(): Schema;
  /** Adds subscriptions; resolves when their initial rows are in the projection. */
  subscribe(queries: string[]): Promise<void>;
  /** The current rows of a subscribed table, optionally filtered by column equality. */
  rows<R extends Row = Row>(table: string, where?: { [column: string]: ValueInput }): R[];
  /** Calls `listener` once per transaction that changed the projection, in commit order. Returns an
   * unsubscribe function. */
  onChange(listener: (changes: Change[], meta: ChangeMeta) => void): () => void;
  /** Calls a reducer; `args` in parameter order, or keyed by parameter name. `opts.actor` and `opts.token`
   * choose who the module sees as the caller (docs/actors.md). */
  callReducer(name: string, args?: ValueInput[] | { [param: string]: ValueInput }, opts?: CallOptions): Promise<CallResult>;
  /** Calls a procedure (SpacetimeDB 2.x, over a `v2`/`v3` connection: see `ConnectOptions.protocols`) and
   * resolves with its return value, decoded like row values. Rejects with `UNSUPPORTED` on a `v1`
   * connection (nothing sent), `PROCEDURE_FAILED` when it fails in the host, `INVALID_ARGUMENT`, `TIMEOUT`,
   * `DISCONNECTED`, `CLOSED` as `callReducer`. */
  callProcedure<T = Value>(name: string, args?: ValueInput[] | { [param: string]: ValueInput }, opts?: { timeoutMs?: number }): Promise<T>;
  /** Counters of the per-user pool. */
  poolStats(): PoolStats;
  /** Drops the current SpacetimeDB connection as a network failure would; the gateway reconnects,
   * resubscribes and rehydrates by diff. For tests and `spacetime-gateway smoke --simulate disconnect`. */
  dropConnection(reason?: string): void;
  /** Opens an SSE stream of the projection for one tenant (or `allTenants`). */
  stream(options: StreamOptions): SseStream;
  /** An SSE `Response` for a Fetch API `Request`: resumes after its `Last-Event-ID` header or its resume
   * query parameter (`?after=<id>`, for a page's first request), and ends when `request.signal` aborts. */
  streamResponse(request: Request, options: StreamResponseOptions): Response;
  /**
   * The rows a stream of the same selection would snapshot now, and the id its stream resumes after:
   * render the page from `rows`, then `stream({ ...sameSelection, lastEventId })` continues with the
   * changes since — no second snapshot, no gap, no repeat. Another selection (tenant, narrower rights)
   * gets `resync` and a snapshot; so does an id older than the log. Starts the relay if needed.
   */
  snapshot<R extends Row = Row>(options: SnapshotOptions): PageSnapshot<R>;
  /** Counters of the SSE relay (all zero before the first `stream()` or `snapshot()`). */
  relayStats(): RelayStats;
  /** Ends the matching streams with a `revoked` frame; returns how many. */
  revoke(selector: StreamSelector, options?: { reason?: string }): number;
  /** Restricts the matching streams without disconnecting them; returns how many. */
  narrow(selector: StreamSelector, narrowing: Narrowing): number;
  /** Closes the gateway: open streams end at once with `retry:` and `closed` (`shutdown`), so the browser
   * reconnects elsewhere; new calls reject with CLOSED (not sent), calls in flight get `deadlineMs` to
   * settle, then reject with DISCONNECTED (sent, outcome unknown); sockets close and nothing keeps Node alive. */
  close(options?: CloseOptions): Promise<void>;
}

export * from './auth.js';
