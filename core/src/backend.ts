/**
 * Backend vocabulary and the isomorphic half of backend selection (Node and browser).
 * Node's `selectBackend()` lives in backend-node.ts, since only Node can load
 * tfjs-node; the browser participant calls `useWasmBackend()` here directly.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { type BackendChoice, BackendError } from './backend-names.ts';
import { registerWasmGradientKernels } from './kernels/register.ts';

export {
  BACKEND_NAMES,
  BACKEND_PREFERENCES,
  type BackendChoice,
  BackendError,
  type BackendErrorCode,
  type BackendName,
  type BackendPreference,
  describeFailure,
  isBackendName,
  isBackendPreference,
} from './backend-names.ts';

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
