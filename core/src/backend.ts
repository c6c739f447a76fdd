/**
 * Backend vocabulary and the isomorphic half of backend selection (Node and browser).
 * Node's `selectBackend()` lives in backend-node.ts, since only Node can load
 * tfjs-node; the browser participant calls `useWasmBackend()` here directly.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from './kernels/register.ts';

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

/**
 * Activates the wasm backend with Mutua's wasm kernels (the gradients it lacks plus the
 * faster replacements). Throws if the wasm module cannot be instantiated. The binary's
 * location must be configured beforehand where the default (next to the backend's
 * script) is wrong, e.g. with `setWasmPaths` in a bundled web app.
 */
export async function useWasmBackend(): Promise<Omit<BackendChoice, 'reason'>> {
  registerWasmGradientKernels();
  if (!(await tf.setBackend('wasm'))) {
    throw new BackendError(
      'ERR_BACKEND_UNAVAILABLE',
      'the wasm backend failed to initialise (see the tfjs warning above)',
    );
  }
  await tf.ready();
  return {
    name: 'wasm',
    threads: getThreadsCount(),
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
  };
}
