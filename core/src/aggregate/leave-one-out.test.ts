import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateLeaveOneOut } from './dispatch.ts';
import { AggregationError } from './errors.ts';
import { leaveOneOutFromMean } from './leave-one-out.ts';
import { mean } from './mean.ts';

const C = 3;
const preds = [
  Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]),
  Float32Array.from([0.2, 0.5, 0.3, 0.3, 0.3, 0.4]),
  Float32Array.from([0.1, 0.1, 0.8, 0.6, 0.2, 0.2]),
];
const weights = [1, 0.5, 0.25];

describe('leaveOneOutFromMean', () => {
  it('equals the weighted mean of the others, for each contributor', () => {
    const all = mean(preds, C, weights);
    const total = weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < preds.length; i++) {
      const got = leaveOneOutFromMean(all, total, preds[i]!, weights[i]!, C)!;
      const want = aggregateLeaveOneOut(
        'mean',
        preds.map((pred, j) => ({ pred, weight: weights[j] })),
        i,
        { numClasses: C },
      )!;
      for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) < 1e-6, `${i}:${k}`);
    }
  });

  it('is null when nobody else carries weight', () => {
    const all = mean([preds[0]!], C, [2]);
    assert.equal(leaveOneOutFromMean(all, 2, preds[0]!, 2, C), null);
  });

  it('gives a uniform row when the others have no mass left (round-off)', () => {
    const row = Float32Array.from([1, 0, 0]);
    const got = leaveOneOutFromMean(row, 2, row, 1, C)!;
    assert.deepEqual([...got], [1, 0, 0]);
    const empty = leaveOneOutFromMean(Float32Array.from([0.5, 0, 0]), 2, Float32Array.from([1, 0, 0]), 1, C)!;
    assert.deepEqual([...empty], [1 / C, 1 / C, 1 / C].map(Math.fround));
  });

  it('rejects mismatched shapes and bad weights with a coded error', () => {
    assert.throws(
      () => leaveOneOutFromMean(new Float32Array(6), 1, new Float32Array(3), 0.5, C),
      (e: unknown) => e instanceof AggregationError && e.code === 'ERR_AGG_SHAPE',
    );
    assert.throws(
      () => leaveOneOutFromMean(new Float32Array(3), -1, new Float32Array(3), 0.5, C),
      (e: unknown) => e instanceof AggregationError,
    );
  });
});
