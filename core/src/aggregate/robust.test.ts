import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { median, trimmedMean } from './robust.ts';
import { selectByWeight } from './select.ts';
import {
  assertClose,
  assertRowsSumToOne,
  maxAbsDiff,
  randomPred,
  referenceMedian,
  referenceTrimmedMean,
  seeded,
} from './testing.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('selectByWeight', () => {
  it('finds the element where the cumulative weight first reaches the target', () => {
    const rand = seeded(10);
    for (let trial = 0; trial < 300; trial++) {
      const m = 1 + Math.floor(rand() * 40);
      const values = Float64Array.from({ length: m }, () => Math.floor(rand() * 6) / 5);
      const unit = trial % 3 === 0;
      const weights = unit ? null : Float64Array.from({ length: m }, () => (rand() < 0.5 ? 1 : 0.5 + rand()));
      const weight = (i: number) => (weights === null ? 1 : weights[i]);
      const total = weights === null ? m : weights.reduce((a, b) => a + b, 0);
      const target = Math.max(1e-9, rand() * total);
      const k = selectByWeight(values, weights, 0, m, target);
      for (let i = 0; i < k; i++) assert.ok(values[i] <= values[k]);
      for (let i = k + 1; i < m; i++) assert.ok(values[i] >= values[k]);
      let before = 0;
      for (let i = 0; i < k; i++) before += weight(i);
      assert.ok(before < target && before + weight(k) >= target - 1e-12, `trial ${trial}`);
    }
  });
});

/**
 * From 256 participants on, columns are histogrammed before selection; these inputs hit its
 * corners: ties, exact zeros, everything in one bucket, unequal weights, even counts.
 */
function manyParticipants(seed: number, m: number, kind: 'spread' | 'ties' | 'zeros' | 'concentrated') {
  const rand = seeded(seed);
  const preds = Array.from({ length: m }, () => {
    if (kind === 'concentrated') {
      // All values within one histogram bucket: [0.5, 0.5625) and the complement.
      const p = new Float32Array(4 * 2);
      for (let r = 0; r < 4; r++) {
        const v = 0.5 + 0.06 * rand();
        p[r * 2] = v;
        p[r * 2 + 1] = 1 - v;
      }
      return p;
    }
    const p = randomPred(rand, 4, 5, { ties: kind === 'ties', sharpness: kind === 'zeros' ? 1 : 3 });
    if (kind === 'zeros') for (let k = 0; k < p.length; k++) if (rand() < 0.6) p[k] = 0;
    return p;
  });
  const numClasses = kind === 'concentrated' ? 2 : 5;
  const unequal = preds.map(() => (rand() < 0.2 ? 0 : 0.25 + rand() * 4));
  const integer = preds.map(() => 1 + Math.floor(rand() * 3));
  return { preds, numClasses, unequal, integer };
}

const LARGE_CASES = [
  [40, 256, 'spread'],
  [41, 301, 'spread'],
  [42, 257, 'ties'],
  [43, 300, 'zeros'],
  [44, 260, 'concentrated'],
  [45, 261, 'concentrated'],
] as const;

describe('median', () => {
  it('odd count, by hand', () => {
    // Column medians 0.2, 0.4, 0.3 (sum 0.9), renormalised.
    const out = median([f32([0.2, 0.3, 0.5]), f32([0.1, 0.6, 0.3]), f32([0.4, 0.4, 0.2])], 3);
    assertClose(out, [0.2 / 0.9, 0.4 / 0.9, 0.3 / 0.9]);
  });

  it('even count averages the two middle values, by hand', () => {
    // Class 0: 0.1 0.3 | 0.6 0.8 -> 0.45; class 1: 0.2 0.4 | 0.7 0.9 -> 0.55.
    const preds = [f32([0.1, 0.9]), f32([0.3, 0.7]), f32([0.6, 0.4]), f32([0.8, 0.2])];
    assertClose(median(preds, 2), [0.45, 0.55]);
  });

  it('weights, by hand', () => {
    const preds = [f32([0.1, 0.9]), f32([0.5, 0.5]), f32([0.9, 0.1])];
    // Weight 3 of 5 is a majority: its values win.
    assertClose(median(preds, 2, [1, 1, 3]), [0.9, 0.1]);
    // Weight 2 of 4 reaches exactly half: midpoint with the next value, as if duplicated.
    // Class 0: 0.1 0.1 | 0.5 0.9 -> 0.3; class 1: 0.1 0.5 | 0.9 0.9 -> 0.7.
    assertClose(median(preds, 2, [2, 1, 1]), [0.3, 0.7]);
    assertClose(median([preds[0], ...preds], 2), [0.3, 0.7]);
  });

  it('a row with no majority on any class is uniform', () => {
    assertClose(median([f32([1, 0, 0]), f32([0, 1, 0]), f32([0, 0, 1])], 3), [1 / 3, 1 / 3, 1 / 3]);
  });

  it('matches a sort-based reference, with ties and unequal weights', () => {
    const rand = seeded(11);
    for (const m of [1, 2, 3, 4, 7, 10, 31]) {
      const preds = Array.from({ length: m }, () => randomPred(rand, 8, 5, { ties: true }));
      const weights = preds.map(() => (rand() < 0.3 ? 0 : Math.ceil(rand() * 3)));
      weights[0] = 1;
      assertClose(median(preds, 5), referenceMedian(preds, 5));
      assertClose(median(preds, 5, weights), referenceMedian(preds, 5, weights));
    }
  });

  for (const [seed, m, kind] of LARGE_CASES) {
    it(`matches the reference for ${m} participants, ${kind} values`, () => {
      const { preds, numClasses, unequal, integer } = manyParticipants(seed, m, kind);
      assertClose(median(preds, numClasses), referenceMedian(preds, numClasses));
      assertClose(median(preds, numClasses, unequal), referenceMedian(preds, numClasses, unequal));
      assertClose(median(preds, numClasses, integer), referenceMedian(preds, numClasses, integer));
    });
  }

  it('weight 2 is a duplicate; order and zero weights do not matter; rows sum to 1', () => {
    const rand = seeded(12);
    const preds = Array.from({ length: 6 }, () => randomPred(rand, 16, 10));
    const out = median(preds, 10, [2, 1, 1, 1, 1, 1]);
    assertRowsSumToOne(out, 10);
    assertClose(out, median([preds[0], ...preds], 10), 1e-7);
    const order = [3, 0, 5, 1, 4, 2];
    const w = [2, 1, 1, 1, 1, 1];
    assertClose(
      median(
        order.map((j) => preds[j]),
        10,
        order.map((j) => w[j]),
      ),
      out,
      1e-7,
    );
    assertClose(median([...preds, preds[0]], 10, [...w, 0]), out, 1e-7);
  });
});

describe('trimmedMean', () => {
  it('drops one value per side of five at trim 0.2, by hand', () => {
    // Class 0: 0.1 | 0.2 0.3 0.4 | 0.9 -> 0.3; class 1 the complement -> 0.7.
    const preds = [0.1, 0.2, 0.3, 0.4, 0.9].map((v) => f32([v, 1 - v]));
    assertClose(trimmedMean(preds, 2, 0.2), [0.3, 0.7]);
  });

  it('cuts through a boundary participant when trim·m is fractional, by hand', () => {
    const preds = [f32([0, 1]), f32([0.1, 0.9]), f32([0.2, 0.8]), f32([1, 0])];
    // W = 4, cut 0.4 per side. Class 0: (0·0.6 + 0.1 + 0.2 + 1·0.6) / 3.2 = 0.28125;
    // class 1: (0·0.6 + 0.8 + 0.9 + 1·0.6) / 3.2 = 0.71875.
    assertClose(trimmedMean(preds, 2, 0.1), [0.28125, 0.71875]);
    // trim 0.25 drops exactly one per side: class 0 (0.1 + 0.2)/2, class 1 (0.8 + 0.9)/2.
    assertClose(trimmedMean(preds, 2, 0.25), [0.15, 0.85]);
  });

  const rand = seeded(13);
  const preds = Array.from({ length: 9 }, () => randomPred(rand, 16, 10, { ties: true }));
  const weights = preds.map(() => rand() * 3);

  it('trim 0 equals mean', () => {
    assert.deepEqual(trimmedMean(preds, 10, 0, weights), mean(preds, 10, weights));
  });

  it('approaches the median as trim approaches 0.5', () => {
    assertClose(trimmedMean(preds, 10, 0.4999999), median(preds, 10), 1e-5);
    assertClose(trimmedMean(preds.slice(1), 10, 0.4999999), median(preds.slice(1), 10), 1e-5);
  });

  it('matches a sort-based reference, with ties and unequal weights', () => {
    for (const trim of [0.05, 0.1, 0.2, 0.3, 0.45]) {
      assertClose(trimmedMean(preds, 10, trim), referenceTrimmedMean(preds, 10, trim));
      assertClose(trimmedMean(preds, 10, trim, weights), referenceTrimmedMean(preds, 10, trim, weights));
    }
  });

  for (const [seed, m, kind] of LARGE_CASES) {
    it(`matches the reference for ${m} participants, ${kind} values`, () => {
      const { preds: many, numClasses, unequal, integer } = manyParticipants(seed, m, kind);
      for (const trim of [0.01, 0.1, 0.25, 0.49]) {
        assertClose(trimmedMean(many, numClasses, trim), referenceTrimmedMean(many, numClasses, trim));
        assertClose(
          trimmedMean(many, numClasses, trim, unequal),
          referenceTrimmedMean(many, numClasses, trim, unequal),
        );
        assertClose(
          trimmedMean(many, numClasses, trim, integer),
          referenceTrimmedMean(many, numClasses, trim, integer),
        );
      }
    });
  }

  it('order and zero weights do not matter; rows sum to 1', () => {
    const out = trimmedMean(preds, 10, 0.2, weights);
    assertRowsSumToOne(out, 10);
    const order = [8, 6, 4, 2, 0, 1, 3, 5, 7];
    assertClose(
      trimmedMean(
        order.map((j) => preds[j]),
        10,
        0.2,
        order.map((j) => weights[j]),
      ),
      out,
      1e-7,
    );
    assertClose(trimmedMean([...preds, preds[3]], 10, 0.2, [...weights, 0]), out, 1e-7);
  });

  it('rejects a trim outside [0, 0.5)', () => {
    for (const t of [-0.1, 0.5, 1, Number.NaN]) {
      assert.throws(
        () => trimmedMean(preds, 10, t),
        (e: unknown) => e instanceof AggregationError && e.code === 'ERR_AGG_OPTION',
      );
    }
  });
});

describe('robustness: 7 honest and 3 poisoned participants', () => {
  const n = 64;
  const C = 10;
  const rand = seeded(14);
  const labels = Array.from({ length: n }, () => Math.floor(rand() * C));
  // Honest: about 0.8 on the true class, the rest spread, with noise.
  const honest = Array.from({ length: 7 }, () => {
    const p = new Float32Array(n * C);
    for (let r = 0; r < n; r++) {
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const v = c === labels[r] ? 0.8 + 0.1 * rand() : 0.02 * rand();
        p[r * C + c] = v;
        sum += v;
      }
      for (let c = 0; c < C; c++) p[r * C + c] /= sum;
    }
    return p;
  });
  const honestMean = mean(honest, C);
  const flipped = () => {
    const p = new Float32Array(n * C);
    for (let r = 0; r < n; r++) p[r * C + ((labels[r] + 1) % C)] = 1;
    return p;
  };
  const uniform = () => new Float32Array(n * C).fill(1 / C);

  for (const [attack, make] of [
    ['flipped one-hot', flipped],
    ['uniform', uniform],
  ] as const) {
    it(`${attack}: median and trimmed mean stay near the honest mean, the mean does not`, () => {
      const all = [...honest, make(), make(), make()];
      const plain = maxAbsDiff(mean(all, C), honestMean);
      const med = maxAbsDiff(median(all, C), honestMean);
      const trimmed = maxAbsDiff(trimmedMean(all, C, 0.3), honestMean);
      assert.ok(plain > 0.2, `mean moved only ${plain}`);
      assert.ok(med < 0.06, `median moved ${med}`);
      assert.ok(trimmed < 0.06, `trimmed mean moved ${trimmed}`);
    });
  }
});
