// Every bad input over real sockets: each gets its coded Error (and, when fatal, its close
// code), the coordinator stays up, and a well-behaved participant connected beside the
// offender still completes a round afterwards.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { encodeEnvelope, mutua } from '@mutua/proto';
import WebSocket from 'ws';
import { admittedFrameLimit, MIN_ADMITTED_FRAME_BYTES } from '../src/ws/pre-auth-guard.ts';
import {
  auth,
  createFederation,
  type DatabaseKind,
  describeEachDatabase,
  type FederationFixture,
  getJson,
  issueToken,
  startServer,
  type TestServer,
} from './helper.ts';
import { float32Bytes, predictions, TestClient } from './test-client.ts';

// ErrorCode numbers (proto/mutua/v1/mutua.proto)
const E = mutua.v1.ErrorCode;
const MAX_FRAME = 1 << 20; // helper.ts default

describeEachDatabase('WebSocket: bad input', (database) => {
  let s: TestServer;
  before(async () => {
    // 50 messages/s, bursts of 100: far above what the honest clients here send, far below the flood.
    s = await startServer(null, { database, maxMessagesPerSecond: 50 });
  });
  after(() => s?.close());

  /**
   * A federation whose sync rounds close at the first submission, a well-behaved
   * participant `good` already in it, and the join token for the offender.
   */
  async function withGoodParticipant(
    t: { after(fn: () => void): void },
    settings: Record<string, unknown> = {},
  ): Promise<{ fed: FederationFixture; good: TestClient; join: (name?: string) => Promise<TestClient> }> {
    const fed = await createFederation(s.app, { sync: { quorum: 1 }, ...settings });
    const goodToken = await issueToken(s.app, fed.id);
    const good = await TestClient.join(s.wsUrl, { joinToken: goodToken.token, name: 'good' });
    const clients = [good];
    t.after(() => {
      for (const c of clients) c.close();
    });
    const join = async (name = 'bad') => {
      const c = await TestClient.join(s.wsUrl, { joinToken: fed.token, name });
      clients.push(c);
      return c;
    };
    return { fed, good, join };
  }

  async function connect(t: { after(fn: () => void): void }): Promise<TestClient> {
    const c = await TestClient.connect(s.wsUrl);
    t.after(() => c.close());
    return c;
  }

  it('malformed frames (garbage bytes, a truncated envelope) are BAD_FRAME and close with 1007', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const garbage = await join();
    garbage.sendRaw(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    const e1 = await garbage.error(E.BAD_FRAME);
    assert.equal(e1.fatal, true);
    assert.equal(e1.closeCode, 1007);
    assert.equal((await garbage.waitClose()).code, 1007);

    const truncated = await join();
    const task = await truncated.validTask();
    const whole = encodeEnvelope({
      seq: 1,
      predictions: { round: task.round, encoding: 3, rows: 16, classes: 10, payload: new Uint8Array(160) },
    });
    truncated.sendRaw(whole.subarray(0, whole.length - 7));
    const e2 = await truncated.error(E.BAD_FRAME);
    assert.equal(e2.detail, 'TRUNCATED');
    assert.equal((await truncated.waitClose()).code, 1007);

    // Before Hello too: the frame is checked before anything else.
    const stranger = await connect(t);
    stranger.sendRaw(new Uint8Array([0x0a, 0x05, 0x01]));
    await stranger.error(E.BAD_FRAME);
    assert.equal((await stranger.waitClose()).code, 1007);

    await good.completeRound();
  });

  it('a text frame is BAD_FRAME (TEXT_FRAME) and closes with 1003', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const bad = await join();
    bad.sendRaw('{"hello": {}}', false);
    const e = await bad.error(E.BAD_FRAME);
    assert.equal(e.detail, 'TEXT_FRAME');
    assert.equal((await bad.waitClose()).code, 1003);
    await good.completeRound();
  });

  it('an envelope without a body is EMPTY_BODY, answered and not fatal', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const bad = await join();
    bad.sendRaw(mutua.v1.Envelope.encode({ seq: 41 }).finish());
    const e = await bad.error(E.EMPTY_BODY);
    assert.equal(e.replyTo, 41);
    assert.equal(e.fatal, false);
    await bad.completeRound();
    await good.completeRound(2);
  });

  it('wrong shape (rows, classes) is BAD_SHAPE; the session stays and its next upload is accepted', async (t) => {
    const { good, join } = await withGoodParticipant(t, { sync: { quorum: 2 } });
    const bad = await join();
    const { round } = await bad.validTask();
    const rows = await bad.error(E.BAD_SHAPE, bad.upload(round, 15));
    assert.equal(rows.detail, 'ROWS');
    assert.equal(rows.fatal, false);
    assert.match(rows.message, /16/);
    const classes = await bad.error(E.BAD_SHAPE, bad.upload(round, 16, { classes: 9 }));
    assert.equal(classes.detail, 'CLASSES');
    const ok = await bad.reply(bad.upload(round, 16));
    assert.equal(ok.body, 'ack');
    assert.equal(bad.closed, null);
    await good.completeRound();
  });

  it('NaN in a float32 payload and rows not summing to 1 are BAD_PAYLOAD', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t);
    const bad = await join();
    const { round } = await bad.validTask();
    const nan = predictions(16, 10, 1);
    nan[37] = Number.NaN;
    const e1 = await bad.error(E.BAD_PAYLOAD, bad.uploadRaw(round, 16, 10, 'float32', float32Bytes(nan)));
    assert.equal(e1.detail, 'PAYLOAD_NON_FINITE');
    assert.equal(e1.fatal, false);
    const inf = predictions(16, 10, 1);
    inf[0] = Number.POSITIVE_INFINITY;
    const e2 = await bad.error(E.BAD_PAYLOAD, bad.uploadRaw(round, 16, 10, 'float32', float32Bytes(inf)));
    assert.equal(e2.detail, 'PAYLOAD_NON_FINITE');
    const heavy = predictions(16, 10, 1);
    heavy[5 * 10 + 1] = 0.6; // row 5 sums to 0.7
    const e3 = await bad.error(E.BAD_PAYLOAD, bad.uploadRaw(round, 16, 10, 'float32', float32Bytes(heavy)));
    assert.equal(e3.detail, 'PAYLOAD_ROW_SUM');
    assert.match(e3.message, /row 5|5/);
    const short = await bad.error(
      E.BAD_PAYLOAD,
      bad.uploadRaw(round, 16, 10, 'float32', float32Bytes(predictions(15, 10, 1))),
    );
    assert.equal(short.detail, 'PAYLOAD_LENGTH_MISMATCH');
    const rounds = await getJson<{ submissions: number }[]>(s.app, `/v1/federations/${fed.id}/rounds`);
    assert.equal(rounds[0]!.submissions, 0, 'nothing rejected was stored');
    await good.completeRound();
  });

  it('an upload in an encoding the federation does not accept is ENCODING_NOT_ALLOWED', async (t) => {
    const { good, join } = await withGoodParticipant(t, { encodings: ['uint8'] });
    const bad = await join();
    const { round } = await bad.validTask();
    const e = await bad.error(E.ENCODING_NOT_ALLOWED, bad.upload(round, 16, { encoding: 'float32' }));
    assert.equal(e.fatal, false);
    assert.match(e.message, /uint8/);
    await good.completeRound();
  });

  it('a frame above Welcome.max_frame_bytes is FRAME_TOO_LARGE (1009); far above, ws closes 1009 itself', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const big = await join();
    // A mutual federation over 64 public rows: the floor, not the configured 1 MiB.
    const limit = big.welcome!.maxFrameBytes!;
    assert.equal(limit, MIN_ADMITTED_FRAME_BYTES);
    big.sendRaw(new Uint8Array(limit + 1000));
    const e = await big.error(E.FRAME_TOO_LARGE);
    assert.match(e.message, new RegExp(String(limit)));
    assert.equal((await big.waitClose()).code, 1009);

    // The configured maximum is not what an admitted mutual participant may make the coordinator buffer.
    const huge = await join();
    huge.sendRaw(new Uint8Array(MAX_FRAME - 1000));
    assert.equal((await huge.waitClose()).code, 1009);
    await good.completeRound();
  });

  it('Welcome.max_frame_bytes: what the federation can need, within the configured maximum', async (t) => {
    // 3,000 public rows of 10 classes: 3,000 * (10 * 8 + 16) + 64 KiB.
    const wide = await createFederation(s.app, { sync: { quorum: 1 } }, 3000);
    const a = await TestClient.join(s.wsUrl, { joinToken: wide.token, name: 'wide' });
    t.after(() => a.close());
    assert.equal(a.welcome!.maxFrameBytes, 3000 * 96 + 64 * 1024);
    // 20,000 rows would need more than the configured 1 MiB: the configured maximum.
    assert.equal(
      admittedFrameLimit(
        { settings: { strategy: 'mutual', task: { numClasses: 10 } }, publicSet: { sampleCount: 20_000 } },
        MAX_FRAME,
      ),
      MAX_FRAME,
    );
    // fedavg uploads whole weights: the configured maximum.
    const fedavg = await createFederation(s.app, { strategy: 'fedavg', modelArch: 'mlp' });
    const b = await TestClient.join(s.wsUrl, { joinToken: fedavg.token, name: 'fedavg', modelArch: 'mlp' });
    t.after(() => b.close());
    assert.equal(b.welcome!.maxFrameBytes, MAX_FRAME);
  });

  it('a message before Hello is NOT_AUTHENTICATED (4007)', async (t) => {
    const { good } = await withGoodParticipant(t);
    const c = await connect(t);
    c.upload(1, 16);
    const e = await c.error(E.NOT_AUTHENTICATED);
    assert.equal(e.replyTo, 1);
    assert.equal(e.fatal, true);
    assert.equal((await c.waitClose()).code, 4007);
    await good.completeRound();
  });

  it('a bad token is BAD_TOKEN (4001): unknown join token, unknown resume token, both or neither', async (t) => {
    const { good } = await withGoodParticipant(t);
    for (const [init, detail] of [
      [{ joinToken: 'mutua_not-a-real-token' }, ''],
      [{ resumeToken: 'not-a-real-resume-token' }, ''],
      [{ joinToken: 'a', resumeToken: 'b' }, 'TOKEN_BOTH'],
      [{}, 'TOKEN_MISSING'],
    ] as const) {
      const c = await connect(t);
      const r = await c.hello(init);
      assert.equal(r.body, 'error');
      assert.equal(r.envelope.error!.code, E.BAD_TOKEN, JSON.stringify(init));
      assert.equal(r.envelope.error!.detail, detail);
      assert.equal(r.envelope.error!.closeCode, 4001);
      assert.equal((await c.waitClose()).code, 4001);
    }
    await good.completeRound();
  });

  it('revoking a token disconnects its participant (TOKEN_REVOKED, 4003); neither its join nor resume token works again', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t);
    const bad = await join();
    const resumeToken = bad.welcome!.resumeToken!;
    const res = await s.app.inject({
      method: 'DELETE',
      url: `/v1/federations/${fed.id}/tokens/${fed.tokenId}`,
      headers: auth,
    });
    assert.equal(res.statusCode, 204);
    const e = await bad.error(E.TOKEN_REVOKED);
    assert.equal(e.fatal, true);
    assert.equal((await bad.waitClose()).code, 4003);

    for (const init of [{ joinToken: fed.token }, { resumeToken }]) {
      const c = await connect(t);
      const r = await c.hello(init);
      assert.equal(r.envelope.error?.code, E.TOKEN_REVOKED, JSON.stringify(init));
      assert.equal((await c.waitClose()).code, 4003);
    }
    assert.equal(good.closed, null, 'a participant admitted with another token stays');
    await good.completeRound();
  });

  it('a paused federation disconnects its participants and refuses Hellos (FEDERATION_PAUSED, 4010) without registering anyone', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t);
    const other = await withGoodParticipant(t);
    const bad = await join();
    const resumeToken = bad.welcome!.resumeToken!;
    const paused = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/pause`,
      headers: auth,
    });
    assert.equal(paused.statusCode, 200);
    for (const c of [good, bad]) {
      const e = await c.error(E.FEDERATION_PAUSED);
      assert.ok(e.retryAfterMs > 0, 'tells when to retry');
      assert.equal((await c.waitClose()).code, 4010);
    }
    const before = (await getJson<unknown[]>(s.app, `/v1/federations/${fed.id}/participants`)).length;
    for (const init of [{ joinToken: fed.token }, { joinToken: fed.token }, { resumeToken }]) {
      const c = await connect(t);
      const r = await c.hello(init);
      assert.equal(r.envelope.error?.code, E.FEDERATION_PAUSED);
      assert.equal((await c.waitClose()).code, 4010);
    }
    const after = (await getJson<unknown[]>(s.app, `/v1/federations/${fed.id}/participants`)).length;
    assert.equal(after, before, 'a refused Hello registers no participant');
    await other.good.completeRound(); // another federation carries on

    await s.app.inject({ method: 'POST', url: `/v1/federations/${fed.id}/resume`, headers: auth });
    const back = await TestClient.join(s.wsUrl, { resumeToken });
    t.after(() => back.close());
    assert.equal(back.welcome!.resumed, true);
    await back.completeRound();
  });

  it('a deleted federation disconnects its participants and refuses Hellos (FEDERATION_NOT_FOUND, 4004)', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t);
    const other = await withGoodParticipant(t);
    const bad = await join();
    const resumeToken = bad.welcome!.resumeToken!;
    const del = await s.app.inject({ method: 'DELETE', url: `/v1/federations/${fed.id}`, headers: auth });
    assert.equal(del.statusCode, 204);
    for (const c of [good, bad]) {
      await c.error(E.FEDERATION_NOT_FOUND);
      assert.equal((await c.waitClose()).code, 4004);
    }
    for (const init of [{ joinToken: fed.token }, { resumeToken }]) {
      const c = await connect(t);
      const r = await c.hello(init);
      assert.equal(r.envelope.error?.code, E.FEDERATION_NOT_FOUND, JSON.stringify(init));
      assert.equal((await c.waitClose()).code, 4004);
    }
    await other.good.completeRound();
  });

  it('a submission for a closed round is STALE_ROUND; a round never issued is UNKNOWN_ROUND; both non-fatal', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const late = await join('late');
    const first = await late.validTask();
    const closed = await good.completeRound(); // quorum 1: round 1 closes on good's upload
    assert.equal(closed, first.round);
    const stale = await late.error(E.STALE_ROUND, late.upload(first.round, 16));
    assert.equal(stale.fatal, false);
    assert.match(stale.message, new RegExp(`round ${first.round}`));
    for (const round of [99, 0]) {
      const unknown = await late.error(E.UNKNOWN_ROUND, late.upload(round, 16));
      assert.equal(unknown.fatal, false, `round ${round}`);
    }
    // The late participant carries on with the current round.
    await late.completeRound(first.round + 1);
    await good.completeRound(first.round + 2);
  });

  it('a duplicate upload is acknowledged with duplicate=true and counted once', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t, { sync: { quorum: 2 } });
    const dup = await join();
    const { round } = await dup.validTask();
    const first = await dup.reply(dup.upload(round, 16, { label: 2 }));
    assert.equal(first.envelope.ack?.duplicate, false);
    const again = await dup.reply(dup.upload(round, 16, { label: 5 }));
    assert.equal(again.body, 'ack');
    assert.equal(again.envelope.ack!.duplicate, true);
    // Two copies sent back to back (a retry racing the first): one is new, one a duplicate.
    const burst = await join('burst');
    const r = (await burst.validTask()).round;
    const [a, b] = await Promise.all([burst.reply(burst.upload(r, 16)), burst.reply(burst.upload(r, 16))]);
    assert.deepEqual([a.envelope.ack?.duplicate, b.envelope.ack?.duplicate].sort(), [false, true]);
    // Round `round` closed (quorum 2: dup + burst); both carry on in the next one.
    await Promise.all([good.completeRound(round + 1), dup.completeRound(round + 1)]);
    const rounds = await getJson<{ number: number; submissions: number }[]>(
      s.app,
      `/v1/federations/${fed.id}/rounds`,
    );
    assert.equal(rounds.find((x) => x.number === round)!.submissions, 2);
    const metrics = await getJson<{ round: number; participantId: string; source: string }[]>(
      s.app,
      `/v1/federations/${fed.id}/metrics`,
    );
    assert.equal(
      metrics.filter(
        (m) =>
          m.source === 'submission' && m.round === round && m.participantId === dup.welcome!.participantId,
      ).length,
      1,
    );
  });

  it('flooding is RATE_LIMITED (retry_after_ms), then disconnected (4008) when it persists', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const flood = await join('flood');
    // 50 messages/s with bursts of 100: 1000 back to back cannot all pass.
    for (let i = 0; i < 1000; i++) flood.send({ heartbeat: { unixMs: i } });
    const limited = await flood.error(E.RATE_LIMITED);
    assert.equal(limited.fatal, false);
    assert.ok(limited.retryAfterMs > 0);
    const closed = await flood.waitClose();
    assert.equal(closed.code, 4008);
    const last = flood.received.filter((r) => r.body === 'error').at(-1)!;
    assert.equal(last.envelope.error!.code, E.RATE_LIMITED);
    assert.equal(last.envelope.error!.fatal, true, 'the last word is a fatal RATE_LIMITED');
    await good.completeRound();
  });

  it('the participant limit is FEDERATION_FULL (4009); a registered participant may still resume', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t, { participantLimit: 2 });
    const second = await join('second');
    const resumeToken = second.welcome!.resumeToken!;
    const third = await connect(t);
    const r = await third.hello({ joinToken: fed.token, name: 'third' });
    assert.equal(r.envelope.error?.code, E.FEDERATION_FULL);
    assert.ok(r.envelope.error!.retryAfterMs! > 0);
    assert.equal((await third.waitClose()).code, 4009);
    second.close();
    await second.waitClose();
    const again = await TestClient.join(s.wsUrl, { resumeToken });
    t.after(() => again.close());
    assert.equal(again.welcome!.participantId, second.welcome!.participantId);
    await good.completeRound();
  });

  it('a model that does not fit the task is MODEL_MISMATCH (4006) and registers nobody', async (t) => {
    const { fed, good } = await withGoodParticipant(t);
    for (const init of [{ inputShape: [784] }, { numClasses: 3 }]) {
      const c = await connect(t);
      const r = await c.hello({ joinToken: fed.token, ...init });
      assert.equal(r.envelope.error?.code, E.MODEL_MISMATCH, JSON.stringify(init));
      assert.match(String(r.envelope.error!.message), /28x28x1/);
      assert.equal((await c.waitClose()).code, 4006);
    }
    assert.equal((await getJson<unknown[]>(s.app, `/v1/federations/${fed.id}/participants`)).length, 1);
    await good.completeRound();
  });

  it('a participant with no encoding in common is ENCODING_NOT_ALLOWED at Hello and registers nobody', async (t) => {
    const { fed, good } = await withGoodParticipant(t, { encodings: ['uint8'] });
    const c = await connect(t);
    const r = await c.hello({ joinToken: fed.token, supportedEncodings: [1] });
    assert.equal(r.envelope.error?.code, E.ENCODING_NOT_ALLOWED);
    assert.equal(r.envelope.error!.fatal, true);
    await c.waitClose();
    assert.equal((await getJson<unknown[]>(s.app, `/v1/federations/${fed.id}/participants`)).length, 1);
    await good.completeRound();
  });

  it('weights sent to a mutual federation are WRONG_STRATEGY; Hello twice is UNEXPECTED_MESSAGE', async (t) => {
    const { good, join } = await withGoodParticipant(t);
    const bad = await join();
    const { round } = await bad.validTask();
    const seq = bad.send({
      weights: {
        round,
        encoding: 1,
        count: 2,
        payload: new Uint8Array(8),
        numSamples: 10,
        modelSignature: 'x',
      },
    });
    assert.equal((await bad.error(E.WRONG_STRATEGY, seq)).fatal, false);
    const again = await bad.hello({ joinToken: 'whatever' });
    assert.equal(again.envelope.error?.code, E.UNEXPECTED_MESSAGE);
    assert.equal((await bad.reply(bad.upload(round, 16))).body, 'ack');
    await good.completeRound(round + 1);
  });

  it('resuming continues the same participant and re-sends the task it had not answered', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t, { sync: { quorum: 2 } });
    const first = await join('resumer');
    const { participantId, resumeToken } = first.welcome!;
    const task = await first.validTask();
    first.close();
    await first.waitClose();
    const back = await TestClient.join(s.wsUrl, { resumeToken });
    t.after(() => back.close());
    assert.equal(back.welcome!.participantId, participantId);
    assert.equal(back.welcome!.resumed, true);
    assert.equal(back.welcome!.resumeToken, resumeToken);
    const again = await back.validTask();
    assert.equal(again.round, task.round);
    assert.deepEqual(again.predictIndices, task.predictIndices);
    assert.equal((await back.reply(back.upload(again.round, 16))).body, 'ack');
    await good.completeRound(); // quorum 2: the resumed participant's upload counts
    const parts = await getJson<{ id: string }[]>(s.app, `/v1/federations/${fed.id}/participants`);
    assert.equal(parts.length, 2, 'no new participant was registered');
  });

  it('a second connection with the same resume token replaces the first (REPLACED, 4000)', async (t) => {
    const { fed, good, join } = await withGoodParticipant(t, { sync: { quorum: 2 } });
    const first = await join('twice');
    await first.validTask();
    const second = await TestClient.join(s.wsUrl, { resumeToken: first.welcome!.resumeToken! });
    t.after(() => second.close());
    const e = await first.error(E.REPLACED);
    assert.equal(e.fatal, true);
    assert.equal((await first.waitClose()).code, 4000);
    assert.equal(second.welcome!.participantId, first.welcome!.participantId);
    const task = await second.validTask();
    assert.equal((await second.reply(second.upload(task.round, 16))).body, 'ack');
    await good.completeRound();
    const parts = await getJson<{ id: string; online: boolean }[]>(
      s.app,
      `/v1/federations/${fed.id}/participants`,
    );
    assert.ok(
      parts.find((p) => p.id === second.welcome!.participantId)?.online,
      'still online after the old socket closed',
    );
  });
});

describeEachDatabase('WebSocket: heartbeat and shutdown', (database: DatabaseKind) => {
  // One coordinator with a short heartbeat; the last test stops it.
  let s: TestServer;
  before(async () => {
    // Short, but long enough that a loaded machine's event-loop stall does not look like a dead peer.
    s = await startServer(null, { database, heartbeatIntervalMs: 400 });
  });
  after(() => s?.close());

  it('a peer that stops answering pings is terminated; one that answers stays', async (t) => {
    const fed = await createFederation(s.app);
    const alive = await TestClient.join(s.wsUrl, { joinToken: fed.token, name: 'alive' });
    const dead = new TestClient(s.wsUrl, { autoPong: false });
    await dead.opened;
    t.after(() => {
      alive.close();
      dead.close();
    });
    let pings = 0;
    dead.ws.on('ping', () => pings++);
    assert.equal((await dead.hello({ joinToken: fed.token, name: 'dead' })).body, 'welcome');
    const closed = await dead.waitClose();
    assert.equal(closed.code, 1006, 'terminated, not closed: a dead peer cannot answer a close frame');
    assert.ok(pings >= 1, 'it was pinged first');
    // The live one keeps answering: wait for three more pings after the other was dropped.
    await new Promise<void>((resolve) => {
      let n = 0;
      alive.ws.on('ping', () => ++n === 3 && resolve());
    });
    assert.equal(alive.closed, null);
    const parts = await getJson<{ name: string; online: boolean }[]>(
      s.app,
      `/v1/federations/${fed.id}/participants`,
    );
    assert.deepEqual(parts.map((p) => [p.name, p.online]).sort(), [
      ['alive', true],
      ['dead', false],
    ]);
    const metrics = await s.app.inject({ url: '/metrics' });
    assert.match(metrics.body, /^mutua_rejections_total\{code="HEARTBEAT_TIMEOUT"\} 1$/m);
  });

  it('a stopping coordinator tells participants SHUTTING_DOWN and closes with 1001', async (t) => {
    const fed = await createFederation(s.app);
    const c = await TestClient.join(s.wsUrl, { joinToken: fed.token });
    t.after(() => c.close());
    const unauthenticated = await TestClient.connect(s.wsUrl);
    t.after(() => unauthenticated.close());
    await c.validTask();
    const closing = s.close();
    for (const x of [c, unauthenticated]) {
      const e = await x.error(E.SHUTTING_DOWN);
      assert.equal(e.fatal, true);
      assert.ok(e.retryAfterMs > 0);
      assert.equal((await x.waitClose()).code, 1001);
    }
    await closing;
    await assert.rejects(TestClient.connect(s.wsUrl), 'no longer listening');
    assert.ok(WebSocket.CLOSED === c.ws.readyState);
  });
});
