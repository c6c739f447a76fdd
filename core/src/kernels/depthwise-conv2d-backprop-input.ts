/**
 * DepthwiseConv2dNativeBackpropInput for wasm, which ships no such kernel.
 *
 *   dx[b,h,w,c] = sum_m sum_{i,j,di,dj: i*s+di-pt = h, ...} dy[b,i,j,c*M+m] * W[di,dj,c,m]
 *
 * A depthwise convolution (multiplier 1) of dy, dilated by the stride, with the
 * spatially flipped filter viewed as [fh, fw, C*M, 1], under transposed-convolution
 * paddings, yields each of the C*M channels' contribution; channel c's M contributions
 * are then summed.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  asShape4,
  convInfo,
  convWithPads,
  dilateSpatial,
  inputGradPads,
  requireUnitDilations,
} from './conv-util.ts';
import { type BackendWasm, release, reshape, reverse, sum, type TensorInfo } from './wasm-ops.ts';

const NAME = 'DepthwiseConv2dNativeBackpropInput';

function depthwiseConv2dBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  requireUnitDilations(NAME, dilations);
  const filterShape = asShape4(NAME, 'filter', filter.shape);
  const info = convInfo(
    asShape4(NAME, 'inputShape', inputShape),
    filterShape,
    strides,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth, strideHeight, strideWidth } =
    info;
  const multiplier = filterShape[3];

  const flipped = reverse(backend, filter, [0, 1]);
  const w = reshape(backend, flipped, [filterHeight, filterWidth, inChannels * multiplier, 1]);
  release(backend, flipped);
  const strided = strideHeight > 1 || strideWidth > 1;
  const src = strided ? dilateSpatial(backend, dy, strideHeight, strideWidth) : dy;
  const [, srcHeight, srcWidth] = src.shape;
  const perChannel = convWithPads(
    backend,
    src,
    w,
    inputGradPads(inHeight, filterHeight, info.padInfo.top, srcHeight!),
    inputGradPads(inWidth, filterWidth, info.padInfo.left, srcWidth!),
    [1, 1],
    true,
  ); // [B, H, W, C*M]
  release(backend, w);
  if (src !== dy) release(backend, src);
  if (multiplier === 1) return perChannel;
  const split = reshape(backend, perChannel, [batchSize, inHeight, inWidth, inChannels, multiplier]);
  release(backend, perChannel);
  const dx = sum(backend, split, [4]);
  release(backend, split);
  return dx;
}

export const depthwiseConv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropInput as tf.KernelFunc,
};
