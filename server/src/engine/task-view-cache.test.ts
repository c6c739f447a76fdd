import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { version } from './round-policy.testing.ts';
import { resolveSettings } from './settings.ts';
import type { BatchConsensus, Consensus, RoundPlan, Strategy } from './strategy.ts';
import { TaskViewCache } from './task-view-cache.ts';

const settings = resolveSettings({ task: { inputShape: [2], numClasses: 2, labelNames: [] }, batchSize: 2 });

/** Counts targetsFor calls; gives each participant its own probabilities. */
function countingStrategy() {
  const calls: string[] = [];
  const strategy: Strategy = {
    name: 'mutual',
    uploads: 'predictions',
    configureRound: (): RoundPlan => ({ predictIndices: new Uint32Array(0), localEpochs: 1 }),
    aggregate: () => null,
    targetsFor: (_ctx, c, id) => {
      calls.push(`${c.version}:${id}`);
      return { indices: Uint32Array.of(0), probs: Float32Array.of(0.5, 0.5), contributors: 1 };
    },
  };
  return { strategy, calls };
}

function mutual(v: number, contributors: string[]): Consensus {
  const batch: BatchConsensus = {
    version: v,
    indices: Uint32Array.of(0),
    contributions: contributors.map((participantId) => ({
      participantId,
      version: v,
      staleness: 0,
      weight: 1,
    })),
    all: Float32Array.of(0.5, 0.5),
  };
  return { kind: 'mutual', version: v, batches: [batch] };
}

describe('TaskViewCache', () => {
  const ctx = (v: number) => ({ settings, version: v, publicSetSize: 4 });

  it('computes targets once per consensus and participant; non-contributors share one', () => {
    const { strategy, calls } = countingStrategy();
    const cache = new TaskViewCache(strategy, ctx);
    const c = mutual(3, ['a', 'b']);
    const a = cache.targets(c, 'a');
    assert.equal(cache.targets(c, 'a'), a);
    assert.notEqual(cache.targets(c, 'b'), a);
    const x = cache.targets(c, 'x');
    assert.equal(cache.targets(c, 'y'), x, 'everyone outside the consensus gets the same object');
    assert.deepEqual(calls, ['3:a', '3:b', '3:x']);
    cache.consensusChanged();
    cache.targets(mutual(4, ['a']), 'a');
    assert.deepEqual(calls.at(-1), '4:a');
  });

  it('hands the same view object to everyone without per-participant targets, a fresh one otherwise', () => {
    const { strategy } = countingStrategy();
    const cache = new TaskViewCache(strategy, ctx);
    const c = mutual(3, ['a']);
    const v = version(5, [], 1_000);
    const plain = cache.view(v, settings, 0, null, null);
    assert.equal(cache.view(v, settings, 0, null, null), plain);
    assert.notEqual(cache.view(v, settings, 7, null, null), plain, 'another deadline is another view');
    const shared = cache.targets(c, 'x');
    assert.equal(cache.view(v, settings, 0, shared, null), cache.view(v, settings, 0, shared, null));
    const own = cache.targets(c, 'a');
    assert.notEqual(cache.view(v, settings, 0, own, null), cache.view(v, settings, 0, own, null));
    const next = cache.view(version(6), settings, 0, null, null);
    assert.equal(next.round, 6, 'a new version replaces the shared view');
    assert.equal(plain.round, 5, 'a view handed out never changes');
  });

  it('shares global weights per fedavg consensus version', () => {
    const { strategy } = countingStrategy();
    const cache = new TaskViewCache(strategy, ctx);
    const c = { kind: 'fedavg', version: 2, params: Float32Array.of(1, 2) } as const;
    const w = cache.globalWeights(c, 'sig');
    assert.equal(cache.globalWeights(c, 'sig'), w);
    assert.deepEqual([w.round, w.signature], [2, 'sig']);
    assert.notEqual(cache.globalWeights({ ...c, version: 3 }, 'sig'), w);
  });
});
