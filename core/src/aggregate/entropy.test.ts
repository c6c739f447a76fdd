import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confidenceWeights, entropyWeightedMean } from './entropy.ts';
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { assertClose, assertRowsSumToOne, randomPred, seeded } from './testing.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('confidenceWeights: 1 − H/log C per row', () => {
  it('is 1 for one-hot, 0 for uniform, by hand for [0.9, 0.1]', () => {
    // H([0.9, 0.1]) = 0.3250829737 nats; / ln 2 = 0.4689955936.
    assertClose(confidenceWeights(f32([1, 0, 0.5, 0.5, 0.9, 0.1]), 2), [1, 0, 0.5310044064]);
  });

  it('normalises the row first and gives an all-zero row 0', () => {
    assertClose(confidenceWeights(f32([0.45, 0.05, 0, 0]), 2), [0.5310044064, 0]);
  });

  it('is 1 for a single class', () => {
    assertClose(confidenceWeights(f32([1, 1]), 1), [1, 1]);
  });

  it('rejects invalid predictions', () => {
    assert.throws(() => confidenceWeights(f32([0.5, Number.NaN]), 2), AggregationError);
  });
});

describe('entropyWeightedMean', () => {
  it('gives a uniform vote no say', () => {
    // Plain mean would be [0.75, 0.25].
    assertClose(entropyWeightedMean([f32([1, 0]), f32([0.5, 0.5])], 2), [1, 0]);
  });

  it('weights by confidence, by hand', () => {
    // c = 1 and 0.5310044064: ((1 + 0.531·0.9) / 1.531, 0.531·0.1 / 1.531).
    assertClose(entropyWeightedMean([f32([1, 0]), f32([0.9, 0.1])], 2), [0.9653165984, 0.0346834016]);
  });

  it('multiplies participant weights into the per-row confidence', () => {
    // Weights 1 and 2: (1·1·[1,0] + 2·0.531·[0.9,0.1]) / (1 + 2·0.531).
    const c = 0.5310044064;
    const expected = [(1 + 2 * c * 0.9) / (1 + 2 * c), (2 * c * 0.1) / (1 + 2 * c)];
    assertClose(entropyWeightedMean([f32([1, 0]), f32([0.9, 0.1])], 2, [1, 2]), expected);
  });

  it('decides per row, not per participant', () => {
    // A is sure about row 0 only, B about row 1 only.
    const a = f32([0, 1, 0.5, 0.5]);
    const b = f32([0.5, 0.5, 1, 0]);
    assertClose(entropyWeightedMean([a, b], 2), [0, 1, 1, 0]);
  });

  it('a row where every vote is uniform comes out uniform', () => {
    assertClose(
      entropyWeightedMean([f32([0.25, 0.25, 0.25, 0.25]), f32([0.25, 0.25, 0.25, 0.25])], 4),
      [0.25, 0.25, 0.25, 0.25],
    );
  });

  it('equals the plain mean when all rows are equally confident', () => {
    // Permutations of one distribution have the same entropy.
    const a = f32([0.7, 0.2, 0.1]);
    const b = f32([0.1, 0.7, 0.2]);
    assertClose(entropyWeightedMean([a, b], 3), mean([a, b], 3));
  });

  const rand = seeded(2);
  const preds = Array.from({ length: 7 }, () => randomPred(rand, 20, 10, { sharpness: 3 }));
  const weights = preds.map(() => rand());

  it('rows sum to 1, order does not matter, weight 0 drops a participant', () => {
    const out = entropyWeightedMean(preds, 10, weights);
    assertRowsSumToOne(out, 10);
    const order = [6, 5, 4, 3, 2, 1, 0];
    assertClose(
      entropyWeightedMean(
        order.map((j) => preds[j]),
        10,
        order.map((j) => weights[j]),
      ),
      out,
      1e-7,
    );
    const w = [...weights];
    w[2] = 0;
    assertClose(
      entropyWeightedMean(preds, 10, w),
      entropyWeightedMean(
        preds.filter((_, j) => j !== 2),
        10,
        w.filter((_, j) => j !== 2),
      ),
      1e-7,
    );
  });
});
