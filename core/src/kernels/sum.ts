/**
 * A faster Sum for wasm over the batch and spatial axes of an NHWC tensor, i.e. a conv
 * layer's bias gradient.
 *
 * The stock kernel only reduces innermost axes, so it first transposes the whole
 * activation to channels-first. XNNPACK's average pooling reduces the spatial axes in
 * one pass instead: sum = avgPool(x, whole image) * H*W, then the small [B, C] rest is
 * summed over the batch. Measured (CPU ms, min): [64,26,26,16] 0.20 vs 1.30,
 * [64,28,28,32] 0.41 vs 5.3, [64,14,14,64] 0.23 vs 2.1. Rounding differs from a plain
 * sum by ~1e-7 relative. Any other reduction goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, release, reshape, runStock, sum, type TensorInfo } from './wasm-ops.ts';

export function sumConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const applies =
      x.dtype === 'float32' &&
      x.shape.length === 4 &&
      tf.util.sizeFromShape(x.shape) > 0 &&
      tf.util
        .parseAxisParam(axis, x.shape)
        .sort((a, b) => a - b)
        .join() === '0,1,2';
    if (!applies) return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as BackendWasm;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const pooled = runStock(backend, 'AvgPool', { x }, { filterSize: [h, w], strides: 1, pad: 'valid' });
    const perImage = reshape(backend, pooled, [n, c]);
    release(backend, pooled);
    const mean = sum(backend, perImage, [0]); // sum over images of per-image means
    release(backend, perImage);
    const area = backend.makeOutput([], 'float32', undefined, Float32Array.of(h * w));
    const total = runStock(backend, 'Multiply', { a: mean, b: area });
    release(backend, mean, area);
    if (!keepDims) return total;
    const kept = reshape(backend, total, [1, 1, 1, c]);
    release(backend, total);
    return kept;
  };
  return { ...stock, kernelName: 'Sum', backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}
