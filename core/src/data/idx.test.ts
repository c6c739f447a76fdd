import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeIdx,
  type IdxDtype,
  parseIdx,
  parseIdxDataset,
  parseIdxImages,
  parseIdxLabels,
} from './idx.ts';

/** 2 images of 2x3 pixels, written byte by byte as the IDX spec describes. */
// biome-ignore format: one header field per line
const IMAGES = new Uint8Array([
  0x00, 0x00, 0x08, 0x03, // magic: ubyte, 3 dims
  0x00, 0x00, 0x00, 0x02, // 2 images
  0x00, 0x00, 0x00, 0x02, // 2 rows
  0x00, 0x00, 0x00, 0x03, // 3 cols
  0, 51, 102, 153, 204, 255,
  255, 0, 0, 0, 0, 1,
]);
const LABELS = new Uint8Array([0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x02, 7, 3]);

describe('parseIdx', () => {
  it('reads a hand-built ubyte file: dims big-endian, data row-major', () => {
    const idx = parseIdx(IMAGES);
    assert.equal(idx.dtype, 'uint8');
    assert.deepEqual(idx.dims, [2, 2, 3]);
    assert.deepEqual([...idx.data], [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 1]);
  });

  it('round-trips every element type through encodeIdx', () => {
    const cases: [IdxDtype, number[]][] = [
      ['uint8', [0, 1, 254, 255, 7, 9]],
      ['int8', [-128, -1, 0, 1, 127, 5]],
      ['int16', [-32768, -2, 0, 300, 32767, 1]],
      ['int32', [-(2 ** 31), -70000, 0, 70000, 2 ** 31 - 1, 3]],
      ['float32', [-1.5, 0, 0.25, 3.5, 1e10, -2]],
      ['float64', [Math.PI, -Math.E, 0, 1e-300, 1e300, 0.1]],
    ];
    for (const [dtype, values] of cases) {
      const bytes = encodeIdx({ dtype, dims: [3, 2], data: values });
      const idx = parseIdx(bytes);
      assert.equal(idx.dtype, dtype);
      assert.deepEqual(idx.dims, [3, 2]);
      assert.deepEqual([...idx.data], values, dtype);
    }
  });

  it('stores multi-byte values big-endian', () => {
    const bytes = encodeIdx({ dtype: 'int16', dims: [1], data: [0x0102] });
    assert.deepEqual([...bytes], [0, 0, 0x0b, 1, 0, 0, 0, 1, 0x01, 0x02]);
  });

  it('parses a view into a larger buffer (byteOffset != 0)', () => {
    const big = new Uint8Array(IMAGES.length + 5);
    big.set(IMAGES, 5);
    assert.deepEqual(parseIdx(big.subarray(5)).dims, [2, 2, 3]);
  });

  it('names the problem with a stable code', () => {
    const cases: [string, Uint8Array, string, RegExp?][] = [
      ['shorter than the magic', new Uint8Array([0, 0, 8]), 'DATA_IDX_TRUNCATED'],
      ['non-zero magic', new Uint8Array([1, 2, 8, 1, 0, 0, 0, 0]), 'DATA_IDX_BAD_MAGIC'],
      ['gzip data', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), 'DATA_IDX_BAD_MAGIC', /gzip/],
      ['unknown type', new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 0]), 'DATA_IDX_BAD_DTYPE', /0x0a/],
      ['zero dimensions', new Uint8Array([0, 0, 8, 0]), 'DATA_IDX_BAD_RANK'],
      ['short header', new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), 'DATA_IDX_TRUNCATED', /header/],
      ['short body', IMAGES.subarray(0, IMAGES.length - 1), 'DATA_IDX_TRUNCATED', /need 28 bytes/],
      ['extra bytes', new Uint8Array([...LABELS, 0]), 'DATA_IDX_TRAILING_BYTES'],
    ];
    for (const [what, bytes, code, message] of cases) {
      assert.throws(
        () => parseIdx(bytes, { name: 'my-file.idx' }),
        (err: Error & { code?: string; file?: string }) => {
          assert.equal(err.code, code, what);
          assert.equal(err.file, 'my-file.idx');
          assert.match(err.message, /my-file\.idx/);
          if (message) assert.match(err.message, message);
          return true;
        },
      );
    }
  });
});

describe('parseIdxImages / parseIdxLabels', () => {
  it('scales ubyte pixels to [0, 1] with shape [rows, cols, 1]', () => {
    const images = parseIdxImages(IMAGES);
    assert.equal(images.n, 2);
    assert.deepEqual(images.shape, [2, 3, 1]);
    assert.deepEqual([...images.x.subarray(0, 6)], [0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
    assert.equal(images.x[11], Math.fround(1 / 255));
  });

  it('uses [d] for 2-D files, [rows, cols, c] for 4-D, and keeps non-ubyte values unscaled', () => {
    const flat = parseIdxImages(encodeIdx({ dtype: 'uint8', dims: [2, 3], data: [0, 0, 0, 255, 255, 255] }));
    assert.deepEqual(flat.shape, [3]);
    const rgb = parseIdxImages(
      encodeIdx({ dtype: 'float32', dims: [1, 1, 2, 3], data: [0, 0.5, 1, 0.25, 0, 1] }),
    );
    assert.deepEqual(rgb.shape, [1, 2, 3]);
    assert.deepEqual([...rgb.x], [0, 0.5, 1, 0.25, 0, 1]);
    const scaled = parseIdxImages(encodeIdx({ dtype: 'int16', dims: [1, 2], data: [1000, 500] }), {
      scale: 0.001,
    });
    assert.deepEqual([...scaled.x], [1, 0.5]);
  });

  it('converts only the first `limit` samples', () => {
    const images = parseIdxImages(IMAGES, { limit: 1 });
    assert.equal(images.n, 1);
    assert.equal(images.x.length, 6);
  });

  it('reads labels and checks them', () => {
    assert.deepEqual([...parseIdxLabels(LABELS)], [7, 3]);
    assert.throws(() => parseIdxLabels(LABELS, { numClasses: 5, name: 'lbl' }), {
      code: 'DATA_LABEL_OUT_OF_RANGE',
      message: /lbl: label 7 at index 0 is outside \[0, 5\)/,
    });
    const negative = encodeIdx({ dtype: 'int8', dims: [2], data: [1, -1] });
    assert.throws(() => parseIdxLabels(negative), { code: 'DATA_LABEL_OUT_OF_RANGE', message: /index 1/ });
    const fractional = encodeIdx({ dtype: 'float32', dims: [2], data: [1, 1.5] });
    assert.throws(() => parseIdxLabels(fractional), { code: 'DATA_LABEL_NOT_INTEGER' });
  });

  it('refuses a labels file as images and an images file as labels', () => {
    assert.throws(() => parseIdxImages(LABELS), { code: 'DATA_IDX_BAD_RANK', message: /labels file/ });
    assert.throws(() => parseIdxLabels(IMAGES), { code: 'DATA_IDX_BAD_RANK', message: /images file/ });
  });
});

describe('parseIdxDataset', () => {
  it('joins images and labels into a Dataset', () => {
    const ds = parseIdxDataset(IMAGES, LABELS);
    assert.equal(ds.n, 2);
    assert.deepEqual(ds.shape, [2, 3, 1]);
    assert.deepEqual([...ds.y], [7, 3]);
    assert.equal(ds.numClasses, 8, 'max label + 1 by default');
    assert.equal(ds.labelNames, undefined);
    const named = parseIdxDataset(IMAGES, LABELS, { labelNames: 'abcdefghij'.split(''), limit: 1 });
    assert.equal(named.numClasses, 10);
    assert.equal(named.n, 1);
    assert.deepEqual([...named.y], [7]);
  });

  it('numClasses does not depend on limit', () => {
    assert.equal(parseIdxDataset(IMAGES, LABELS, { limit: 0 }).numClasses, 8);
  });

  it('reports a count mismatch naming both files', () => {
    const three = encodeIdx({ dtype: 'uint8', dims: [3], data: [1, 2, 3] });
    assert.throws(() => parseIdxDataset(IMAGES, three, { imagesName: 'img.idx', labelsName: 'lbl.idx' }), {
      code: 'DATA_LABEL_COUNT_MISMATCH',
      message: /img\.idx holds 2 samples but lbl\.idx holds 3 labels/,
    });
  });

  it('checks labels against numClasses', () => {
    assert.throws(() => parseIdxDataset(IMAGES, LABELS, { numClasses: 5 }), {
      code: 'DATA_LABEL_OUT_OF_RANGE',
    });
    assert.throws(() => parseIdxDataset(IMAGES, LABELS, { numClasses: 10, labelNames: ['a'] }), {
      code: 'DATA_INVALID_OPTION',
    });
  });
});
