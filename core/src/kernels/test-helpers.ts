/**
 * Shared by the kernel tests: run the same computation on the cpu backend (the
 * reference) and on wasm (with Mutua's kernels), and compare within a relative bound.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { useCpuBackend } from '../backend.ts';
import { registerWasmGradientKernels } from './register.ts';

/** Kernel output may differ from cpu by summation order only: 1e-4 of the largest magnitude. */
export const RELATIVE_TOLERANCE = 1e-4;

export async function initBackends(): Promise<void> {
  registerWasmGradientKernels();
  assert.ok(await useCpuBackend());
  assert.ok(await tf.setBackend('wasm'));
}

/** Deterministic uniform values in [-1, 1) (mulberry32), so failures reproduce. */
export function randomValues(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

export interface Input {
  shape: number[];
  values: Float32Array;
}

export function randomInput(shape: number[], seed: number): Input {
  return {
    shape,
    values: randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
  };
}

/** Runs `f` on `backend` with fresh tensors made from `inputs`; returns the output's values. */
export async function runOn(
  backend: 'cpu' | 'wasm',
  inputs: Input[],
  f: (...ts: tf.Tensor[]) => tf.Tensor,
): Promise<{ shape: number[]; values: Float32Array }> {
  assert.ok(await tf.setBackend(backend));
  const ts = inputs.map((i) => tf.tensor(i.values, i.shape, 'float32'));
  const out = f(...ts);
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  tf.dispose([...ts, out]);
  return { shape, values };
}

export function assertClose(
  actual: { shape: number[]; values: Float32Array },
  expected: { shape: number[]; values: Float32Array },
  what: string,
): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.values.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected.values[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(actual.values[i]! - expected.values[i]!));
  }
  assert.ok(Number.isFinite(maxDiff), `${what}: non-finite difference`);
  assert.ok(
    maxDiff <= RELATIVE_TOLERANCE * Math.max(maxRef, 1e-12),
    `${what}: max |wasm - cpu| = ${maxDiff} exceeds ${RELATIVE_TOLERANCE} x max |cpu| = ${maxRef}`,
  );
}

/** Asserts wasm (Mutua kernels) matches cpu for `f` on `inputs`. */
export async function assertMatchesCpu(
  what: string,
  inputs: Input[],
  f: (...ts: tf.Tensor[]) => tf.Tensor,
): Promise<void> {
  const expected = await runOn('cpu', inputs, f);
  const actual = await runOn('wasm', inputs, f);
  assertClose(actual, expected, what);
}

/**
 * Asserts that running `f` repeatedly on wasm leaves neither engine tensors nor backend
 * buffers behind (a kernel's intermediates are invisible to tf.memory()).
 */
export async function assertNoLeak(inputs: Input[], f: (...ts: tf.Tensor[]) => tf.Tensor): Promise<void> {
  assert.ok(await tf.setBackend('wasm'));
  const ts = inputs.map((i) => tf.tensor(i.values, i.shape, 'float32'));
  tf.dispose(f(...ts)); // first call may allocate caches
  const tensorsBefore = tf.memory().numTensors;
  const buffersBefore = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) tf.dispose(f(...ts));
  assert.equal(tf.memory().numTensors, tensorsBefore, 'engine tensors leaked');
  assert.equal(tf.backend().numDataIds(), buffersBefore, 'backend buffers leaked');
  tf.dispose(ts);
}

export type Padding = 'valid' | 'same';

/** Runs a kernel by name on the active backend (what the gradient functions do). */
export function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}
