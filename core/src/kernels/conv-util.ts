/**
 * Shape arithmetic shared by the composed convolution gradients: argument checks with
 * clear errors, and the "transposed convolution" geometry that turns a gradient into a
 * plain stride-1 convolution (which wasm runs through XNNPACK).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from './errors.ts';
import {
  type BackendWasm,
  conv2d,
  depthwiseConv2d,
  type ExplicitPad,
  padZeros,
  release,
  reshape,
  slice,
  type TensorInfo,
} from './wasm-ops.ts';

export type Shape4 = [number, number, number, number];

export function asShape4(kernel: string, what: string, shape: readonly number[]): Shape4 {
  if (shape.length !== 4) {
    throw new KernelError(
      'ERR_KERNEL_UNSUPPORTED',
      `${kernel}: ${what} must be rank 4 (NHWC), got [${shape.join(',')}]`,
    );
  }
  return shape as Shape4;
}

/** These kernels are written for channels-last only; NCHW would need its own transposes. */
export function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new KernelError(
      'ERR_KERNEL_UNSUPPORTED',
      `${kernel}: only dataFormat 'NHWC' is supported on wasm, got '${dataFormat}'`,
    );
  }
}

/** tfjs itself refuses dilated gradients; say so here too rather than compute something wrong. */
export function requireUnitDilations(
  kernel: string,
  dilations: number | readonly number[] | undefined,
): void {
  const ds = dilations === undefined ? [1] : typeof dilations === 'number' ? [dilations] : dilations;
  if (ds.some((d) => d !== 1)) {
    throw new KernelError(
      'ERR_KERNEL_UNSUPPORTED',
      `${kernel}: dilations must be 1 on wasm, got ${JSON.stringify(dilations)}`,
    );
  }
}

export type PadAttr = tf.Conv2DBackpropInputAttrs['pad'];
export type RoundingAttr = tf.Conv2DBackpropInputAttrs['dimRoundingMode'];

export function convInfo(
  xShape: Shape4,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: PadAttr,
  dimRoundingMode: RoundingAttr,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

/**
 * Padding (before, after) along one spatial axis for the stride-1 convolution that
 * computes an input gradient: `src` (dy, already dilated by the stride, `srcSize` long)
 * convolved with the flipped filter must yield `inSize` values. Either side can come
 * out negative with explicit paddings larger than the filter: the caller crops then.
 */
export function inputGradPads(
  inSize: number,
  filterSize: number,
  padBefore: number,
  srcSize: number,
): [number, number] {
  const before = filterSize - 1 - padBefore;
  const after = inSize + filterSize - 1 - srcSize - before;
  return [before, after];
}

/**
 * A stride-1 NHWC (depthwise when `depthwise`) convolution with arbitrary, possibly
 * negative, paddings: a negative padding crops the input instead, since XNNPACK only
 * pads. Does not take ownership of `x` or `filter`.
 */
export function convWithPads(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  [top, bottom]: [number, number],
  [left, right]: [number, number],
  dilations: [number, number],
  depthwise: boolean,
): TensorInfo {
  let src = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = x.shape as Shape4;
    const cropTop = Math.max(0, -top);
    const cropLeft = Math.max(0, -left);
    const height = h - cropTop - Math.max(0, -bottom);
    const width = w - cropLeft - Math.max(0, -right);
    src = slice(backend, x, [0, cropTop, cropLeft, 0], [n, height, width, c]);
  }
  const pad: ExplicitPad = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  const out = depthwise
    ? depthwiseConv2d(backend, src, filter, pad, dilations)
    : conv2d(backend, src, filter, pad, dilations);
  if (src !== x) release(backend, src);
  return out;
}

/**
 * Spreads dy's rows and columns `stride` apart with zeros between them (the "fractional
 * stride" of a transposed convolution): [n, h, w, c] -> [n, h*sh, w*sw, c]. The last
 * sh-1 rows and sw-1 columns are zeros too; callers account for them in the padding.
 */
export function dilateSpatial(backend: BackendWasm, x: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, h, w, c] = x.shape as Shape4;
  const x6 = reshape(backend, x, [n, h, 1, w, 1, c]);
  const padded = padZeros(backend, x6, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  release(backend, x6);
  const out = reshape(backend, padded, [n, h * sh, w * sw, c]);
  release(backend, padded);
  return out;
}
