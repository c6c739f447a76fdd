// Recovery edge cases of the federation runtime, on the in-memory store: what a
// restarted coordinator rebuilds when the previous process died at an awkward moment.
// (The end-to-end crash with a real process and database is server/test/crash-recovery.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FederationRuntime } from './federation-runtime.ts';
import { MemoryRuntimeStore, type RecoveredState } from './memory-store.ts';
import { FakeSession, uploadOf } from './runtime.testing.ts';
import { resolveSettings, type SettingsInput } from './settings.ts';

const C = 3;
const ROWS = 4;

/** A store that dies (throws, like a killed process) at a chosen write. */
class CrashingStore extends MemoryRuntimeStore {
  crashAt: 'closeRound' | 'openRound' | 'saveConsensus' | null = null;
  loadedSubmissions = 0;
  /** While set, submission writes wait for it (an upload "still being written"). */
  writeGate: Promise<void> | null = null;
  override async saveSubmission(...args: Parameters<MemoryRuntimeStore['saveSubmission']>) {
    if (this.writeGate) await this.writeGate;
    return super.saveSubmission(...args);
  }
  override async saveConsensus(...args: Parameters<MemoryRuntimeStore['saveConsensus']>): Promise<void> {
    if (this.crashAt === 'saveConsensus') throw new Error('killed');
    return super.saveConsensus(...args);
  }
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
    // The rules under test are the round policies'; the minimum has its own tests.
    minParticipants: 1,
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

const upload = (version: number, cls: number) => uploadOf(version, cls, ROWS, C);

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

  it('async: a contribution stored with an older view than the last consensus (a cluster follower) still counts after a takeover', async () => {
    const settings: SettingsInput = {
      mode: 'async',
      async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
    };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    for (const id of ['a', 'b']) rt.join(new FakeSession(id));
    await rt.submit('a', upload(1, 0));
    await rt.submit('b', upload(1, 1)); // K = 2: consensus 1 (a, b), version 2
    await rt.idle();
    rt.close(); // the owner dies
    // Meanwhile a follower, not yet told of consensus 1, stored c's upload to version 1 as
    // fresh (staleness 0): by its staleness alone it would lie inside consensus 1.
    const stored = store.submissions.get('f1')!;
    assert.deepEqual(
      stored.map((x) => [x.participantId, x.consensusVersion]),
      [
        ['a', 1],
        ['b', 1],
      ],
      'consensus 1 marked what it aggregated',
    );
    await store.saveSubmission('f1', {
      ...stored[0]!,
      participantId: 'c',
      staleness: 0,
      consensusVersion: null,
    });

    const after = await restarted(settings, store, ['a', 'b', 'c']);
    assert.equal(after.rt.currentVersion, 2);
    await after.rt.submit('a', upload(2, 0)); // with c's: K reached
    await after.rt.idle();
    assert.equal(after.rt.currentVersion, 3, "consensus 2 published: c's upload counted towards the buffer");
    const saved = store.consensus.get('f1')!.find((c) => c.version === 2)!;
    assert.deepEqual(
      saved.sourceVersions.sort(),
      [1, 2],
      "consensus 2 aggregates version 1 again, with c's upload",
    );
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

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: a round complete but not yet aggregated when the process died is closed after the restart`, {
      timeout: 10_000,
    }, async () => {
      // quorum 0 / K = 2: a's and b's uploads complete version 1, then the store dies before the consensus.
      const settings: SettingsInput =
        mode === 'sync'
          ? { mode, sync: { quorum: 0, deadlineMs: 0, minParticipants: 2 } }
          : { mode, async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 } };
      const store = new CrashingStore();
      const rt = runtime(settings, store);
      await rt.recover();
      const [a, b] = [new FakeSession('a'), new FakeSession('b')];
      rt.join(a);
      rt.join(b);
      await a.task(1);
      await b.task(1);
      store.crashAt = 'saveConsensus';
      await rt.submit('a', upload(1, 0));
      await rt.submit('b', upload(1, 1));
      await rt.idle();
      rt.close();
      assert.equal(store.consensus.get('f1'), undefined, 'died before the consensus was saved');
      store.crashAt = null;

      // Both come back; both already contributed: they must be offered version 2 all the same.
      const after = await restarted(settings, store, ['a', 'b']);
      const [ta, tb] = await Promise.all([after.sessions[0]!.task(2), after.sessions[1]!.task(2)]);
      assert.deepEqual([ta.round, tb.round], [2, 2]);
      assert.equal(ta.targets?.version, 1, 'with the consensus of the recovered uploads');
      assert.equal(ta.targets?.contributors, 1, "a's leave-one-out targets are b's predictions");
      assert.equal(store.consensus.get('f1')?.at(-1)?.version, 1);
      after.rt.close();
    });
  }

  it('async: a TaskRequest right after re-sending an upload does not make the participant miss the next version', {
    timeout: 10_000,
  }, async () => {
    // K = number of participants: if b is skipped by the publish, nobody ever completes version 2.
    const settings: SettingsInput = {
      mode: 'async',
      async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
    };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    const [a0, b0] = [new FakeSession('a'), new FakeSession('b')];
    rt.join(a0);
    rt.join(b0);
    await a0.task(1);
    await b0.task(1);
    rt.close(); // died while both trained on version 1

    const { rt: rt2, sessions } = await restarted(settings, store, ['a', 'b']);
    const [a, b] = sessions as [FakeSession, FakeSession];
    await b.task(1); // re-offered on resume
    let release!: () => void;
    store.writeGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // b re-sends the upload it made while the coordinator was down, and asks for work at once.
    const bAck = rt2.submit('b', upload(1, 1));
    rt2.requestTask('b');
    const aAck = rt2.submit('a', upload(1, 0));
    // One event-loop turn: the queued checks and the re-offer run (they are microtasks),
    // while both writes wait at the gate.
    await new Promise((resolve) => setImmediate(resolve));
    store.writeGate = null;
    release();
    await Promise.all([bAck, aAck]);
    const t = await b.task(2);
    assert.equal(t.round, 2, 'b is offered version 2');
    assert.equal(b.count(1), 1, 'version 1 was not offered again while its upload was being written');
    await a.task(2);
    rt2.close();
  });

  it('sync: participants of the open round get a grace period to come back before it closes without them', {
    timeout: 10_000,
  }, async () => {
    const settings: SettingsInput = {
      mode: 'sync',
      sync: { quorum: 0, deadlineMs: 0, minParticipants: 3 },
      recoveryGraceMs: 60_000,
    };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    const before = ['a', 'b', 'c'].map((id) => new FakeSession(id));
    for (const s of before) rt.join(s);
    await before[0]!.task(1);
    for (const [i, id] of ['a', 'b', 'c'].entries()) await rt.submit(id, upload(1, i));
    await before[0]!.task(2);
    await rt.submit('a', upload(2, 0));
    await rt.idle();
    rt.close(); // round 2: a is in, b and c still training

    // b comes back first (a too); c is slower.
    const { rt: rt2, sessions } = await restarted(settings, store, ['a', 'b']);
    await sessions[1]!.task(2);
    await rt2.submit('b', upload(2, 1));
    await rt2.idle();
    assert.equal(rt2.currentVersion, 2, 'round 2 waits for c, which was in round 1');
    const c = new FakeSession('c');
    rt2.join(c);
    await c.task(2);
    const ack = await rt2.submit('c', upload(2, 2));
    assert.equal(ack.duplicate, false, 'the late one is accepted, not STALE_ROUND');
    await rt2.idle();
    assert.equal(rt2.currentVersion, 3);
    assert.equal(store.rounds.get('f1')!.length, 3);
    await c.task(3);
    rt2.close();
  });

  it('sync: in round 1, a participant sent the task (seen since the round opened) is waited for too', {
    timeout: 10_000,
  }, async () => {
    const settings: SettingsInput = {
      mode: 'sync',
      sync: { quorum: 0, deadlineMs: 0, minParticipants: 2 },
      recoveryGraceMs: 60_000,
    };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    const [a0, b0] = [new FakeSession('a'), new FakeSession('b')];
    rt.join(a0);
    rt.join(b0);
    await b0.task(1);
    // What the coordinator's batched traffic flush records: b was sent round 1's task.
    store.lastSeen.set('f1', new Map([['b', store.rounds.get('f1')![0]!.openedAt]]));
    await rt.submit('a', upload(1, 0));
    await rt.idle();
    rt.close(); // b still training

    const { rt: rt2 } = await restarted(settings, store, ['a']);
    await rt2.idle();
    assert.equal(rt2.currentVersion, 1, 'a, back alone and done, does not close round 1');
    const b = new FakeSession('b');
    rt2.join(b);
    await b.task(1);
    assert.equal((await rt2.submit('b', upload(1, 1))).duplicate, false);
    await b.task(2);
    rt2.close();
  });

  it('sync: when the grace expires the round closes without the participants still away', {
    timeout: 10_000,
  }, async () => {
    const settings: SettingsInput = {
      mode: 'sync',
      sync: { quorum: 0, deadlineMs: 0, minParticipants: 2 },
      recoveryGraceMs: 150,
    };
    const store = new CrashingStore();
    const rt = runtime(settings, store);
    await rt.recover();
    const [a0, b0] = [new FakeSession('a'), new FakeSession('b')];
    rt.join(a0);
    rt.join(b0);
    await a0.task(1);
    await rt.submit('a', upload(1, 0));
    await rt.submit('b', upload(1, 1));
    await a0.task(2);
    await rt.submit('a', upload(2, 0));
    await rt.idle();
    rt.close();

    const { rt: rt2, sessions } = await restarted(settings, store, ['a']); // b never comes back
    const started = Date.now();
    const t = await sessions[0]!.task(3);
    assert.ok(Date.now() - started >= 100, 'not before the grace expired');
    assert.equal(t.round, 3);
    assert.equal(store.rounds.get('f1')!.find((r) => r.version === 2)?.status, 'closed');
    rt2.close();
  });

  it('sync: a deadline that fell due while the coordinator was down waits for the grace', {
    timeout: 10_000,
  }, async () => {
    let now = 1_000_000;
    const settings = resolveSettings({
      task: { inputShape: [4], numClasses: C, labelNames: [] },
      batchSize: ROWS,
      mode: 'sync',
      sync: { quorum: 0, deadlineMs: 1_000, minParticipants: 2 },
      recoveryGraceMs: 60_000,
    });
    const store = new CrashingStore();
    const make = () =>
      new FederationRuntime({
        federationId: 'f1',
        settings,
        publicSetSize: 20,
        store,
        now: () => now,
        decodeStored: (s) => ({ probs: new Float32Array(s.payload.slice().buffer) }),
      });
    const rt = make();
    await rt.recover();
    const [a0, b0] = [new FakeSession('a'), new FakeSession('b')];
    rt.join(a0);
    rt.join(b0);
    await a0.task(1);
    await rt.submit('a', upload(1, 0));
    await rt.submit('b', upload(1, 1));
    await a0.task(2);
    await rt.submit('a', upload(2, 0));
    await rt.idle();
    rt.close();

    now += 10_000; // down for ten deadlines
    const rt2 = make();
    await rt2.recover();
    const a = new FakeSession('a');
    rt2.join(a);
    await rt2.idle();
    // The overdue deadline timer (0 ms, armed by recover()) fires before a later 0 ms timer.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await rt2.idle();
    assert.equal(rt2.currentVersion, 2, 'b, in round 1, is given the grace');
    const b = new FakeSession('b');
    rt2.join(b); // everyone back: the overdue deadline closes the round
    await b.task(3);
    assert.equal(store.rounds.get('f1')!.find((r) => r.version === 2)?.status, 'closed');
    rt2.close();
  });

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
