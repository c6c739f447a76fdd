// Derived indices through the real WebSocket (PROTOCOL.md, "Derived indices"): a participant
// that offers them (Hello.supports_derived_indices) gets Tasks without predict_indices and
// Targets without indices, which it rebuilds with the batch rule; a participant that does
// not (an older client) keeps getting the lists, in the same federation, with the same rows.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodePredictions, expandTaskIndices, ProtocolError, publicBatch } from '@mutua/proto';
import { createFederation, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

it('derived indices are negotiated: lists are left out for new participants only, and rebuild exactly', async (t) => {
  const { app, wsUrl } = await startServer(t);
  const fed = await createFederation(app, { mode: 'sync', batchSize: 16, minParticipants: 2, seed: 9 });
  const fresh = await TestClient.connect(wsUrl);
  const old = await TestClient.connect(wsUrl);
  t.after(() => {
    fresh.close();
    old.close();
  });
  const wFresh = (await fresh.hello({ joinToken: fed.token, name: 'new', supportsDerivedIndices: true }))
    .envelope.welcome!;
  const wOld = (await old.hello({ joinToken: fed.token, name: 'old' })).envelope.welcome!;
  assert.equal(wFresh.derivedIndices, true);
  assert.equal(wOld.derivedIndices ?? false, false, 'an old participant is not told to derive');
  const rule = { sampleCount: wFresh.publicSet!.sampleCount!, batchSize: 16, seed: 9 };

  const rf1 = await fresh.task(1);
  const ro1 = await old.task(1);
  const tf1 = rf1.envelope.task!;
  const to1 = ro1.envelope.task!;
  assert.equal(tf1.indicesDerived, true);
  assert.equal(tf1.predictIndices?.length ?? 0, 0, 'the list is left out');
  assert.equal(to1.indicesDerived ?? false, false);
  assert.deepEqual(
    [...to1.predictIndices!],
    [...publicBatch(rule, 1)],
    'the old participant gets the rule’s batch',
  );
  assert.ok(
    ro1.bytes - rf1.bytes >= 16,
    `the derived Task is smaller (${rf1.bytes} against ${ro1.bytes} bytes)`,
  );

  assert.equal((await fresh.reply(fresh.upload(1, 16, { label: 2 }))).body, 'ack');
  assert.equal((await old.reply(old.upload(1, 16, { label: 5 }))).body, 'ack');

  const rf2 = await fresh.task(2);
  const ro2 = await old.task(2);
  const tf2 = rf2.envelope.task!;
  const to2 = ro2.envelope.task!;
  assert.deepEqual(tf2.targets!.indexVersions!.map(Number), [1], 'targets name the batch they cover');
  assert.equal(tf2.targets!.indices?.length ?? 0, 0);
  assert.equal(tf2.targets!.rows, 16);
  assert.deepEqual([...to2.targets!.indices!], [...publicBatch(rule, 1)]);
  assert.equal(to2.targets!.indexVersions?.length ?? 0, 0);
  // Rebuilt as a client does, the new participant's task is what the old one was sent, and its
  // targets are the leave-one-out of the old participant's class-5 rows.
  const full = expandTaskIndices(tf2, rule);
  assert.ok(!(full instanceof ProtocolError));
  assert.deepEqual([...full.predictIndices!], [...to2.predictIndices!]);
  assert.deepEqual([...full.targets!.indices!], [...to2.targets!.indices!]);
  const probs = decodePredictions(full.targets!.payload!, 16, 10, 'uint8');
  assert.ok(probs[5]! > 0.8, 'the other participant’s class 5');
  // 32 one-byte indices left out; the flag and the version list cost 5 bytes.
  assert.ok(
    ro2.bytes - rf2.bytes >= 27,
    `Task and Targets without lists (${rf2.bytes} against ${ro2.bytes} bytes)`,
  );
});

it('active rows keep their lists even for a participant that offers derived indices', async (t) => {
  const { app, wsUrl } = await startServer(t);
  const fed = await createFederation(app, { mode: 'sync', batchSize: 16, activeRows: 4 });
  const c = await TestClient.connect(wsUrl);
  t.after(() => c.close());
  const w = (
    await c.hello({ joinToken: fed.token, name: 'a', supportsDerivedIndices: true, supportsActiveRows: true })
  ).envelope.welcome!;
  assert.equal(w.derivedIndices, true, 'negotiated');
  const t1 = (await c.task(1)).envelope.task!;
  assert.equal(t1.indicesDerived ?? false, false, 'active rows are not the batch rule’s: the list travels');
  assert.equal(t1.predictIndices!.length, 4);
});

it('a fedavg federation does not negotiate derived indices', async (t) => {
  const { app, wsUrl } = await startServer(t);
  const fed = await createFederation(app, { strategy: 'fedavg', modelArch: 'mlp' });
  const c = await TestClient.connect(wsUrl);
  t.after(() => c.close());
  const r = await c.hello({
    joinToken: fed.token,
    name: 'f',
    supportsDerivedIndices: true,
    modelArch: 'mlp',
  });
  assert.equal(r.body, 'welcome');
  assert.equal(r.envelope.welcome!.derivedIndices ?? false, false);
});
