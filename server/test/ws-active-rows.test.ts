// Active rows through the real WebSocket: a participant that declares support
// (Hello.supports_active_rows) is told activeRows in its Welcome, predicts only the batch's
// active rows and gets targets on those only; a participant that does not (an older
// client) keeps getting full batches and targets on them, in the same federation.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createFederation, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

it('active rows are negotiated: new participants predict 4 of 16 rows, old ones the full batch', async (t) => {
  const { app, wsUrl } = await startServer(t);
  const fed = await createFederation(app, { mode: 'sync', batchSize: 16, activeRows: 4 });
  const fresh = await TestClient.connect(wsUrl);
  const old = await TestClient.connect(wsUrl);
  t.after(() => {
    fresh.close();
    old.close();
  });
  const wFresh = (await fresh.hello({ joinToken: fed.token, name: 'new', supportsActiveRows: true })).envelope
    .welcome!;
  const wOld = (await old.hello({ joinToken: fed.token, name: 'old' })).envelope.welcome!;
  assert.equal(wFresh.activeRows, 4, 'told it gets active rows');
  assert.equal(wFresh.federation!.activeRows, 4);
  assert.equal(wOld.activeRows ?? 0, 0, 'an old participant gets full batches');

  const tf = (await fresh.task(1)).envelope.task!;
  const to = (await old.task(1)).envelope.task!;
  assert.equal(tf.predictIndices!.length, 4);
  assert.equal(to.predictIndices!.length, 16);
  assert.deepEqual(
    [...to.predictIndices!.slice(0, 4)],
    [...tf.predictIndices!],
    'the active rows come first',
  );

  // The wrong row count is refused with a coded error; the right one is acknowledged.
  const wrong = await fresh.reply(fresh.upload(1, 16, { label: 2 }));
  assert.equal(wrong.body, 'error');
  assert.equal(wrong.envelope.error!.code, 20, 'BAD_SHAPE');
  assert.equal((await fresh.reply(fresh.upload(1, 4, { label: 2 }))).body, 'ack');
  assert.equal((await old.reply(old.upload(1, 16, { label: 5 }))).body, 'ack');

  const t2f = (await fresh.task(2)).envelope.task!;
  const t2o = (await old.task(2)).envelope.task!;
  assert.equal(t2f.predictIndices!.length, 4);
  assert.equal(t2o.predictIndices!.length, 16);
  // Targets: the new participant's cover round 1's active rows only, from the old one (class 5).
  assert.deepEqual([...t2f.targets!.indices!], [...tf.predictIndices!]);
  assert.equal(t2f.targets!.rows, 4);
  assert.ok(t2f.targets!.payload![5]! > 200, 'leave-one-out: the old participant’s class 5');
  // The old participant's cover the active rows (from the new one); nobody else predicted the rest.
  assert.deepEqual([...t2o.targets!.indices!], [...tf.predictIndices!]);
  assert.ok(t2o.targets!.payload![2]! > 200);

  // Round 2's active rows avoid round 1's rows, which were answered with full confidence
  // (score 0): unseen rows count as maximally uncertain.
  const seen = new Set(to.predictIndices!);
  const exploited = t2f.predictIndices!.slice(0, 3);
  for (const r of exploited) assert.ok(!seen.has(r), `row ${r} of round 1 was chosen again`);

  // A second old participant joining now gets the full batch and, not having contributed,
  // full-batch targets.
  const late = await TestClient.connect(wsUrl);
  t.after(() => late.close());
  await late.hello({ joinToken: fed.token, name: 'late' });
  const tl = (await late.task(2)).envelope.task!;
  assert.equal(tl.predictIndices!.length, 16);
  assert.equal(tl.targets!.rows, 16, 'active rows (everyone) plus the rest (the old participant)');
});

it('activeRows is refused above batchSize and for fedavg, with a clear message', async (t) => {
  const { app } = await startServer(t);
  await assert.rejects(createFederation(app, { batchSize: 16, activeRows: 32 }), /activeRows must be/);
  await assert.rejects(
    createFederation(app, { strategy: 'fedavg', modelArch: 'mlp', activeRows: 4 }),
    /activeRows needs the mutual strategy/,
  );
});
