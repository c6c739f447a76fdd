import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { assertClose, assertRowsSumToOne, randomPred, seeded } from './testing.ts';
import { agreementWeightedMean, trustScores } from './trust.ts';

const C = 10;
const N = 200;

/**
 * A non-IID federation in miniature: row r's true class is labels[r]; honest participant j
 * is confident on the classes it has seen (a random half of them) and hesitant elsewhere.
 */
function federation(seed: number, honest: number) {
  const rand = seeded(seed);
  const labels = Uint8Array.from({ length: N }, () => Math.floor(rand() * C));
  const preds: Float32Array[] = [];
  for (let j = 0; j < honest; j++) {
    const skill = Float64Array.from({ length: C }, () => (rand() < 0.5 ? 4 : 1.2));
    const p = new Float32Array(N * C);
    for (let r = 0; r < N; r++) {
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const logit = (c === labels[r] ? skill[labels[r]] : 0) + rand() * 1.5;
        p[r * C + c] = Math.exp(logit);
        sum += p[r * C + c];
      }
      for (let c = 0; c < C; c++) p[r * C + c] /= sum;
    }
    preds.push(p);
  }
  return { labels, preds, rand };
}

function accuracy(consensus: Float32Array, labels: Uint8Array): number {
  let hits = 0;
  for (let r = 0; r < N; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (consensus[r * C + c] > consensus[r * C + best]) best = c;
    if (best === labels[r]) hits++;
  }
  return hits / N;
}

/** All mass on (argmax + 1) mod C of the honest consensus: the "wrong" attack. */
function wrongLabels(honest: Float32Array): Float32Array {
  const out = new Float32Array(N * C);
  for (let r = 0; r < N; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (honest[r * C + c] > honest[r * C + best]) best = c;
    out[r * C + ((best + 1) % C)] = 1;
  }
  return out;
}

describe('trustScores and agreementWeightedMean', () => {
  it('equals the plain mean when nobody attacks (every factor 1)', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const { preds } = federation(seed, 8);
      const { trust } = trustScores(preds, C);
      assert.ok(
        trust.every((t) => t === 1),
        `seed ${seed}: trust ${Array.from(trust)}`,
      );
      assertClose(agreementWeightedMean(preds, C), mean(preds, C), 1e-6);
    }
  });

  it('holds against 2 of 8 participants uploading confident wrong labels, where the mean collapses', () => {
    const { labels, preds } = federation(4, 6);
    const clean = accuracy(mean(preds, C), labels);
    const attack = wrongLabels(mean(preds, C));
    const poisoned = [...preds, attack, attack];
    const meanAcc = accuracy(mean(poisoned, C), labels);
    const robust = agreementWeightedMean(poisoned, C);
    assertRowsSumToOne(robust, C);
    const { trust } = trustScores(poisoned, C);
    assert.ok(trust[6] < 1e-2 && trust[7] < 1e-2, `attackers keep ${trust[6]}, ${trust[7]}`);
    assert.ok(trust.slice(0, 6).every((t) => t === 1));
    assert.ok(meanAcc < clean - 0.2, `the attack should hurt the mean: ${meanAcc} vs ${clean}`);
    assert.ok(accuracy(robust, labels) >= clean - 0.01, `${accuracy(robust, labels)} vs clean ${clean}`);
  });

  it('down-weights confident random noise', () => {
    const { labels, preds, rand } = federation(5, 6);
    const noisy = [
      ...preds,
      randomPred(rand, N, C, { sharpness: 4 }),
      randomPred(rand, N, C, { sharpness: 8 }),
    ];
    const { trust } = trustScores(noisy, C);
    assert.ok(trust[6] < 0.2 && trust[7] < 0.2, `noise keeps ${trust[6]}, ${trust[7]}`);
    const clean = accuracy(mean(preds, C), labels);
    assert.ok(accuracy(agreementWeightedMean(noisy, C), labels) >= clean - 0.01);
  });

  it('keeps the caller weights (staleness) on top of the trust factor', () => {
    const { preds } = federation(6, 4);
    const weights = [1, 0.5, 0.25, 2];
    assertClose(agreementWeightedMean(preds, C, weights), mean(preds, C, weights), 1e-6);
  });

  it('ignores weight-0 contributions when building the reference', () => {
    const { preds } = federation(7, 5);
    const attack = wrongLabels(mean(preds, C));
    // Three attackers of five would win the median, but two of them are dropped.
    const withDropped = [preds[0], preds[1], attack, attack, attack];
    const { trust } = trustScores(withDropped, C, [1, 1, 1, 0, 0]);
    assert.equal(trust.length, 5);
    assert.ok(Number.isFinite(trust[2]));
  });

  it('rejects bad options and input with coded errors', () => {
    const { preds } = federation(8, 3);
    assert.throws(() => trustScores(preds, C, undefined, { threshold: 0 }), AggregationError);
    assert.throws(() => trustScores(preds, C, undefined, { minScale: 2 }), AggregationError);
    assert.throws(() => trustScores(preds, C, undefined, { relativeScale: -1 }), AggregationError);
    assert.throws(
      () => trustScores([new Float32Array([Number.NaN, 1])], 2),
      (e: unknown) => e instanceof AggregationError && e.code === 'ERR_AGG_VALUE',
    );
  });
});
