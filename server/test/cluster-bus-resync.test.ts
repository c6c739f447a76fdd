// Core NATS delivers at most once: an upload announced by a non-owner while the owner's bus
// connection is down never reaches the owner. The upload is in the database (it was
// acknowledged), so when the owner's connection comes back it records, from the database,
// the uploads of its open versions that it lacks — and the round closes with everyone's.
// Two replicas in this process, on PostgreSQL and the NATS server the cluster test uses.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { NATS_URL, reachable } from './cluster-harness.ts';
import { auth, createFederation, startServer, type TestServer } from './helper.ts';
import { createPostgresDatabase } from './postgres.ts';
import { TestClient } from './test-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function owns(s: TestServer, federationId: string): Promise<boolean> {
  const res = await s.app.inject({ method: 'GET', url: '/readyz' });
  return (res.json() as { owns?: string[] }).owns?.includes(federationId) ?? false;
}

async function twoReplicas(t: TestContext) {
  assert.ok(await reachable(NATS_URL), `NATS with JetStream is not reachable at ${NATS_URL}`);
  const db = await createPostgresDatabase();
  t.after(() => db.drop());
  const clusterName = `resync-${randomBytes(4).toString('hex')}`;
  const replica = (id: string) =>
    startServer(t, {
      database: 'postgres',
      databaseUrl: db.url,
      natsUrl: NATS_URL,
      clusterName,
      replicaId: id,
      leaseMs: 3000,
    });
  const r1 = await replica('r1');
  const r2 = await replica('r2');
  // Two participants must both contribute: the round closes when every online one has.
  const fed = await createFederation(r1.app, { mode: 'sync', minParticipants: 2, recoveryGraceMs: 0 });
  let owner: TestServer | null = null;
  for (let i = 0; i < 100 && !owner; i++) {
    if (await owns(r1, fed.id)) owner = r1;
    else if (await owns(r2, fed.id)) owner = r2;
    else await sleep(100);
  }
  assert.ok(owner, 'one replica took the lease');
  const follower = owner === r1 ? r2 : r1;

  const a = await TestClient.connect(owner.wsUrl);
  const b = await TestClient.connect(follower.wsUrl);
  t.after(() => {
    a.close();
    b.close();
  });
  assert.equal((await a.hello({ joinToken: fed.token, name: 'a' })).body, 'welcome');
  assert.equal((await b.hello({ joinToken: fed.token, name: 'b' })).body, 'welcome');
  const ta = await a.validTask(1);
  const tb = await b.validTask(1);

  return { clusterName, fed, owner, follower, a, b, ta, tb };
}

describe('cluster: announcements lost on the bus', () => {
  it('is recovered from the database when the owner reconnects, and the round closes with it', {
    timeout: 60_000,
  }, async (t) => {
    const { clusterName, fed, owner, follower, a, b, ta, tb } = await twoReplicas(t);
    // The follower's announcement of b's upload is lost on the way (as core NATS may).
    const bus = follower.app.cluster!.bus;
    const publish = bus.publish.bind(bus);
    let dropped = 0;
    bus.publish = (subject, data) => {
      if (subject === `${clusterName}.up.${fed.id}` && dropped === 0) {
        dropped++;
        return;
      }
      publish(subject, data);
    };
    assert.equal((await a.reply(a.upload(ta.round, ta.predictIndices.length, { label: 1 }))).body, 'ack');
    assert.equal((await b.reply(b.upload(tb.round, tb.predictIndices.length, { label: 2 }))).body, 'ack');
    // Announced once durable, which may be just after the Ack left.
    for (let i = 0; i < 50 && dropped === 0; i++) await sleep(100);
    assert.equal(dropped, 1, "b's upload announcement was dropped");
    // The owner waits for b, whose upload it never heard of.
    await assert.rejects(
      a.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > ta.round, 1500, false),
      'the round must not close while the owner lacks an upload',
    );

    // The owner's bus connection drops and comes back (as when the NATS server restarts).
    await owner.app.cluster!.bus.forceReconnect();
    const next = await a.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > ta.round, 15_000);
    const task = next.envelope.task!;
    assert.equal(Number(task.round), ta.round + 1);
    assert.equal(task.targets?.contributors, 1, "a's targets are b's upload (leave-one-out)");
    const rounds = await owner.app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/rounds`,
      headers: auth,
    });
    assert.equal(rounds.json()[0].submissions, 2, 'the closed round counts both uploads');
  });

  it("a follower that missed the owner's decision reloads it when it reconnects, and its participant goes on", {
    timeout: 60_000,
  }, async (t) => {
    const { clusterName, fed, owner, follower, a, b, ta, tb } = await twoReplicas(t);
    // The owner's announcement of round 1's close never reaches the follower.
    const sub = `${clusterName}.state.${fed.id}`;
    const bus = owner.app.cluster!.bus;
    const publish = bus.publish.bind(bus);
    let dropped = 0;
    bus.publish = (subject, data) => {
      if (subject === sub && dropped === 0) {
        dropped++;
        return;
      }
      publish(subject, data);
    };
    assert.equal((await a.reply(a.upload(ta.round, ta.predictIndices.length, { label: 1 }))).body, 'ack');
    assert.equal((await b.reply(b.upload(tb.round, tb.predictIndices.length, { label: 2 }))).body, 'ack');
    await a.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > ta.round, 15_000);
    assert.equal(dropped, 1, 'the published decision was dropped');
    await assert.rejects(
      b.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > tb.round, 1500, false),
      "b's replica never heard that round 1 closed",
    );
    await follower.app.cluster!.bus.forceReconnect();
    const next = await b.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > tb.round, 15_000);
    assert.equal(Number(next.envelope.task!.round), tb.round + 1);
    assert.equal(next.envelope.task!.targets?.contributors, 1, "b's targets are a's upload");
  });

  it('lists participants online and their trust as the owner sees them, whichever replica answers', {
    timeout: 60_000,
  }, async (t) => {
    const { fed, owner, follower } = await twoReplicas(t);
    for (const s of [owner, follower]) {
      const res = await s.app.inject({
        method: 'GET',
        url: `/v1/federations/${fed.id}/participants`,
        headers: auth,
      });
      assert.equal(res.statusCode, 200);
      const list = res.json() as { name: string; online: boolean }[];
      assert.deepEqual(
        list.map((p) => `${p.name}:${p.online}`).sort(),
        ['a:true', 'b:true'],
        `${s === owner ? 'owner' : 'follower'} lists both participants online`,
      );
    }
  });
});
