/**
 * A faster MaxPoolGrad for wasm: one pass in JavaScript over the wasm heap.
 *
 * The stock kernel was the second largest cost of a cnn-small step. Composing it from
 * tensor ops (an equality mask of input against the pooled output) would be wrong after
 * ReLU, where whole windows tie at 0 and a mask would route the gradient to every tied
 * element. This kernel keeps the reference semantics exactly (tfjs cpu/wasm): each
 * window's gradient goes to the FIRST maximum in row-major window order (strict `>`),
 * a window of only NaN or -Infinity passes no gradient, and overlapping windows add up.
 * It reads and writes the backend's heap through typed-array views, so it allocates
 * no intermediate tensors and works in browsers as in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { asShape4 } from './conv-util.ts';
import type { BackendWasm, TensorInfo } from './wasm-ops.ts';

const NAME = 'MaxPoolGrad';

function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    asShape4(NAME, 'input', input.shape),
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;

  // Allocate first: growing the heap detaches earlier views.
  const out = backend.makeOutput(input.shape, 'float32');
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);

  const maxValue = new Float32Array(channels);
  const maxIndex = new Int32Array(channels);
  const rowStride = inWidth * channels;
  for (let b = 0; b < batchSize; b++) {
    const xBatch = b * inHeight * rowStride;
    for (let yr = 0; yr < outHeight; yr++) {
      const r0 = yr * strideHeight - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(inHeight, r0 + filterHeight);
      for (let yc = 0; yc < outWidth; yc++) {
        const c0 = yc * strideWidth - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(inWidth, c0 + filterWidth);
        maxValue.fill(Number.NEGATIVE_INFINITY);
        maxIndex.fill(-1);
        for (let r = rMin; r < rMax; r++) {
          for (let c = cMin; c < cMax; c++) {
            const base = xBatch + r * rowStride + c * channels;
            for (let d = 0; d < channels; d++) {
              const v = x[base + d]!;
              if (v > maxValue[d]!) {
                maxValue[d] = v;
                maxIndex[d] = base + d;
              }
            }
          }
        }
        const gBase = ((b * outHeight + yr) * outWidth + yc) * channels;
        for (let d = 0; d < channels; d++) {
          const at = maxIndex[d]!;
          if (at >= 0) dx[at] = dx[at]! + g[gBase + d]!;
        }
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
