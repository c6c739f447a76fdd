/**
 * Turns what an operator supplies — a slice of a built-in data set, or an uploaded
 * IDX/CSV/mutua-public-v1 file — into the content-addressed mutua-public-v1 bytes that
 * participants download once. Labels are dropped: the public set is unlabeled.
 */
import type { Dataset } from '@mutua/core/data';
import { loadFashionMnist, loadMnist, parseCsv, parseIdxImages } from '@mutua/core/data-node';
import { decodePublicSet, encodePublicSet, PUBLIC_SET_FORMAT } from '@mutua/proto';
import type { BuiltinSlice } from '@mutua/proto/rest';
import { badRequest, toHttpError } from './errors.ts';

export interface BuiltPublicSet {
  data: Uint8Array;
  sampleCount: number;
  shape: number[];
  source: string;
}

export async function buildBuiltin(slice: BuiltinSlice): Promise<BuiltPublicSet> {
  const ds =
    slice.dataset === 'mnist'
      ? await loadMnist({ split: slice.split })
      : await loadFashionMnist({ split: slice.split });
  if (slice.offset + slice.count > ds.n) {
    throw badRequest(
      `${slice.dataset} ${slice.split} has ${ds.n} samples; offset+count is ${slice.offset + slice.count}`,
    );
  }
  return fromDataset(
    ds,
    slice.offset,
    slice.count,
    `${slice.dataset}:${slice.split}[${slice.offset}:${slice.offset + slice.count}]`,
  );
}

export function buildUpload(
  bytes: Uint8Array,
  format: string,
  shape: number[] | undefined,
  name: string,
): BuiltPublicSet {
  try {
    if (format === PUBLIC_SET_FORMAT) {
      const ps = decodePublicSet(bytes, { raw: true });
      return { data: bytes, sampleCount: ps.sampleCount, shape: [...ps.shape], source: `upload:${name}` };
    }
    if (format === 'idx') {
      const img = parseIdxImages(bytes, { name });
      const ds: Dataset = { x: img.x, y: new Int32Array(img.n), n: img.n, shape: img.shape, numClasses: 2 };
      return fromDataset(ds, 0, ds.n, `upload:${name}`);
    }
    if (format === 'csv') {
      const ds = parseCsv(bytes, { name, shape });
      return fromDataset(ds, 0, ds.n, `upload:${name}`);
    }
  } catch (err) {
    // The parsers' coded errors (DATA_*, PUBLIC_SET_*) are the uploader's to fix: 400 with that code.
    throw toHttpError(err) ?? err;
  }
  throw badRequest(`unknown format "${format}": use idx, csv or ${PUBLIC_SET_FORMAT}`);
}

function fromDataset(ds: Dataset, offset: number, count: number, source: string): BuiltPublicSet {
  const size = ds.shape.reduce((a, b) => a * b, 1);
  const x = ds.x.subarray(offset * size, (offset + count) * size);
  // Pixel data in [0, 1] is stored as uint8 (4x smaller than float32); anything else as float32.
  let isPixels = true;
  for (let i = 0; i < x.length && isPixels; i++) {
    const v = x[i]! * 255;
    if (v < 0 || v > 255 || Math.abs(v - Math.round(v)) > 1e-3) isPixels = false;
  }
  const data = isPixels
    ? encodePublicSet({
        x: Uint8Array.from(x, (v) => Math.round(v * 255)),
        sampleCount: count,
        shape: [...ds.shape],
        dtype: 'uint8',
      })
    : encodePublicSet({ x, sampleCount: count, shape: [...ds.shape], dtype: 'float32' });
  return { data, sampleCount: count, shape: [...ds.shape], source };
}
