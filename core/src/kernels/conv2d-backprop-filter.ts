/**
 * Conv2DBackpropFilter for wasm, which ships no such kernel (so without it no conv net
 * can train on wasm).
 *
 *   dW[di,dj,c,o] = sum_{b,i,j} x[b, i*s+di-pt, j*s+dj-pl, c] * dy[b,i,j,o]
 *
 * is itself a convolution once batch and channels swap roles: the input is x with its
 * channels as the batch, [C, H, W, B]; the "filter" is dy as [oh, ow, B, O], its taps
 * spaced `stride` apart (dilation = stride); stride 1; the output [C, fh, fw, O] is dW
 * up to a transpose. That runs on XNNPACK, wasm's fastest code path.
 */
import type * as tf from '@tensorflow/tfjs';
import { asShape4, convInfo, convWithPads, requireNHWC } from './conv-util.ts';
import { type BackendWasm, release, type TensorInfo, transpose } from './wasm-ops.ts';

const NAME = 'Conv2DBackpropFilter';

function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
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

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
};
