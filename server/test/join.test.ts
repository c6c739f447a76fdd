/**
 * The join page's endpoints (routes/join.ts): the federation a join link admits to, and
 * demo shards, for usable tokens only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auth, createFederation, describeEachDatabase, startServer } from './helper.ts';

const MAGIC = 0x3148534d;

describeEachDatabase('join routes', (database) => {
  test('info: the task and settings for a usable token; 401 for bad, revoked, expired ones; 404 once deleted', async (t) => {
    const { app } = await startServer(t, { database });
    const fed = await createFederation(app, {
      mode: 'async',
      task: { inputShape: [28, 28, 1], numClasses: 10, labelNames: [] },
      minParticipants: 2,
    });
    const info = await app.inject(`/v1/join/${encodeURIComponent(fed.token)}/info`);
    assert.equal(info.statusCode, 200, info.body);
    const body = info.json();
    assert.equal(body.federation.id, fed.id);
    assert.equal(body.federation.status, 'active');
    assert.equal(body.federation.mode, 'async');
    assert.equal(body.federation.strategy, 'mutual');
    assert.deepEqual(body.federation.task.inputShape, [28, 28, 1]);
    assert.equal(body.federation.task.numClasses, 10);
    assert.equal(body.demo.available, true);
    assert.equal(body.demo.dataset, 'mnist');
    assert.equal(body.federation.settings, undefined, 'only what a participant needs');
    // Nobody connected yet, two needed: the page can say it waits for others.
    assert.equal(body.federation.minParticipants, 2);
    assert.equal(body.federation.participantsOnline, 0);
    assert.equal(body.federation.waitingForParticipants, true);

    const bad = await app.inject('/v1/join/mutua_not-a-token/info');
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().code, 'MUTUA_ERR_BAD_TOKEN');

    const paused = await app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/pause`,
      headers: auth,
    });
    assert.equal(paused.statusCode, 200);
    const pausedInfo = (await app.inject(`/v1/join/${fed.token}/info`)).json();
    assert.equal(pausedInfo.federation.status, 'paused');
    // Paused is not waiting: nothing runs until the operator resumes it.
    assert.equal(pausedInfo.federation.waitingForParticipants, false);

    const expiring = await app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/tokens`,
      headers: auth,
      payload: { expiresInSeconds: 1 },
    });
    const expToken = expiring.json().token as string;
    const hash = (await import('../src/db/index.ts')).hashToken(expToken);
    const row = await app.db.joinTokens.findByHash(hash);
    assert.ok(row);
    // Let it expire without sleeping: the route compares with now, so move expiry into the past.
    assert.ok(row.expiresAt);
    row.expiresAt.setTime(Date.now() - 1000);
    const original = app.db.joinTokens.findByHash.bind(app.db.joinTokens);
    app.db.joinTokens.findByHash = async (h) => (h === hash ? row : original(h));
    const expired = await app.inject(`/v1/join/${expToken}/info`);
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.json().code, 'MUTUA_ERR_TOKEN_EXPIRED');
    app.db.joinTokens.findByHash = original;

    const revoke = await app.inject({
      method: 'DELETE',
      url: `/v1/federations/${fed.id}/tokens/${fed.tokenId}`,
      headers: auth,
    });
    assert.equal(revoke.statusCode, 204);
    const revoked = await app.inject(`/v1/join/${fed.token}/info`);
    assert.equal(revoked.statusCode, 401);
    assert.equal(revoked.json().code, 'MUTUA_ERR_TOKEN_REVOKED');

    const other = await createFederation(app);
    await app.inject({ method: 'DELETE', url: `/v1/federations/${other.id}`, headers: auth });
    const gone = await app.inject(`/v1/join/${other.token}/info`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().code, 'MUTUA_ERR_NOT_FOUND');
  });

  test('demo-shard: n labeled samples in mutua-shard-v1, reproducible by seed, coded errors', async (t) => {
    const { app } = await startServer(t, { database });
    const fed = await createFederation(app);
    const res = await app.inject(`/v1/join/${fed.token}/demo-shard?n=20&seed=42`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['x-mutua-shard-seed'], '42');
    assert.equal(res.headers['x-mutua-shard-format'], 'mutua-shard-v1');
    const bytes = res.rawPayload;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(view.getUint32(0, true), MAGIC);
    assert.equal(view.getUint32(4, true), 20);
    assert.equal(view.getUint16(8, true), 10);
    assert.equal(view.getUint8(10), 3);
    assert.equal(bytes.byteLength, 12 + 12 + 20 + 20 * 784);
    const again = await app.inject(`/v1/join/${fed.token}/demo-shard?n=20&seed=42`);
    assert.deepEqual(again.rawPayload, bytes);
    const random = await app.inject(`/v1/join/${fed.token}/demo-shard?n=5`);
    assert.match(random.headers['x-mutua-shard-seed'] as string, /^\d+$/);

    const tooMany = await app.inject(`/v1/join/${fed.token}/demo-shard?n=100000`);
    assert.equal(tooMany.statusCode, 400);
    assert.equal((await app.inject('/v1/join/nope/demo-shard')).statusCode, 401);

    // A federation over an uploaded public set has no demo data.
    const csv = `${Array.from({ length: 4 }, (_, i) => `${i % 2},${'0,'.repeat(15)}1`).join('\n')}\n`;
    const up = await app.inject({
      method: 'PUT',
      url: '/v1/public-sets?format=csv&shape=4x4x1',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(csv),
    });
    assert.ok(up.statusCode === 201 || up.statusCode === 200, up.body);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/federations',
      headers: auth,
      payload: {
        name: 'uploaded',
        publicSetId: up.json().id,
        settings: { task: { inputShape: [4, 4, 1], numClasses: 2 }, batchSize: 4 },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const tok = await app.inject({
      method: 'POST',
      url: `/v1/federations/${created.json().id}/tokens`,
      headers: auth,
      payload: {},
    });
    const info = (await app.inject(`/v1/join/${tok.json().token}/info`)).json();
    assert.equal(info.demo.available, false);
    const none = await app.inject(`/v1/join/${tok.json().token}/demo-shard`);
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().code, 'MUTUA_ERR_NO_DEMO_DATA');
  });
});
