import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float32BitsToFloat16Bits, fromFloat16Bits, roundToFloat16, toFloat16Bits } from './float16.ts';
import {
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_WEIGHT_BLOCK,
  decodePredictions,
  decodeWeights,
  encodePredictions,
  encodeWeights,
  maxAbsError,
  maxWeightError,
  PAYLOAD_ERROR_CODES,
  PayloadError,
  type PayloadErrorCode,
  type PredictionEncoding,
  predictionByteLength,
  topkIndexBytes,
  weightByteLength,
  weightCountOf,
  weightSegmentsOf,
} from './prediction-codec.ts';

// ---------------------------------------------------------------------------------------
// Helpers

/** mulberry32: a tiny seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** n rows: softmax of N(0, scale^2) logits (large scales give tiny, float16-subnormal values). */
function softmaxRows(rand: () => number, n: number, C: number, scale: number): Float32Array {
  const out = new Float32Array(n * C);
  const logits = new Float64Array(C);
  for (let r = 0; r < n; r++) {
    let max = -Infinity;
    for (let j = 0; j < C; j++) {
      logits[j] = gaussian(rand) * scale;
      max = Math.max(max, logits[j]!);
    }
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.exp(logits[j]! - max);
    for (let j = 0; j < C; j++) out[r * C + j] = Math.exp(logits[j]! - max) / sum;
  }
  return out;
}

/** Dirichlet-like rows: normalised Exp(1)^gamma draws (gamma > 1 concentrates the mass). */
function dirichletRows(rand: () => number, n: number, C: number, gamma: number): Float32Array {
  const out = new Float32Array(n * C);
  const x = new Float64Array(C);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let j = 0; j < C; j++) {
      x[j] = (-Math.log(1 - rand())) ** gamma;
      sum += x[j]!;
    }
    for (let j = 0; j < C; j++) out[r * C + j] = x[j]! / sum;
  }
  return out;
}

/** Rows that stress the edges: one-hot, uniform, tiny and float16-subnormal entries. */
function specialRows(C: number): Float32Array {
  const rows: number[][] = [];
  for (const hot of [0, C - 1]) rows.push(Array.from({ length: C }, (_, j) => (j === hot ? 1 : 0)));
  rows.push(Array.from({ length: C }, () => 1 / C));
  rows.push(Array.from({ length: C }, (_, j) => (j === 0 ? 1 - (C - 1) * 1e-7 : 1e-7)));
  // multiples of 2^-24 and a value just under the smallest normal 2^-14
  rows.push(
    Array.from({ length: C }, (_, j) => (j === 1 ? 2 ** -24 * 3 : j === 2 ? 2 ** -14 - 2 ** -24 : 0)),
  );
  const last = rows[rows.length - 1]!;
  last[0] = 1 - last.reduce((a, b) => a + b, 0);
  const half = Math.max(1, Math.floor(C / 2));
  rows.push(Array.from({ length: C }, (_, j) => (j < half ? 1 / half : 0)));
  return Float32Array.from(rows.flat());
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function testMatrix(C: number, seed: number): { probs: Float32Array; n: number } {
  const rand = rng(seed);
  const probs = concat(
    specialRows(C),
    softmaxRows(rand, 200, C, 0.1),
    softmaxRows(rand, 200, C, 2),
    softmaxRows(rand, 200, C, 20),
    dirichletRows(rand, 200, C, 1),
    dirichletRows(rand, 200, C, 4),
  );
  return { probs, n: probs.length / C };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

function rowSums(values: Float32Array, n: number, C: number): number[] {
  return Array.from({ length: n }, (_, r) => values.subarray(r * C, (r + 1) * C).reduce((a, b) => a + b, 0));
}

function throwsCode(fn: () => unknown, code: PayloadErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PayloadError, `expected a PayloadError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.startsWith(`${code}: `));
    return true;
  });
}

/** A copy of `bytes` placed at an odd byteOffset, as a pooled Buffer could be. */
function unaligned(bytes: Uint8Array): Uint8Array {
  const buf = new Uint8Array(bytes.length + 3);
  buf.set(bytes, 1);
  return buf.subarray(1, 1 + bytes.length);
}

// ---------------------------------------------------------------------------------------

describe('float16 conversion', () => {
  it('decodes known bit patterns', () => {
    assert.equal(fromFloat16Bits(0x3c00), 1);
    assert.equal(fromFloat16Bits(0x7bff), 65504);
    assert.equal(fromFloat16Bits(0x0001), 2 ** -24);
    assert.equal(fromFloat16Bits(0x03ff), 1023 * 2 ** -24);
    assert.equal(fromFloat16Bits(0x0400), 2 ** -14);
    assert.equal(fromFloat16Bits(0x3555), 0.333251953125);
    assert.equal(fromFloat16Bits(0xc000), -2);
    assert.equal(fromFloat16Bits(0x7c00), Infinity);
    assert.equal(fromFloat16Bits(0xfc00), -Infinity);
    assert.ok(Number.isNaN(fromFloat16Bits(0x7e00)));
    assert.ok(Object.is(fromFloat16Bits(0x8000), -0));
  });

  it('encodes known values', () => {
    assert.equal(toFloat16Bits(1), 0x3c00);
    assert.equal(toFloat16Bits(65504), 0x7bff);
    assert.equal(toFloat16Bits(2 ** -24), 0x0001);
    assert.equal(toFloat16Bits(1 / 3), 0x3555);
    assert.equal(toFloat16Bits(-2), 0xc000);
    assert.equal(toFloat16Bits(-0), 0x8000);
    assert.equal(toFloat16Bits(Infinity), 0x7c00);
    assert.equal(toFloat16Bits(-Infinity), 0xfc00);
    assert.equal(toFloat16Bits(Number.NaN), 0x7e00);
    assert.equal(toFloat16Bits(1e-10), 0);
    assert.equal(toFloat16Bits(1e6), 0x7c00);
  });

  it('rounds ties to even, in normal and subnormal ranges and at overflow', () => {
    assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00); // between 0x3c00 (even) and 0x3c01
    assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // between 0x3c01 and 0x3c02 (even)
    assert.equal(toFloat16Bits(1 + 2 ** -11 + 2 ** -23), 0x3c01); // just above the tie
    assert.equal(toFloat16Bits(2 ** -25), 0x0000); // between 0 (even) and 0x0001
    assert.equal(toFloat16Bits(2 ** -25 + 2 ** -40), 0x0001);
    assert.equal(toFloat16Bits(3 * 2 ** -25), 0x0002); // between 0x0001 and 0x0002 (even)
    assert.equal(toFloat16Bits(1023.5 * 2 ** -24), 0x0400); // largest subnormal rounds up into normals
    assert.equal(toFloat16Bits(65519), 0x7bff);
    assert.equal(toFloat16Bits(65520), 0x7c00); // the tie above 65504 overflows (0x7bff is odd)
  });

  it('round-trips every binary16 value', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs are canonicalised
      assert.equal(toFloat16Bits(fromFloat16Bits(h)), h, `0x${h.toString(16)}`);
    }
  });

  it('rounds every midpoint between neighbours to the even one, and its neighbours correctly', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (fromFloat16Bits(h) + fromFloat16Bits(h + 1)) / 2; // exact in binary32
      f32[0] = mid;
      assert.equal(f32[0], mid);
      const bits = u32[0]!;
      const even = (h & 1) === 0 ? h : h + 1;
      assert.equal(float32BitsToFloat16Bits(bits), even, `tie at 0x${h.toString(16)}`);
      assert.equal(float32BitsToFloat16Bits(bits - 1), h, `below tie at 0x${h.toString(16)}`);
      assert.equal(float32BitsToFloat16Bits(bits + 1), h + 1, `above tie at 0x${h.toString(16)}`);
      assert.equal(float32BitsToFloat16Bits(bits | 0x80000000), even | 0x8000);
    }
  });

  it('agrees with a brute-force nearest search on random binary32 inputs', () => {
    const values = Array.from({ length: 0x7c00 }, (_, h) => fromFloat16Bits(h)); // 0 .. 65504, Infinity
    const nearest = (x: number): number => {
      if (x >= 65520) return 0x7c00;
      let lo = 0;
      let hi = 0x7bff;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (values[mid]! <= x) lo = mid;
        else hi = mid - 1;
      }
      if (lo === 0x7bff) return lo;
      const down = x - values[lo]!;
      const up = values[lo + 1]! - x;
      return down < up ? lo : up < down ? lo + 1 : lo % 2 === 0 ? lo : lo + 1;
    };
    const rand = rng(7);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < 100_000; i++) {
      // exponents spread over the binary16 range and a little beyond
      u32[0] = ((Math.floor(rand() * 48) + 96) << 23) | Math.floor(rand() * 0x800000);
      assert.equal(float32BitsToFloat16Bits(u32[0]!), nearest(f32[0]!), `x = ${f32[0]}`);
    }
  });

  it('roundToFloat16 returns the value of the nearest binary16', () => {
    assert.equal(roundToFloat16(0.1), 0.0999755859375);
    assert.equal(roundToFloat16(1 / 3), 0.333251953125);
  });
});

// ---------------------------------------------------------------------------------------

describe('golden bytes', () => {
  // Exact binary fractions in row 0 (with a tie that largest-remainder breaks by index),
  // decimal fractions in row 1. Expected bytes were worked out by hand:
  //   float32: 0.375 = 0x3ec00000, 0.25 = 0x3e800000, 0.62f = 0x3f1eb852, 0.27f = 0x3e8a3d71,
  //            0.11f = 0x3de147ae
  //   float16: 0.375 = 0x3600, 0.25 = 0x3400, 0.62 = 0x38f6, 0.27 = 0x3452, 0.11 = 0x2f0a
  //   uint8:   255*p = (95.625, 95.625, 63.75) -> floors 95+95+63 = 253, 2 more units go to
  //            class 2 (.75) and class 0 (.625, wins the tie) -> 96 95 64;
  //            (158.1, 68.85, 28.05) -> 254, 1 more to class 1 -> 158 69 28
  //   topk k=2 (C <= 256: 1-byte index, then 1-byte 255ths): same buckets with the dropped
  //            mass as the third one -> (0, 96) (1, 95); (0, 158) (1, 69)
  //   soft1:   q = floor(p/max + 1/2): (1, 1, 1) (1, 0, 0), 1 bit each, LSB first -> 0b00001111
  //   soft2:   q = floor(3p/max + 1/2): (3, 3, 2) (3, 1, 1) -> 3|3<<2|2<<4|3<<6 = ef, 1|1<<2 = 05
  //   soft4:   q = floor(15p/max + 1/2): (15, 15, 10) (15, 7, 3) -> low nibble first: ff fa 37
  //   hard:    2 bits per row (C = 3), argmax 0 (tie: lower index) and 0 -> 00
  const probs = Float32Array.of(0.375, 0.375, 0.25, 0.62, 0.27, 0.11);
  const golden: Record<PredictionEncoding, string> = {
    float32: '0000c03e 0000c03e 0000803e  52b81e3f 713d8a3e ae47e13d',
    float16: '0036 0036 0034  f638 5234 0a2f',
    uint8: '605f40 9e451c',
    topk: '0060 015f  009e 0145',
    soft1: '0f',
    soft2: 'ef05',
    soft4: 'fffa37',
    hard: '00',
  };
  for (const enc of Object.keys(golden) as PredictionEncoding[]) {
    it(`${enc} layout is unchanged`, () => {
      const bytes = encodePredictions(probs, 2, 3, enc, { k: 2 });
      assert.equal(hex(bytes), hex(fromHex(golden[enc])));
      const back = decodePredictions(fromHex(golden[enc]), 2, 3, enc, { k: 2 });
      assert.equal(back.length, 6);
    });
  }

  it('topk uses a uint16 LE index when C > 256, and spreads the leftover over unsent classes', () => {
    const C = 300;
    const p = new Float32Array(C);
    p[299] = 0.75;
    p[5] = 0.125;
    p.fill(0.125 / 298, 6, 299);
    p.fill(0.125 / 298, 0, 5);
    // 255 * (0.75, 0.125, rest 0.125) = (191.25, 31.875, 31.875) -> 191 31 31 + 2 -> 191 32 (rest 32)
    const bytes = encodePredictions(p, 1, C, 'topk', { k: 2 });
    assert.equal(hex(bytes), hex(fromHex('2b01bf 050020')));
    const back = decodePredictions(bytes, 1, C, 'topk', { k: 2 });
    assert.equal(back[299], Math.fround(191 / 255));
    assert.equal(back[5], Math.fround(32 / 255));
    assert.ok(Math.abs(back[0]! - 32 / 255 / 298) < 1e-9);
  });

  it('weights', () => {
    const w = Float32Array.of(1, -2, 0.5);
    assert.equal(hex(encodeWeights(w, 'float32')), '0000803f000000c00000003f');
    assert.equal(hex(encodeWeights(w, 'float16')), '003c00c00038');
    // uint8 (ENCODING_UINT8_AFFINE): S = 1; segment (length 3, min -2, scale fround(3/255));
    // then q = 255, 0, 170 for 1, -2, 0.
    const u = Float32Array.of(1, -2, 0);
    assert.equal(
      hex(encodeWeights(u, 'uint8')),
      '01000000 03000000 000000c0 c1c0403c ff00aa'.replace(/ /g, ''),
    );
    // Two segments, each with its own offset and scale: (1, -2, 0) and (0.25, 0.5).
    assert.equal(
      hex(encodeWeights(Float32Array.of(1, -2, 0, 0.25, 0.5), 'uint8', { segments: [3, 2] })),
      '02000000 03000000 000000c0 c1c0403c 02000000 0000803e 8180803a ff00aa 00ff'.replace(/ /g, ''),
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('round trips within the documented bounds', () => {
  for (const C of [2, 3, 10, 100]) {
    const { probs, n } = testMatrix(C, 1000 + C);
    const normalised = new Float64Array(n * C);
    rowSums(probs, n, C).forEach((s, r) => {
      for (let j = 0; j < C; j++) normalised[r * C + j] = probs[r * C + j]! / s;
    });
    const maxErr = (back: Float32Array, j0 = 0, j1 = n * C): number => {
      let m = 0;
      for (let i = j0; i < j1; i++) m = Math.max(m, Math.abs(back[i]! - normalised[i]!));
      return m;
    };

    it(`float32 is bit-exact (C=${C})`, () => {
      const bytes = encodePredictions(probs, n, C, 'float32');
      assert.equal(bytes.length, predictionByteLength(n, C, 'float32'));
      assert.deepEqual(decodePredictions(bytes, n, C, 'float32'), probs);
      assert.deepEqual(decodePredictions(unaligned(bytes), n, C, 'float32'), probs);
      assert.equal(maxAbsError('float32', C), 0);
    });

    it(`float16 stays within ~2^-10 relative (C=${C})`, () => {
      const bytes = encodePredictions(probs, n, C, 'float16');
      assert.equal(bytes.length, predictionByteLength(n, C, 'float16'));
      const back = decodePredictions(bytes, n, C, 'float16');
      assert.deepEqual(decodePredictions(unaligned(bytes), n, C, 'float16'), back);
      for (let i = 0; i < n * C; i++) {
        const bound = 2 ** -10 * normalised[i]! * 1.001 + (C + 1) * 2 ** -25 * 1.01 + 2 ** -24;
        assert.ok(Math.abs(back[i]! - normalised[i]!) <= bound, `entry ${i}: ${back[i]} vs ${normalised[i]}`);
      }
      assert.ok(maxErr(back) <= maxAbsError('float16', C));
      for (const s of rowSums(back, n, C)) assert.ok(Math.abs(s - 1) < 1e-5, `row sum ${s}`);
    });

    it(`uint8 rows hold exactly 255 and stay within (C-1)/(255C) (C=${C})`, () => {
      const bytes = encodePredictions(probs, n, C, 'uint8');
      assert.equal(bytes.length, predictionByteLength(n, C, 'uint8'));
      for (let r = 0; r < n; r++) {
        assert.equal(
          bytes.subarray(r * C, (r + 1) * C).reduce((a, b) => a + b, 0),
          255,
        );
      }
      const back = decodePredictions(bytes, n, C, 'uint8');
      assert.ok(maxErr(back) <= maxAbsError('uint8', C), `${maxErr(back)} > ${maxAbsError('uint8', C)}`);
      assert.ok(maxAbsError('uint8', C) < 1 / 255);
      for (const s of rowSums(back, n, C)) assert.ok(Math.abs(s - 1) < 1e-5, `row sum ${s}`);
    });

    for (const k of new Set([1, 2, 5, 20, C - 1, C].filter((k) => k >= 1 && k <= C))) {
      it(`topk k=${k} sums to 1; kept within k/(255(k+1)), unsent within the dropped mass (C=${C})`, () => {
        const bytes = encodePredictions(probs, n, C, 'topk', { k });
        assert.equal(bytes.length, predictionByteLength(n, C, 'topk', k));
        assert.equal(bytes.length, n * k * (topkIndexBytes(C) + 1));
        const back = decodePredictions(bytes, n, C, 'topk', { k });
        assert.deepEqual(decodePredictions(unaligned(bytes), n, C, 'topk', { k }), back);
        for (const s of rowSums(back, n, C)) assert.ok(Math.abs(s - 1) < 1e-5, `row sum ${s}`);
        const keptBound = k === C ? (C - 1) / (255 * C) : k / (255 * (k + 1));
        const entry = topkIndexBytes(C) + 1;
        for (let r = 0; r < n; r++) {
          const kept = new Set<number>();
          let sum = 0;
          for (let e = 0; e < k; e++) {
            kept.add(bytes[(r * k + e) * entry]!);
            sum += bytes[(r * k + e) * entry + entry - 1]!;
          }
          assert.ok(sum <= 255);
          if (k === C) assert.equal(sum, 255);
          let dropped = 0;
          for (let j = 0; j < C; j++) if (!kept.has(j)) dropped += normalised[r * C + j]!;
          for (let j = 0; j < C; j++) {
            const i = r * C + j;
            const err = Math.abs(back[i]! - normalised[i]!);
            const bound = kept.has(j) ? keptBound : (dropped * (C - k - 1)) / (C - k) + keptBound / (C - k);
            assert.ok(err <= bound + 1e-7, `row ${r} class ${j}: error ${err} > ${bound}`);
          }
        }
        assert.ok(maxErr(back) <= maxAbsError('topk', C, k));
      });
    }
  }

  it('the uint8 bound (C-1)/(255C) is reached', () => {
    const bytes = encodePredictions(Float32Array.of(0.5, 0.5), 1, 2, 'uint8');
    assert.deepEqual([...bytes], [128, 127]); // tie broken towards the lower index
    const back = decodePredictions(bytes, 1, 2, 'uint8');
    assert.ok(Math.abs(Math.abs(back[1]! - 0.5) - maxAbsError('uint8', 2)) < 1e-7);
  });

  it('topk sends classes by decreasing probability, ties to the lower index', () => {
    const bytes = encodePredictions(Float32Array.of(0.1, 0.3, 0.3, 0.05, 0.25), 1, 5, 'topk', { k: 3 });
    assert.deepEqual([bytes[0], bytes[2], bytes[4]], [1, 2, 4]);
  });

  it('breaks remainder ties towards the lower index, with few and with many classes', () => {
    // 255/4 = 63.75 and 255/64 = 3.984375 are exact, so every fraction ties
    assert.deepEqual(
      [...encodePredictions(new Float32Array(4).fill(1 / 4), 1, 4, 'uint8')],
      [64, 64, 64, 63],
    );
    const many = encodePredictions(new Float32Array(64).fill(1 / 64), 1, 64, 'uint8');
    assert.deepEqual([...many], [...new Array(63).fill(4), 3]);
    // topk with k > 8 sorts keys; equal probabilities come out by increasing index
    const top = encodePredictions(new Float32Array(20).fill(0.05), 1, 20, 'topk', { k: 10 });
    assert.deepEqual(
      Array.from({ length: 10 }, (_, e) => top[2 * e]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it('decoders accept top-k entries in any order', () => {
    const a = decodePredictions(fromHex('0060015f'), 1, 3, 'topk', { k: 2 });
    const b = decodePredictions(fromHex('015f0060'), 1, 3, 'topk', { k: 2 });
    assert.deepEqual(a, b);
  });

  it('clamps values just outside [0, 1] and leaves the caller array alone', () => {
    const probs = Float32Array.of(1.0000001, 0, -1e-7, 1);
    const copy = probs.slice();
    const bytes = encodePredictions(probs, 2, 2, 'float32');
    assert.deepEqual(probs, copy);
    assert.deepEqual(decodePredictions(bytes, 2, 2, 'float32'), Float32Array.of(1, 0, 0, 1));
    // a foreign sender's slightly-out-of-range float32 is clamped on decode too
    const raw = new Uint8Array(Float32Array.of(1.0000001, 0).buffer);
    assert.deepEqual(decodePredictions(raw, 1, 2, 'float32'), Float32Array.of(1, 0));
  });

  it('weights: float32 exact, float16 within 2^-11 relative, both from unaligned bytes', () => {
    const rand = rng(3);
    const w = Float32Array.from({ length: 10_001 }, () => gaussian(rand) * 10 ** Math.floor(rand() * 8 - 6));
    const b32 = encodeWeights(w, 'float32');
    assert.equal(b32.length, weightByteLength(w.length, 'float32'));
    assert.deepEqual(decodeWeights(unaligned(b32), w.length, 'float32'), w);
    const b16 = encodeWeights(w, 'float16');
    assert.equal(b16.length, weightByteLength(w.length, 'float16'));
    const back = decodeWeights(unaligned(b16), w.length, 'float16');
    for (let i = 0; i < w.length; i++) {
      assert.ok(Math.abs(back[i]! - w[i]!) <= Math.abs(w[i]!) * 2 ** -11 + 2 ** -25, `weight ${i}`);
    }
    assert.deepEqual(decodeWeights(new Uint8Array(0), 0, 'float16'), new Float32Array(0));
  });

  it('weights: uint8 within half a step of each segment, per tensor or in blocks, from unaligned bytes', () => {
    const rand = rng(5);
    // Tensors of very different ranges, as a model has (kernels, biases, a constant one).
    const tensors = [
      Float32Array.from({ length: 5000 }, () => gaussian(rand) * 0.05),
      Float32Array.from({ length: 64 }, () => gaussian(rand) * 1e-4),
      Float32Array.from({ length: 9000 }, () => gaussian(rand) * 3 + 10),
      new Float32Array(7).fill(0.3),
    ];
    const w = new Float32Array(tensors.reduce((n, t) => n + t.length, 0));
    let off = 0;
    for (const t of tensors) {
      w.set(t, off);
      off += t.length;
    }
    const segments = tensors.map((t) => t.length);
    const bytes = encodeWeights(w, 'uint8', { segments });
    assert.equal(bytes.length, weightByteLength(w.length, 'uint8', segments.length));
    assert.equal(weightCountOf(bytes, 'uint8'), w.length);
    assert.deepEqual(weightSegmentsOf(bytes), segments);
    const back = decodeWeights(unaligned(bytes), w.length, 'uint8');
    off = 0;
    for (const t of tensors) {
      const min = Math.min(...t);
      const max = Math.max(...t);
      const bound = maxWeightError(min, max);
      let worst = 0;
      for (let i = 0; i < t.length; i++) worst = Math.max(worst, Math.abs(back[off + i]! - t[i]!));
      assert.ok(worst <= bound, `segment of ${t.length}: ${worst} > ${bound}`);
      // The bound is tight: half a step is reached within a factor of two on random data.
      if (max > min && t.length > 1000) assert.ok(worst > bound / 2, `${worst} vs ${bound}`);
      off += t.length;
    }
    assert.deepEqual(
      back.subarray(w.length - 7),
      new Float32Array(7).fill(0.3),
      'a constant tensor is exact',
    );
    // Without segments: blocks of DEFAULT_WEIGHT_BLOCK, each within its own half step.
    const blocked = encodeWeights(w, 'uint8');
    assert.equal(weightSegmentsOf(blocked).length, Math.ceil(w.length / DEFAULT_WEIGHT_BLOCK));
    const back2 = decodeWeights(blocked, w.length, 'uint8');
    for (let b = 0; b < w.length; b += DEFAULT_WEIGHT_BLOCK) {
      const block = w.subarray(b, b + DEFAULT_WEIGHT_BLOCK);
      const bound = maxWeightError(Math.min(...block), Math.max(...block));
      for (let i = 0; i < block.length; i++) assert.ok(Math.abs(back2[b + i]! - block[i]!) <= bound);
    }
    // A quarter of float32's bytes, plus 12 per segment.
    assert.equal(bytes.length, 4 + 12 * 4 + w.length);
    assert.deepEqual(
      decodeWeights(encodeWeights(new Float32Array(0), 'uint8'), 0, 'uint8'),
      new Float32Array(0),
    );
  });

  it('weights: uint8 payloads that break the layout are refused with a code', () => {
    const good = encodeWeights(Float32Array.of(1, -2, 0, 0.25, 0.5), 'uint8', { segments: [3, 2] });
    const patch = (at: number, bytes: number[]) => {
      const b = good.slice();
      b.set(bytes, at);
      return b;
    };
    const f32 = (v: number) => [...new Uint8Array(Float32Array.of(v).buffer)];
    throwsCode(() => decodeWeights(good, 6, 'uint8'), 'PAYLOAD_LENGTH_MISMATCH');
    throwsCode(() => decodeWeights(good.subarray(0, 3), 5, 'uint8'), 'PAYLOAD_LENGTH_MISMATCH');
    throwsCode(() => decodeWeights(patch(0, [9]), 5, 'uint8'), 'PAYLOAD_BAD_SHAPE'); // 9 segments
    throwsCode(() => decodeWeights(patch(4, [4]), 5, 'uint8'), 'PAYLOAD_BAD_SHAPE'); // lengths 4 + 2 != 5
    throwsCode(() => decodeWeights(patch(4, [0]), 5, 'uint8'), 'PAYLOAD_BAD_SHAPE'); // an empty segment
    throwsCode(() => decodeWeights(patch(8, f32(Number.NaN)), 5, 'uint8'), 'PAYLOAD_NON_FINITE');
    throwsCode(
      () => decodeWeights(patch(12, f32(Number.POSITIVE_INFINITY)), 5, 'uint8'),
      'PAYLOAD_NON_FINITE',
    );
    throwsCode(() => decodeWeights(patch(12, f32(3e36)), 5, 'uint8'), 'PAYLOAD_NON_FINITE'); // min + 255 scale overflows
    throwsCode(() => decodeWeights(patch(12, f32(-1)), 5, 'uint8'), 'PAYLOAD_BAD_SHAPE');
    throwsCode(() => encodeWeights(Float32Array.of(1, 2), 'uint8', { segments: [1] }), 'PAYLOAD_BAD_SHAPE');
    throwsCode(
      () => encodeWeights(Float32Array.of(1, 2), 'uint8', { segments: [2, 0] }),
      'PAYLOAD_BAD_SHAPE',
    );
    throwsCode(() => encodeWeights(Float32Array.of(1, Number.NaN), 'uint8'), 'PAYLOAD_NON_FINITE');
  });
});

// ---------------------------------------------------------------------------------------

describe('validation', () => {
  const good = Float32Array.of(0.5, 0.5, 0.25, 0.75);

  it('PAYLOAD_BAD_SHAPE for n, C, k or a count out of range', () => {
    const bytes = new Uint8Array(16);
    for (const [n, C] of [
      [0, 2],
      [2, 0],
      [-1, 2],
      [1.5, 2],
      [2, Number.NaN],
    ] as const) {
      throwsCode(() => decodePredictions(bytes, n, C, 'float32'), 'PAYLOAD_BAD_SHAPE');
      throwsCode(() => encodePredictions(good, n, C, 'float32'), 'PAYLOAD_BAD_SHAPE');
    }
    throwsCode(() => decodePredictions(bytes, 4, 4, 'uint8', { maxElements: 15 }), 'PAYLOAD_BAD_SHAPE');
    throwsCode(() => decodePredictions(bytes, DEFAULT_MAX_ELEMENTS, 2, 'uint8'), 'PAYLOAD_BAD_SHAPE');
    for (const k of [undefined, 0, 3, 1.5]) {
      throwsCode(() => decodePredictions(bytes, 2, 2, 'topk', { k }), 'PAYLOAD_BAD_SHAPE');
      throwsCode(() => encodePredictions(good, 2, 2, 'topk', { k }), 'PAYLOAD_BAD_SHAPE');
    }
    throwsCode(() => predictionByteLength(1, 70_000, 'topk', 1), 'PAYLOAD_BAD_SHAPE');
    throwsCode(() => decodeWeights(bytes, -1, 'float32'), 'PAYLOAD_BAD_SHAPE');
    throwsCode(() => decodeWeights(bytes, 4, 'float32', { maxElements: 3 }), 'PAYLOAD_BAD_SHAPE');
    throwsCode(() => encodeWeights(good, 'float32', { maxElements: 3 }), 'PAYLOAD_BAD_SHAPE');
  });

  it('PAYLOAD_LENGTH_MISMATCH when bytes do not match the shape', () => {
    for (const enc of ['float32', 'float16', 'uint8', 'topk'] as const) {
      const bytes = encodePredictions(good, 2, 2, enc, { k: 1 });
      throwsCode(() => decodePredictions(bytes.subarray(1), 2, 2, enc, { k: 1 }), 'PAYLOAD_LENGTH_MISMATCH');
      throwsCode(() => decodePredictions(bytes, 1, 2, enc, { k: 1 }), 'PAYLOAD_LENGTH_MISMATCH');
    }
    throwsCode(() => decodePredictions(new Uint8Array(5), 1, 2, 'topk', { k: 2 }), 'PAYLOAD_LENGTH_MISMATCH');
    throwsCode(() => encodePredictions(good, 3, 2, 'float32'), 'PAYLOAD_LENGTH_MISMATCH');
    throwsCode(() => decodeWeights(new Uint8Array(7), 2, 'float32'), 'PAYLOAD_LENGTH_MISMATCH');
    throwsCode(() => decodeWeights(new Uint8Array(3), 2, 'float16'), 'PAYLOAD_LENGTH_MISMATCH');
  });

  it('PAYLOAD_NON_FINITE for NaN and Infinity', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const raw = new Uint8Array(Float32Array.of(0.5, bad).buffer);
      throwsCode(() => decodePredictions(raw, 1, 2, 'float32'), 'PAYLOAD_NON_FINITE');
      throwsCode(() => encodePredictions(Float32Array.of(0.5, bad), 1, 2, 'uint8'), 'PAYLOAD_NON_FINITE');
      throwsCode(() => encodeWeights(Float32Array.of(1, bad), 'float16'), 'PAYLOAD_NON_FINITE');
      throwsCode(() => decodeWeights(raw, 2, 'float32'), 'PAYLOAD_NON_FINITE');
    }
    for (const h of ['007c', '00fc', '007e']) {
      throwsCode(() => decodePredictions(fromHex(`0038${h}`), 1, 2, 'float16'), 'PAYLOAD_NON_FINITE');
      throwsCode(() => decodeWeights(fromHex(`0038${h}`), 2, 'float16'), 'PAYLOAD_NON_FINITE');
    }
    throwsCode(() => encodeWeights(Float32Array.of(65520), 'float16'), 'PAYLOAD_NON_FINITE');
    assert.equal(hex(encodeWeights(Float32Array.of(65519), 'float16')), 'ff7b');
  });

  it('PAYLOAD_PROB_RANGE for probabilities outside [0, 1]', () => {
    throwsCode(
      () => decodePredictions(new Uint8Array(Float32Array.of(1.5, -0.5).buffer), 1, 2, 'float32'),
      'PAYLOAD_PROB_RANGE',
    );
    throwsCode(
      () =>
        decodePredictions(new Uint8Array(Float32Array.of(1.0000001, 0).buffer), 1, 2, 'float32', {
          rangeTolerance: 0,
        }),
      'PAYLOAD_PROB_RANGE',
    );
    throwsCode(() => decodePredictions(fromHex('00bc 0040'), 1, 2, 'float16'), 'PAYLOAD_PROB_RANGE'); // -1, 2
    throwsCode(() => decodePredictions(fromHex('013c 0000'), 1, 2, 'float16'), 'PAYLOAD_PROB_RANGE'); // 1+2^-10
    throwsCode(() => encodePredictions(Float32Array.of(1.5, -0.5), 1, 2, 'float16'), 'PAYLOAD_PROB_RANGE');
    throwsCode(
      () => encodePredictions(Float32Array.of(1.0000001, 0), 1, 2, 'float32', { rangeTolerance: 0 }),
      'PAYLOAD_PROB_RANGE',
    );
  });

  it('PAYLOAD_ROW_SUM for rows that are not distributions', () => {
    throwsCode(
      () => decodePredictions(new Uint8Array(Float32Array.of(0.5, 0.4985).buffer), 1, 2, 'float32'),
      'PAYLOAD_ROW_SUM',
    );
    // within 1e-3 is accepted, and a caller may tighten the tolerance
    const nearly = new Uint8Array(Float32Array.of(0.5, 0.4995).buffer);
    assert.equal(decodePredictions(nearly, 1, 2, 'float32')[1], Math.fround(0.4995));
    throwsCode(
      () => decodePredictions(nearly, 1, 2, 'float32', { rowSumTolerance: 1e-4 }),
      'PAYLOAD_ROW_SUM',
    );
    // float16 allows 1e-2: 0.5 + 0.4951 passes, 0.5 + 0.4875 does not
    assert.ok(decodePredictions(fromHex('0038 ec37'), 1, 2, 'float16'));
    throwsCode(() => decodePredictions(fromHex('0038 ce37'), 1, 2, 'float16'), 'PAYLOAD_ROW_SUM');
    throwsCode(() => decodePredictions(fromHex('0000 0000'), 1, 2, 'float16'), 'PAYLOAD_ROW_SUM');
    throwsCode(() => decodePredictions(fromHex('80 7e'), 1, 2, 'uint8'), 'PAYLOAD_ROW_SUM'); // 254
    throwsCode(() => decodePredictions(fromHex('80 80'), 1, 2, 'uint8'), 'PAYLOAD_ROW_SUM'); // 256
    throwsCode(() => decodePredictions(fromHex('0080 0180'), 1, 3, 'topk', { k: 2 }), 'PAYLOAD_ROW_SUM'); // 256
    throwsCode(() => decodePredictions(fromHex('0080 017e'), 1, 2, 'topk', { k: 2 }), 'PAYLOAD_ROW_SUM'); // k=C, 254
    assert.ok(decodePredictions(fromHex('0080 017e'), 1, 3, 'topk', { k: 2 })); // k<C, 254 <= 255
    throwsCode(() => encodePredictions(Float32Array.of(0.5, 0.25), 1, 2, 'uint8'), 'PAYLOAD_ROW_SUM');
    throwsCode(() => encodePredictions(Float32Array.of(0, 0), 1, 2, 'topk', { k: 1 }), 'PAYLOAD_ROW_SUM');
  });

  it('PAYLOAD_TOPK_INDEX for an index >= C or a repeated index', () => {
    throwsCode(() => decodePredictions(fromHex('03ff'), 1, 3, 'topk', { k: 1 }), 'PAYLOAD_TOPK_INDEX');
    throwsCode(() => decodePredictions(fromHex('0180 0101'), 1, 3, 'topk', { k: 2 }), 'PAYLOAD_TOPK_INDEX');
    // 2-byte indices: 0x012c = 300 = C is out of range; a repeat in row 2 only
    throwsCode(() => decodePredictions(fromHex('2c01ff'), 1, 300, 'topk', { k: 1 }), 'PAYLOAD_TOPK_INDEX');
    const rows = fromHex('2b01ff 0000ff  2b01ff 0000ff  0500ff 0500ff'.replaceAll('ff', '10'));
    throwsCode(() => decodePredictions(rows, 3, 300, 'topk', { k: 2 }), 'PAYLOAD_TOPK_INDEX');
    assert.ok(decodePredictions(rows.subarray(0, 12), 2, 300, 'topk', { k: 2 }));
  });

  it('covers every error code', () => {
    assert.deepEqual([...PAYLOAD_ERROR_CODES].sort(), [
      'PAYLOAD_BAD_SHAPE',
      'PAYLOAD_CLASS_INDEX',
      'PAYLOAD_DELTA_BASE',
      'PAYLOAD_INFLATE',
      'PAYLOAD_LENGTH_MISMATCH',
      'PAYLOAD_NON_FINITE',
      'PAYLOAD_PADDING',
      'PAYLOAD_PROB_RANGE',
      'PAYLOAD_ROW_SUM',
      'PAYLOAD_TOPK_INDEX',
    ]);
  });

  it('rejects an unknown encoding as a programming error', () => {
    assert.throws(() => decodePredictions(new Uint8Array(2), 1, 2, 'int4' as PredictionEncoding), TypeError);
  });
});

describe('sizes and bounds', () => {
  it('predictionByteLength and topkIndexBytes', () => {
    assert.equal(predictionByteLength(512, 10, 'float32'), 20480);
    assert.equal(predictionByteLength(512, 10, 'float16'), 10240);
    assert.equal(predictionByteLength(512, 10, 'uint8'), 5120);
    assert.equal(predictionByteLength(512, 10, 'topk', 3), 3072);
    assert.equal(predictionByteLength(512, 1000, 'topk', 3), 4608);
    assert.equal(topkIndexBytes(256), 1);
    assert.equal(topkIndexBytes(257), 2);
  });

  it('maxAbsError', () => {
    assert.equal(maxAbsError('float32', 10), 0);
    assert.ok(Math.abs(maxAbsError('float16', 10) - 2 ** -10) < 2e-6);
    assert.ok(Math.abs(maxAbsError('uint8', 10) - 9 / 2550) < 1e-7);
    assert.ok(Math.abs(maxAbsError('topk', 10, 3) - (6 / 28 + 3 / (4 * 255 * 7))) < 1e-7);
    assert.ok(Math.abs(maxAbsError('topk', 10, 9) - 9 / 2550) < 1e-7);
    assert.equal(maxAbsError('topk', 10, 10), maxAbsError('uint8', 10));
  });
});
