import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  activeBatch,
  activeCount,
  explorationCount,
  RowScores,
  rowUncertainty,
  selectActiveRows,
} from './active-rows.ts';
import { MutualStrategy } from './mutual-strategy.ts';
import { DEFAULT_SETTINGS, type FederationSettings } from './settings.ts';
import type { Contribution, RoundContext } from './strategy.ts';

const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('active rows: the maths', () => {
  it('row score = H(weighted mean) / log C: 0 when all agree confidently, 1 when uniform, high when they disagree', () => {
    const C = 4;
    const confident = Float32Array.of(1, 0, 0, 0);
    const other = Float32Array.of(0, 1, 0, 0);
    const uniform = Float32Array.of(0.25, 0.25, 0.25, 0.25);
    const rows = (...r: Float32Array[]) => Float32Array.from(r.flatMap((x) => [...x]));
    // Participant a and b on three rows: agree confidently, disagree confidently, both uniform.
    const a = rows(confident, confident, uniform);
    const b = rows(confident, other, uniform);
    const u = rowUncertainty([a, b], [1, 1], 3, C);
    close(u[0]!, 0);
    close(u[1]!, Math.log(2) / Math.log(4), 1e-6); // the mean is (0.5, 0.5, 0, 0): disagreement alone
    close(u[2]!, 1);
    // Weights count: b nearly ignored, the disagreement row becomes almost certain.
    assert.ok(rowUncertainty([a, b], [1, 1e-6], 3, C)[1]! < 0.01);
  });

  it('selection is deterministic given (scores, version, seed), picks the highest scores and explores ⌈A/8⌉ at random', () => {
    const n = 200;
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) scores[i] = i / n; // row 199 is the least certain
    const pick = selectActiveRows(scores, 32, 5, 7);
    assert.deepEqual(pick, selectActiveRows(scores, 32, 5, 7), 'same inputs, same rows');
    assert.notDeepEqual(pick, selectActiveRows(scores, 32, 6, 7), 'another version explores other rows');
    assert.equal(new Set(pick).size, 32, 'distinct rows');
    const explore = explorationCount(32);
    assert.equal(explore, 4);
    // The exploited rows are exactly the 28 highest scores, in order.
    assert.deepEqual(
      [...pick.subarray(0, 32 - explore)],
      Array.from({ length: 28 }, (_, k) => n - 1 - k),
    );
    for (const r of pick.subarray(32 - explore))
      assert.ok(r < n - 28, `exploration row ${r} is not a top row`);
  });

  it('unscored rows count as maximally uncertain, so the public set is covered before rows are revisited', () => {
    const book = new RowScores(100);
    const seen = new Set<number>();
    for (let v = 1; v <= 4; v++) {
      const batch = selectActiveRows(book.scores, 25, v, 1);
      for (const r of batch) seen.add(r);
      // Every row selected gets a low score: it was answered confidently.
      book.update(batch, new Float32Array(batch.length).fill(0.01));
    }
    assert.ok(seen.size >= 90, `after 4 × 25 rows, ${seen.size} of 100 rows seen`);
  });

  it('the full batch for participants without active rows: active rows first, then distinct random fill', () => {
    const scores = new Float32Array(1000).fill(Number.NaN);
    for (let i = 0; i < 50; i++) scores[i] = 0; // confidently known rows
    const batch = activeBatch(scores, 128, 32, 3, 9);
    assert.equal(batch.length, 128);
    assert.equal(new Set(batch).size, 128, 'no row twice');
    assert.deepEqual(batch.subarray(0, 32), selectActiveRows(scores, 32, 3, 9));
    for (const r of batch.subarray(0, 28)) assert.ok(r >= 50, 'exploited rows are the unknown ones');
    assert.equal(activeCount(32, 128), 32);
    assert.equal(activeCount(0, 128), 0);
    assert.equal(activeCount(500, 128), 128);
  });
});

describe('active rows: the mutual strategy', () => {
  const C = 3;
  const settings: FederationSettings = {
    ...DEFAULT_SETTINGS,
    task: { inputShape: [1], numClasses: C, labelNames: [] },
    batchSize: 8,
    activeRows: 4,
    // The leave-one-out figures below are plain means (the default, agreement, would down-weight the odd one out).
    aggregation: 'mean',
  };
  const ctx = (version: number): RoundContext => ({ settings, version, publicSetSize: 40 });
  const probs = (rows: number, hot: number) => {
    const p = new Float32Array(rows * C);
    for (let r = 0; r < rows; r++) p[r * C + hot] = 1;
    return p;
  };
  const contribution = (id: string, rows: number, hot: number): Contribution => ({
    participantId: id,
    version: 1,
    staleness: 0,
    weight: 1,
    probs: probs(rows, hot),
  });

  it('aggregates active rows over everyone and the rest over full-batch participants; targets follow the capability', () => {
    const s = new MutualStrategy();
    const plan = s.configureRound(ctx(1));
    assert.equal(plan.predictIndices.length, 8);
    const inputs = new Map([
      [
        1,
        {
          indices: plan.predictIndices,
          contributions: [contribution('new1', 4, 0), contribution('new2', 4, 0), contribution('old', 8, 1)],
        },
      ],
    ]);
    const consensus = s.aggregate(ctx(1), inputs)!;
    assert.equal(consensus.kind, 'mutual');
    if (consensus.kind !== 'mutual') return;
    assert.equal(consensus.batches.length, 2);
    const [active, rest] = consensus.batches;
    assert.deepEqual(active!.indices, plan.predictIndices.subarray(0, 4));
    assert.equal(active!.contributions.length, 3);
    assert.deepEqual(rest!.indices, plan.predictIndices.subarray(4));
    assert.equal(rest!.contributions.length, 1);
    assert.ok(rest!.fullOnly);

    const forNew = s.targetsFor(ctx(1), consensus, 'new1', true)!;
    assert.deepEqual(forNew.indices, plan.predictIndices.subarray(0, 4), 'active rows only');
    const forOld = s.targetsFor(ctx(1), consensus, 'old', false)!;
    assert.deepEqual(forOld.indices, plan.predictIndices.subarray(0, 4), 'nobody else predicted the rest');
    const forNewcomer = s.targetsFor(ctx(1), consensus, 'someone', false)!;
    assert.deepEqual(
      new Set(forNewcomer.indices),
      new Set(plan.predictIndices),
      'a full-batch newcomer: all 8',
    );
    // Leave-one-out on active rows: new1 sees new2 and old (mean of class 0 and class 1).
    close(forNew.probs[0]!, 0.5);
    close(forNew.probs[1]!, 0.5);

    // The next version's active rows are the uncertain ones: the 4 where new and old disagreed
    // score log 2 / log 3, the rest of the batch 0, unseen rows 1. So with 4 active rows, 3
    // exploited are unseen rows, never the confident rest of batch 1.
    const next = s.configureRound(ctx(2)).predictIndices.subarray(0, 3);
    for (const r of next) assert.ok(!plan.predictIndices.includes(r), `row ${r} was scored already`);
  });
});
