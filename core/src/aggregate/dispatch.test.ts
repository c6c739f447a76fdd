import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsensusAccumulator } from './consensus-accumulator.ts';
import {
  AGGREGATION_KINDS,
  type AggregationKind,
  aggregate,
  aggregateLeaveOneOut,
  type Contribution,
  isAggregationKind,
} from './dispatch.ts';
import { entropyWeightedMean } from './entropy.ts';
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { median, trimmedMean } from './robust.ts';
import { sharpen } from './sharpen.ts';
import { assertClose, assertRowsSumToOne, randomPred, seeded } from './testing.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);
const C = 10;
const rand = seeded(30);
const contributions: Contribution[] = Array.from({ length: 8 }, (_, j) => ({
  pred: randomPred(rand, 24, C, { sharpness: 2 }),
  weight: j === 5 ? undefined : 0.5 + rand(),
}));
const preds = contributions.map((c) => c.pred);
const weights = contributions.map((c) => c.weight ?? 1);

describe('aggregate', () => {
  it('dispatches each kind to its rule, with documented defaults', () => {
    const opts = { numClasses: C };
    assert.deepEqual(aggregate('mean', contributions, opts), mean(preds, C, weights));
    assert.deepEqual(aggregate('entropy', contributions, opts), entropyWeightedMean(preds, C, weights));
    assert.deepEqual(aggregate('era', contributions, opts), sharpen(mean(preds, C, weights), C, 0.5));
    assert.deepEqual(aggregate('median', contributions, opts), median(preds, C, weights));
    assert.deepEqual(aggregate('trimmed-mean', contributions, opts), trimmedMean(preds, C, 0.1, weights));
  });

  it('passes trimFraction and eraTemperature through', () => {
    const opts = { numClasses: C, trimFraction: 0.3, eraTemperature: 0.2 };
    assert.deepEqual(aggregate('era', contributions, opts), sharpen(mean(preds, C, weights), C, 0.2));
    assert.deepEqual(aggregate('trimmed-mean', contributions, opts), trimmedMean(preds, C, 0.3, weights));
  });

  it('tiny example for every kind, by hand', () => {
    const three = [f32([0.6, 0.4]), f32([0.8, 0.2]), f32([0.1, 0.9])].map((pred) => ({ pred }));
    const opts = { numClasses: 2, trimFraction: 1 / 3 };
    assertClose(aggregate('mean', three, opts), [0.5, 0.5]);
    assertClose(aggregate('median', three, opts), [0.6, 0.4]);
    assertClose(aggregate('trimmed-mean', three, opts), [0.6, 0.4]);
    // ERA of [0.5, 0.5] stays uniform whatever T.
    assertClose(aggregate('era', three, opts), [0.5, 0.5]);
    const rowSum = aggregate('entropy', three, opts).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(rowSum - 1) < 1e-6);
  });

  it('every kind: rows sum to 1, order and zero weights do not matter', () => {
    const order = [7, 2, 5, 0, 3, 6, 1, 4];
    const permuted = order.map((j) => contributions[j]);
    const withZero = [...contributions, { pred: randomPred(rand, 24, C), weight: 0 }];
    for (const kind of AGGREGATION_KINDS) {
      const out = aggregate(kind, contributions, { numClasses: C });
      assertRowsSumToOne(out, C);
      assertClose(aggregate(kind, permuted, { numClasses: C }), out, 1e-7);
      assertClose(aggregate(kind, withZero, { numClasses: C }), out, 1e-7);
    }
  });

  it('rejects an unknown kind and bad options with codes', () => {
    const code = (c: string) => (e: unknown) => e instanceof AggregationError && e.code === c;
    assert.throws(
      () => aggregate('fedavg' as AggregationKind, contributions, { numClasses: C }),
      code('ERR_AGG_OPTION'),
    );
    assert.throws(() => aggregate('mean', [], { numClasses: C }), code('ERR_AGG_EMPTY'));
    assert.throws(
      () => aggregate('trimmed-mean', contributions, { numClasses: C, trimFraction: 0.5 }),
      code('ERR_AGG_OPTION'),
    );
    assert.throws(
      () => aggregate('era', contributions, { numClasses: C, eraTemperature: 0 }),
      code('ERR_AGG_OPTION'),
    );
    assert.throws(() => aggregate('median', contributions, { numClasses: 7 }), code('ERR_AGG_SHAPE'));
  });

  it('isAggregationKind', () => {
    assert.equal(isAggregationKind('trimmed-mean'), true);
    assert.equal(isAggregationKind('fedavg'), false);
    assert.equal(isAggregationKind(3), false);
  });
});

describe('aggregateLeaveOneOut', () => {
  it('equals aggregate() over the others, for every kind and participant', () => {
    for (const kind of AGGREGATION_KINDS) {
      for (let i = 0; i < contributions.length; i++) {
        const others = contributions.filter((_, j) => j !== i);
        assertClose(
          aggregateLeaveOneOut(kind, contributions, i, { numClasses: C })!,
          aggregate(kind, others, { numClasses: C }),
          1e-7,
        );
      }
    }
  });

  it('matches the accumulator for mean, entropy and era', () => {
    for (const weighting of ['uniform', 'entropy'] as const) {
      const acc = new ConsensusAccumulator(24, C, { weighting });
      contributions.forEach((c, j) => {
        acc.set(`p${j}`, c.pred, c.weight);
      });
      const kind = weighting === 'uniform' ? 'mean' : 'entropy';
      for (let i = 0; i < contributions.length; i++) {
        const fromSums = acc.leaveOneOut(`p${i}`)!;
        assertClose(fromSums, aggregateLeaveOneOut(kind, contributions, i, { numClasses: C })!);
        if (kind === 'mean') {
          assertClose(
            sharpen(fromSums, C, 0.5),
            aggregateLeaveOneOut('era', contributions, i, { numClasses: C })!,
          );
        }
      }
    }
  });

  it('is null when nobody else has weight, and checks the index', () => {
    const lone = [{ pred: f32([1, 0]) }, { pred: f32([0, 1]), weight: 0 }];
    assert.equal(aggregateLeaveOneOut('median', lone, 0, { numClasses: 2 }), null);
    assertClose(aggregateLeaveOneOut('median', lone, 1, { numClasses: 2 })!, [1, 0]);
    assert.equal(aggregateLeaveOneOut('mean', [{ pred: f32([1, 0]) }], 0, { numClasses: 2 }), null);
    for (const index of [-1, 2, 0.5]) {
      assert.throws(
        () => aggregateLeaveOneOut('mean', lone, index, { numClasses: 2 }),
        (e: unknown) => e instanceof AggregationError && e.code === 'ERR_AGG_OPTION',
      );
    }
  });

  it("names the caller's position in errors", () => {
    const bad = [{ pred: f32([1, 0]) }, { pred: f32([0, 1]) }, { pred: f32([0, Number.NaN]) }];
    assert.throws(() => aggregateLeaveOneOut('mean', bad, 0, { numClasses: 2 }), /contribution 2/);
  });
});

describe('performance sanity (no timing asserts)', () => {
  it('aggregates 1,000 participants × 512×10 with every kind', () => {
    const r = seeded(31);
    const many = Array.from({ length: 1000 }, () => ({ pred: randomPred(r, 512, 10), weight: r() }));
    for (const kind of AGGREGATION_KINDS) assertRowsSumToOne(aggregate(kind, many, { numClasses: 10 }), 10);
  });
});
