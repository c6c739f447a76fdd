// The global student's routes (issue 15, item 4): the consensus targets with their public
// rows (admin; coded errors before there are any, and for FedAvg), and the student's
// upload (admin, checked against its weights manifest) and download (no token), which
// tf.loadLayersModel loads and which predicts as the model that was uploaded.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { useCpuBackend } from '@mutua/core/backend';
import { quantizedArtifacts } from '@mutua/core/compress';
import { createModel } from '@mutua/core/models';
import * as tf from '@tensorflow/tfjs';
import { auth, createFederation, describeEachDatabase, issueToken, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

// The models below run on tfjs's cpu backend (its default here), chosen explicitly so that
// tfjs's Node.js banner is not printed.
before(async () => {
  await useCpuBackend();
});

const C = 10;
/** Off-label mass of test-client predictions(): 0.1 spread over the 9 other classes. */
const LOW = 0.1 / (C - 1);

interface Targets {
  temperature: number;
  classes: number;
  rows: number;
  versions: { version: number; rows: number; contributors: number }[];
  skippedVersions: number;
  indices: number[];
  targets: string;
}

const floats = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return Float32Array.from({ length: b.byteLength / 4 }, (_, i) => b.readFloatLE(4 * i));
};

/** A small model and the upload body of its uint8 export. */
function studentBody(info: Record<string, unknown> = {}) {
  const model = createModel('mlp-tiny', { inputShape: [28, 28, 1], numClasses: C, seed: 7 });
  const a = quantizedArtifacts(model, 'uint8');
  const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(a.weightData!));
  const body = {
    model: {
      modelTopology: a.modelTopology,
      format: a.format,
      generatedBy: a.generatedBy,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    },
    weights: weights.toString('base64'),
    info: {
      arch: 'mlp-tiny',
      encoding: 'uint8',
      epochs: 1,
      temperature: 2,
      params: model.countParams(),
      rows: 32,
      consensusVersion: 2,
      targetAgreement: 0.5,
      ...info,
    },
  };
  return { model, body, weights };
}

describeEachDatabase('global student routes', (database) => {
  it('consensus targets: admin only, 404 / 409 with codes, then every round’s rows with the ensemble’s targets', async (t) => {
    const { app, wsUrl } = await startServer(t, { database });
    const get = (id: string, query = '', headers: Record<string, string> = auth) =>
      app.inject({ method: 'GET', url: `/v1/federations/${id}/consensus-targets${query}`, headers });

    const fed = await createFederation(app, { mode: 'sync', temperature: 2, sync: { minParticipants: 2 } });
    assert.equal((await get(fed.id, '', {})).statusCode, 401);
    const missing = await get('0193a1b2-0000-7000-8000-000000000000');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'MUTUA_ERR_NOT_FOUND');
    const none = await get(fed.id);
    assert.equal(none.statusCode, 409);
    assert.equal(none.json().code, 'MUTUA_ERR_NO_CONSENSUS');
    assert.match(none.json().message, /no consensus yet/);
    const bad = await get(fed.id, '?versions=0');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'MUTUA_ERR_VALIDATION');

    const fedavg = await createFederation(app, { strategy: 'fedavg', modelArch: 'mlp' });
    const wrong = await get(fedavg.id);
    assert.equal(wrong.statusCode, 409);
    assert.equal(wrong.json().code, 'MUTUA_ERR_NOT_MUTUAL');

    // Two participants, two rounds: one predicts class 1 everywhere, the other class 2.
    const clients: TestClient[] = [];
    t.after(() => {
      for (const c of clients) c.close();
    });
    for (const name of ['a', 'b']) {
      const { token } = await issueToken(app, fed.id);
      clients.push(await TestClient.join(wsUrl, { joinToken: token, name }));
    }
    await Promise.all(clients.map((c, i) => c.completeRound(1, i + 1)));
    await Promise.all(clients.map((c, i) => c.completeRound(2, i + 1)));

    const res = await get(fed.id);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Targets;
    assert.equal(body.temperature, 2);
    assert.equal(body.classes, C);
    assert.equal(body.skippedVersions, 0);
    assert.deepEqual(
      body.versions.map((v) => [v.version, v.contributors]),
      [
        [2, 2],
        [1, 2],
      ],
      'newest first, both participants in each',
    );
    // Batches of 16 drawn from 64 rows: distinct rows, newest target per row.
    assert.equal(body.versions[0]!.rows, 16);
    assert.ok(body.rows > 16 && body.rows <= 32, `rows ${body.rows}`);
    assert.equal(body.indices.length, body.rows);
    assert.equal(new Set(body.indices).size, body.rows);
    assert.ok(body.indices.every((i) => Number.isInteger(i) && i >= 0 && i < 64));
    const q = floats(body.targets);
    assert.equal(q.length, body.rows * C);
    // The ensemble of ALL participants (not a leave-one-out): half class 1, half class 2.
    for (let r = 0; r < body.rows; r++) {
      assert.ok(Math.abs(q[r * C + 1]! - (0.9 + LOW) / 2) < 0.01, `row ${r} class 1: ${q[r * C + 1]}`);
      assert.ok(Math.abs(q[r * C + 2]! - (0.9 + LOW) / 2) < 0.01, `row ${r} class 2: ${q[r * C + 2]}`);
      assert.ok(Math.abs(q[r * C]! - LOW) < 0.01);
    }

    const newest = (await get(fed.id, '?versions=1')).json() as Targets;
    assert.deepEqual(
      newest.versions.map((v) => v.version),
      [2],
    );
    assert.equal(newest.rows, 16);
    assert.deepEqual(newest.indices, body.indices.slice(0, 16));
  });

  it('consensus targets stored by an older coordinator: rows from the source rounds when the length fits, else skipped', async (t) => {
    const { app } = await startServer(t, { database });
    const fed = await createFederation(app);
    const batch = [5, 9, 2, 40];
    const rows = Float32Array.from({ length: batch.length * C }, (_, k) => (k % C === k % 7 ? 0.91 : 0.01));
    const bytes = (a: Float32Array) =>
      new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
    await app.db.rounds.open({ federationId: fed.id, number: 101, batchIndices: batch });
    await app.db.rounds.open({ federationId: fed.id, number: 102, batchIndices: [1, 2, 3] });
    await app.db.consensus.save({
      federationId: fed.id,
      version: 101,
      sourceVersions: [101],
      payload: bytes(rows),
    });
    // Two rows where the batch has three (a part without contributions): not decodable.
    await app.db.consensus.save({
      federationId: fed.id,
      version: 102,
      sourceVersions: [102],
      payload: bytes(rows.subarray(0, 2 * C)),
    });
    const res = await app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/consensus-targets`,
      headers: auth,
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Targets;
    assert.equal(body.skippedVersions, 1);
    assert.deepEqual(
      body.versions.map((v) => v.version),
      [101],
    );
    assert.deepEqual(body.indices, batch);
    assert.deepEqual(floats(body.targets), rows);
  });

  it('student: upload checked and stored, download without a token loads and predicts as uploaded', async (t) => {
    const { app, url } = await startServer(t, { database });
    const fed = await createFederation(app);
    const put = (payload: unknown, headers: Record<string, string> = auth) =>
      app.inject({
        method: 'PUT',
        url: `/v1/federations/${fed.id}/student`,
        headers,
        payload: payload as object,
      });
    const { model, body, weights } = studentBody();
    t.after(() => model.dispose());

    assert.equal((await put(body, {})).statusCode, 401);
    const before = await app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/student`,
      headers: auth,
    });
    assert.equal(before.statusCode, 404);
    assert.equal(before.json().code, 'MUTUA_ERR_NO_STUDENT');
    const noFile = await app.inject({ method: 'GET', url: `/v1/federations/${fed.id}/student/model.json` });
    assert.equal(noFile.json().code, 'MUTUA_ERR_NO_STUDENT');

    // Refused with a reason: weights that do not match the manifest, non-base64, wrong format.
    const short = await put({
      ...body,
      weights: weights.subarray(0, weights.byteLength - 4).toString('base64'),
    });
    assert.equal(short.statusCode, 400);
    assert.equal(short.json().code, 'MUTUA_ERR_BAD_REQUEST');
    assert.match(short.json().message, /manifest describes \d+ bytes but weights\.bin has \d+/);
    const notB64 = await put({ ...body, weights: 'not base64!' });
    assert.equal(notB64.statusCode, 400);
    assert.match(notB64.json().message, /base64/);
    const format = await put({ ...body, model: { ...body.model, format: 'graph-model' } });
    assert.equal(format.statusCode, 400);
    assert.match(format.json().message, /layers-model/);
    const noInfo = await put({ model: body.model, weights: body.weights });
    assert.equal(noInfo.statusCode, 400);
    assert.equal(noInfo.json().code, 'MUTUA_ERR_VALIDATION');
    const elsewhere = await app.inject({
      method: 'PUT',
      url: '/v1/federations/0193a1b2-0000-7000-8000-000000000000/student',
      headers: auth,
      payload: body,
    });
    assert.equal(elsewhere.statusCode, 404);

    const up = await put(body);
    assert.equal(up.statusCode, 200, up.body);
    const view = up.json();
    assert.equal(view.weightBytes, weights.byteLength);
    assert.equal(view.info.arch, 'mlp-tiny');
    assert.match(view.sha256, /^[0-9a-f]{64}$/);
    assert.equal(view.modelUrl, `/v1/federations/${fed.id}/student/model.json`);
    const shown = await app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/student`,
      headers: auth,
    });
    assert.deepEqual(shown.json(), view);

    // The stock HTTP loader, no token: model.json, then weights.bin beside it.
    const loaded = await tf.loadLayersModel(`${url}${view.modelUrl}`);
    t.after(() => loaded.dispose());
    const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3);
    const [want, got] = tf.tidy(() => [
      (model.predict(x) as tf.Tensor).arraySync() as number[][],
      (loaded.predict(x) as tf.Tensor).arraySync() as number[][],
    ]);
    x.dispose();
    for (let r = 0; r < 8; r++)
      for (let k = 0; k < C; k++)
        assert.ok(
          Math.abs(want![r]![k]! - got![r]![k]!) < 0.05,
          `logit [${r}][${k}]: ${want![r]![k]} vs ${got![r]![k]}`,
        );

    // A new upload replaces the student.
    const again = await put({ ...body, info: { ...body.info, epochs: 9 } });
    assert.equal(again.json().info.epochs, 9);
  });
});
