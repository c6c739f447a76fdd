import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FederationRuntime } from './federation-runtime.ts';
import { MemoryRuntimeStore } from './memory-store.ts';
import type { RuntimeError, SessionPort, TaskView } from './runtime-types.ts';
import { resolveSettings, type SettingsInput } from './settings.ts';

const C = 3;

class FakeSession implements SessionPort {
  readonly tasks: TaskView[] = [];
  readonly closed: number[] = [];
  private waiters: ((t: TaskView) => void)[] = [];
  constructor(readonly participantId: string) {}
  sendTask(task: TaskView): void {
    this.tasks.push(task);
    for (const w of this.waiters.splice(0)) w(task);
  }
  sendRoundClosed(info: { round: number }): void {
    this.closed.push(info.round);
  }
  /** Resolves with the next task whose round is at least `round`. */
  nextTask(round: number): Promise<TaskView> {
    const have = this.tasks.find((t) => t.round >= round);
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => {
      const check = (t: TaskView) => (t.round >= round ? resolve(t) : this.waiters.push(check));
      this.waiters.push(check);
    });
  }
}

function onehotRows(n: number, cls: number): Float32Array {
  const p = new Float32Array(n * C).fill(0.05);
  for (let r = 0; r < n; r++) p[r * C + cls] = 0.9;
  return p;
}

function setup(input: SettingsInput, store = new MemoryRuntimeStore()) {
  const settings = resolveSettings({
    task: { inputShape: [4], numClasses: C, labelNames: [] },
    batchSize: 4,
    // These tests drive one participant at a time; the minimum has its own tests.
    minParticipants: 1,
    ...input,
  });
  const rt = new FederationRuntime({
    federationId: 'f1',
    settings,
    publicSetSize: 20,
    store,
    decodeStored: (s) => ({
      probs: new Float32Array(
        s.payload.buffer.slice(s.payload.byteOffset, s.payload.byteOffset + s.payload.byteLength),
      ),
    }),
  });
  return { rt, store, settings };
}

function submission(version: number, probs: Float32Array) {
  return {
    version,
    probs,
    encoding: 'float32' as const,
    payload: new Uint8Array(probs.buffer.slice(0)),
    rows: probs.length / C,
    classes: C,
    k: 0,
    bytes: probs.byteLength,
    metrics: { trainLoss: 1 },
  };
}

describe('FederationRuntime, synchronous', () => {
  it('closes a round when every online participant submitted and sends leave-one-out targets', async () => {
    const { rt, store } = setup({ mode: 'sync' });
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    rt.join(a);
    rt.join(b);
    const t1 = await a.nextTask(1);
    assert.equal(t1.round, 1);
    assert.equal(t1.targets, null, 'no consensus before round 1 closes');
    assert.equal(t1.predictIndices.length, 4);
    await rt.submit('a', submission(1, onehotRows(4, 0)));
    assert.equal(rt.currentVersion, 1, 'waits for b');
    await rt.submit('b', submission(1, onehotRows(4, 2)));
    const a2 = await a.nextTask(2);
    const b2 = await b.nextTask(2);
    // a is sent b's predictions and b is sent a's: nobody distills toward its own echo.
    assert.ok(a2.targets && b2.targets);
    assert.ok(Math.abs(a2.targets.probs[2]! - 0.9) < 1e-6);
    assert.ok(Math.abs(b2.targets.probs[0]! - 0.9) < 1e-6);
    assert.deepEqual([...a2.targets.indices], [...t1.predictIndices]);
    assert.equal(store.submissions.get('f1')!.length, 2);
    assert.deepEqual(a.closed, [1]);
    rt.close();
  });

  it('rejects late work as STALE_ROUND and duplicates idempotently', async () => {
    const { rt } = setup({ mode: 'sync', sync: { quorum: 1, deadlineMs: 0, minParticipants: 1 } });
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    rt.join(a);
    rt.join(b);
    await a.nextTask(1);
    const ack = await rt.submit('a', submission(1, onehotRows(4, 0)));
    assert.equal(ack.duplicate, false);
    await a.nextTask(2);
    await assert.rejects(
      rt.submit('b', submission(1, onehotRows(4, 1))),
      (e: RuntimeError) => e.code === 'STALE_ROUND',
    );
    await assert.rejects(
      rt.submit('b', submission(7, onehotRows(4, 1))),
      (e: RuntimeError) => e.code === 'UNKNOWN_ROUND',
    );
    const again = await rt.submit('a', submission(2, onehotRows(4, 0)));
    assert.equal(again.duplicate, false);
    rt.close();
  });

  it('closes at the deadline below quorum', async () => {
    const { rt } = setup({ mode: 'sync', sync: { quorum: 5, deadlineMs: 50, minParticipants: 1 } });
    const a = new FakeSession('a');
    rt.join(a);
    await a.nextTask(1);
    await rt.submit('a', submission(1, onehotRows(4, 0)));
    const t2 = await a.nextTask(2);
    assert.equal(t2.round, 2);
    assert.deepEqual(a.closed, [1]);
    rt.close();
  });

  it('duplicate submission for the same round is acknowledged without a second record', async () => {
    const { rt, store } = setup({ mode: 'sync', sync: { quorum: 2, deadlineMs: 0, minParticipants: 1 } });
    const a = new FakeSession('a');
    rt.join(a);
    await a.nextTask(1);
    await rt.submit('a', submission(1, onehotRows(4, 0)));
    const dup = await rt.submit('a', submission(1, onehotRows(4, 1)));
    assert.equal(dup.duplicate, true);
    assert.equal(store.submissions.get('f1')!.length, 1);
    rt.close();
  });
});

describe('FederationRuntime, asynchronous', () => {
  it('a straggler does not block: versions advance on the others, its late work is down-weighted', async () => {
    const { rt } = setup({ mode: 'async', async: { bufferK: 2, stalenessExponent: 1, maxStaleness: 3 } });
    const fast = [new FakeSession('f1'), new FakeSession('f2')];
    const slow = new FakeSession('slow');
    for (const s of [...fast, slow]) rt.join(s);
    const slowTask = await slow.nextTask(1);
    for (let v = 1; v <= 3; v++) {
      for (const s of fast) {
        const t = await s.nextTask(v);
        await rt.submit(s.participantId, submission(t.round, onehotRows(4, 1)));
      }
      await fast[0]!.nextTask(v + 1);
    }
    assert.equal(rt.currentVersion, 4, 'three versions published without the straggler');
    const ack = await rt.submit('slow', submission(slowTask.round, onehotRows(4, 2)));
    assert.equal(ack.staleness, 3);
    assert.ok(Math.abs(ack.weight - 1 / 4) < 1e-12, '(1 + tau)^-a with a = 1');
    rt.close();
  });

  it('publishes before bufferK when every participant online has contributed (and when the rest leave)', async () => {
    const { rt } = setup({ mode: 'async', async: { bufferK: 5, stalenessExponent: 0.5, maxStaleness: 8 } });
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    const c = new FakeSession('c');
    for (const s of [a, b, c]) rt.join(s);
    for (const s of [a, b]) {
      const t = await s.nextTask(1);
      await rt.submit(s.participantId, submission(t.round, onehotRows(4, 0)));
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(rt.currentVersion, 1, 'c still works on version 1: a and b wait for it');
    rt.leave('c');
    const next = await a.nextTask(2);
    assert.equal(next.round, 2, 'with c gone, nobody online can add to version 1: it is published');
    assert.ok(next.targets, 'the new task carries the consensus of a and b');
    await rt.submit('a', submission(2, onehotRows(4, 1)));
    await rt.submit('b', submission((await b.nextTask(2)).round, onehotRows(4, 1)));
    assert.equal((await b.nextTask(3)).round, 3, 'two participants left, bufferK 5: still never stuck');
    rt.close();
  });

  it('does not push newer versions at a participant still working; it gets the newest when it submits', async () => {
    const { rt } = setup({ mode: 'async', async: { bufferK: 1, stalenessExponent: 0.5, maxStaleness: 8 } });
    const fast = new FakeSession('fast');
    const busy = new FakeSession('busy');
    rt.join(fast);
    rt.join(busy);
    await busy.nextTask(1);
    for (let v = 1; v <= 3; v++) {
      const t = await fast.nextTask(v);
      await rt.submit('fast', submission(t.round, onehotRows(4, 0)));
    }
    await fast.nextTask(4);
    assert.deepEqual(
      busy.tasks.map((t) => t.round),
      [1],
      'three versions published, none sent to the busy one',
    );
    await rt.submit('busy', submission(1, onehotRows(4, 1)));
    const next = await busy.nextTask(2);
    assert.ok(next.round >= 4, `the newest version, not the next one (got ${next.round})`);
    assert.ok(next.targets, 'with the newest targets');
    // A refused upload frees the participant too: it is sent the current task again.
    const before = busy.tasks.length;
    rt.uploadRejected('busy');
    await rt.idle();
    assert.equal(busy.tasks.length, before + 1);
    assert.equal(busy.tasks.at(-1)!.round, next.round);
    rt.close();
  });

  it('rejects contributions beyond max staleness', async () => {
    const { rt } = setup({ mode: 'async', async: { bufferK: 1, stalenessExponent: 0.5, maxStaleness: 1 } });
    const fast = new FakeSession('fast');
    const slow = new FakeSession('slow');
    rt.join(fast);
    rt.join(slow);
    const slowTask = await slow.nextTask(1);
    for (let v = 1; v <= 3; v++) {
      const t = await fast.nextTask(v);
      await rt.submit('fast', submission(t.round, onehotRows(4, 0)));
    }
    await fast.nextTask(4);
    await assert.rejects(
      rt.submit('slow', submission(slowTask.round, onehotRows(4, 2))),
      (e: RuntimeError) => e.code === 'TOO_STALE',
    );
    rt.close();
  });

  it('recovers accepted contributions and the round number after a restart', async () => {
    const store = new MemoryRuntimeStore();
    const first = setup({ mode: 'sync', sync: { quorum: 3, deadlineMs: 0, minParticipants: 1 } }, store);
    const a = new FakeSession('a');
    first.rt.join(a);
    await a.nextTask(1);
    await first.rt.submit('a', submission(1, onehotRows(4, 0)));
    first.rt.close();
    const second = setup({ mode: 'sync', sync: { quorum: 2, deadlineMs: 0, minParticipants: 1 } }, store);
    await second.rt.recover();
    assert.equal(second.rt.currentVersion, 1);
    const b = new FakeSession('b');
    second.rt.join(b);
    const dup = await second.rt.submit('a', submission(1, onehotRows(4, 0)));
    assert.equal(dup.duplicate, true, 'the pre-crash submission is still there');
    await b.nextTask(1);
    await second.rt.submit('b', submission(1, onehotRows(4, 2)));
    const t2 = await b.nextTask(2);
    assert.ok(t2.targets, 'the consensus includes the pre-crash contribution');
    assert.ok(Math.abs(t2.targets.probs[0]! - 0.9) < 1e-6);
    second.rt.close();
  });
});
