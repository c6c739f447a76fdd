// minParticipants (default 2) over real sockets: no round (sync) or consensus version
// (async) opens while fewer participants are connected; one that leaves the federation
// below the minimum stops new rounds after the current one closes; the next to join
// starts them again. The admin API says "waiting for participants", and the lifecycle
// events (logged, streamed to the dashboard) tell when. Waits on events, never on time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LifecycleEvent } from '../src/coordinator/lifecycle-events.ts';
import {
  createFederation,
  type FederationFixture,
  getJson,
  issueToken,
  startServer,
  type TestServer,
} from './helper.ts';
import { TestClient } from './test-client.ts';

interface FederationState {
  minParticipants: number;
  waitingForParticipants: boolean;
  participantsOnline: number;
  settings: { minParticipants: number };
}

describe('minimum participants before rounds run', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(null);
  });
  after(() => s?.close());

  /** Resolves at the first lifecycle event of `fed` that `pred` accepts (from now on). */
  function event(fed: FederationFixture, pred: (e: LifecycleEvent) => boolean): Promise<LifecycleEvent> {
    return new Promise((resolve) => {
      const off = s.app.coordinator.events.on((e) => {
        if (e.federationId !== fed.id || !pred(e)) return;
        off();
        resolve(e);
      });
    });
  }
  const waiting = (fed: FederationFixture, online: number) =>
    event(fed, (e) => e.type === 'waiting-for-participants' && e.online === online);

  async function join(t: { after(fn: () => void): void }, fed: FederationFixture, name: string) {
    const { token } = await issueToken(s.app, fed.id);
    const c = await TestClient.join(s.wsUrl, { joinToken: token, name });
    t.after(() => c.close());
    return c;
  }
  const state = (fed: FederationFixture) => getJson<FederationState>(s.app, `/v1/federations/${fed.id}`);
  const rounds = (fed: FederationFixture) =>
    getJson<{ number: number; status: string }[]>(s.app, `/v1/federations/${fed.id}/rounds`);
  const hasTask = (c: TestClient) => c.received.some((r) => r.body === 'task');

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: waits for the second participant, and again when one leaves`, async (t) => {
      // The helper sets minParticipants 1 for the other suites; undefined = the default.
      const fed = await createFederation(s.app, { mode, minParticipants: undefined, async: { bufferK: 2 } });
      const fresh = await state(fed);
      assert.equal(fresh.settings.minParticipants, 2, 'the default is 2');
      assert.deepEqual([fresh.minParticipants, fresh.waitingForParticipants], [2, true]);

      const alone = waiting(fed, 1);
      const a = await join(t, fed, 'a');
      await alone;
      assert.equal(hasTask(a), false, 'no task for a participant alone');
      assert.deepEqual(await rounds(fed), [], 'no round opened');
      const one = await state(fed);
      assert.deepEqual([one.participantsOnline, one.waitingForParticipants], [1, true]);

      const b = await join(t, fed, 'b');
      const [ta, tb] = await Promise.all([a.validTask(1), b.validTask(1)]);
      assert.deepEqual([ta.round, tb.round], [1, 1], 'the second participant opens the first round');
      assert.equal((await state(fed)).waitingForParticipants, false);
      assert.equal((await a.reply(a.upload(1, 16, { label: 0 }))).body, 'ack');
      assert.equal((await b.reply(b.upload(1, 16, { label: 1 }))).body, 'ack');
      const [t2] = await Promise.all([a.validTask(2), b.validTask(2)]);
      assert.equal(t2.round, 2);

      // b leaves: a finishes round 2 (it is every participant online), but round 3 waits.
      const left = event(fed, (e) => e.type === 'participant-left');
      b.close();
      await left;
      const held = waiting(fed, 1);
      const closed2 = event(fed, (e) => e.type === 'round-closed' && e.round === 2);
      assert.equal((await a.reply(a.upload(2, 16, { label: 0 }))).body, 'ack');
      await closed2;
      await held;
      assert.equal(
        a.received.some((r) => r.body === 'task' && Number(r.envelope.task!.round) > 2),
        false,
        'no round 3 for a participant left alone',
      );
      assert.equal(
        (await rounds(fed)).some((r) => r.number === 3),
        false,
      );
      assert.equal((await state(fed)).waitingForParticipants, true);

      const c = await join(t, fed, 'c');
      const [a3, c3] = await Promise.all([a.validTask(3), c.validTask(3)]);
      assert.deepEqual([a3.round, c3.round], [3, 3], 'a second participant again: round 3 opens');
    });
  }

  it('minParticipants is validated: a positive integer, at most participantLimit', async () => {
    for (const settings of [{ minParticipants: 0 }, { minParticipants: 5, participantLimit: 4 }]) {
      await assert.rejects(createFederation(s.app, settings), /400/);
    }
  });
});
