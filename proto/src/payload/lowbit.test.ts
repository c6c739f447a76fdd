import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import {
  decodePredictions,
  deflateRawAsync,
  encodePredictions,
  hardBits,
  inflateRawAsync,
  maxAbsError,
  PayloadError,
  type PredictionEncoding,
  predictionByteLength,
} from '../prediction-codec.ts';

const LOWBIT: PredictionEncoding[] = ['soft1', 'soft2', 'soft4', 'hard'];

function softmaxRows(n: number, C: number, seed: number): Float32Array {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const out = new Float32Array(n * C);
  for (let r = 0; r < n; r++) {
    const scale = 0.1 + 10 * rand();
    let sum = 0;
    for (let j = 0; j < C; j++) {
      const v = Math.exp(scale * (rand() * 2 - 1));
      out[r * C + j] = v;
      sum += v;
    }
    for (let j = 0; j < C; j++) out[r * C + j] = out[r * C + j]! / sum;
  }
  return out;
}

function argmax(a: Float32Array, base: number, C: number): number {
  let b = 0;
  for (let j = 1; j < C; j++) if (a[base + j]! > a[base + b]!) b = j;
  return b;
}

describe('low-bit soft and hard labels', () => {
  it('hard labels take max(1, ceil(log2 C)) bits', () => {
    assert.deepEqual(
      [2, 3, 4, 5, 8, 9, 10, 16, 17, 100, 65536].map(hardBits),
      [1, 2, 2, 3, 3, 4, 4, 4, 5, 7, 16],
    );
    assert.equal(predictionByteLength(512, 10, 'hard'), 256);
    assert.equal(predictionByteLength(512, 10, 'soft1'), 640);
    assert.equal(predictionByteLength(512, 10, 'soft2'), 1280);
    assert.equal(predictionByteLength(512, 10, 'soft4'), 2560);
    assert.equal(predictionByteLength(3, 5, 'hard'), 2); // 9 bits
  });

  for (const C of [2, 3, 10, 37]) {
    for (const enc of LOWBIT) {
      it(`${enc} round-trips C=${C} rows: distributions within maxAbsError, argmax kept`, () => {
        const n = 300;
        const probs = softmaxRows(n, C, C * 7 + enc.length);
        const bytes = encodePredictions(probs, n, C, enc);
        assert.equal(bytes.length, predictionByteLength(n, C, enc));
        const back = decodePredictions(bytes, n, C, enc);
        const bound = maxAbsError(enc, C);
        for (let r = 0; r < n; r++) {
          let sum = 0;
          for (let j = 0; j < C; j++) {
            const v = back[r * C + j]!;
            assert.ok(v >= 0 && v <= 1);
            assert.ok(Math.abs(v - probs[r * C + j]!) <= bound, `${enc} row ${r} class ${j}`);
            sum += v;
          }
          assert.ok(Math.abs(sum - 1) < 1e-6, `row ${r} sums to ${sum}`);
          // The most probable class stays (one of) the most probable after decoding.
          const top = argmax(probs, r * C, C);
          assert.equal(back[r * C + top], Math.max(...back.subarray(r * C, r * C + C)));
        }
        // Re-encoding what was decoded gives the same bytes: the decoded row is a fixed point.
        assert.deepEqual(encodePredictions(back, n, C, enc), bytes);
      });
    }
  }

  it('soft1 is multi-hot over the classes at least half as probable as the top one', () => {
    const p = Float32Array.of(0.4, 0.25, 0.19, 0.16);
    const back = decodePredictions(encodePredictions(p, 1, 4, 'soft1'), 1, 4, 'soft1');
    assert.deepEqual(Array.from(back), [0.5, 0.5, 0, 0]);
  });

  it('hard decodes to one-hot rows; ties go to the lower class', () => {
    const p = Float32Array.of(0.1, 0.4, 0.4, 0, 0, 0, 0, 0, 0, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    const bytes = encodePredictions(p, 2, 10, 'hard');
    assert.deepEqual(Array.from(bytes), [0x91]); // class 1, then class 9 in the high nibble
    assert.deepEqual(
      Array.from(decodePredictions(bytes, 2, 10, 'hard')),
      [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    );
  });

  it('values straddle byte boundaries for 3-bit hard labels (C = 5)', () => {
    const n = 11;
    const p = new Float32Array(n * 5);
    for (let r = 0; r < n; r++) p[r * 5 + ((r * 3) % 5)] = 1;
    const back = decodePredictions(encodePredictions(p, n, 5, 'hard'), n, 5, 'hard');
    assert.deepEqual(back, p);
  });

  const bad: [string, PredictionEncoding, Uint8Array, number, number, string][] = [
    ['a short payload', 'soft2', new Uint8Array(1), 2, 3, 'PAYLOAD_LENGTH_MISMATCH'],
    ['a long payload', 'hard', new Uint8Array(3), 2, 10, 'PAYLOAD_LENGTH_MISMATCH'],
    ['set padding bits', 'soft2', Uint8Array.of(0xff, 0x15), 2, 3, 'PAYLOAD_PADDING'],
    ['set padding bits (hard)', 'hard', Uint8Array.of(0x14), 2, 3, 'PAYLOAD_PADDING'],
    ['an all-zero soft row', 'soft4', Uint8Array.of(0x00, 0xf0, 0x00), 2, 3, 'PAYLOAD_ROW_SUM'],
    ['a class index >= C', 'hard', Uint8Array.of(0x0c), 1, 10, 'PAYLOAD_CLASS_INDEX'],
    ['class 3 of 3', 'hard', Uint8Array.of(0x03), 1, 3, 'PAYLOAD_CLASS_INDEX'],
  ];
  for (const [what, enc, bytes, n, C, code] of bad) {
    it(`rejects ${what} with ${code}`, () => {
      assert.throws(
        () => decodePredictions(bytes, n, C, enc),
        (e: unknown) => e instanceof PayloadError && e.code === code,
      );
    });
  }
});

describe('raw-deflate payload compression (Compression Streams API)', () => {
  it('round-trips every encoding and agrees with zlib byte for byte in both directions', async () => {
    const probs = softmaxRows(512, 10, 42);
    for (const enc of ['float32', 'float16', 'uint8', 'soft4', 'soft2', 'soft1', 'hard'] as const) {
      const plain = encodePredictions(probs, 512, 10, enc);
      const packed = await deflateRawAsync(plain);
      assert.deepEqual(await inflateRawAsync(packed, plain.length), plain);
      assert.deepEqual(await inflateRawAsync(deflateRawSync(plain), plain.length), plain);
    }
  });

  it('refuses a bomb after the expected length, a short stream and garbage with PAYLOAD_INFLATE', async () => {
    const bomb = deflateRawSync(new Uint8Array(64 << 20));
    assert.ok(bomb.length < 100_000);
    const isInflate = (e: unknown) => e instanceof PayloadError && e.code === 'PAYLOAD_INFLATE';
    await assert.rejects(inflateRawAsync(bomb, 2560), isInflate);
    await assert.rejects(inflateRawAsync(deflateRawSync(new Uint8Array(10)), 11), isInflate);
    await assert.rejects(inflateRawAsync(Uint8Array.of(0xff, 0xff, 0xff, 0x00), 10), isInflate);
  });
});
