/**
 * im2col in JavaScript over the wasm heap, laid out for the filter gradient's GEMM:
 *
 *   A[(di, dj, c), (b, i, j)] = x[b, i*sh + di - pt, j*sw + dj - pl, c]   (0 in the padding)
 *
 * so that dW = A . dy viewed as [(b, i, j), o] is one plain (untransposed) matrix
 * product, which wasm runs on XNNPACK. Pays off when a filter has few taps x input
 * channels (2-3 channels, e.g. RGB input layers), where the convolution formulation
 * degenerates into a product with a short output that XNNPACK runs poorly.
 */
import type { BackendWasm, TensorInfo } from './wasm-ops.ts';

export interface Im2colGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Fills a new [fh*fw*C, B*oh*ow] tensor from `xChannelsFirst`, x transposed to
 * [C, B, H, W] (so every copied run is contiguous when the stride is 1).
 */
export function im2colTransposed(
  backend: BackendWasm,
  xChannelsFirst: TensorInfo,
  g: Im2colGeometry,
): TensorInfo {
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow } = g;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const cols = batchSize * oh * ow;
  // Allocate before taking views: growing the heap detaches earlier views.
  const out = backend.makeOutput([fh * fw * C, cols], 'float32');
  const x = backend.typedArrayFromHeap(xChannelsFirst) as Float32Array;
  const a = backend.typedArrayFromHeap(out) as Float32Array;
  let p = 0;
  for (let di = 0; di < fh; di++) {
    for (let dj = 0; dj < fw; dj++) {
      // Output columns j whose input column j*sw + dj - pl lies inside [0, W).
      const jLo = Math.min(ow, Math.max(0, Math.ceil((pl - dj) / sw)));
      const jHi = Math.max(jLo, Math.min(ow, Math.floor((W - 1 + pl - dj) / sw) + 1));
      for (let c = 0; c < C; c++) {
        for (let b = 0; b < batchSize; b++) {
          const plane = (c * batchSize + b) * H * W;
          for (let i = 0; i < oh; i++) {
            const r = i * sh + di - pt;
            if (r < 0 || r >= H) {
              a.fill(0, p, p + ow);
              p += ow;
              continue;
            }
            const row = plane + r * W + dj - pl;
            let j = 0;
            for (; j < jLo; j++) a[p++] = 0;
            if (sw === 1) {
              for (let src = row + j; j < jHi; j++) a[p++] = x[src++]!;
            } else {
              for (; j < jHi; j++) a[p++] = x[row + j * sw]!;
            }
            for (; j < ow; j++) a[p++] = 0;
          }
        }
      }
    }
  }
  return out;
}
