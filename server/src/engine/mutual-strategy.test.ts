import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MutualStrategy } from './mutual-strategy.ts';
import { resolveSettings } from './settings.ts';
import type { Contribution, RoundContext } from './strategy.ts';

const C = 3;
const ctx: RoundContext = {
  settings: resolveSettings({
    task: { inputShape: [2], numClasses: C, labelNames: [] },
    batchSize: 4,
    aggregation: 'mean',
  }),
  version: 9,
  publicSetSize: 10,
};

let seed = 7;
function rows(n: number): Float32Array {
  const p = new Float32Array(n * C);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let k = 0; k < C; k++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      p[r * C + k] = 0.05 + seed / 2 ** 32;
      sum += p[r * C + k]!;
    }
    for (let k = 0; k < C; k++) p[r * C + k] = p[r * C + k]! / sum;
  }
  return p;
}

function contribution(participantId: string, version: number, weight: number, n: number): Contribution {
  return { participantId, version, staleness: 9 - version, weight, probs: rows(n) };
}

/**
 * From first principles: the batches where someone else contributed, most other
 * contributors first (newest among equals), until `budget` rows; then each distinct sample
 * once, from the newest chosen batch that has it.
 */
function reference(
  batches: { version: number; indices: Uint32Array; contributions: Contribution[] }[],
  participantId: string,
  budget: number,
) {
  const indices: number[] = [];
  const probs: number[] = [];
  let contributors = 0;
  const othersOf = (b: (typeof batches)[number]) =>
    b.contributions.filter((c) => c.participantId !== participantId);
  const ranked = batches
    .filter((b) => othersOf(b).length > 0)
    .sort((x, y) => othersOf(y).length - othersOf(x).length || y.version - x.version);
  const chosen: typeof batches = [];
  let rows = 0;
  for (const b of ranked) {
    if (rows >= budget) break;
    chosen.push(b);
    rows += b.indices.length;
  }
  for (const b of chosen.sort((x, y) => y.version - x.version)) {
    const others = othersOf(b);
    contributors = Math.max(contributors, others.length);
    b.indices.forEach((index, r) => {
      if (indices.includes(index)) return;
      indices.push(index);
      const W = others.reduce((a, c) => a + c.weight, 0);
      const row = Array.from({ length: C }, (_, k) =>
        others.reduce((a, c) => a + c.weight * c.probs![r * C + k]!, 0),
      ).map((v) => v / W);
      probs.push(...row);
    });
  }
  return { indices, probs, contributors };
}

/** Every participant's targets from a three-batch consensus against reference(). */
function check(ctx: RoundContext, budget: number): void {
  const strategy = new MutualStrategy();
  const batches = [
    {
      version: 7,
      indices: Uint32Array.from([1, 2, 3, 4]),
      contributions: [contribution('a', 7, 0.5, 4), contribution('b', 7, 0.5, 4)],
    },
    {
      version: 8,
      indices: Uint32Array.from([3, 5, 1, 6]),
      contributions: [contribution('a', 8, 1, 4), contribution('c', 8, 1, 4), contribution('d', 8, 1, 4)],
    },
    // Only 'e' contributed here: e gets no targets from this batch, everyone else does.
    { version: 6, indices: Uint32Array.from([6, 7, 8, 9]), contributions: [contribution('e', 6, 0.3, 4)] },
  ];
  const byVersion = new Map(batches.map((b) => [b.version, b]));
  const consensus = strategy.aggregate(ctx, byVersion)!;
  for (const id of ['a', 'b', 'c', 'd', 'e', 'stranger']) {
    const got = strategy.targetsFor(ctx, consensus, id)!;
    const want = reference(batches, id, budget);
    assert.deepEqual([...got.indices], want.indices, `indices for ${id}`);
    assert.equal(got.contributors, want.contributors, `contributors for ${id}`);
    assert.equal(got.probs.length, want.probs.length);
    for (const [i, v] of got.probs.entries())
      assert.ok(Math.abs(v - want.probs[i]!) < 1e-5, `${id} value ${i}`);
  }
}

describe('MutualStrategy.targetsFor', () => {
  for (const budget of [4, 8, 12]) {
    it(`matches leave-one-out from first principles across overlapping batches, for everyone (batchSize ${budget})`, () => {
      check({ ...ctx, settings: { ...ctx.settings, batchSize: budget } }, budget);
    });
  }

  it('sends at most batchSize rows when batches of batchSize rows each are available', () => {
    const strategy = new MutualStrategy();
    const batches = [9, 8, 7].map((version) => ({
      version,
      indices: Uint32Array.from([0, 1, 2, 3].map((i) => i + version)),
      contributions: [contribution('a', version, 1, 4), contribution('b', version, 1, 4)],
    }));
    const consensus = strategy.aggregate(ctx, new Map(batches.map((b) => [b.version, b])))!;
    const got = strategy.targetsFor(ctx, consensus, 'a')!;
    assert.deepEqual([...got.indices], [9, 10, 11, 12], 'one batch, the newest of equals');
  });
});

describe("MutualStrategy with 'agreement'", () => {
  it('takes a far-off contribution out of everyone else targets, and gives the outlier the consensus of the others', () => {
    const agreement = { ...ctx, settings: { ...ctx.settings, aggregation: 'agreement' as const } };
    const n = 4;
    const oneHot = (cls: number, sure: number) => {
      const p = new Float32Array(n * C).fill((1 - sure) / (C - 1));
      for (let r = 0; r < n; r++) p[r * C + cls] = sure;
      return p;
    };
    const honest = ['a', 'b', 'c', 'd'].map(
      (id, i): Contribution => ({
        participantId: id,
        version: 9,
        staleness: 0,
        weight: 1,
        probs: oneHot(0, 0.7 + 0.05 * i),
      }),
    );
    const outlier: Contribution = {
      participantId: 'x',
      version: 9,
      staleness: 0,
      weight: 1,
      probs: oneHot(2, 1),
    };
    const indices = Uint32Array.from([0, 1, 2, 3]);
    const s = new MutualStrategy();
    const consensus = s.aggregate(
      agreement,
      new Map([[9, { indices, contributions: [...honest, outlier] }]]),
    )!;
    const forA = s.targetsFor(agreement, consensus, 'a')!;
    const forX = s.targetsFor(agreement, consensus, 'x')!;
    assert.equal(forA.contributors, 4, 'the outlier still counts as a contributor');
    assert.ok(
      forA.probs[2]! < 0.15,
      `the outlier's class keeps the honest mass (0.1–0.15): ${forA.probs[2]}`,
    );
    assert.ok(forX.probs[0]! > 0.7, `the outlier is sent the others' consensus: ${forX.probs[0]}`);
    // With 'mean' the outlier would hold a fifth of the target.
    const plain = s.aggregate(ctx, new Map([[9, { indices, contributions: [...honest, outlier] }]]))!;
    assert.ok(s.targetsFor(ctx, plain, 'a')!.probs[2]! > 0.25);
  });
});
