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
import type { SessionPort, TaskView } from './runtime-types.ts';
import { resolveSettings } from './settings.ts';

const C = 3;
const ROWS = 4;

class FakeSession implements SessionPort {
  readonly tasks: TaskView[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly participantId: string) {}
  sendTask(task: TaskView): void {
    this.tasks.push(task);
    for (const w of this.waiters.splice(0)) w();
  }
  sendRoundClosed(): void {}
  /** The first task for `round` or later, or null after `ms`. */
  async task(round: number, ms = 2000): Promise<TaskView | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const t = this.tasks.find((x) => x.round >= round);
      if (t) return t;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }
}

function upload(version: number, cls: number) {
  const probs = new Float32Array(ROWS * C).fill(0.05);
  for (let r = 0; r < ROWS; r++) probs[r * C + cls] = 0.9;
  return {
    version,
    probs,
    encoding: 'float32' as const,
    payload: new Uint8Array(probs.buffer.slice(0)),
    rows: ROWS,
    classes: C,
    k: 0,
    bytes: probs.byteLength,
    metrics: {},
  };
}

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
  assert.ok(await a.task(1), 'a is offered version 1 through the follower');
  assert.ok(await b.task(1), 'b is offered version 1 through the follower');

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
  assert.ok(await a.task(2), 'a is offered version 2 by the new owner');
  assert.ok(await b.task(2), 'b is offered version 2 by the new owner');
  // And versions keep flowing.
  await follower.submit('a', upload(2, 0));
  await follower.submit('b', upload(2, 1));
  assert.ok(await a.task(3), 'version 3 follows');
  follower.close();
});
