import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodePublicSet,
  encodePublicSet,
  PUBLIC_SET_MAGIC,
  PublicSetError,
  type PublicSetErrorCode,
  readPublicSetHeader,
} from '../src/index.ts';

function throwsCode(fn: () => unknown, code: PublicSetErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof PublicSetError && e.code === code);
}

describe('mutua-public-v1 public-set files', () => {
  it('has the documented prefix and header (golden bytes)', () => {
    const file = encodePublicSet({
      x: Uint8Array.of(0, 255, 51, 102),
      sampleCount: 2,
      shape: [2],
      dtype: 'uint8',
    });
    const text = Buffer.from(file).toString('latin1');
    assert.equal(Buffer.from(file.subarray(0, 8)).toString('hex'), '4d55545055423100');
    const h = new DataView(file.buffer, file.byteOffset).getUint32(8, true);
    assert.equal((12 + h) % 8, 0, 'samples start 8-aligned');
    assert.equal(
      text.slice(12, 12 + h).trimEnd(),
      '{"sampleCount":2,"shape":[2],"dtype":"uint8","scale":0.00392156862745098}',
    );
    assert.equal(Buffer.from(file.subarray(12 + h)).toString('hex'), '00ff3366');
    assert.equal(file.length, 12 + h + 4);
  });

  it('round-trips uint8 image data to [0, 1] floats, and raw bytes on request', () => {
    const x = new Uint8Array(3 * 4 * 4 * 1).map((_, i) => (i * 37) % 256);
    const file = encodePublicSet({ x, sampleCount: 3, shape: [4, 4, 1], dtype: 'uint8' });
    const set = decodePublicSet(file);
    assert.equal(set.sampleCount, 3);
    assert.deepEqual(set.shape, [4, 4, 1]);
    assert.equal(set.dtype, 'uint8');
    assert.ok(set.x instanceof Float32Array);
    for (let i = 0; i < x.length; i++) assert.equal(set.x[i], Math.fround(x[i]! / 255));
    const raw = decodePublicSet(file, { raw: true });
    assert.deepEqual(Array.from(raw.x), Array.from(x));
  });

  it('quantizes [0, 1] floats to uint8 within half a step', () => {
    const x = Float32Array.from({ length: 20 }, (_, i) => i / 19);
    const set = decodePublicSet(encodePublicSet({ x, sampleCount: 4, shape: [5], dtype: 'uint8' }));
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(set.x[i]! - x[i]!) <= 0.5 / 255 + 1e-7);
    throwsCode(
      () => encodePublicSet({ x: Float32Array.of(1.5), sampleCount: 1, shape: [1], dtype: 'uint8' }),
      'PUBLIC_SET_VALUE',
    );
  });

  it('round-trips float32 exactly, and rejects non-finite samples', () => {
    const x = Float32Array.of(-1.5, 0, 3.25, 1e-30, 7, 8);
    const set = decodePublicSet(encodePublicSet({ x, sampleCount: 2, shape: [3], dtype: 'float32' }));
    assert.deepEqual(Array.from(set.x), Array.from(x));
    assert.equal(set.scale, 1);
    throwsCode(
      () => encodePublicSet({ x: Float32Array.of(Number.NaN), sampleCount: 1, shape: [1], dtype: 'float32' }),
      'PUBLIC_SET_VALUE',
    );
    const file = encodePublicSet({ x: Float32Array.of(1), sampleCount: 1, shape: [1], dtype: 'float32' });
    new DataView(file.buffer, file.byteOffset).setFloat32(file.length - 4, Number.POSITIVE_INFINITY, true);
    throwsCode(() => decodePublicSet(file), 'PUBLIC_SET_VALUE');
  });

  it('keeps MNIST-sized public sets small: 10,000 x 28x28 uint8 is 7.84 MB', () => {
    const file = encodePublicSet({
      x: new Uint8Array(10_000 * 784),
      sampleCount: 10_000,
      shape: [28, 28, 1],
      dtype: 'uint8',
    });
    assert.ok(file.length < 7_840_100 && file.length > 7_840_000, String(file.length));
    assert.equal(readPublicSetHeader(file).sampleCount, 10_000);
  });

  it('rejects malformed files with coded errors', () => {
    const good = encodePublicSet({ x: new Uint8Array(6), sampleCount: 2, shape: [3], dtype: 'uint8' });
    throwsCode(() => decodePublicSet(new Uint8Array(4)), 'PUBLIC_SET_MAGIC');
    throwsCode(() => decodePublicSet(Uint8Array.from(Buffer.from('P5\n28 28\n255\n'))), 'PUBLIC_SET_MAGIC');
    throwsCode(() => decodePublicSet(good.subarray(0, good.length - 1)), 'PUBLIC_SET_LENGTH');
    throwsCode(() => decodePublicSet(Uint8Array.from([...good, 0])), 'PUBLIC_SET_LENGTH');
    const hugeHeader = good.slice();
    new DataView(hugeHeader.buffer).setUint32(8, 1 << 30, true);
    throwsCode(() => decodePublicSet(hugeHeader), 'PUBLIC_SET_HEADER');

    const withHeader = (json: string, data = new Uint8Array(0)) => {
      const j = Buffer.from(json);
      const out = new Uint8Array(12 + j.length + data.length);
      out.set(PUBLIC_SET_MAGIC);
      new DataView(out.buffer).setUint32(8, j.length, true);
      out.set(j, 12);
      out.set(data, 12 + j.length);
      return out;
    };
    throwsCode(() => decodePublicSet(withHeader('{not json')), 'PUBLIC_SET_HEADER');
    throwsCode(() => decodePublicSet(withHeader('[1,2]')), 'PUBLIC_SET_HEADER');
    throwsCode(
      () => decodePublicSet(withHeader('{"sampleCount":1,"shape":[1],"dtype":"int16"}')),
      'PUBLIC_SET_HEADER',
    );
    throwsCode(
      () => decodePublicSet(withHeader('{"sampleCount":0,"shape":[1],"dtype":"uint8"}')),
      'PUBLIC_SET_HEADER',
    );
    throwsCode(
      () => decodePublicSet(withHeader('{"sampleCount":1,"shape":[1.5],"dtype":"uint8"}')),
      'PUBLIC_SET_HEADER',
    );
    throwsCode(
      () =>
        decodePublicSet(
          withHeader('{"sampleCount":1,"shape":[1],"dtype":"uint8","scale":-1}', Uint8Array.of(1)),
        ),
      'PUBLIC_SET_HEADER',
    );
    // Unknown keys are ignored and an absent scale means 1/255; no padding is required.
    const extra = decodePublicSet(
      withHeader('{"sampleCount":1,"shape":[1],"dtype":"uint8","source":"mnist"}', Uint8Array.of(255)),
    );
    assert.equal(extra.x[0], 1);
  });

  it('checks encoder input', () => {
    throwsCode(
      () => encodePublicSet({ x: new Uint8Array(5), sampleCount: 2, shape: [3], dtype: 'uint8' }),
      'PUBLIC_SET_LENGTH',
    );
    throwsCode(
      () => encodePublicSet({ x: new Uint8Array(0), sampleCount: 0, shape: [3], dtype: 'uint8' }),
      'PUBLIC_SET_HEADER',
    );
    throwsCode(
      () => encodePublicSet({ x: new Uint8Array(3), sampleCount: 1, shape: [3], dtype: 'float32' }),
      'PUBLIC_SET_VALUE',
    );
  });
});
