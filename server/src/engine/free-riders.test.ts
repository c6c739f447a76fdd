import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MutualStrategy } from './mutual-strategy.ts';
import { resolveSettings } from './settings.ts';
import type { BatchConsensus, Consensus, Contribution, RoundContext } from './strategy.ts';
import { TrustLedger } from './trust-ledger.ts';

const C = 3;
const ctx = (version: number, aggregation: 'agreement' | 'mean' = 'agreement'): RoundContext => ({
  settings: resolveSettings({
    task: { inputShape: [2], numClasses: C, labelNames: [] },
    batchSize: 20,
    aggregation,
  }),
  version,
  publicSetSize: 40,
});

let seed = 11;
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

const honest = (id: string, version: number, n: number): Contribution => ({
  participantId: id,
  version,
  staleness: 0,
  weight: 1,
  probs: rows(n),
});
const range = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
const ids = ['a', 'b', 'c', 'd', 'e', 'x'];

/** Version 1 on samples 0–19, then version 2 on 4–23 (16 shared) where `x` uploads its targets back. */
function twoVersions(s: MutualStrategy, aggregation: 'agreement' | 'mean' = 'agreement') {
  const v1 = range(0, 20);
  const first = s.aggregate(
    ctx(1, aggregation),
    new Map([[1, { indices: v1, contributions: ids.map((id) => honest(id, 1, 20)) }]]),
    null,
  )!;
  const v2 = range(4, 24);
  const sent = s.targetsFor(ctx(1, aggregation), first, 'x')!;
  const copied = rows(20);
  for (let r = 0; r < 20; r++) {
    const t = sent.indices.indexOf(v2[r]!);
    if (t >= 0) copied.set(sent.probs.subarray(t * C, (t + 1) * C), r * C);
  }
  const contributions = [
    ...ids.slice(0, -1).map((id) => honest(id, 2, 20)),
    { ...honest('x', 2, 20), probs: copied },
  ];
  return { first, v2, contributions };
}

const batchOf = (c: Consensus | null): BatchConsensus => {
  assert.equal(c?.kind, 'mutual');
  return (c as Consensus & { kind: 'mutual' }).batches[0]!;
};

describe("'agreement' against a participant that uploads its targets back", () => {
  it('compares each upload with the targets that participant was sent: the copier loses its weight, nobody else', () => {
    const s = new MutualStrategy();
    const { first, v2, contributions } = twoVersions(s);
    const batch = batchOf(s.aggregate(ctx(2), new Map([[2, { indices: v2, contributions }]]), first));
    const copy = Array.from(batch.copy!);
    assert.deepEqual(copy.slice(0, 5), [1, 1, 1, 1, 1]);
    assert.ok(copy[5]! < 0.05, `copier's standing ${copy[5]}`);
    // The copy standing multiplies the weight; the agreement score alone did not see it.
    assert.equal(batch.trust![5], 1);
    assert.ok(batch.contributions[5]!.weight < 0.05);

    const ledger = new TrustLedger();
    ledger.record(first);
    ledger.record({ kind: 'mutual', version: 2, batches: [batch] });
    assert.equal(ledger.reason('x'), 'copies its targets');
    assert.ok(ledger.of('x')! < 0.05);
    for (const id of ids.slice(0, -1)) {
      assert.equal(ledger.of(id), 1);
      assert.equal(ledger.reason(id), null);
    }
  });

  it('scores nothing against a consensus other than the one the task was sent (recovery, stale uploads)', () => {
    const s = new MutualStrategy();
    const { v2, contributions } = twoVersions(s);
    for (const previous of [null, undefined]) {
      const batch = batchOf(s.aggregate(ctx(2), new Map([[2, { indices: v2, contributions }]]), previous));
      assert.deepEqual(Array.from(batch.copy!), [1, 1, 1, 1, 1, 1]);
    }
    const { first } = twoVersions(s);
    const stale = contributions.map((c) => ({ ...c, version: 3 }));
    const batch = batchOf(s.aggregate(ctx(4), new Map([[3, { indices: v2, contributions: stale }]]), first));
    assert.deepEqual(Array.from(batch.copy!), [1, 1, 1, 1, 1, 1]);
  });

  it("the standing carries over to versions where the copier cannot be compared, and 'mean' ignores it", () => {
    const s = new MutualStrategy();
    const { first, v2, contributions } = twoVersions(s);
    const second = s.aggregate(ctx(2), new Map([[2, { indices: v2, contributions }]]), first)!;
    // Version 3 on samples 24–39: disjoint from version 2's, so nobody is scored.
    const v3 = range(24, 40);
    const third = batchOf(
      s.aggregate(
        ctx(3),
        new Map([[3, { indices: v3, contributions: ids.map((id) => honest(id, 3, 16)) }]]),
        second,
      ),
    );
    assert.ok(third.copy![5]! < 0.05);
    assert.deepEqual(Array.from(third.copy!).slice(0, 5), [1, 1, 1, 1, 1]);

    const plain = new MutualStrategy();
    const m = twoVersions(plain, 'mean');
    const batch = batchOf(
      plain.aggregate(
        ctx(2, 'mean'),
        new Map([[2, { indices: m.v2, contributions: m.contributions }]]),
        m.first,
      ),
    );
    assert.equal(batch.copy, undefined);
    assert.equal(batch.contributions[5]!.weight, 1);
  });
});
