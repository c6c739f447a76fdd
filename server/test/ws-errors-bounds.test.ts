// Every string and number a participant or an operator sends is bounded and checked
// (issue 10 items 9 and 10): a coded error each time, never INTERNAL, never a 500, on both
// databases (PostgreSQL refuses NUL in text and overflows on large integers).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { mutua } from '@mutua/proto';
import {
  auth,
  createFederation,
  describeEachDatabase,
  getJson,
  mnistPublicSet,
  startServer,
  type TestServer,
} from './helper.ts';
import { TestClient } from './test-client.ts';

const E = mutua.v1.ErrorCode;

describeEachDatabase('bounded input', (database) => {
  let s: TestServer;
  before(async () => {
    s = await startServer(null, { database });
  });
  after(() => s?.close());

  it('Hello strings with NUL or control characters are BAD_TEXT (1007), never INTERNAL, and register no one', async (t) => {
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const cases: [Record<string, string>, string][] = [
      [{ name: 'a\u0000b' }, 'NAME'],
      [{ name: 'bell\u0007' }, 'NAME'],
      [{ modelArch: 'mlp\u001b[31m' }, 'MODEL_ARCH'],
      [{ clientVersion: '1.0\u0085' }, 'CLIENT_VERSION'],
      [{ modelSignature: '\u007f' }, 'MODEL_SIGNATURE'],
    ];
    for (const [fields, detail] of cases) {
      const c = await TestClient.connect(s.wsUrl);
      t.after(() => c.close());
      c.send({
        hello: {
          protocolVersion: 1,
          joinToken: fed.token,
          inputShape: [28, 28, 1],
          numClasses: 10,
          supportedEncodings: [1],
          ...fields,
        },
      });
      const e = await c.error(E.BAD_TEXT);
      assert.equal(e.detail, detail);
      assert.equal((await c.waitClose()).code, 1007);
    }
    const joinNul = await TestClient.connect(s.wsUrl);
    t.after(() => joinNul.close());
    joinNul.send({
      hello: { protocolVersion: 1, joinToken: `${fed.token}\u0000`, inputShape: [28, 28, 1], numClasses: 10 },
    });
    assert.equal((await joinNul.error(E.BAD_TEXT)).detail, 'TOKEN');
    const participants = await getJson<unknown[]>(s.app, `/v1/federations/${fed.id}/participants`);
    assert.equal(participants.length, 0);
    // Printable non-ASCII is fine.
    const ok = await TestClient.join(s.wsUrl, { joinToken: fed.token, name: 'Zoë 日本 😀' });
    ok.close();
  });

  it('MetricsReport.round beyond the current round (or 2^31+5) is UNKNOWN_ROUND, not stored, never INTERNAL', async (t) => {
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const c = await TestClient.join(s.wsUrl, { joinToken: fed.token, name: 'm' });
    t.after(() => c.close());
    const task = await c.validTask();
    for (const round of [2 ** 31 + 5, task.round + 1, 2 ** 53 - 1]) {
      const seq = c.send({ metrics: { round, metrics: { trainLoss: 1, testAccuracy: 0.5 } } });
      const e = await c.error(E.UNKNOWN_ROUND, seq);
      assert.equal(e.detail, 'METRICS_ROUND');
      assert.equal(e.fatal, false);
    }
    // The current round is accepted (not answered), and the connection is still fine.
    c.send({ metrics: { round: task.round, metrics: { trainLoss: 1, testAccuracy: 0.5 } } });
    const hb = c.send({ heartbeat: { unixMs: 1 } });
    assert.equal((await c.reply(hb)).body, 'heartbeat');
    const metrics = await getJson<{ rounds?: { round: number }[] } & Record<string, unknown>>(
      s.app,
      `/v1/federations/${fed.id}/metrics`,
    );
    assert.ok(!JSON.stringify(metrics).includes(String(2 ** 31 + 5)), 'the bad round was not stored');
  });

  it('REST names with NUL or unpaired surrogates are a 400 naming the field, never a 500', async () => {
    const publicSetId = await mnistPublicSet(s.app);
    for (const name of ['bad\u0000name', 'lone \ud800 surrogate', 'tail \udc00']) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/federations',
        headers: { ...auth, 'content-type': 'application/json' },
        // JSON.stringify escapes the lone surrogate as \ud800, as a real client would send it.
        payload: JSON.stringify({ name, publicSetId }),
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'MUTUA_ERR_VALIDATION');
      assert.match(res.json().message, /body\/name must be printable text/);
    }
    const fed = await createFederation(s.app);
    const label = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/tokens`,
      headers: auth,
      payload: { label: 'x\u0000' },
    });
    assert.equal(label.statusCode, 400, label.body);
  });
});
