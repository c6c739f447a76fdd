/**
 * Backend vocabulary without tfjs: the names, what a user may ask for and the error they
 * get. Re-exported by backend.ts; imported on its own where loading tfjs would cost for
 * nothing (the client's option parsing and `--help`).
 */
/** tfjs backend names Mutua knows: 'tensorflow' is tfjs-node's native libtensorflow binding. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a user may ask for; 'auto' means the fastest that works here. */
export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export interface BackendChoice {
  /** The active tfjs backend (`tf.getBackend()`). */
  name: string;
  /** Why this one: what was asked for, and what failed before it, in words for a log line. */
  reason: string;
  /** wasm only: worker threads in use (1 = single-threaded). */
  threads?: number;
  /** wasm only: whether the SIMD binary was loaded. */
  simd?: boolean;
}

export type BackendErrorCode = 'ERR_BACKEND_UNKNOWN' | 'ERR_BACKEND_UNAVAILABLE';

/** A backend that cannot be named or started; `code` is stable, the message says why. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

export function isBackendPreference(value: unknown): value is BackendPreference {
  return typeof value === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(value);
}

/** The reason of an Error or anything else thrown, for a one-line message. */
export function describeFailure(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err)
    return String((err as { message: unknown }).message);
  return String(err);
}
