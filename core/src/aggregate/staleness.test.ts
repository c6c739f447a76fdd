import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationError } from './errors.ts';
import { isTooStale, type StalenessPolicy, stalenessWeight } from './staleness.ts';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} vs ${expected}`);

describe('stalenessWeight (FedAsync)', () => {
  it('constant: 1 at any staleness', () => {
    for (const tau of [0, 1, 100]) assert.equal(stalenessWeight(tau, { kind: 'constant' }), 1);
  });

  it('polynomial: (1 + tau)^-a', () => {
    const half = { kind: 'polynomial', a: 0.5 } as const;
    close(stalenessWeight(0, half), 1);
    close(stalenessWeight(3, half), 0.5);
    close(stalenessWeight(8, half), 1 / 3);
    close(stalenessWeight(1, { kind: 'polynomial', a: 1 }), 0.5);
    close(stalenessWeight(9, { kind: 'polynomial', a: 2 }), 0.01);
    close(stalenessWeight(7, { kind: 'polynomial', a: 0 }), 1);
  });

  it('hinge: 1 up to b, then 1 / (a(tau − b) + 1)', () => {
    const hinge = { kind: 'hinge', a: 0.5, b: 4 } as const;
    close(stalenessWeight(0, hinge), 1);
    close(stalenessWeight(4, hinge), 1);
    close(stalenessWeight(6, hinge), 0.5);
    close(stalenessWeight(10, hinge), 0.25);
  });

  it('never increases with staleness', () => {
    const policies: StalenessPolicy[] = [
      { kind: 'constant' },
      { kind: 'polynomial', a: 0.5 },
      { kind: 'hinge', a: 10, b: 2 },
    ];
    for (const p of policies) {
      let last = 1;
      for (let tau = 0; tau <= 50; tau += 0.5) {
        const w = stalenessWeight(tau, p);
        assert.ok(w <= last && w > 0, `${p.kind} at ${tau}: ${w}`);
        last = w;
      }
    }
  });

  it('rejects beyond maxStaleness with weight 0 and the flag', () => {
    const policy = { kind: 'polynomial', a: 0.5, maxStaleness: 8 } as const;
    close(stalenessWeight(8, policy), 1 / 3);
    assert.equal(isTooStale(8, policy), false);
    assert.equal(stalenessWeight(9, policy), 0);
    assert.equal(isTooStale(9, policy), true);
    assert.equal(stalenessWeight(1, { kind: 'constant', maxStaleness: 0 }), 0);
    assert.equal(isTooStale(1e9, { kind: 'constant' }), false);
  });

  it('does not underflow an accepted contribution to the "rejected" 0', () => {
    assert.ok(stalenessWeight(1e6, { kind: 'polynomial', a: 1000 }) > 0);
  });

  it('rejects bad staleness and parameters', () => {
    const bad = (fn: () => unknown) =>
      assert.throws(fn, (e: unknown) => e instanceof AggregationError && e.code === 'ERR_AGG_OPTION');
    bad(() => stalenessWeight(-1, { kind: 'constant' }));
    bad(() => stalenessWeight(Number.NaN, { kind: 'constant' }));
    bad(() => stalenessWeight(1, { kind: 'polynomial', a: -1 }));
    bad(() => stalenessWeight(1, { kind: 'hinge', a: 1, b: Number.NaN }));
    bad(() => stalenessWeight(1, { kind: 'constant', maxStaleness: -1 }));
    bad(() => stalenessWeight(1, { kind: 'exponential' } as unknown as StalenessPolicy));
  });
});
