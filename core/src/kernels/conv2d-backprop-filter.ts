/**
 * Conv2DBackpropFilter for wasm, which ships no such kernel (so without it no conv net
 * can train on wasm).
 *
 *   dW[di,dj,c,o] = sum_{b,i,j} x[b, i*s+di-pt, j*s+dj-pl, c] * dy[b,i,j,o]
 *
 * has two formulations on XNNPACK (wasm's fastest code), and each wins somewhere:
 * - a convolution once batch and channels swap roles: the input is x with its channels
 *   as the batch, [C, H, W, B]; the "filter" is dy as [oh, ow, B, O], its taps spaced
 *   `stride` apart (dilation = stride); stride 1; the output [C, fh, fw, O] is dW up to
 *   a transpose. Best when fh*fw*C is large;
 * - im2col + one matrix product (see im2col.ts). Best when fh*fw*C is small, e.g. a
 *   first layer with C = 1, where the convolution has a 9-row output and ran 3x slower.
 */
import type * as tf from '@tensorflow/tfjs';
import { asShape4, convInfo, convWithPads, requireNHWC } from './conv-util.ts';
import { im2colTransposed } from './im2col.ts';
import { type BackendWasm, matMul, release, reshape, type TensorInfo, transpose } from './wasm-ops.ts';

const NAME = 'Conv2DBackpropFilter';

/** Which formulation computes dW; 'auto' picks by fh*fw*C (tests force each). */
export type FilterGradStrategy = 'auto' | 'im2col' | 'convolution';

function conv2dBackpropFilter(
  strategy: FilterGradStrategy,
  args: {
    inputs: tf.NamedTensorInfoMap;
    backend: unknown;
    attrs?: tf.NamedAttrMap;
  },
): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNHWC(NAME, dataFormat);
  const info = convInfo(
    asShape4(NAME, 'x', x.shape),
    asShape4(NAME, 'filterShape', filterShape),
    strides,
    pad,
    dimRoundingMode,
    false,
  );
  const im2col =
    strategy === 'auto'
      ? info.filterHeight * info.filterWidth * info.inChannels <= IM2COL_MAX_ROWS
      : strategy === 'im2col';
  if (im2col) return viaIm2col(backend, x, dy, info);
  return viaConvolution(backend, x, dy, info);
}

/**
 * Largest fh*fw*C that goes through im2col. Measured with fresh operands (as in
 * training: XNNPACK caches operators per weight tensor, so reusing one flatters the
 * product), CPU ms at batch 64, im2col vs convolution: 28x28 images: 3x3x1 3.6 vs 4.1,
 * 5x5x1 19 vs 32, 3x3x3 23 vs 33; 13x13: 3x3x4 3.4 vs 3.0, 3x3x8 5.4 vs 3.9, 3x3x16
 * 8.9 vs 6.0; 14x14: 5x5x2 5.6 vs 3.5.
 */
export const IM2COL_MAX_ROWS = 32;

function viaIm2col(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const xT = inChannels === 1 ? x : transpose(backend, x, [3, 0, 1, 2]); // [C, B, H, W]
  const a = im2colTransposed(backend, xT, {
    ...info,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  if (xT !== x) release(backend, xT);
  const dy2 = reshape(backend, dy, [batchSize * outHeight * outWidth, outChannels]);
  const product = matMul(backend, a, dy2, false, false); // [fh*fw*C, O]
  release(backend, a, dy2);
  const dw = reshape(backend, product, [filterHeight, filterWidth, inChannels, outChannels]);
  release(backend, product);
  return dw;
}

function viaConvolution(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } =
    info;
  const { top, left } = info.padInfo;

  const xT = transpose(backend, x, [3, 1, 2, 0]); // [C, H, W, B]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [oh, ow, B, O]
  // Trailing pads that make the output exactly fh x fw; negative when 'valid' leaves
  // the last rows/columns of x unused (convWithPads then crops them).
  const bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  const right = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;
  const dwT = convWithPads(
    backend,
    xT,
    dyT,
    [top, bottom],
    [left, right],
    [strideHeight, strideWidth],
    false,
  );
  release(backend, xT, dyT);
  const dw = transpose(backend, dwT, [1, 2, 0, 3]); // [fh, fw, C, O]
  release(backend, dwT);
  return dw;
}

export function conv2dBackpropFilterConfigFor(strategy: FilterGradStrategy): tf.KernelConfig {
  return {
    kernelName: NAME,
    backendName: 'wasm',
    kernelFunc: ((args: Parameters<typeof conv2dBackpropFilter>[1]) =>
      conv2dBackpropFilter(strategy, args)) as tf.KernelFunc,
  };
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = conv2dBackpropFilterConfigFor('auto');
