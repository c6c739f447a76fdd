import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationError } from './errors.ts';
import { type CopyDistance, copyDistance, copyFactors } from './free-rider.ts';
import { randomPred, seeded } from './testing.ts';

const C = 4;

describe('copyDistance', () => {
  it('compares only the samples present in both, matched by sample and not by row', () => {
    // Sent: samples 7, 3, 9; the upload predicts 3, 5, 7 (row order differs).
    const sent = {
      indices: Uint32Array.of(7, 3, 9),
      probs: Float32Array.of(1, 0, 0, 0, /* 3: */ 0, 1, 0, 0, /* 9: */ 0, 0, 1, 0),
    };
    const upload = {
      indices: Uint32Array.of(3, 5, 7),
      probs: Float32Array.of(0, 1, 0, 0, /* 5: */ 0, 0, 0, 1, /* 7: */ 0.5, 0.5, 0, 0),
    };
    // Sample 3 is identical (0), sample 7 differs by TV ½·(0.5 + 0.5) = 0.5; 5 and 9 are unshared.
    const d = copyDistance(upload, sent, C);
    assert.equal(d.shared, 2);
    assert.ok(Math.abs(d.distance - 0.25) < 1e-7, String(d.distance));
  });

  it('no shared sample: shared 0 and distance 0', () => {
    const d = copyDistance(
      { indices: Uint32Array.of(1), probs: Float32Array.of(1, 0, 0, 0) },
      { indices: Uint32Array.of(2), probs: Float32Array.of(1, 0, 0, 0) },
      C,
    );
    assert.deepEqual(d, { shared: 0, distance: 0 });
  });

  it('an exact copy is at 0, a copy through a uint8 encoding within its rounding', () => {
    const rand = seeded(3);
    const n = 50;
    const sent = { indices: Uint32Array.from({ length: n }, (_, i) => i * 2), probs: randomPred(rand, n, C) };
    assert.equal(copyDistance(sent, sent, C).distance, 0);
    const rounded = Float32Array.from(sent.probs, (p) => Math.round(p * 255) / 255);
    const d = copyDistance({ indices: sent.indices, probs: rounded }, sent, C);
    assert.ok(d.distance > 0 && d.distance <= (C * 0.5) / 255 / 2, String(d.distance));
  });
});

const at = (distance: number, shared = 100): CopyDistance => ({ shared, distance });

describe('copyFactors', () => {
  it('the participants at the usual distance keep 1; one far below the median falls linearly to 0', () => {
    // Median of [0.12, 0.1, 0.14, 0.11, 0.13, 0.005, 0.02] is 0.11; ratio 0.25 → cut-off 0.0275.
    const f = copyFactors([at(0.12), at(0.1), at(0.14), at(0.11), at(0.13), at(0.005), at(0.02)]);
    assert.deepEqual(f.slice(0, 5), [1, 1, 1, 1, 1]);
    assert.ok(Math.abs(f[5]! - 0.005 / 0.11 / 0.25) < 1e-12);
    assert.ok(Math.abs(f[6]! - 0.02 / 0.11 / 0.25) < 1e-12);
    assert.equal(copyFactors([at(0.1), at(0.1), at(0)])[2], 0);
  });

  it('relative: a converged federation (everyone close to its targets) flags nobody', () => {
    const f = copyFactors([at(0.012), at(0.01), at(0.009), at(0.011), at(0.008)]);
    assert.deepEqual(f, [1, 1, 1, 1, 1]);
  });

  it('not scored: no targets, too few shared samples, too few scored, or everyone at its targets', () => {
    assert.deepEqual(copyFactors([null, at(0.1), at(0.1, 15), at(0.1), at(0)]), [null, 1, null, 1, 0]);
    assert.deepEqual(copyFactors([at(0.1), at(0), at(0.1, 3)]), [null, null, null]);
    assert.deepEqual(copyFactors([at(0.004), at(0.001), at(0.003)]), [null, null, null]);
    assert.deepEqual(copyFactors([at(0.1), at(0), at(0.1, 3)], { minShared: 3 }), [1, 0, 1]);
  });

  it('a majority of copiers hides them (the median is theirs): a documented limit', () => {
    assert.deepEqual(copyFactors([at(0.1), at(0.1), at(0.006), at(0.006), at(0.006)]), [1, 1, 1, 1, 1]);
  });

  it('rejects options out of range', () => {
    assert.throws(() => copyFactors([], { ratio: 0 }), AggregationError);
    assert.throws(() => copyFactors([], { ratio: 1.5 }), AggregationError);
    assert.throws(() => copyFactors([], { minShared: 0 }), AggregationError);
    assert.throws(() => copyFactors([], { minReference: Number.NaN }), AggregationError);
  });
});
