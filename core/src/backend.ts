/**
 * Backend vocabulary and the isomorphic half of backend selection (Node and browser).
 * Node's `selectBackend()` lives in backend-node.ts, since only Node can load
 * tfjs-node; the browser participant calls `useWasmBackend()` here directly.
 *
 * Code that switches to tfjs's pure-JS cpu backend goes through `useCpuBackend()` here
 * rather than `tf.setBackend('cpu')`, so that tfjs's own advertisement does not reach
 * the user's terminal (see there).
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

/**
 * Activates tfjs's pure-JS cpu backend without the banner tfjs-backend-cpu prints (with
 * console.warn) on the first tensor written to it in Node: "Hi, looks like you are
 * running TensorFlow.js in Node.js. To speed things up dramatically, install our node
 * backend...". tfjs skips it only when its PROD or IS_TEST flag is set; setting either
 * for the whole process would also silence tfjs's genuine warnings (and IS_TEST turns on
 * per-kernel leak checks), so PROD is set only around one empty write, which spends the
 * backend's once-per-instance banner. Which backend is in use and why is the caller's to
 * say, in its own words (BackendChoice.reason, printed by the commands). Returns what
 * `tf.setBackend('cpu')` returns.
 */
export async function useCpuBackend(): Promise<boolean> {
  spendCpuBanner();
  return tf.setBackend('cpu');
}

function spendCpuBanner(): void {
  // Creates the instance if needed (the cpu factory is synchronous) without activating it;
  // tf.setBackend('cpu') then reuses it.
  const cpu = tf.engine().findBackend('cpu');
  if (!cpu) return;
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    cpu.disposeData(cpu.write(new Float32Array(0), [0], 'float32'), true);
  } finally {
    env.set('PROD', prod);
  }
}
