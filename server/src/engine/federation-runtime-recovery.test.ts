// Recovery edge cases of the federation runtime, on the in-memory store: what a
// restarted coordinator rebuilds when the previous process died at an awkward moment.
// (The end-to-end crash with a real process and database is server/test/crash-recovery.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FederationRuntime, type SessionPort, type TaskView } from './federation-runtime.ts';
import { MemoryRuntimeStore, type RecoveredState } from './runtime-store.ts';
import { resolveSettings, type SettingsInput } from './settings.ts';

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
  /** The first task received whose round is at least `round`. */
  async task(round: number): Promise<TaskView> {
    for (;;) {
      const t = this.tasks.find((x) => x.round >= round);
      if (t) return t;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** A store that dies (throws, like a killed process) at a chosen write. */
class CrashingStore extends MemoryRuntimeStore {
  crashAt: 'closeRound' | 'openRound' | null = null;
  loadedSubmissions = 0;
  override async closeRound(fid: string, version: number): Promise<void> {
    if (this.crashAt === 'closeRound') throw new Error('killed');
    return super.closeRound(fid, version);
  }
  override async openRound(...args: Parameters<MemoryRuntimeStore['openRound']>): Promise<void> {
    if (this.crashAt === 'openRound') throw new Error('killed');
    return super.openRound(...args);
  }
  override async loadState(fid: string, from: number): Promise<RecoveredState> {
    const s = await super.loadState(fid, from);
    this.loadedSubmissions += s.submissions.length;
    return s;
  }
}

function runtime(input: SettingsInput, store: MemoryRuntimeStore) {
  const settings = resolveSettings({
    task: { inputShape: [4], numClasses: C, labelNames: [] },
    batchSize: ROWS,
    ...input,
  });
  return new FederationRuntime({
    federationId: 'f1',
    settings,
    publicSetSize: 20,
    store,
    decodeStored: (s) => ({ probs: new Float32Array(s.payload.slice().buffer) }),
  });
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

async function restarted(input: SettingsInput, store: MemoryRuntimeStore, ids: string[]) {
  const rt = runtime(input, store);
  await rt.recover();
  const sessions = ids.map((id) => new FakeSession(id));
  for (const s of sessions) rt.join(s);
  return { rt, sessions };
}

describe('FederationRuntime recovery', () => {
  it('async: a late contribution acknowledged before the crash still counts towards the buffer', async () => {
    const settings: SettingsInput = {
      mode: 'async',
      async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
    };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new FakeSession(id)) as [
      FakeSession,
      FakeSession,
      FakeSession,
    ];
    for (const s of [a, b, c]) rt.join(s);
    await a.task(1);
    await rt.submit('a', upload(1, 0));
    await rt.submit('b', upload(1, 1)); // K = 2: consensus 1, version 2
    await a.task(2);
    assert.equal((await rt.submit('c', upload(1, 2))).staleness, 1, 'c is one version late');
    await rt.idle();
    rt.close(); // the process dies here: c's contribution is acknowledged, not yet published

    const after = await restarted(settings, store, ['a', 'b', 'c']);
    assert.equal(after.rt.currentVersion, 2);
    await after.rt.submit('a', upload(2, 0)); // with c's late one: K reached
    await after.rt.idle();
    assert.equal(after.rt.currentVersion, 3, 'consensus 2 published after one more contribution');
    assert.equal(after.rt.consensusVersion, 2);
    const t = await after.sessions[0]!.task(3); // a: b still works on version 2
    assert.equal(t.targets?.version, 2);
    const saved = store.consensus.get('f1')!.find((c) => c.version === 2)!;
    assert.deepEqual(saved.sourceVersions.sort(), [1, 2], 'consensus 2 covers versions 2 and 1 (c late)');
    assert.equal(t.targets?.indices.length, ROWS, 'targets: the batch with the most others, batchSize rows');
    after.rt.close();
  });

  for (const mode of ['sync', 'async'] as const) {
    for (const crashAt of ['closeRound', 'openRound'] as const) {
      it(`${mode}: a crash inside publish, after the consensus was saved (at ${crashAt}), is finished on recovery`, async () => {
        const settings: SettingsInput =
          mode === 'sync'
            ? { mode, sync: { quorum: 2, deadlineMs: 0, minParticipants: 1 } }
            : { mode, async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 } };
        const store = new CrashingStore();
        const rt = runtime(settings, store);
        await rt.recover();
        const [a, b] = [new FakeSession('a'), new FakeSession('b')];
        rt.join(a);
        rt.join(b);
        await a.task(1);
        await b.task(1);
        store.crashAt = crashAt;
        await rt.submit('a', upload(1, 0));
        await rt.submit('b', upload(1, 1)); // publish: consensus 1 saved, then the store "dies"
        await rt.idle();
        rt.close();
        assert.equal(store.consensus.get('f1')?.at(-1)?.version, 1);
        assert.equal(store.rounds.get('f1')!.length, 1, 'version 2 was never opened');
        store.crashAt = null;

        // Both already contributed to version 1: without finishing the publish nobody would get a task.
        const after = await restarted(settings, store, ['a', 'b']);
        const t = await after.sessions[0]!.task(2);
        assert.equal(t.round, 2);
        assert.equal(t.targets?.version, 1, 'the recovered consensus is served at once');
        assert.deepEqual(
          store.rounds.get('f1')!.map((r) => [r.version, r.status]),
          [
            [1, 'closed'],
            [2, 'open'],
          ],
        );
        await after.rt.submit('a', upload(2, 0));
        await after.rt.submit('b', upload(2, 1));
        await after.rt.idle();
        assert.equal(after.rt.currentVersion, 3, 'and the federation carries on');
        after.rt.close();
      });
    }
  }

  it('loads only the versions it needs, not the whole history', async () => {
    const settings: SettingsInput = { mode: 'sync', sync: { quorum: 2, deadlineMs: 0, minParticipants: 1 } };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    const [a, b] = [new FakeSession('a'), new FakeSession('b')];
    rt.join(a);
    rt.join(b);
    for (let v = 1; v <= 10; v++) {
      await a.task(v);
      await rt.submit('a', upload(v, 0));
      await rt.submit('b', upload(v, 1));
      await rt.idle();
    }
    rt.close();
    store.loadedSubmissions = 0;
    const after = runtime(settings, store);
    await after.recover();
    assert.equal(after.currentVersion, 11);
    // Version 10's two submissions (behind consensus 10) are read, once for the probe and once for the state.
    assert.ok(store.loadedSubmissions <= 4, `read ${store.loadedSubmissions} submissions`);
    after.close();
  });
});
