// A cluster follower derives the same leave-one-out targets as the owner from the announced
// consensus and its own participants' uploads only, under 'mean' and the default 'agreement'
// (whose announced weights carry the owner's trust factors), so it need not re-read every
// contributor's stored upload (replica-mirror.ts complete()).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MutualStrategy, targetsFromMean } from './mutual-strategy.ts';
import { consensusFromWire, consensusToWire } from './replica-consensus.ts';
import { type MirrorHost, ReplicaMirror } from './replica-mirror.ts';
import { resolveSettings } from './settings.ts';
import type { Contribution, RoundContext } from './strategy.ts';

const C = 4;
const N = 6;

function rows(label: number, confidence: number): Float32Array {
  const p = new Float32Array(N * C).fill((1 - confidence) / (C - 1));
  for (let r = 0; r < N; r++) p[r * C + ((label + r) % C)] = confidence;
  return p;
}

for (const aggregation of ['mean', 'agreement'] as const) {
  describe(`follower targets under '${aggregation}'`, () => {
    it('equal the owner’s, from the announced consensus and the participant’s own upload', () => {
      const ctx: RoundContext = {
        settings: resolveSettings({
          task: { inputShape: [2], numClasses: C, labelNames: [] },
          batchSize: N,
          aggregation,
        }),
        version: 1,
        publicSetSize: 20,
      };
      const indices = Uint32Array.from([3, 8, 1, 12, 5, 19]);
      const contributions: Contribution[] = [
        { participantId: 'a', version: 1, staleness: 0, weight: 1, probs: rows(0, 0.7) },
        { participantId: 'b', version: 1, staleness: 0, weight: 2, probs: rows(0, 0.6) },
        { participantId: 'c', version: 1, staleness: 0, weight: 1, probs: rows(0, 0.8) },
        // An outlier: confident on other classes; 'agreement' trusts it less.
        { participantId: 'x', version: 1, staleness: 0, weight: 1, probs: rows(2, 0.95) },
      ];
      const owner = new MutualStrategy();
      const consensus = owner.aggregate(ctx, new Map([[1, { indices, contributions }]]), null)!;
      const wire = consensusToWire(consensus, '');
      // The follower holds only participant a's upload.
      const mirrored = consensusFromWire(wire, {
        indices: () => indices,
        held: (id) => (id === 'a' ? contributions[0] : undefined),
      });
      const follower = new MutualStrategy();
      const mine = follower.targetsFor(ctx, mirrored, 'a')!;
      const theirs = owner.targetsFor(ctx, consensus, 'a')!;
      assert.deepEqual([...mine.indices], [...theirs.indices]);
      for (let i = 0; i < theirs.probs.length; i++)
        assert.ok(Math.abs(mine.probs[i]! - theirs.probs[i]!) < 1e-6, `value ${i}`);
      assert.equal(targetsFromMean(aggregation), true);
      if (aggregation === 'agreement') {
        const x = consensus.kind === 'mutual' ? consensus.batches[0]!.contributions[3]!.weight : 1;
        assert.ok(x < 1, `the outlier's announced weight carries its trust (${x})`);
      }
    });
  });
}

it('the other robust rules still need every upload', () => {
  for (const a of ['median', 'trimmed-mean', 'era', 'entropy'] as const)
    assert.equal(targetsFromMean(a), false);
});

it("a follower under 'agreement' reads no stored upload when it holds its own participants'", async () => {
  const settings = resolveSettings({
    task: { inputShape: [2], numClasses: C, labelNames: [] },
    batchSize: N,
    aggregation: 'agreement',
  });
  const indices = Uint32Array.from([3, 8, 1, 12, 5, 19]);
  const own: Contribution = { participantId: 'a', version: 1, staleness: 0, weight: 1, probs: rows(0, 0.7) };
  let consensus = consensusFromWire(
    {
      kind: 'mutual',
      version: 1,
      batches: [
        {
          version: 1,
          all: rows(0, 0.7),
          contributors: ['a', 'b', 'c'].map((participantId) => ({
            participantId,
            version: 1,
            staleness: 0,
            weight: 1,
          })),
        },
      ],
    },
    { indices: () => indices, held: (id) => (id === 'a' ? own : undefined) },
  );
  let reads = 0;
  const mirror = new ReplicaMirror({
    federationId: 'f',
    settings,
    store: {
      loadState: async () => {
        reads++;
        return { submissions: [] };
      },
    } as unknown as MirrorHost['store'],
    versions: {} as MirrorHost['versions'],
    roster: {} as MirrorHost['roster'],
    decode: () => ({}),
    consensus: () => consensus,
    setConsensus: (c) => {
      consensus = c;
    },
    indices: () => indices,
    prune: () => undefined,
    recover: async () => undefined,
    closesOnPublish: true,
  });
  await mirror.complete((id) => id === 'a');
  assert.equal(reads, 0, 'the targets need only a’s upload, which it holds');
  // A participant it lacks (moved here from a dead replica) is still read.
  await mirror.complete((id) => id === 'b');
  assert.equal(reads, 1);
});
