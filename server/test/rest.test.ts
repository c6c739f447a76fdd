// The admin REST API through app.inject(), route by route, plus /docs/json, /healthz and
// /metrics. One coordinator per database kind; each test makes its own federations.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, it } from 'node:test';
import { encodePublicSet, readPublicSetHeader } from '@mutua/proto';
import type { LightMyRequestResponse } from 'fastify';
import {
  auth,
  createFederation,
  describeEachDatabase,
  getJson,
  startServer,
  type TestServer,
  until,
} from './helper.ts';
import { TestClient } from './test-client.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Asserts an error response: status, stable code, and that the message mentions each of `mentions`. */
function assertError(res: LightMyRequestResponse, status: number, code: string, ...mentions: string[]): void {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json();
  assert.equal(body.statusCode, status);
  assert.equal(body.code, code, res.body);
  assert.equal(typeof body.message, 'string');
  for (const m of mentions) assert.ok(body.message.includes(m), `"${body.message}" should mention "${m}"`);
}

/** An IDX uint8 images file: n samples of rows x cols. */
function idxImages(n: number, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(4 + 12 + n * rows * cols);
  const view = new DataView(out.buffer);
  view.setUint8(2, 0x08); // uint8
  view.setUint8(3, 3); // three dimensions
  view.setUint32(4, n);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  for (let i = 16; i < out.length; i++) out[i] = (i * 37) & 0xff;
  return out;
}

describeEachDatabase('admin REST API', (database) => {
  let s: TestServer;
  before(async () => {
    s = await startServer(null, { database });
  });
  after(() => s?.close());

  const create = (payload: unknown) =>
    s.app.inject({ method: 'POST', url: '/v1/federations', headers: auth, payload: payload as object });
  const slice = { dataset: 'mnist', split: 'test', offset: 0, count: 64 };

  it('every admin route answers 401 MUTUA_ERR_UNAUTHORIZED without the admin token, or with a wrong one', async () => {
    const doc = (await s.app.inject({ url: '/docs/json' })).json();
    const fake = 'f'.repeat(64);
    let checked = 0;
    for (const [path, ops] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.security) continue;
        const url = path.replace(/\{[^}]+\}/g, fake);
        const none = await s.app.inject({ method: method.toUpperCase() as 'GET', url });
        assertError(none, 401, 'MUTUA_ERR_UNAUTHORIZED', 'Authorization: Bearer');
        const wrong = await s.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { authorization: 'Bearer not-the-admin-token' },
        });
        assertError(wrong, 401, 'MUTUA_ERR_UNAUTHORIZED', 'wrong admin token');
        const notBearer = await s.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` },
        });
        assert.equal(notBearer.statusCode, 401);
        checked++;
      }
    }
    assert.ok(checked >= 17, `only ${checked} admin operations documented`);
  });

  it('federations: create (built-in slice or existing public set), list, get, pause, resume, delete', async () => {
    const res = await create({ name: 'digits', publicSet: slice, settings: { batchSize: 16 } });
    assert.equal(res.statusCode, 201, res.body);
    const f = res.json();
    assert.match(f.id, /\S/);
    assert.equal(f.name, 'digits');
    assert.equal(f.status, 'active');
    assert.equal(f.settings.mode, 'sync', 'defaults filled in');
    assert.equal(f.settings.strategy, 'mutual');
    assert.equal(f.settings.batchSize, 16);
    assert.deepEqual(f.settings.task.inputShape, [28, 28, 1]);
    assert.equal(f.publicSet.sampleCount, 64);
    assert.deepEqual(f.publicSet.shape, [28, 28, 1]);
    assert.match(f.publicSet.id, /^[0-9a-f]{64}$/);
    assert.equal(f.publicSet.url, `/v1/public-sets/${f.publicSet.id}`);
    assert.equal(f.currentRound, 0);
    assert.equal(f.participantsOnline, 0);

    const again = await create({ name: 'same data', publicSetId: f.publicSet.id });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json().publicSet.id, f.publicSet.id, 'content-addressed: one stored set');

    const list = await getJson<{ id: string }[]>(s.app, '/v1/federations');
    assert.ok(list.some((x) => x.id === f.id));
    assert.ok(list.some((x) => x.id === again.json().id));
    assert.deepEqual(await getJson(s.app, `/v1/federations/${f.id}`), f);

    const paused = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${f.id}/pause`,
      headers: auth,
    });
    assert.equal(paused.statusCode, 200);
    assert.equal(paused.json().status, 'paused');
    assert.equal((await getJson<{ status: string }>(s.app, `/v1/federations/${f.id}`)).status, 'paused');
    const resumed = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${f.id}/resume`,
      headers: auth,
    });
    assert.equal(resumed.json().status, 'active');

    const del = await s.app.inject({ method: 'DELETE', url: `/v1/federations/${f.id}`, headers: auth });
    assert.equal(del.statusCode, 204);
    assert.equal(del.body, '');
    assertError(
      await s.app.inject({ url: `/v1/federations/${f.id}`, headers: auth }),
      404,
      'MUTUA_ERR_NOT_FOUND',
      f.id,
    );
    const after = await getJson<{ id: string }[]>(s.app, '/v1/federations');
    assert.ok(!after.some((x) => x.id === f.id), 'a deleted federation is not listed');
    for (const action of ['pause', 'resume']) {
      const r = await s.app.inject({
        method: 'POST',
        url: `/v1/federations/${f.id}/${action}`,
        headers: auth,
      });
      assertError(r, 404, 'MUTUA_ERR_NOT_FOUND');
    }
    const twice = await s.app.inject({ method: 'DELETE', url: `/v1/federations/${f.id}`, headers: auth });
    assertError(twice, 404, 'MUTUA_ERR_NOT_FOUND');
  });

  it('listing federations costs two queries, not one per federation', async () => {
    for (let i = 0; i < 3; i++) await createFederation(s.app);
    const { federations, publicSets } = s.app.db;
    const calls: string[] = [];
    const spies = [
      [federations, ['get', 'list']],
      [publicSets, ['get', 'getMany', 'list']],
    ] as const;
    const originals: (() => void)[] = [];
    for (const [repo, names] of spies) {
      for (const name of names) {
        const target = repo as unknown as Record<string, (...args: unknown[]) => unknown>;
        const original = target[name]!;
        target[name] = function (this: unknown, ...args: unknown[]) {
          calls.push(name);
          return original.apply(this, args);
        };
        originals.push(() => {
          target[name] = original;
        });
      }
    }
    let list: { publicSet: { id: string } | null }[];
    try {
      list = await getJson(s.app, '/v1/federations');
    } finally {
      for (const restore of originals) restore();
    }
    assert.ok(list.length >= 3);
    assert.ok(
      list.every((f) => f.publicSet?.id),
      'every federation shows its public set',
    );
    assert.deepEqual(calls, ['list', 'getMany']);
  });

  it('create: validation errors are 400 with a message that names what to fix', async () => {
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { bufferK: 3 } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'bufferK',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { async: { bufferK: 3, maxStalenes: 2 } } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'maxStalenes',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { mode: 'turbo' } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'mode',
      'sync',
      'async',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { aggregation: 'average' } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'aggregation',
      'trimmed-mean',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { batchSize: '16' } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'batchSize',
      'integer',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { temperature: 0 } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'temperature',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { distillEpochs: -1 } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'distillEpochs',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { distillEpochs: 1.5 } }),
      400,
      'MUTUA_ERR_VALIDATION',
      'distillEpochs',
    );
    assertError(await create({ publicSet: slice }), 400, 'MUTUA_ERR_VALIDATION', 'name');
    assertError(
      await create({
        name: 'x',
        publicSet: slice,
        settings: { strategy: 'fedavg', mode: 'async', modelArch: 'mlp' },
      }),
      400,
      'MUTUA_ERR_BAD_SETTINGS',
      'fedavg',
      'sync',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, settings: { strategy: 'fedavg' } }),
      400,
      'MUTUA_ERR_BAD_SETTINGS',
      'modelArch',
    );
    assertError(
      await create({
        name: 'x',
        publicSet: slice,
        settings: { task: { inputShape: [784], numClasses: 10 } },
      }),
      400,
      'MUTUA_ERR_BAD_SETTINGS',
      '28x28x1',
      '784',
    );
    assertError(
      await create({
        name: 'x',
        publicSet: slice,
        settings: { task: { numClasses: 10, labelNames: ['a', 'b'] } },
      }),
      400,
      'MUTUA_ERR_BAD_SETTINGS',
      'labelNames',
    );
    assertError(
      await create({ name: 'x', publicSet: slice, publicSetId: 'a'.repeat(64) }),
      400,
      'MUTUA_ERR_BAD_REQUEST',
      'publicSetId',
    );
    assertError(await create({ name: 'x' }), 400, 'MUTUA_ERR_BAD_REQUEST', 'publicSet');
    assertError(
      await create({ name: 'x', publicSetId: 'a'.repeat(64) }),
      404,
      'MUTUA_ERR_NOT_FOUND',
      'a'.repeat(64),
    );
    assertError(
      await create({ name: 'x', publicSet: { ...slice, offset: 9990, count: 64 } }),
      400,
      'MUTUA_ERR_BAD_REQUEST',
      '10000',
    );
    const notJson = await s.app.inject({
      method: 'POST',
      url: '/v1/federations',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    assert.equal(notJson.statusCode, 400);
    assert.equal(typeof notJson.json().message, 'string');
  });

  it('404 for unknown federations on every federation route', async () => {
    const id = 'no-such-federation';
    for (const [method, url] of [
      ['GET', `/v1/federations/${id}`],
      ['POST', `/v1/federations/${id}/pause`],
      ['POST', `/v1/federations/${id}/resume`],
      ['DELETE', `/v1/federations/${id}`],
      ['POST', `/v1/federations/${id}/tokens`],
      ['GET', `/v1/federations/${id}/tokens`],
      ['DELETE', `/v1/federations/${id}/tokens/x`],
      ['GET', `/v1/federations/${id}/participants`],
      ['DELETE', `/v1/federations/${id}/participants/x`],
      ['GET', `/v1/federations/${id}/rounds`],
      ['GET', `/v1/federations/${id}/metrics`],
      ['GET', `/v1/federations/${id}/traffic`],
    ] as const) {
      assertError(await s.app.inject({ method, url, headers: auth }), 404, 'MUTUA_ERR_NOT_FOUND');
    }
    const route = await s.app.inject({ url: '/v1/nothing-here', headers: auth });
    assert.equal(route.statusCode, 404);
  });

  it('a federation deleted while another request works on it: 404 (never a 500), and it stays deleted', async () => {
    const fed = await createFederation(s.app);
    const repo = s.app.db.federations;
    const setStatus = repo.setStatus;
    // The DELETE lands after the pause has begun and before its write: the race, made deterministic.
    let raced = false;
    repo.setStatus = async function (this: typeof repo, id, status, at) {
      if (status === 'paused' && !raced) {
        raced = true;
        const del = await s.app.inject({ method: 'DELETE', url: `/v1/federations/${id}`, headers: auth });
        assert.equal(del.statusCode, 204, del.body);
      }
      return setStatus.call(this, id, status, at);
    };
    try {
      const paused = await s.app.inject({
        method: 'POST',
        url: `/v1/federations/${fed.id}/pause`,
        headers: auth,
      });
      assert.ok(raced, 'the delete ran inside the pause');
      assertError(paused, 404, 'MUTUA_ERR_NOT_FOUND', fed.id);
    } finally {
      repo.setStatus = setStatus;
    }
    assertError(
      await s.app.inject({ url: `/v1/federations/${fed.id}`, headers: auth }),
      404,
      'MUTUA_ERR_NOT_FOUND',
    );
    const all = await getJson<{ id: string }[]>(s.app, '/v1/federations');
    assert.ok(!all.some((x) => x.id === fed.id), 'the pause did not bring the deleted federation back');
    const stored = await s.app.db.federations.get(fed.id);
    assert.equal(stored?.status, 'deleted');
    assert.ok(stored?.deletedAt instanceof Date);

    // Reads that began before the delete answer what they read, or 404: never a 500.
    const get = repo.get;
    for (const path of ['', '/tokens', '/participants', '/rounds', '/metrics', '/traffic']) {
      const other = await createFederation(s.app);
      let deleted = false;
      repo.get = async function (this: typeof repo, id) {
        const row = await get.call(this, id);
        if (id === other.id && !deleted) {
          deleted = true;
          await s.app.inject({ method: 'DELETE', url: `/v1/federations/${id}`, headers: auth });
        }
        return row;
      };
      try {
        const res = await s.app.inject({ url: `/v1/federations/${other.id}${path}`, headers: auth });
        assert.ok(deleted, `${path}: the delete ran inside the read`);
        assert.ok(res.statusCode === 200 || res.statusCode === 404, `${path}: ${res.statusCode} ${res.body}`);
      } finally {
        repo.get = get;
      }
    }
  });

  it('join tokens: issued once in clear, listed without the secret, revoked', async () => {
    const fed = await createFederation(s.app);
    const issued = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/tokens`,
      headers: auth,
      payload: { label: 'lab laptop', expiresInSeconds: 3600 },
    });
    assert.equal(issued.statusCode, 201);
    const tok = issued.json();
    assert.match(tok.token, /^mutua_[A-Za-z0-9_-]{20,}$/);
    assert.equal(tok.label, 'lab laptop');
    assert.ok(Date.parse(tok.expiresAt) > Date.now());
    const noBody = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/tokens`,
      headers: auth,
    });
    assert.equal(noBody.statusCode, 201, 'the body is optional');
    assertError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/federations/${fed.id}/tokens`,
        headers: auth,
        payload: { expiresInSeconds: 0 },
      }),
      400,
      'MUTUA_ERR_VALIDATION',
      'expiresInSeconds',
    );

    const list = await getJson<Record<string, unknown>[]>(s.app, `/v1/federations/${fed.id}/tokens`);
    assert.equal(list.length, 3);
    for (const t of list) assert.equal(t.token, undefined, 'the secret is never listed');
    assert.ok(list.some((t) => t.id === tok.id && t.label === 'lab laptop' && t.revokedAt === null));

    const revoke = await s.app.inject({
      method: 'DELETE',
      url: `/v1/federations/${fed.id}/tokens/${tok.id}`,
      headers: auth,
    });
    assert.equal(revoke.statusCode, 204);
    const listed = (
      await getJson<{ id: string; revokedAt: string | null }[]>(s.app, `/v1/federations/${fed.id}/tokens`)
    ).find((t) => t.id === tok.id);
    assert.ok(listed?.revokedAt, 'revokedAt is set');
    assertError(
      await s.app.inject({ method: 'DELETE', url: `/v1/federations/${fed.id}/tokens/nope`, headers: auth }),
      404,
      'MUTUA_ERR_NOT_FOUND',
    );
    const other = await createFederation(s.app);
    assertError(
      await s.app.inject({
        method: 'DELETE',
        url: `/v1/federations/${other.id}/tokens/${fed.tokenId}`,
        headers: auth,
      }),
      404,
      'MUTUA_ERR_NOT_FOUND',
    );
  });

  it('participants, rounds, reported metrics and traffic after a real round', async (t) => {
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const c = await TestClient.join(s.wsUrl, {
      joinToken: fed.token,
      name: 'alice',
      modelArch: 'cnn-small',
      kind: 1,
    });
    t.after(() => c.close());
    await c.completeRound(1, 4);
    c.send({ metrics: { round: 1, metrics: { testAccuracy: 0.8, trainLoss: 0.25 } } });
    // MetricsReport is not acknowledged: a heartbeat reply after it proves it was handled (one connection is ordered).
    await c.reply(c.send({ heartbeat: { unixMs: Date.now() } }));

    const parts = await getJson<Record<string, unknown>[]>(s.app, `/v1/federations/${fed.id}/participants`);
    assert.equal(parts.length, 1);
    const p = parts[0]!;
    assert.equal(p.id, c.welcome!.participantId);
    assert.equal(p.name, 'alice');
    assert.equal(p.kind, 'node');
    assert.equal(p.modelArch, 'cnn-small');
    assert.equal(p.online, true);
    assert.ok(Date.parse(p.firstSeenAt as string) <= Date.parse(p.lastSeenAt as string));
    assert.ok((p.bytesIn as number) > 0 && (p.bytesOut as number) > 0);

    const rounds = await getJson<Record<string, unknown>[]>(s.app, `/v1/federations/${fed.id}/rounds`);
    assert.equal(rounds.length, 2);
    assert.deepEqual(
      {
        ...rounds[0],
        openedAt: undefined,
        closedAt: undefined,
        aggregationMs: undefined,
        bytesReceived: undefined,
      },
      {
        number: 1,
        status: 'closed',
        closeReason: 'quorum',
        batchSize: 16,
        submissions: 1,
        openedAt: undefined,
        closedAt: undefined,
        aggregationMs: undefined,
        bytesReceived: undefined,
      },
    );
    assert.ok(typeof rounds[0]!.aggregationMs === 'number');
    // The accepted upload's frame, counted from the stored submission.
    assert.ok((rounds[0]!.bytesReceived as number) > 0, `bytesReceived ${rounds[0]!.bytesReceived}`);
    assert.ok((rounds[0]!.bytesReceived as number) <= (p.bytesIn as number));
    assert.equal(rounds[1]!.number, 2);
    assert.equal(rounds[1]!.status, 'open');
    const from2 = await getJson<{ number: number }[]>(s.app, `/v1/federations/${fed.id}/rounds?from=2`);
    assert.deepEqual(
      from2.map((r) => r.number),
      [2],
    );
    const limited = await getJson<{ number: number }[]>(s.app, `/v1/federations/${fed.id}/rounds?limit=1`);
    assert.deepEqual(
      limited.map((r) => r.number),
      [1],
    );
    assertError(
      await s.app.inject({ url: `/v1/federations/${fed.id}/rounds?limit=0`, headers: auth }),
      400,
      'MUTUA_ERR_VALIDATION',
      'limit',
    );

    const metrics = await getJson<{ round: number; source: string; metrics: Record<string, number> }[]>(
      s.app,
      `/v1/federations/${fed.id}/metrics`,
    );
    const sub = metrics.find((m) => m.source === 'submission');
    assert.equal(sub?.round, 1);
    assert.equal(sub?.metrics.trainLoss, 0.5);
    assert.equal(sub?.metrics.samples, 100);
    const rep = metrics.find((m) => m.source === 'report');
    assert.equal(rep?.metrics.testAccuracy, 0.8);
    assert.deepEqual(await getJson(s.app, `/v1/federations/${fed.id}/metrics?from=2`), []);

    const traffic = await getJson<{
      bytesIn: number;
      bytesOut: number;
      participants: { id: string; bytesIn: number; bytesOut: number }[];
    }>(s.app, `/v1/federations/${fed.id}/traffic`);
    assert.equal(traffic.participants.length, 1);
    assert.equal(traffic.participants[0]!.id, p.id);
    assert.equal(traffic.bytesIn, traffic.participants[0]!.bytesIn);
    assert.equal(traffic.bytesOut, traffic.participants[0]!.bytesOut);
    assert.ok(traffic.bytesIn > 16 * 10, 'at least one uint8 upload of 16x10');

    const removed = await s.app.inject({
      method: 'DELETE',
      url: `/v1/federations/${fed.id}/participants/${p.id}`,
      headers: auth,
    });
    assert.equal(removed.statusCode, 204);
    const err = await c.error(12); // TOKEN_REVOKED
    assert.equal(err.fatal, true);
    assert.equal((await c.waitClose()).code, 4003);
    assert.deepEqual(await getJson(s.app, `/v1/federations/${fed.id}/participants`), []);
    const still = await getJson<{ participants: unknown[] }>(s.app, `/v1/federations/${fed.id}/traffic`);
    assert.equal(still.participants.length, 1, 'traffic history keeps removed participants');
    assertError(
      await s.app.inject({
        method: 'DELETE',
        url: `/v1/federations/${fed.id}/participants/nobody`,
        headers: auth,
      }),
      404,
      'MUTUA_ERR_NOT_FOUND',
    );
  });

  it('public sets: built-in slice, IDX, CSV and mutua-public-v1 uploads, list, download with ETag and 304', async () => {
    const post = (payload: object) =>
      s.app.inject({ method: 'POST', url: '/v1/public-sets', headers: auth, payload });
    const put = (query: string, body: Uint8Array | string) =>
      s.app.inject({
        method: 'PUT',
        url: `/v1/public-sets?${query}`,
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(body),
      });

    const built = await post({ dataset: 'mnist', split: 'test', offset: 500, count: 20 });
    assert.equal(built.statusCode, 201, built.body);
    assert.equal(built.json().sampleCount, 20);
    assert.deepEqual(built.json().shape, [28, 28, 1]);
    assert.equal(built.json().format, 'mutua-public-v1');
    assert.equal(built.json().source, 'mnist:test[500:520]');
    const same = await post({ dataset: 'mnist', split: 'test', offset: 500, count: 20 });
    assert.equal(same.statusCode, 200, 'the same content again is not a new set');
    assert.equal(same.json().id, built.json().id);
    assertError(await post({ dataset: 'cifar' }), 400, 'MUTUA_ERR_VALIDATION', 'dataset', 'mnist');

    const idx = await put('format=idx&name=digits.idx', idxImages(3, 2, 2));
    assert.equal(idx.statusCode, 201, idx.body);
    assert.equal(idx.json().sampleCount, 3);
    assert.deepEqual(idx.json().shape, [2, 2, 1]);
    assert.equal(idx.json().source, 'upload:digits.idx');

    const csv = await put('format=csv&shape=2x2x1', 'label,p0,p1,p2,p3\n0,0,128,255,64\n1,1,2,3,4\n');
    assert.equal(csv.statusCode, 201, csv.body);
    assert.equal(csv.json().sampleCount, 2);
    assert.deepEqual(csv.json().shape, [2, 2, 1]);
    const csvFlat = await put('format=csv', 'label,a,b,c\n1,0.5,0.25,0.125\n');
    assert.equal(csvFlat.statusCode, 201, csvFlat.body);
    assert.deepEqual(csvFlat.json().shape, [3]);

    const file = encodePublicSet({
      x: Uint8Array.from({ length: 4 * 6 }, (_, i) => i),
      sampleCount: 4,
      shape: [6],
      dtype: 'uint8',
    });
    const native = await put('format=mutua-public-v1', file);
    assert.equal(native.statusCode, 201, native.body);
    assert.equal(native.json().id, sha256(file), 'a mutua-public-v1 file is stored byte for byte');
    assert.equal(native.json().byteLength, file.byteLength);

    assertError(await put('format=idx', new Uint8Array([0, 0, 8, 3, 0])), 400, 'DATA_IDX_TRUNCATED');
    assertError(await put('format=parquet', 'x'), 400, 'MUTUA_ERR_VALIDATION', 'format', 'csv');
    assertError(
      await put('format=csv&shape=2x2', 'label,a,b,c\n1,0,0,0\n'),
      400,
      'DATA_CSV_SHAPE_MISMATCH',
      'shape',
    );
    const truncated = await put('format=mutua-public-v1', file.subarray(0, file.byteLength - 1));
    assert.equal(truncated.statusCode, 400, truncated.body);

    const list = await getJson<{ id: string }[]>(s.app, '/v1/public-sets');
    for (const r of [built, idx, csv, csvFlat, native]) assert.ok(list.some((x) => x.id === r.json().id));

    // A participant's download: no token, content-addressed, cacheable forever.
    for (const r of [built, idx, csv, native]) {
      const { id, url, byteLength } = r.json();
      const dl = await s.app.inject({ url });
      assert.equal(dl.statusCode, 200);
      assert.equal(dl.headers['content-type'], 'application/octet-stream');
      assert.equal(dl.headers.etag, `"${id}"`);
      assert.match(String(dl.headers['cache-control']), /immutable/);
      assert.equal(dl.rawPayload.byteLength, byteLength);
      assert.equal(sha256(dl.rawPayload), id, 'the body hashes to its id');
      const header = readPublicSetHeader(new Uint8Array(dl.rawPayload));
      assert.equal(header.sampleCount, r.json().sampleCount);
      const cached = await s.app.inject({ url, headers: { 'if-none-match': `"${id}"` } });
      assert.equal(cached.statusCode, 304);
      assert.equal(cached.rawPayload.byteLength, 0);
      const weak = await s.app.inject({ url, headers: { 'if-none-match': `"x", W/"${id}"` } });
      assert.equal(weak.statusCode, 304, 'If-None-Match lists and weak validators match too');
      const stale = await s.app.inject({ url, headers: { 'if-none-match': '"something-else"' } });
      assert.equal(stale.statusCode, 200);
    }
    const missing = await s.app.inject({ url: `/v1/public-sets/${'0'.repeat(64)}` });
    assertError(missing, 404, 'MUTUA_ERR_NOT_FOUND');
    assert.ok(
      !String(missing.headers['cache-control'] ?? '').includes('immutable'),
      'a 404 is not cached forever',
    );
    const missingCached = await s.app.inject({
      url: `/v1/public-sets/${'0'.repeat(64)}`,
      headers: { 'if-none-match': `"${'0'.repeat(64)}"` },
    });
    assert.equal(missingCached.statusCode, 404, 'no 304 for a set that does not exist');
    assertError(await s.app.inject({ url: '/v1/public-sets/not-a-hash' }), 400, 'MUTUA_ERR_VALIDATION', 'id');
  });

  it('/docs is the OpenAPI page: Swagger UI from the package, same-origin only, allowed by the CSP', async () => {
    const page = await s.app.inject({ url: '/docs' });
    const html =
      page.statusCode === 302
        ? await s.app.inject({ url: new URL(page.headers.location as string, 'http://x/docs/').pathname })
        : page;
    assert.equal(html.statusCode, 200);
    assert.match(String(html.headers['content-type']), /text\/html/);
    assert.match(html.body, /swagger-ui/);
    const csp = String(html.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/, 'the CSP of every page applies');
    const scripts = [...html.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(scripts.length > 0, 'the page loads scripts');
    assert.doesNotMatch(
      html.body,
      /<script(?![^>]*src=)[^>]*>\s*\S/,
      'no inline script (the CSP would block it)',
    );
    for (const src of scripts) {
      assert.ok(!/^(https?:)?\/\//.test(src), `${src} is same-origin (no CDN)`);
      const res = await s.app.inject({ url: new URL(src, 'http://x/docs/').pathname });
      assert.equal(res.statusCode, 200, src);
      assert.match(String(res.headers['content-type']), /javascript/, src);
    }
    const init = await s.app.inject({ url: '/docs/static/swagger-initializer.js' });
    assert.ok(
      init.body.includes("resolveUrl('./json')"),
      "the UI reads this coordinator's document (/docs/json)",
    );
  });

  it('/docs/json is an OpenAPI 3 document listing every route, with resolvable references', async () => {
    const res = await s.app.inject({ url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.components.securitySchemes.adminToken, { type: 'http', scheme: 'bearer' });
    const expected: Record<string, string[]> = {
      '/v1/federations': ['get', 'post'],
      '/v1/federations/{id}': ['delete', 'get'],
      '/v1/federations/{id}/pause': ['post'],
      '/v1/federations/{id}/resume': ['post'],
      '/v1/federations/{id}/tokens': ['get', 'post'],
      '/v1/federations/{id}/tokens/{tokenId}': ['delete'],
      '/v1/federations/{id}/participants': ['get'],
      '/v1/federations/{id}/participants/{participantId}': ['delete'],
      '/v1/federations/{id}/rounds': ['get'],
      '/v1/federations/{id}/metrics': ['get'],
      '/v1/federations/{id}/traffic': ['get'],
      '/v1/public-sets': ['get', 'post', 'put'],
      '/v1/public-sets/{id}': ['get'],
      '/healthz': ['get'],
      '/metrics': ['get'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      assert.ok(doc.paths[path], `${path} is documented`);
      assert.deepEqual(Object.keys(doc.paths[path]).sort(), methods, path);
    }
    assert.equal(doc.paths['/v1/ws'], undefined, 'the WebSocket is documented in PROTOCOL.md, not here');
    assert.equal(doc.paths['/docs/json'], undefined);
    const download = doc.paths['/v1/public-sets/{id}'].get.responses;
    for (const code of ['200', '304', '404'])
      assert.ok(
        download[code] ?? download['4XX'] ?? download['4xx'],
        `public-set download documents ${code}`,
      );
    assert.ok(download['304'], 'the conditional GET (304) is documented');

    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    for (const [path, ops] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
      assert.ok(path.startsWith('/'));
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(methods.has(method), `${method} ${path}`);
        const responses = op.responses as Record<string, { description?: string }>;
        assert.ok(responses && Object.keys(responses).length > 0, `${method} ${path} has responses`);
        for (const [code, r] of Object.entries(responses)) {
          assert.match(code, /^([1-5](\d\d|XX)|default)$/, `${method} ${path} response ${code}`);
          assert.equal(typeof r.description, 'string', `${method} ${path} ${code} has a description`);
        }
        const params = (op.parameters ?? []) as { name: string; in: string; required?: boolean }[];
        for (const name of templated) {
          const p = params.find((x) => x.in === 'path' && x.name === name);
          assert.ok(p?.required, `${method} ${path}: path parameter ${name} declared and required`);
        }
        if (op.security)
          assert.deepEqual(op.security, [{ adminToken: [] }], `${method} ${path} names its security scheme`);
      }
    }
    // Every $ref points into the document.
    const refs: string[] = [];
    (function walk(v: unknown) {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.push(x as string) : walk(x);
    })(doc);
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      assert.match(ref, /^#\//, ref);
      let node: unknown = doc;
      for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)?.[part];
      assert.ok(node, `${ref} resolves`);
    }
  });

  it('/healthz reports the database', async () => {
    const res = await s.app.inject({ url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'ok');
    assert.equal(res.json().database, 'up');
    assert.equal(typeof res.json().uptimeSeconds, 'number');
  });

  it('/metrics is Prometheus text with the documented metric names', async (t) => {
    // Some traffic first, so labelled series exist.
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const c = await TestClient.join(s.wsUrl, { joinToken: fed.token });
    t.after(() => c.close());
    await c.completeRound();
    await c.error(25, c.upload(99, 16)); // UNKNOWN_ROUND: a rejection by code

    const res = await s.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.ok(text.endsWith('\n'));
    const types = new Map<string, string>();
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('# HELP ')) continue;
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) {
        assert.ok(!types.has(type[1]!), `${type[1]} typed once`);
        types.set(type[1]!, type[2]!);
        continue;
      }
      const m = sample.exec(line);
      assert.ok(m, `not a Prometheus sample line: ${line}`);
      const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
      assert.ok(types.has(m[1]!) || types.has(base), `${m[1]} sampled after its # TYPE`);
    }
    for (const [name, type] of [
      ['mutua_connections', 'gauge'],
      ['mutua_participants_online', 'gauge'],
      ['mutua_rounds_opened_total', 'counter'],
      ['mutua_rounds_closed_total', 'counter'],
      ['mutua_submissions_total', 'counter'],
      ['mutua_duplicate_submissions_total', 'counter'],
      ['mutua_rejections_total', 'counter'],
      ['mutua_bytes_received_total', 'counter'],
      ['mutua_bytes_sent_total', 'counter'],
      ['mutua_aggregation_seconds', 'histogram'],
    ]) {
      assert.equal(types.get(name!), type, `${name} is a ${type}`);
    }
    assert.match(text, /^mutua_submissions_total\{kind="predictions"\} [1-9]/m);
    assert.match(text, /^mutua_rejections_total\{code="UNKNOWN_ROUND"\} [1-9]/m);
    assert.match(text, /^mutua_rounds_closed_total\{[^}]*reason="quorum"[^}]*\} [1-9]/m);
    assert.match(text, /^mutua_aggregation_seconds_count [1-9]/m);
    assert.match(text, /^mutua_aggregation_seconds_bucket\{le="\+Inf"\} [1-9]/m);
    assert.match(text, /^mutua_connections [1-9]/m);
    assert.match(text, new RegExp(`^mutua_participants_online\\{federation="${fed.id}"\\} 1$`, 'm'));
    c.close();
    await until(async () =>
      new RegExp(`^mutua_participants_online\\{federation="${fed.id}"\\} 0$`, 'm').test(
        (await s.app.inject({ url: '/metrics' })).body,
      ),
    );
  });
});
