/**
 * One Adam step for one variable as a single wasm-backend kernel ('MutuaAdamUpdate'):
 * a JavaScript pass over the heap instead of the ~13 tiny kernels tf.train.adam runs
 * per variable. Inputs value, m, v, grad (float32, same shape); outputs the new value,
 * m and v, in that order, as fresh tensors (the optimizer assigns them): updating in
 * place would corrupt any snapshot sharing a variable's data, e.g. a clone taken for
 * FedAvg. Same formula as tfjs' AdamOptimizer, computed in float64 and rounded once.
 */
import type * as tf from '@tensorflow/tfjs';
import { KernelError } from './errors.ts';
import type { BackendWasm, TensorInfo } from './wasm-ops.ts';

export const ADAM_UPDATE = 'MutuaAdamUpdate';

export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t for this step t (the bias corrections). */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}

function adamUpdate(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { value, m, v, grad } = args.inputs as Record<'value' | 'm' | 'v' | 'grad', TensorInfo>;
  const a = args.attrs as unknown as AdamUpdateAttrs;
  for (const t of [value, m, v, grad]) {
    if (t.dtype !== 'float32' || t.shape.join() !== value.shape.join()) {
      throw new KernelError('ERR_KERNEL_UNSUPPORTED', `${ADAM_UPDATE}: needs float32 tensors of one shape`);
    }
  }
  // Allocate first: growing the heap detaches earlier views.
  const outValue = backend.makeOutput(value.shape, 'float32');
  const outM = backend.makeOutput(value.shape, 'float32');
  const outV = backend.makeOutput(value.shape, 'float32');
  const w = backend.typedArrayFromHeap(value) as Float32Array;
  const m0 = backend.typedArrayFromHeap(m) as Float32Array;
  const v0 = backend.typedArrayFromHeap(v) as Float32Array;
  const g = backend.typedArrayFromHeap(grad) as Float32Array;
  const w1 = backend.typedArrayFromHeap(outValue) as Float32Array;
  const m1 = backend.typedArrayFromHeap(outM) as Float32Array;
  const v1 = backend.typedArrayFromHeap(outV) as Float32Array;
  const { learningRate: lr, beta1, beta2, epsilon, oneMinusAccBeta1: c1, oneMinusAccBeta2: c2 } = a;
  const a1 = 1 - beta1;
  const a2 = 1 - beta2;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = m0[i]! * beta1 + gi * a1;
    const vi = v0[i]! * beta2 + gi * gi * a2;
    m1[i] = mi;
    v1[i] = vi;
    w1[i] = w[i]! - (mi / c1 / (Math.sqrt(vi / c2) + epsilon)) * lr;
  }
  return [outValue, outM, outV];
}

export const adamUpdateConfig: tf.KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'wasm',
  kernelFunc: adamUpdate as tf.KernelFunc,
};
