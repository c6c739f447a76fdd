/**
 * Backend-level building blocks for kernels composed on the tfjs wasm backend.
 *
 * A kernelFunc receives TensorInfos, not Tensors, and runs below the engine: calling
 * `tf.conv2d` from inside it would allocate engine-tracked tensors in the caller's
 * scope and profile/tape them separately. So compositions call the wasm backend's own
 * kernelFuncs directly and free their intermediates with `backend.disposeData`, which
 * is exactly how the stock wasm kernels compose (e.g. BatchMatMul reshapes).
 *
 * The *stock* kernel configs are captured before any Mutua override replaces them, so
 * a composition never recurses into an override (our Conv2DBackpropInput override
 * calls the stock Conv2D, our BatchMatMul override calls the stock BatchMatMul).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelError } from './errors.ts';

export type { BackendWasm };
export type TensorInfo = tf.TensorInfo;

const stockConfigs = new Map<string, tf.KernelConfig>();

/**
 * Remembers the wasm backend's own config for `kernelName` (first call wins), so that it
 * stays callable after an override is registered under the same name.
 */
export function rememberStockKernel(kernelName: string): tf.KernelConfig | undefined {
  const known = stockConfigs.get(kernelName);
  if (known) return known;
  const config = tf.getKernel(kernelName, 'wasm');
  if (config) stockConfigs.set(kernelName, config);
  return config;
}

/** The stock wasm kernelFunc for `kernelName`; throws if the wasm backend was never imported. */
export function stockKernel(kernelName: string): tf.KernelConfig {
  const config = rememberStockKernel(kernelName);
  if (!config) {
    throw new KernelError(
      'ERR_KERNEL_NO_WASM',
      `wasm kernel ${kernelName} is not registered: import '@tensorflow/tfjs-backend-wasm' first`,
    );
  }
  return config;
}

/** Runs a stock wasm kernel on TensorInfos. The caller owns (and must dispose) the result. */
export function runStock(
  backend: BackendWasm,
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const out = stockKernel(kernelName).kernelFunc({ backend, inputs, attrs: attrs as tf.NamedAttrMap });
  return out as TensorInfo;
}

/** Releases intermediates this composition owns (one backend reference each). */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return runStock(backend, 'Transpose', { x }, { perm });
}

/** A view with another shape sharing x's data (takes a new reference to it). */
export function reshape(backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  return runStock(backend, 'Reshape', { x }, { shape });
}

export function reverse(backend: BackendWasm, x: TensorInfo, dims: number[]): TensorInfo {
  return runStock(backend, 'Reverse', { x }, { dims });
}

export function slice(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  return runStock(backend, 'Slice', { x }, { begin, size });
}

export function sum(backend: BackendWasm, x: TensorInfo, axis: number[]): TensorInfo {
  return runStock(backend, 'Sum', { x }, { axis, keepDims: false });
}

export function tile(backend: BackendWasm, x: TensorInfo, reps: number[]): TensorInfo {
  return runStock(backend, 'Tile', { x }, { reps });
}

export function padZeros(backend: BackendWasm, x: TensorInfo, paddings: [number, number][]): TensorInfo {
  return runStock(backend, 'PadV2', { x }, { paddings, constantValue: 0 });
}

export type ExplicitPad = [[0, 0], [number, number], [number, number], [0, 0]];

/** NHWC conv2d with explicit padding (XNNPACK underneath, the fastest thing wasm has). */
export function conv2d(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  pad: ExplicitPad,
  dilations: [number, number] = [1, 1],
): TensorInfo {
  return runStock(
    backend,
    'Conv2D',
    { x, filter },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined },
  );
}

/** NHWC depthwise conv2d, stride 1, with explicit padding. */
export function depthwiseConv2d(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  pad: ExplicitPad,
  dilations: [number, number] = [1, 1],
): TensorInfo {
  return runStock(
    backend,
    'DepthwiseConv2dNative',
    { x, filter },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined },
  );
}

export function matMul(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  return runStock(backend, 'BatchMatMul', { a, b }, { transposeA, transposeB });
}
