import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mean } from './mean.ts';
import { assertClose, assertRowsSumToOne, randomPred, seeded } from './testing.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('mean', () => {
  // Two samples, three classes.
  const p1 = f32([0.5, 0.5, 0, 1, 0, 0]);
  const p2 = f32([0.1, 0.3, 0.6, 0, 0, 1]);

  it('averages by hand', () => {
    assertClose(mean([p1, p2], 3), [0.3, 0.4, 0.3, 0.5, 0, 0.5]);
  });

  it('weights by hand: 3 to 1', () => {
    // Row 0: (3·0.5 + 0.1)/4, (3·0.5 + 0.3)/4, 0.6/4; row 1: 3/4, 0, 1/4.
    assertClose(mean([p1, p2], 3, [3, 1]), [0.4, 0.45, 0.15, 0.75, 0, 0.25]);
  });

  it('renormalises rows that did not sum to 1', () => {
    assertClose(mean([f32([0.2, 0.2]), f32([0.1, 0.1])], 2), [0.5, 0.5]);
  });

  it('a single prediction is returned as is', () => {
    assertClose(mean([p2], 3), p2, 1e-7);
  });

  it('is invariant to the scale of the weights', () => {
    assertClose(mean([p1, p2], 3, [3, 1]), mean([p1, p2], 3, [0.003, 0.001]), 1e-7);
  });

  const rand = seeded(1);
  const preds = Array.from({ length: 9 }, () => randomPred(rand, 32, 10));
  const weights = preds.map(() => rand() * 5);

  it('rows of random inputs sum to 1', () => {
    assertRowsSumToOne(mean(preds, 10, weights), 10);
  });

  it('is invariant to the order of participants', () => {
    const order = [4, 8, 0, 2, 7, 1, 6, 3, 5];
    const shuffled = mean(
      order.map((j) => preds[j]),
      10,
      order.map((j) => weights[j]),
    );
    assertClose(shuffled, mean(preds, 10, weights), 1e-7);
  });

  it('ignores predictions of weight 0', () => {
    const w = [...weights];
    w[3] = 0;
    w[6] = 0;
    const kept = [0, 1, 2, 4, 5, 7, 8];
    assertClose(
      mean(preds, 10, w),
      mean(
        kept.map((j) => preds[j]),
        10,
        kept.map((j) => w[j]),
      ),
      1e-7,
    );
  });

  it('does not modify its inputs', () => {
    const copy = preds.map((p) => p.slice());
    mean(preds, 10, weights);
    assert.deepEqual(preds, copy);
  });
});
