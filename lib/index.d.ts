/** An error of spacetime-gateway: `code` is stable, `message` names the cause. */
export declare class GatewayError extends Error {
  constructor(code: string, message: string, options?: ErrorOptions);
  readonly code: string;
}

/** The version of the native addon. */
export declare function nativeVersion(): string;

export * from './auth.js';
