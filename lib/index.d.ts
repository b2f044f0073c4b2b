/** Stable error codes; `GatewayError.code` is one of these (later versions may add codes). */
export type GatewayErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CONNECT_FAILED'
  | 'UNAUTHORIZED'
  | 'NO_SUCH_DATABASE'
  | 'SUBSCRIPTION_FAILED'
  | 'REDUCER_FAILED'
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
  /** Deadline for connecting and for each `subscribe`, in ms. Default 10000. */
  timeoutMs?: number;
  /** Default deadline of `callReducer`, in ms. Default 30000. */
  callTimeoutMs?: number;
  /** Reconnecting after a lost connection (on by default), or `false` to close the gateway instead. */
  reconnect?: false | ReconnectOptions;
}

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
  /** How long calls in flight may take to settle before they reject with CLOSED, ms. Default 5000. */
  deadlineMs?: number;
}

export interface ShutdownHookOptions {
  /** Default ['SIGTERM', 'SIGINT']. */
  signals?: NodeJS.Signals[];
  /** Passed to `close`. Default 10000. */
  deadlineMs?: number;
  /** Exit the process (code 0) once the gateways are closed. Default true. */
  exit?: boolean;
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

export interface Schema {
  tables: TableSchema[];
  reducers: ReducerSchema[];
}

export interface Change {
  table: string;
  op: 'insert' | 'update' | 'delete';
  /** The row after the change (the removed row for a delete). */
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
}

export interface CallResult {
  status: 'committed';
  /** When the reducer started (RFC 3339, µs). */
  timestamp: string;
  /** The request id the call used on the connection. */
  requestId: number;
  /** Energy used (a u128 as a decimal string). */
  energyUsed: string;
  /** How long the reducer ran, in µs. */
  durationMicros: number;
}

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
  /** Calls a reducer; `args` in parameter order, or keyed by parameter name. */
  callReducer(name: string, args?: ValueInput[] | { [param: string]: ValueInput }, opts?: CallOptions): Promise<CallResult>;
  /** Closes the gateway: new calls reject with CLOSED, calls in flight get `deadlineMs` to settle, then
   * reject with CLOSED; sockets close and nothing keeps Node alive. */
  close(options?: CloseOptions): Promise<void>;
}

export * from './auth.js';
