import assert from 'node:assert/strict';
import { it } from 'node:test';
import { auth, createFederation, describeEachDatabase, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

describeEachDatabase('WebSocket: a synchronous federation end to end', (database) => {
  it('admits two participants, runs two rounds, sends leave-one-out targets and counts bytes', async (t) => {
    const { app, wsUrl } = await startServer(t, { database });
    const fed = await createFederation(app, { mode: 'sync' });
    const a = await TestClient.connect(wsUrl);
    const b = await TestClient.connect(wsUrl);
    t.after(() => {
      a.close();
      b.close();
    });
    const wa = await a.hello({ joinToken: fed.token, name: 'a' });
    assert.equal(wa.body, 'welcome');
    const welcome = wa.envelope.welcome!;
    assert.equal(welcome.federation!.batchSize, 16);
    assert.equal(welcome.publicSet!.sampleCount, 64);
    assert.equal(welcome.uploadEncoding, 3, 'uint8 negotiated');
    const wb = await b.hello({ joinToken: fed.token, name: 'b' });
    assert.equal(wb.body, 'welcome');

    const ta = (await a.task(1)).envelope.task!;
    const tb = (await b.task(1)).envelope.task!;
    assert.equal(Number(ta.round), 1);
    assert.equal(ta.predictIndices!.length, 16);
    assert.ok(!ta.targets, 'no targets before a consensus exists');
    const ackA = await a.reply(a.upload(1, 16, { label: 3 }));
    assert.equal(ackA.body, 'ack');
    assert.equal(ackA.envelope.ack!.duplicate, false);
    await b.reply(b.upload(Number(tb.round), 16, { label: 7 }));

    const t2a = (await a.task(2)).envelope.task!;
    assert.ok(t2a.targets, 'round 2 carries targets');
    assert.equal(t2a.targets!.rows, 16);
    assert.equal(t2a.targets!.contributors, 1, 'leave-one-out: only b');
    // a is sent b's predictions (mass on class 7), not its own.
    assert.ok(t2a.targets!.payload![7]! > 200);

    const dup = await a.reply(a.upload(1, 16, { label: 3 }));
    assert.equal(dup.body, 'ack', 'a resent, already accepted upload is acknowledged again');
    assert.equal(dup.envelope.ack!.duplicate, true);

    const c = await TestClient.connect(wsUrl);
    t.after(() => c.close());
    await c.hello({ joinToken: fed.token, name: 'late' });
    const stale = await c.reply(c.upload(1, 16, { label: 1 }));
    assert.equal(stale.body, 'error');
    assert.equal(stale.envelope.error!.code, 23, 'STALE_ROUND');
    assert.equal(stale.envelope.error!.fatal, false);

    const public_ = await fetch(`${new URL(wsUrl.replace('ws', 'http')).origin}${welcome.publicSet!.url}`);
    assert.equal(public_.status, 200);
    // fetch asks for br/gzip: the ETag names the representation sent (the set's sha256 plus its coding).
    assert.match(String(public_.headers.get('etag')), new RegExp(`^"${welcome.publicSet!.id}(-gzip|-br)?"$`));

    const traffic = await app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/traffic`,
      headers: auth,
    });
    assert.equal(traffic.statusCode, 200);
    assert.ok(traffic.json().bytesIn > 0 && traffic.json().bytesOut > 0);
    const rounds = await app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/rounds`,
      headers: auth,
    });
    assert.equal(rounds.json()[0].submissions, 2);
  });
});
