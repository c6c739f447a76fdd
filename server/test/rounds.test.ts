// Round behaviour over real sockets: sync quorum and deadline, async buffering with a
// straggler (measured in consensus versions, never in time), staleness weights and the
// maximum, leave-one-out targets, consensus sent only when it changed, and encoding
// negotiation. Every task is checked the way a real client checks it (validateTask).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { mutua } from '@mutua/proto';
import {
  createFederation,
  describeEachDatabase,
  type FederationFixture,
  getJson,
  issueToken,
  startServer,
  type TestServer,
} from './helper.ts';
import { TestClient } from './test-client.ts';

const E = mutua.v1.ErrorCode;
const C = 10;
/** Off-label mass of test-client predictions(): 0.1 spread over the 9 other classes. */
const LOW = 0.1 / (C - 1);
/** uint8 targets are exact to 1/255 per value, then renormalised. */
const UINT8_TOL = 0.01;

interface RoundView {
  number: number;
  status: string;
  closeReason: string | null;
  submissions: number;
}

describeEachDatabase('rounds', (database) => {
  let s: TestServer;
  before(async () => {
    s = await startServer(null, { database });
  });
  after(() => s?.close());

  /** n participants of a federation, each with its own token, closed after the test. */
  async function participants(
    t: { after(fn: () => void): void },
    fed: FederationFixture,
    names: string[],
    hello: Record<string, unknown> = {},
  ): Promise<TestClient[]> {
    const out: TestClient[] = [];
    t.after(() => {
      for (const c of out) c.close();
    });
    for (const name of names) {
      const { token } = await issueToken(s.app, fed.id);
      out.push(await TestClient.join(s.wsUrl, { joinToken: token, name, ...hello }));
    }
    return out;
  }

  const rounds = (fed: FederationFixture) => getJson<RoundView[]>(s.app, `/v1/federations/${fed.id}/rounds`);

  it('sync: a round closes at quorum (2 of 3); the third is late', async (t) => {
    const fed = await createFederation(s.app, { mode: 'sync', sync: { quorum: 2 } });
    const [a, b, c] = await participants(t, fed, ['a', 'b', 'c']);
    const tasks = await Promise.all([a!, b!, c!].map((x) => x.validTask(1)));
    assert.deepEqual(
      tasks.map((x) => x.round),
      [1, 1, 1],
    );
    assert.equal((await a!.reply(a!.upload(1, 16, { label: 0 }))).body, 'ack');
    assert.equal((await b!.reply(b!.upload(1, 16, { label: 1 }))).body, 'ack');
    for (const x of [a!, b!, c!]) {
      const closed = (await x.nextBody('roundClosed')).envelope.roundClosed!;
      assert.deepEqual([Number(closed.round), closed.submissions, closed.reason], [1, 2, 'quorum']);
      assert.equal((await x.validTask(2)).round, 2);
    }
    const stale = await c!.error(E.STALE_ROUND, c!.upload(1, 16));
    assert.equal(stale.fatal, false);
    const [r1, r2] = await rounds(fed);
    assert.deepEqual([r1!.number, r1!.status, r1!.closeReason, r1!.submissions], [1, 'closed', 'quorum', 2]);
    assert.deepEqual([r2!.number, r2!.status], [2, 'open']);
  });

  it('sync, quorum "all online": a participant that leaves no longer holds the round open', async (t) => {
    const fed = await createFederation(s.app, { mode: 'sync' });
    const [a, b] = await participants(t, fed, ['a', 'b']);
    await b!.validTask(1);
    const round = await a!.validTask(1);
    assert.equal((await a!.reply(a!.upload(round.round, 16))).body, 'ack');
    b!.close();
    const closed = (await a!.nextBody('roundClosed')).envelope.roundClosed!;
    assert.deepEqual([closed.submissions, closed.reason], [1, 'quorum']);
    assert.equal((await a!.validTask(2)).round, 2);
  });

  it('sync: the deadline closes a round below quorum', async (t) => {
    const deadlineMs = 400;
    const fed = await createFederation(s.app, { mode: 'sync', sync: { quorum: 3, deadlineMs } });
    const before = Date.now();
    const [a, b] = await participants(t, fed, ['a', 'b']);
    const task = (await a!.task(1)).envelope.task!;
    await b!.validTask(1);
    const deadline = Number(task.deadlineUnixMs);
    assert.ok(deadline >= before + deadlineMs && deadline <= Date.now() + deadlineMs, 'the task says when');
    assert.equal((await a!.reply(a!.upload(1, 16))).body, 'ack');
    const closed = (await b!.nextBody('roundClosed', 5000)).envelope.roundClosed!;
    assert.deepEqual([Number(closed.round), closed.submissions, closed.reason], [1, 1, 'deadline']);
    assert.ok(Date.now() >= deadline - 50, 'not before the deadline');
    const next = await b!.validTask(2);
    assert.ok(next.targets, "b gets a's predictions although it did not submit");
    const [r1] = await rounds(fed);
    assert.deepEqual([r1!.closeReason, r1!.submissions], ['deadline', 1]);
  });

  it('async: a 10x slower participant never delays the others; its late work is weighted (1+tau)^-a, beyond maxStaleness it is TOO_STALE', async (t) => {
    const a = 0.5;
    const maxStaleness = 10;
    const fed = await createFederation(s.app, {
      mode: 'async',
      async: { bufferK: 2, stalenessExponent: a, maxStaleness },
    });
    const [f1, f2, slow, slower] = await participants(t, fed, ['f1', 'f2', 'slow', 'slower']);
    const slowTask = await slow!.validTask(1);
    const slowerTask = await slower!.validTask(1);
    assert.equal(slowTask.round, 1);

    // The fast pair runs ten versions while the slow ones hold their version-1 tasks.
    let v = 1;
    while (v <= maxStaleness) {
      const [r1, r2] = await Promise.all([f1!.completeRound(v, 1), f2!.completeRound(v, 2)]);
      assert.equal(r1, r2);
      v = r1 + 1;
    }
    const fed11 = await getJson<{ currentRound: number; consensusVersion: number }>(
      s.app,
      `/v1/federations/${fed.id}`,
    );
    assert.equal(fed11.currentRound, 11, 'ten versions published without the slow participants');
    assert.equal(fed11.consensusVersion, 10);

    // tau = 10: accepted, weighted (1 + 10)^-0.5.
    const ack = await slow!.reply(slow!.upload(1, 16, { label: 3 }));
    assert.equal(ack.body, 'ack');
    assert.equal(ack.envelope.ack!.staleness, 10);
    assert.ok(Math.abs(ack.envelope.ack!.weight! - 11 ** -a) < 1e-9, `weight ${ack.envelope.ack!.weight}`);

    // Its contribution enters the next consensus with that weight: f2's leave-one-out
    // targets on version 1's samples mix f1 (weight 1, class 1) and slow (class 3).
    const v11 = await f1!.validTask(11);
    assert.equal(v11.round, 11);
    await f1!.reply(f1!.upload(11, 16, { label: 1 })); // the second of bufferK = 2: version 12 opens
    // f2 still works on version 11: it is not pushed version 12 until it answers 11.
    assert.equal((await f2!.validTask(11)).round, 11);
    await f2!.reply(f2!.upload(11, 16, { label: 2 }));
    let withTargets = await f2!.validTask(12);
    assert.ok(withTargets.targets, 'the new consensus is sent');
    const targets = withTargets.targets;
    const fresh = new Set(v11.predictIndices);
    const w = 11 ** -a;
    let checked = 0;
    targets.indices.forEach((index, row) => {
      if (fresh.has(index) || !slowTask.predictIndices.includes(index)) return;
      const p = targets.probs.subarray(row * C, row * C + C);
      assert.ok(Math.abs(p[3]! - (LOW + w * 0.9) / (1 + w)) < UINT8_TOL, `class 3: ${p[3]}`);
      assert.ok(Math.abs(p[1]! - (0.9 + w * LOW) / (1 + w)) < UINT8_TOL, `class 1: ${p[1]}`);
      checked++;
    });
    assert.ok(checked > 0, 'some version-1 samples are in the targets');

    // tau = 11 > maxStaleness: rejected, and the straggler is sent the current task.
    const tooStale = await slower!.error(E.TOO_STALE, slower!.upload(slowerTask.round, 16));
    assert.equal(tooStale.fatal, false);
    assert.match(tooStale.message, /max 10/);
    withTargets = await slower!.validTask(12);
    assert.equal(withTargets.round, 12, 'the newest version to work on');
  });

  it('leave-one-out: each participant is sent the aggregate of the others, on the samples they predicted', async (t) => {
    const fed = await createFederation(s.app, { mode: 'sync' });
    const clients = await participants(t, fed, ['p0', 'p1', 'p2']);
    const first = await clients[0]!.validTask(1);
    await Promise.all(clients.map(async (c, label) => c.reply(c.upload(1, 16, { label }))));
    for (const [me, c] of clients.entries()) {
      const task = await c.validTask(2);
      const targets = task.targets;
      assert.ok(targets, `p${me} gets targets`);
      assert.equal(targets.contributors, 2);
      assert.deepEqual(targets.indices, first.predictIndices, 'targets are on the round-1 samples');
      for (let row = 0; row < targets.indices.length; row++) {
        const p = targets.probs.subarray(row * C, row * C + C);
        for (let k = 0; k < C; k++) {
          const expected = k === me ? LOW : k < 3 ? (0.9 + LOW) / 2 : LOW;
          assert.ok(
            Math.abs(p[k]! - expected) < UINT8_TOL,
            `p${me} row ${row} class ${k}: ${p[k]} vs ${expected}`,
          );
        }
      }
    }
  });

  it('only a changed consensus is sent: a re-sent task carries no targets the participant already holds', async (t) => {
    const fed = await createFederation(s.app, { mode: 'sync', sync: { quorum: 1 } });
    const [a, late] = await participants(t, fed, ['a', 'late']);
    await late!.validTask(1);
    await a!.completeRound(1, 4); // quorum 1: round 1 closes on a's upload
    const second = await late!.validTask(2);
    assert.ok(second.targets, 'the round-1 consensus, new to late');
    assert.equal(second.targets.version, 1);

    // late's round-1 work arrives after the round closed: STALE_ROUND, then its task again.
    await late!.error(E.STALE_ROUND, late!.upload(1, 16));
    const again = await late!.validTask(2);
    assert.equal(again.round, 2);
    assert.equal(again.targets, undefined, 'the consensus it already holds is not sent again');

    // a's own round-1 upload is the whole consensus: nothing of the others to send it.
    const own = await a!.validTask(2);
    assert.equal(own.targets, undefined, 'no leave-one-out targets from its own predictions only');

    // An explicit TaskRequest (a client that lost its state) gets the newest targets again.
    late!.send({ taskRequest: { lastRound: 0 } });
    const requested = await late!.validTask(2);
    assert.equal(requested.targets?.version, 1);

    // So does a resumed participant.
    const resumeToken = late!.welcome!.resumeToken!;
    late!.close();
    await late!.waitClose();
    const back = await TestClient.join(s.wsUrl, { resumeToken });
    t.after(() => back.close());
    const resumed = await back.validTask(2);
    assert.equal(resumed.targets?.version, 1, 'targets are always re-sent after a reconnect');

    // The next round's consensus is new again.
    assert.equal((await back.reply(back.upload(2, 16, { label: 7 }))).body, 'ack');
    const third = await a!.validTask(3);
    assert.equal(third.targets?.version, 2);
  });

  it('encodings are negotiated: the federation preference among what the participant supports', async (t) => {
    const fed = await createFederation(s.app, { mode: 'sync', encodings: ['uint8', 'float16', 'float32'] });
    // supportedEncodings: 1 float32, 2 float16, 3 uint8, 4 topk; [] means float32 only.
    const supports = [[4, 3, 2, 1], [2, 1], [1], []];
    const all = await Promise.all(
      supports.map(async (supportedEncodings) =>
        TestClient.join(s.wsUrl, { joinToken: (await issueToken(s.app, fed.id)).token, supportedEncodings }),
      ),
    );
    t.after(() => {
      for (const c of all) c.close();
    });
    assert.deepEqual(
      all.map((c) => [c.welcome!.uploadEncoding, c.welcome!.downloadEncoding]),
      [
        [3, 3],
        [2, 2],
        [1, 1],
        [1, 1],
      ],
    );
    // A round in which each uploads in its own encoding; its targets come back in it.
    const encodings = ['uint8', 'float16', 'float32', 'float32'] as const;
    await Promise.all(
      all.map(async (c, i) => {
        const task = await c.validTask(1);
        const ack = await c.reply(c.upload(task.round, 16, { label: i, encoding: encodings[i] }));
        assert.equal(ack.body, 'ack');
      }),
    );
    for (const [i, c] of all.entries()) {
      const next = await c.validTask(2);
      assert.equal(next.encoding, encodings[i], `targets in ${encodings[i]}`);
      assert.equal(next.targets?.contributors, 3);
    }
  });

  it('a topk federation: top-k uploads and targets for participants that support it, uint8 for the others', async (t) => {
    const fed = await createFederation(s.app, { mode: 'sync', encodings: ['topk', 'uint8'], topk: 3 });
    const topk = await TestClient.join(s.wsUrl, {
      joinToken: (await issueToken(s.app, fed.id)).token,
      supportedEncodings: [4, 3, 1],
    });
    const plain = await TestClient.join(s.wsUrl, {
      joinToken: (await issueToken(s.app, fed.id)).token,
      supportedEncodings: [3, 1],
    });
    t.after(() => {
      topk.close();
      plain.close();
    });
    assert.equal(topk.welcome!.uploadEncoding, 4);
    assert.equal(topk.welcome!.federation!.topk, 3);
    assert.equal(plain.welcome!.uploadEncoding, 3);
    const task = await topk.validTask(1);
    const tooMany = await topk.error(E.BAD_SHAPE, topk.upload(task.round, 16, { encoding: 'topk', k: 5 }));
    assert.equal(tooMany.detail, 'TOPK_K');
    assert.equal(
      (await topk.reply(topk.upload(task.round, 16, { encoding: 'topk', k: 3, label: 2 }))).body,
      'ack',
    );
    await plain.validTask(1);
    assert.equal((await plain.reply(plain.upload(task.round, 16, { label: 6 }))).body, 'ack');
    const forTopk = await topk.validTask(2);
    assert.equal(forTopk.encoding, 'topk');
    assert.ok(forTopk.targets && forTopk.targets.probs[6]! > 0.8, "plain's class 6, top-k encoded");
    const forPlain = await plain.validTask(2);
    assert.equal(forPlain.encoding, 'uint8');
    // top-k keeps 3 classes: class 2 (0.9) survives, the rest is spread evenly.
    assert.ok(forPlain.targets && Math.abs(forPlain.targets.probs[2]! - 0.9) < UINT8_TOL);
  });
});
