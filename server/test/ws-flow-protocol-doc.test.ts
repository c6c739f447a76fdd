// PROTOCOL.md against the coordinator (issue 10 item 14): each place where a participant
// written from the document alone found the coordinator doing something else, held here to
// what the document now says.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeEnvelope, mutua } from '@mutua/proto';
import { createFederation, getJson, startServer, type TestServer } from './helper.ts';
import { float32Bytes, predictions, TestClient } from './test-client.ts';

const E = mutua.v1.ErrorCode;

describe('PROTOCOL.md holds', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(null, { maxMessagesPerSecond: 10 });
  });
  after(() => s?.close());

  async function joined(t: { after(fn: () => void): void }, settings: Record<string, unknown> = {}) {
    const fed = await createFederation(s.app, { sync: { quorum: 1 }, encodings: ['float32'], ...settings });
    const c = await TestClient.join(s.wsUrl, { joinToken: fed.token, name: 'doc', supportedEncodings: [1] });
    t.after(() => c.close());
    return { fed, c };
  }

  it('Ack.bytes_accepted is the payload length (0 for a duplicate); download_encoding is upload_encoding', async (t) => {
    const { c } = await joined(t);
    assert.equal(c.welcome!.downloadEncoding, c.welcome!.uploadEncoding);
    const task = await c.validTask();
    const payload = float32Bytes(predictions(task.predictIndices.length, 10, 1));
    const upload = {
      predictions: { round: task.round, encoding: 1, rows: task.predictIndices.length, classes: 10, payload },
    };
    const first = (await c.reply(c.send(upload))).envelope.ack!;
    assert.equal(Number(first.bytesAccepted), payload.byteLength);
    const again = (await c.reply(c.send(upload))).envelope.ack!;
    assert.equal(again.duplicate, true);
    assert.equal(Number(again.bytesAccepted ?? 0), 0);
  });

  it('MODEL_MISMATCH names what differs in detail', async (t) => {
    const fed = await createFederation(s.app);
    for (const [hello, detail] of [
      [{ inputShape: [32, 32, 3] }, 'INPUT_SHAPE'],
      [{ numClasses: 7 }, 'NUM_CLASSES'],
    ] as [Record<string, unknown>, string][]) {
      const c = await TestClient.connect(s.wsUrl);
      t.after(() => c.close());
      const r = await c.hello({ joinToken: fed.token, ...hello });
      assert.equal(r.envelope.error?.code, E.MODEL_MISMATCH);
      assert.equal(r.envelope.error?.detail, detail);
    }
  });

  it("the Heartbeat reply carries the coordinator's clock, not an echo", async (t) => {
    const { c } = await joined(t);
    const before = Date.now();
    const r = await c.reply(c.send({ heartbeat: { unixMs: 12345 } }));
    assert.equal(r.envelope.heartbeat!.reply, true);
    const at = Number(r.envelope.heartbeat!.unixMs);
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `${at}`);
  });

  it('RATE_LIMITED: a burst of twice the rate, then reply_to 0; non-fatal errors carry close_code 0', async (t) => {
    const { c } = await joined(t);
    const seqs = Array.from({ length: 30 }, () => c.send({ heartbeat: { unixMs: 1 } }));
    const replies = await Promise.all(
      seqs.map(() => c.next((r) => r.body === 'heartbeat' || r.body === 'error')),
    );
    const answered = replies.filter((r) => r.body === 'heartbeat').length;
    const limited = replies.filter((r) => r.envelope.error?.code === E.RATE_LIMITED);
    // 20 = the burst (2 x 10/s), less the one the Hello took; a token or two may have refilled meanwhile.
    assert.ok(answered >= 19 && answered <= 22, `answered ${answered}`);
    assert.equal(answered + limited.length, 30);
    for (const r of limited) {
      assert.equal(r.envelope.replyTo ?? 0, 0);
      assert.equal(r.envelope.error!.fatal ?? false, false);
      assert.equal(r.envelope.error!.closeCode ?? 0, 0);
      assert.ok((r.envelope.error!.retryAfterMs ?? 0) > 0);
    }
  });

  it('more than 20 rejected messages escalate to a fatal RATE_LIMITED closing with 4008', async (t) => {
    const s2 = await startServer(t, { maxMessagesPerSecond: 1000 });
    const fed = await createFederation(s2.app, { sync: { quorum: 1 } });
    const c = await TestClient.join(s2.wsUrl, { joinToken: fed.token, name: 'x' });
    t.after(() => c.close());
    for (let i = 0; i < 21; i++) c.send({ metrics: { round: 1_000_000 } });
    for (let i = 0; i < 21; i++) {
      const e = await c.error(E.UNKNOWN_ROUND);
      assert.equal(e.closeCode, 0);
    }
    const flood = await c.error(E.RATE_LIMITED);
    assert.equal(flood.fatal, true);
    assert.equal(flood.closeCode, 4008);
    assert.equal((await c.waitClose()).code, 4008);
  });

  it('a message sent before Welcome is answered UNEXPECTED_MESSAGE with its seq and not acted on', async (t) => {
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const c = await TestClient.connect(s.wsUrl);
    t.after(() => c.close());
    const hello = c.send({
      hello: { protocolVersion: 1, joinToken: fed.token, inputShape: [28, 28, 1], numClasses: 10 },
    });
    const early = c.send({ heartbeat: { unixMs: 1 } });
    const e = await c.error(E.UNEXPECTED_MESSAGE, early);
    assert.equal(e.replyTo, early);
    assert.equal((await c.reply(hello)).body, 'welcome');
    assert.ok(!c.received.some((r) => r.body === 'heartbeat'), 'the early Heartbeat was not answered');
  });

  it('sequence numbers are echoed, not enforced: a repeated or lower seq is answered like any other', async (t) => {
    const { c } = await joined(t);
    for (const seq of [50, 50, 7]) {
      c.sendRaw(encodeEnvelope({ seq, heartbeat: { unixMs: 1 } }));
      const r = await c.next((x) => x.body === 'heartbeat' || x.body === 'error');
      assert.equal(r.body, 'heartbeat');
      assert.equal(r.envelope.replyTo, seq);
    }
  });

  it('after Leave the coordinator sends nothing more: the round that Leave completes is announced to the others only', async (t) => {
    // Quorum 0: the round waits for every connected participant, so B's Leave is what closes it.
    const fed = await createFederation(s.app, { sync: { quorum: 0 }, encodings: ['float32'] });
    const a = await TestClient.join(s.wsUrl, {
      joinToken: fed.token,
      name: 'stays',
      supportedEncodings: [1],
    });
    const b = await TestClient.join(s.wsUrl, {
      joinToken: fed.token,
      name: 'leaves',
      supportedEncodings: [1],
    });
    t.after(() => {
      a.close();
      b.close();
    });
    const taskA = await a.validTask();
    await b.validTask();
    const payload = float32Bytes(predictions(taskA.predictIndices.length, 10, 1));
    await a.reply(
      a.send({
        predictions: {
          round: taskA.round,
          encoding: 1,
          rows: taskA.predictIndices.length,
          classes: 10,
          payload,
        },
      }),
    );
    b.received.splice(0);
    b.send({ leave: { reason: 'done' } });
    assert.equal((await b.waitClose()).code, 1000);
    // The others learn that the round closed and get the next task...
    await a.nextBody('roundClosed');
    await a.task(taskA.round + 1);
    // ...and the participant that left got nothing after its Leave.
    assert.deepEqual(
      b.received.map((r) => r.body),
      [],
      'no RoundClosed or Task after Leave',
    );
  });

  it('the metrics endpoint gives hasTestAccuracy as a boolean', async (t) => {
    const { fed, c } = await joined(t);
    const task = await c.validTask();
    c.send({ metrics: { round: task.round, metrics: { testAccuracy: 0.5, hasTestAccuracy: true } } });
    const hb = c.send({ heartbeat: { unixMs: 1 } });
    await c.reply(hb);
    let rows: { metrics: Record<string, unknown> }[] = [];
    for (let i = 0; i < 100 && rows.length === 0; i++) {
      rows = await getJson(s.app, `/v1/federations/${fed.id}/metrics`);
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const reported = rows.find((r) => 'hasTestAccuracy' in r.metrics);
    assert.ok(reported, JSON.stringify(rows));
    assert.equal(reported.metrics.hasTestAccuracy, true);
  });
});
