/**
 * Picks the tfjs backend for a Node process: tfjs-node (native TensorFlow) when it is
 * installed, else WebAssembly, else the pure-JS cpu backend (~100x slower than wasm,
 * so only a last resort).
 *
 * tfjs-node is an optional dependency that often cannot be installed (no prebuilt
 * binary for the platform), so it is loaded with a dynamic import whose specifier is
 * built at run time: bundlers and tsc then neither resolve nor require it.
 */

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  BACKEND_PREFERENCES,
  type BackendChoice,
  BackendError,
  type BackendPreference,
  describeFailure,
  isBackendPreference,
  useCpuBackend,
  useWasmBackend,
} from './backend.ts';

export type { BackendChoice, BackendPreference } from './backend.ts';

export interface SelectBackendOptions {
  /**
   * Folder (with trailing slash) holding the tfjs-backend-wasm .wasm binaries. Default:
   * the installed package's dist folder, resolved from this module, which stays right
   * when the client is bundled into a single file that moves the backend's script.
   */
  wasmPaths?: string;
}

const TFJS_NODE = ['@tensorflow', 'tfjs-node'].join('/');

/** The resolution per preference; the backend itself is re-activated on every call. */
const resolved = new Map<BackendPreference, BackendChoice>();

/**
 * Activates a backend and says which one and why. Idempotent: repeated calls with the
 * same preference reuse the first resolution and only switch back to it if something
 * else changed the active backend meanwhile.
 *
 * An explicit preference that cannot be honoured falls back along the same chain
 * (tensorflow -> wasm -> cpu) rather than failing; the reason says so, and callers that
 * must have exactly what they asked for compare `name` with their preference.
 */
export async function selectBackend(
  preferred: BackendPreference = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendChoice> {
  if (!isBackendPreference(preferred)) {
    throw new BackendError(
      'ERR_BACKEND_UNKNOWN',
      `unknown backend ${JSON.stringify(preferred)}; expected one of ${BACKEND_PREFERENCES.join(', ')}`,
    );
  }
  const known = resolved.get(preferred);
  if (known) {
    if (tf.getBackend() !== known.name) await tf.setBackend(known.name);
    return known;
  }
  const choice = await resolve(preferred, options);
  resolved.set(preferred, choice);
  return choice;
}

async function resolve(preferred: BackendPreference, options: SelectBackendOptions): Promise<BackendChoice> {
  const failures: string[] = [];
  if (preferred === 'cpu') return useCpu('cpu was requested');

  if (preferred === 'auto' || preferred === 'tensorflow') {
    try {
      await useTfjsNode();
      return {
        name: 'tensorflow',
        reason: `${asked(preferred)}; tfjs-node (native TensorFlow) is installed`,
      };
    } catch (err) {
      failures.push(`tfjs-node unavailable (${tfjsNodeFailure(err)})`);
    }
  }

  try {
    configureWasmPaths(options.wasmPaths);
    const wasm = await useWasmBackend();
    const how = `${wasm.simd ? 'SIMD' : 'no SIMD'}, ${wasm.threads} thread${wasm.threads === 1 ? '' : 's'}`;
    return {
      ...wasm,
      reason: `${asked(preferred)}; ${[...failures, `using WebAssembly (${how})`].join('; ')}`,
    };
  } catch (err) {
    failures.push(`wasm unavailable (${describeFailure(err)})`);
  }
  return useCpu(`${asked(preferred)}; ${failures.join('; ')}; falling back to the slow pure-JS cpu backend`);
}

/** Why tfjs-node could not be used; when it is simply not installed, how to install it. */
function tfjsNodeFailure(err: unknown): string {
  const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
  if (code === 'ERR_MODULE_NOT_FOUND' && describeFailure(err).includes(TFJS_NODE)) {
    return `not installed; \`npm install ${TFJS_NODE}\` adds native TensorFlow, much faster where it has a prebuilt binary`;
  }
  return describeFailure(err);
}

function asked(preferred: BackendPreference): string {
  return preferred === 'auto' ? 'auto' : `${preferred} requested`;
}

async function useTfjsNode(): Promise<void> {
  await import(TFJS_NODE);
  // tfjs-node registers 'tensorflow' on the tfjs-core copy it resolves; if that is not
  // ours (a duplicate install), our tf cannot use it.
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(
      `${TFJS_NODE} loaded but registered no 'tensorflow' backend on this @tensorflow/tfjs copy`,
    );
  }
  if (!(await tf.setBackend('tensorflow'))) {
    throw new BackendError('ERR_BACKEND_UNAVAILABLE', "the 'tensorflow' backend failed to initialise");
  }
}

let wasmPathsSet = false;

/**
 * Points the wasm loader at the package's .wasm files. Only possible before the wasm
 * backend first initialises; afterwards the binary is already loaded.
 */
function configureWasmPaths(prefix: string | undefined): void {
  if (wasmPathsSet || tf.engine().registry.wasm) return;
  const dir =
    prefix ?? `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`;
  setWasmPaths(dir);
  wasmPathsSet = true;
}

async function useCpu(reason: string): Promise<BackendChoice> {
  if (!(await useCpuBackend())) {
    throw new BackendError('ERR_BACKEND_UNAVAILABLE', 'even the cpu backend failed to initialise');
  }
  return { name: 'cpu', reason };
}
