/**
 * Conv2DBackpropFilter for wasm, which ships no such kernel (so without it no conv net
 * can train on wasm).
 *
 *   dW[di,dj,c,o] = sum_{b,i,j} x[b, i*s+di-pt, j*s+dj-pl, c] * dy[b,i,j,o]
 *
 * has three formulations on XNNPACK (wasm's fastest code); each wins somewhere (see
 * pick() for the measurements):
 * - a convolution once batch and channels swap roles: the input is x with its channels
 *   as the batch, [C, H, W, B]; the "filter" is dy as [oh, ow, B, O], its taps spaced
 *   `stride` apart (dilation = stride); stride 1; the output [C, fh, fw, O] is dW up to
 *   a transpose. Best with many input channels;
 * - im2col + one matrix product (see im2col.ts): a few input channels;
 * - a depthwise convolution with one channel per image: a single input channel (first
 *   layers), where the plain convolution degenerates into a 9- or 25-row output.
 *
 * Where a formulation leaves the last rows/columns of x unused ('valid' with a stride
 * that does not divide evenly), its trailing padding comes out negative and
 * convWithPads crops x instead.
 */
import type * as tf from '@tensorflow/tfjs';
import { asShape4, convInfo, convWithPads, requireNHWC } from './conv-util.ts';
import { im2colTransposed } from './im2col.ts';
import {
  type BackendWasm,
  matMul,
  release,
  reshape,
  sum,
  type TensorInfo,
  tile,
  transpose,
} from './wasm-ops.ts';

const NAME = 'Conv2DBackpropFilter';

/** Which formulation computes dW; 'auto' picks by shape (tests force each). */
export type FilterGradStrategy = 'auto' | 'im2col' | 'convolution' | 'depthwise';

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
  switch (strategy === 'auto' ? pick(info) : strategy) {
    case 'depthwise':
      return viaDepthwise(backend, x, dy, info);
    case 'im2col':
      return viaIm2col(backend, x, dy, info);
    default:
      return viaConvolution(backend, x, dy, info);
  }
}

/**
 * Measured with fresh operands (as in training: XNNPACK caches an operator per weight
 * tensor, so reusing one flatters a product), CPU ms at batch 64, depthwise / im2col /
 * convolution: C = 1, 28x28: 3x3 3.2 / 3.5 / 3.8, 5x5 'same' 8.2 / 13 / 21, 5x5 stride 2
 * 2.0 / 3.5 / 2.4. Depthwise with C > 1 must repeat dy C times and ran 15-60x slower.
 * C > 1: 3x3x3 on 28x28 - / 18 / 22, 5x5x3 on 32x32 - / 32 / 36, 3x3x2 on 13x13
 * - / 2.4 / 2.0, 3x3x4 - / 2.8 / 2.3, 3x3x16 - / 5.7 / 3.9.
 */
function pick(info: tf.backend_util.Conv2DInfo): Exclude<FilterGradStrategy, 'auto'> {
  if (info.inChannels === 1) return 'depthwise';
  if (info.filterHeight * info.filterWidth * info.inChannels <= IM2COL_MAX_ROWS) return 'im2col';
  return 'convolution';
}

/** Largest fh*fw*C (C > 1) that goes through im2col; see pick(). */
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

/**
 * Each (image, input channel) pair as a depthwise channel: x as [1, H, W, B*C], dy as
 * a [oh, ow, B*C, O] filter (dy repeated for each of the C channels), taps `stride`
 * apart; the output [1, fh, fw, B*C*O] summed over images is dW.
 */
function viaDepthwise(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const xT = transpose(backend, x, [1, 2, 0, 3]); // [H, W, B, C]
  const xImg = reshape(backend, xT, [1, inHeight, inWidth, batchSize * inChannels]);
  release(backend, xT);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [oh, ow, B, O]
  let filter: TensorInfo;
  if (inChannels === 1) {
    filter = dyT;
  } else {
    const dy5 = reshape(backend, dyT, [outHeight, outWidth, batchSize, 1, outChannels]);
    const tiled = tile(backend, dy5, [1, 1, 1, inChannels, 1]);
    release(backend, dy5, dyT);
    filter = reshape(backend, tiled, [outHeight, outWidth, batchSize * inChannels, outChannels]);
    release(backend, tiled);
  }
  const bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  const right = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;
  const perImage = convWithPads(
    backend,
    xImg,
    filter,
    [top, bottom],
    [left, right],
    [strideHeight, strideWidth],
    true,
  ); // [1, fh, fw, B*C*O]
  release(backend, xImg, filter);
  const split = reshape(backend, perImage, [filterHeight, filterWidth, batchSize, inChannels * outChannels]);
  release(backend, perImage);
  const summed = sum(backend, split, [2]);
  release(backend, split);
  const dw = reshape(backend, summed, [filterHeight, filterWidth, inChannels, outChannels]);
  release(backend, summed);
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
