/**
 * DepthwiseConv2dNativeBackpropFilter for wasm, which ships no such kernel.
 *
 *   dW[di,dj,c,m] = sum_{b,i,j} x[b, i*s+di-pt, j*s+dj-pl, c] * dy[b,i,j,c*M+m]
 *
 * Each (image, channel) pair is an independent depthwise channel: x as [1, H, W, B*C]
 * convolved depthwise with dy as a [oh, ow, B*C, M] filter (taps `stride` apart) gives
 * every image's contribution [1, fh, fw, B*C*M]; summing over the images gives dW.
 */
import type * as tf from '@tensorflow/tfjs';
import { asShape4, convInfo, convWithPads, requireUnitDilations } from './conv-util.ts';
import { type BackendWasm, release, reshape, sum, type TensorInfo, transpose } from './wasm-ops.ts';

const NAME = 'DepthwiseConv2dNativeBackpropFilter';

function depthwiseConv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  requireUnitDilations(NAME, dilations);
  const info = convInfo(
    asShape4(NAME, 'x', x.shape),
    asShape4(NAME, 'filterShape', filterShape),
    strides,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const multiplier = filterShape[3];
  const { top, left } = info.padInfo;

  const xT = transpose(backend, x, [1, 2, 0, 3]); // [H, W, B, C]
  const xImg = reshape(backend, xT, [1, inHeight, inWidth, batchSize * inChannels]);
  release(backend, xT);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [oh, ow, B, C*M]
  const dyFilter = reshape(backend, dyT, [outHeight, outWidth, batchSize * inChannels, multiplier]);
  release(backend, dyT);
  const bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  const right = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;
  const perImage = convWithPads(
    backend,
    xImg,
    dyFilter,
    [top, bottom],
    [left, right],
    [strideHeight, strideWidth],
    true,
  ); // [1, fh, fw, B*C*M]
  release(backend, xImg, dyFilter);
  const split = reshape(backend, perImage, [filterHeight, filterWidth, batchSize, inChannels * multiplier]);
  release(backend, perImage);
  const summed = sum(backend, split, [2]); // [fh, fw, C*M]
  release(backend, split);
  const dw = reshape(backend, summed, [filterHeight, filterWidth, inChannels, multiplier]);
  release(backend, summed);
  return dw;
}

export const depthwiseConv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropFilter as tf.KernelFunc,
};
