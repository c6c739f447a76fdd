import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeltaRows,
  decodeDelta,
  decodePredictions,
  deltaMaskBytes,
  encodeDelta,
  encodePredictions,
  maxDeltaByteLength,
  PayloadError,
  type PredictionEncoding,
  predictionByteLength,
} from '../prediction-codec.ts';

const ALL: PredictionEncoding[] = ['float32', 'float16', 'uint8', 'topk', 'soft4', 'soft2', 'soft1', 'hard'];

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function softmaxRows(n: number, C: number, rand: () => number): Float32Array {
  const out = new Float32Array(n * C);
  for (let r = 0; r < n; r++) {
    const scale = 0.5 + 8 * rand();
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

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PayloadError, String(e));
    return e.code;
  }
  assert.fail('expected a PayloadError');
}

describe('delta payloads', () => {
  for (const enc of ALL) {
    it(`${enc}: the receiver rebuilds exactly what the sender holds, and unchanged rows cost nothing`, () => {
      const C = 10;
      const n = 64;
      const k = enc === 'topk' ? 3 : undefined;
      const rand = rng(7);
      const indices = Array.from({ length: n }, (_, i) => i * 3);
      const first = softmaxRows(n, C, rand);
      const sender = new DeltaRows(C);
      const receiver = new DeltaRows(C);
      // Nothing held yet: every row goes, and the values are the full payload's decode.
      const a = encodeDelta(first, indices, C, enc, sender, { k });
      assert.equal(a.sent, n);
      assert.equal(a.payload.length, maxDeltaByteLength(n, C, enc, k));
      const fullDecode = decodePredictions(encodePredictions(first, n, C, enc, { k }), n, C, enc, { k });
      assert.deepEqual(a.values, fullDecode);
      const ra = decodeDelta(a.payload, indices, C, enc, receiver, { k });
      assert.deepEqual(ra.values, a.values);
      sender.update(indices, a.values, 1);
      receiver.update(indices, ra.values, 1);

      // The next batch half overlaps; of the overlapping rows, every fourth changes.
      const next = Array.from({ length: n }, (_, i) => (i < n / 2 ? indices[i]! : 1000 + i));
      const probs = softmaxRows(n, C, rand);
      for (let i = 0; i < n / 2; i++) {
        if (i % 4 !== 0) probs.set(first.subarray(i * C, (i + 1) * C), i * C);
      }
      const b = encodeDelta(probs, next, C, enc, sender, { k });
      const changedOverlap = Array.from({ length: n / 2 }, (_, i) => i).filter((i) => i % 4 === 0);
      // Lossy encodings may map a changed row onto the same code: at most these are sent.
      assert.ok(b.sent <= n / 2 + changedOverlap.length && b.sent >= n / 2, `sent ${b.sent}`);
      assert.equal(b.payload.length, deltaMaskBytes(n) + predictionByteLength(b.sent, C, enc, k));
      const rb = decodeDelta(b.payload, next, C, enc, receiver, { k });
      assert.deepEqual(rb.values, b.values);
      assert.equal(rb.sent, b.sent);
      // Sent rows are the full payload's decode of those rows; `full` is that payload.
      const direct = decodePredictions(encodePredictions(probs, n, C, enc, { k }), n, C, enc, { k });
      assert.deepEqual(b.full.payload, encodePredictions(probs, n, C, enc, { k }));
      assert.deepEqual(b.full.values, direct);
      for (let i = n / 2; i < n; i++) {
        assert.deepEqual(b.values.subarray(i * C, (i + 1) * C), direct.subarray(i * C, (i + 1) * C));
      }
    });
  }

  it('a row is resent only when a decoded probability moved more than the threshold', () => {
    const C = 4;
    const base = new DeltaRows(C);
    base.update([5, 6], new Float32Array([0.25, 0.25, 0.25, 0.25, 0.7, 0.1, 0.1, 0.1]), 3);
    const probs = new Float32Array([0.27, 0.25, 0.24, 0.24, 0.4, 0.2, 0.2, 0.2]);
    const loose = encodeDelta(probs, [5, 6], C, 'float32', base, { threshold: 0.05 });
    assert.equal(loose.sent, 1); // row 5 moved 0.02, row 6 moved 0.3
    assert.deepEqual([...loose.values.subarray(0, 4)], [0.25, 0.25, 0.25, 0.25]);
    assert.equal(loose.payload[0], 0b10);
    const strict = encodeDelta(probs, [5, 6], C, 'float32', base, { threshold: 0 });
    assert.equal(strict.sent, 2);
  });

  it('nothing changed: the payload is the row mask alone', () => {
    const C = 10;
    const n = 512;
    const indices = Array.from({ length: n }, (_, i) => i);
    const probs = softmaxRows(n, C, rng(3));
    const held = new DeltaRows(C);
    held.update(indices, encodeDelta(probs, indices, C, 'soft2', held).values, 1);
    const d = encodeDelta(probs, indices, C, 'soft2', held);
    assert.equal(d.sent, 0);
    assert.equal(d.payload.length, 64);
    assert.deepEqual(decodeDelta(d.payload, indices, C, 'soft2', held).values, d.values);
  });

  it('golden bytes (PROTOCOL.md, "Delta payloads")', () => {
    // Held: public row 10 = (128, 127)/255, row 11 = (255, 0)/255. Row 10 is unchanged, row 11
    // changed, row 12 is not held: mask 0b110, then rows 11 and 12 in uint8.
    const held = new DeltaRows(2);
    held.update([10, 11], decodePredictions(Uint8Array.of(128, 127, 255, 0), 2, 2, 'uint8'), 4);
    const probs = Float32Array.of(0.502, 0.498, 0, 1, 0.25, 0.75);
    const d = encodeDelta(probs, [10, 11, 12], 2, 'uint8', held);
    assert.equal(Buffer.from(d.payload).toString('hex'), '0600ff40bf');
    const back = decodeDelta(Uint8Array.of(0x06, 0x00, 0xff, 0x40, 0xbf), [10, 11, 12], 2, 'uint8', held);
    assert.deepEqual(
      Array.from(back.values, (v) => Math.round(v * 255)),
      [128, 127, 0, 255, 64, 191],
    );
  });

  it('malformed deltas get coded errors', () => {
    const C = 3;
    const held = new DeltaRows(C);
    held.update([0, 1], new Float32Array([1, 0, 0, 0, 1, 0]), 1);
    // Shorter than the mask.
    assert.equal(
      code(() => decodeDelta(new Uint8Array(0), [0, 1], C, 'uint8', held)),
      'PAYLOAD_LENGTH_MISMATCH',
    );
    // Mask bits past n.
    assert.equal(
      code(() => decodeDelta(new Uint8Array([0b100]), [0, 1], C, 'uint8', held)),
      'PAYLOAD_PADDING',
    );
    // Mask says one row, but no row follows / too much follows.
    assert.equal(
      code(() => decodeDelta(new Uint8Array([0b01]), [0, 1], C, 'uint8', held)),
      'PAYLOAD_LENGTH_MISMATCH',
    );
    assert.equal(
      code(() => decodeDelta(new Uint8Array([0b01, 255, 0, 0, 9]), [0, 1], C, 'uint8', held)),
      'PAYLOAD_LENGTH_MISMATCH',
    );
    // The sent row itself is checked by its encoding's decoder.
    assert.equal(
      code(() => decodeDelta(new Uint8Array([0b01, 200, 0, 0]), [0, 1], C, 'uint8', held)),
      'PAYLOAD_ROW_SUM',
    );
    // A left-out row the receiver does not hold.
    assert.equal(
      code(() => decodeDelta(new Uint8Array([0b00]), [0, 7], C, 'uint8', held)),
      'PAYLOAD_DELTA_BASE',
    );
    // A valid one for comparison.
    const ok = decodeDelta(new Uint8Array([0b10, 0, 0, 255]), [0, 1], C, 'uint8', held);
    assert.deepEqual([...ok.values], [1, 0, 0, 0, 0, 1]);
  });

  it('the row cache takes copies and clears', () => {
    const rows = new DeltaRows(2);
    const v = new Float32Array([0.5, 0.5]);
    rows.update([9], v, 4);
    v[0] = 1;
    assert.deepEqual([...rows.get(9)!], [0.5, 0.5]);
    assert.equal(rows.version, 4);
    // Dense storage: an index below the largest held one is still not held.
    assert.equal(rows.get(3), undefined);
    assert.equal(rows.get(100), undefined);
    rows.update([3], Float32Array.of(1, 0), 5);
    assert.deepEqual([...rows.get(3)!], [1, 0]);
    assert.deepEqual([...rows.get(9)!], [0.5, 0.5]);
    assert.equal(rows.size, 2);
    rows.clear();
    assert.equal(rows.size, 0);
    assert.equal(rows.version, 0);
  });
});
