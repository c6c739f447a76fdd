import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsensusAccumulator } from './consensus-accumulator.ts';
import { entropyWeightedMean } from './entropy.ts';
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { assertClose, assertRowsSumToOne, randomPred, seeded } from './testing.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('ConsensusAccumulator', () => {
  it('tracks set, replace and remove, by hand', () => {
    const acc = new ConsensusAccumulator(1, 2);
    assert.equal(acc.consensus(), null);
    assert.equal(acc.leaveOneOut('a'), null);
    acc.set('a', f32([1, 0]));
    assert.equal(acc.leaveOneOut('a'), null, 'nobody else: no target yet');
    acc.set('b', f32([0, 1]), 3);
    assertClose(acc.consensus()!, [0.25, 0.75]);
    assertClose(acc.leaveOneOut('a')!, [0, 1]);
    assertClose(acc.leaveOneOut('b')!, [1, 0]);
    assertClose(acc.leaveOneOut('newcomer')!, [0.25, 0.75], 1e-7);
    acc.set('b', f32([0.5, 0.5]), 1);
    assertClose(acc.consensus()!, [0.75, 0.25]);
    assert.equal(acc.size, 2);
    assert.equal(acc.remove('a'), true);
    assert.equal(acc.remove('a'), false);
    assertClose(acc.consensus()!, [0.5, 0.5]);
    assert.equal(acc.leaveOneOut('b'), null);
    acc.remove('b');
    assert.equal(acc.consensus(), null);
    assert.equal(acc.size, 0);
  });

  it('(S − w_i p_i) / (W − w_i) for two rows, by hand', () => {
    const acc = new ConsensusAccumulator(2, 2);
    acc.set('a', f32([1, 0, 0.5, 0.5]), 1);
    acc.set('b', f32([0, 1, 0.5, 0.5]), 1);
    acc.set('c', f32([0.5, 0.5, 1, 0]), 2);
    // S = [2, 2, 3, 1], W = 4.
    assertClose(acc.consensus()!, [0.5, 0.5, 0.75, 0.25]);
    // Without c: [1, 1, 1, 1] / 2.
    assertClose(acc.leaveOneOut('c')!, [0.5, 0.5, 0.5, 0.5]);
    // Without a: [1, 2, 2.5, 0.5] / 3.
    assertClose(acc.leaveOneOut('a')!, [1 / 3, 2 / 3, 2.5 / 3, 0.5 / 3]);
  });

  it('counts weight-0 participants as present but not contributing', () => {
    const acc = new ConsensusAccumulator(1, 2);
    acc.set('zero', f32([1, 0]), 0);
    assert.equal(acc.has('zero'), true);
    assert.equal(acc.consensus(), null);
    acc.set('a', f32([0.2, 0.8]));
    assertClose(acc.consensus()!, [0.2, 0.8]);
    assertClose(acc.leaveOneOut('zero')!, [0.2, 0.8]);
    assert.equal(acc.leaveOneOut('a'), null);
  });

  it('copies predictions: later changes to the caller buffer do not leak in', () => {
    const acc = new ConsensusAccumulator(1, 2);
    const buf = f32([1, 0]);
    acc.set('a', buf);
    buf.set([0, 1]);
    acc.set('b', buf);
    assertClose(acc.consensus()!, [0.5, 0.5]);
    acc.remove('b');
    assertClose(acc.consensus()!, [1, 0]);
  });

  it("entropy weighting: a uniform participant has no say, and its row can't be inverted", () => {
    const acc = new ConsensusAccumulator(2, 2, { weighting: 'entropy' });
    acc.set('sure', f32([1, 0, 0.5, 0.5]));
    acc.set('unsure', f32([0.5, 0.5, 0.5, 0.5]));
    assertClose(acc.consensus()!, [1, 0, 0.5, 0.5]);
    // Without 'sure', no row has a confident vote: uniform.
    assertClose(acc.leaveOneOut('sure')!, [0.5, 0.5, 0.5, 0.5]);
    assertClose(acc.leaveOneOut('unsure')!, [1, 0, 0.5, 0.5]);
  });

  it('rejects bad input and stays unchanged', () => {
    const acc = new ConsensusAccumulator(2, 2);
    acc.set('a', f32([1, 0, 0, 1]));
    const code = (c: string) => (e: unknown) => e instanceof AggregationError && e.code === c;
    assert.throws(() => acc.set('a', f32([1, 0])), code('ERR_AGG_SHAPE'));
    assert.throws(() => acc.set('a', f32([1, 0, Number.NaN, 1])), code('ERR_AGG_VALUE'));
    assert.throws(() => acc.set('a', f32([0, 1, 0, 1]), -1), code('ERR_AGG_WEIGHT'));
    assertClose(acc.consensus()!, [1, 0, 0, 1]);
    assert.throws(() => new ConsensusAccumulator(0, 2), code('ERR_AGG_OPTION'));
    assert.throws(() => new ConsensusAccumulator(2, 0), code('ERR_AGG_OPTION'));
    assert.throws(() => new ConsensusAccumulator(2, 2, { recomputeEvery: 0 }), code('ERR_AGG_OPTION'));
    assert.throws(
      () => new ConsensusAccumulator(2, 2, { weighting: 'median' as 'uniform' }),
      code('ERR_AGG_OPTION'),
    );
  });

  for (const weighting of ['uniform', 'entropy'] as const) {
    const reference = weighting === 'uniform' ? mean : entropyWeightedMean;
    for (const recomputeEvery of [undefined, Number.POSITIVE_INFINITY]) {
      it(`${weighting}, rebuild every ${recomputeEvery ?? 'default'}: 10,000 random replacements match recomputation`, () => {
        const n = 12;
        const C = 10;
        const rand = seeded(weighting === 'uniform' ? 20 : 21);
        const acc = new ConsensusAccumulator(n, C, { weighting, recomputeEvery });
        const truth = new Map<string, { pred: Float32Array; weight: number }>();
        const ids = Array.from({ length: 25 }, (_, i) => `p${i}`);
        const check = () => {
          const entries = [...truth.entries()];
          const live = entries.filter(([, e]) => e.weight > 0);
          if (live.length === 0) {
            assert.equal(acc.consensus(), null);
            return;
          }
          const all = acc.consensus()!;
          assertRowsSumToOne(all, C);
          assertClose(
            all,
            reference(
              live.map(([, e]) => e.pred),
              C,
              live.map(([, e]) => e.weight),
            ),
          );
          for (const [id] of entries) {
            const others = live.filter(([other]) => other !== id);
            const loo = acc.leaveOneOut(id);
            if (others.length === 0) {
              assert.equal(loo, null);
              continue;
            }
            assertClose(
              loo!,
              reference(
                others.map(([, e]) => e.pred),
                C,
                others.map(([, e]) => e.weight),
              ),
            );
          }
        };
        for (let op = 1; op <= 10_000; op++) {
          const id = ids[Math.floor(rand() * ids.length)];
          if (rand() < 0.1) {
            assert.equal(acc.remove(id), truth.delete(id));
          } else {
            // Weights over six orders of magnitude, some 0, predictions sharp or flat.
            const weight = rand() < 0.05 ? 0 : 10 ** (rand() * 6 - 3);
            const pred = randomPred(rand, n, C, { sharpness: 1 + rand() * 8 });
            acc.set(id, pred, weight);
            truth.set(id, { pred, weight });
          }
          if (op % 2_500 === 0) check();
        }
        check();
        acc.recompute();
        check();
      });
    }
  }

  it('handles a public batch of 512×10 from 300 participants (sanity, no timing)', () => {
    const rand = seeded(22);
    const acc = new ConsensusAccumulator(512, 10);
    const preds = Array.from({ length: 300 }, () => randomPred(rand, 512, 10));
    preds.forEach((p, j) => {
      acc.set(`p${j}`, p);
    });
    for (let j = 0; j < 300; j++) assertRowsSumToOne(acc.leaveOneOut(`p${j}`)!, 10);
    assertClose(acc.consensus()!, mean(preds, 10));
  });
});
