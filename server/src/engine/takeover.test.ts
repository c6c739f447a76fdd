// A cluster replica that takes over a federation (the owner died) with participants of its
// own already connected: the dead owner may have stored a publish and opened the next
// version without announcing it, so every local participant waits for a version nobody
// offers. The new owner must offer it, or the federation stalls (seen in bench:cluster's
// failover probe: the lease moved, no version followed).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoredSubmission } from '../db/store.ts';
import type { ClusterPort, StateAnnouncement } from './cluster-port.ts';
import { FederationRuntime } from './federation-runtime.ts';
import { MemoryRuntimeStore } from './memory-store.ts';
import { FakeSession, uploadOf } from './runtime.testing.ts';
import { resolveSettings } from './settings.ts';

const C = 3;
const ROWS = 4;

const upload = (version: number, cls: number) => uploadOf(version, cls, ROWS, C);

function port(o: Partial<ClusterPort> & Pick<ClusterPort, 'owning'>): ClusterPort {
  return {
    uploaded: () => {},
    presence: () => {},
    announce: () => {},
    ownerOnline: () => undefined,
    ownerRoster: async () => null,
    ...o,
  };
}

it('a replica that takes over offers the version the dead owner opened but never announced', {
  timeout: 20_000,
}, async () => {
  const settings = resolveSettings({
    task: { inputShape: [4], numClasses: C, labelNames: [] },
    batchSize: ROWS,
    mode: 'async',
    aggregation: 'mean',
    minParticipants: 1,
    async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
  });
  const store = new MemoryRuntimeStore();
  const make = (cluster: ClusterPort) =>
    new FederationRuntime({
      federationId: 'f1',
      settings,
      publicSetSize: 20,
      store,
      decodeStored: (s) => ({ probs: new Float32Array(s.payload.slice().buffer) }),
      cluster,
    });
  // The bus between the two replicas; `delivering` false = the owner died before its
  // announcements left.
  let delivering = true;
  let bOwns = false;
  let owner!: FederationRuntime;
  let follower!: FederationRuntime;
  owner = make(
    port({
      owning: () => true,
      announce: (a: StateAnnouncement) => {
        if (delivering) follower.replica.announced(a);
      },
    }),
  );
  follower = make(
    port({
      owning: () => bOwns,
      uploaded: (s: StoredSubmission) => owner.replica.upload(s),
      presence: (p, on) => owner.replica.presence((view) => (view.setRemote(p, 'b', on) ? [p] : [])),
      ownerOnline: () => 2,
    }),
  );
  await owner.recover();
  await follower.recover();
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  follower.join(a);
  follower.join(b);
  assert.ok(await a.taskWithin(1, 2000), 'a is offered version 1 through the follower');
  assert.ok(await b.taskWithin(1, 2000), 'b is offered version 1 through the follower');

  // The owner publishes version 1 and opens version 2, then dies before announcing either.
  delivering = false;
  await follower.submit('a', upload(1, 0));
  await follower.submit('b', upload(1, 1));
  await owner.idle();
  owner.close();
  assert.equal(owner.currentVersion, 2, 'the owner stored version 2');
  assert.equal(follower.currentVersion, 1, 'the follower never heard of it');

  // The follower takes the lease.
  bOwns = true;
  await follower.replica.takeOwnership();
  assert.equal(follower.currentVersion, 2);
  assert.ok(await a.taskWithin(2, 2000), 'a is offered version 2 by the new owner');
  assert.ok(await b.taskWithin(2, 2000), 'b is offered version 2 by the new owner');
  // And versions keep flowing.
  await follower.submit('a', upload(2, 0));
  await follower.submit('b', upload(2, 1));
  assert.ok(await a.taskWithin(3, 2000), 'version 3 follows');
  follower.close();
});
