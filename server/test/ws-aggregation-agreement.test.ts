import assert from 'node:assert/strict';
import { it } from 'node:test';
import { auth, createFederation, describeEachDatabase, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

// A federation created with aggregation 'agreement' runs rounds end to end, and its
// leave-one-out targets are the trust-weighted mean of the others: with three participants
// agreeing on class 3 and one confidently on class 7, an honest participant's targets carry
// almost no mass on 7 (plain 'mean' would give it about a third).
describeEachDatabase("WebSocket: a federation with aggregation 'agreement'", (database) => {
  it('runs a round and down-weights the participant far from the others', async (t) => {
    const { app, wsUrl } = await startServer(t, { database });
    const fed = await createFederation(app, { mode: 'sync', aggregation: 'agreement' });
    const names = ['a', 'b', 'c', 'outlier'];
    const clients = await Promise.all(names.map(() => TestClient.connect(wsUrl)));
    t.after(() => {
      for (const c of clients) c.close();
    });
    for (const [i, c] of clients.entries()) {
      const w = await c.hello({ joinToken: fed.token, name: names[i]! });
      assert.equal(w.body, 'welcome');
      assert.equal(w.envelope.welcome!.federation!.aggregation, 6, 'AGGREGATION_AGREEMENT on the wire');
    }
    const tasks = await Promise.all(clients.map((c) => c.task(1)));
    const rows = tasks[0]!.envelope.task!.predictIndices!.length;
    for (const [i, c] of clients.entries()) {
      const ack = await c.reply(c.upload(1, rows, { label: i === 3 ? 7 : 3 }));
      assert.equal(ack.body, 'ack');
    }

    const task = await clients[0]!.validTask(2);
    assert.equal(task.round, 2, 'the round closed');
    const targets = task.targets!;
    assert.equal(targets.contributors, 3, 'leave-one-out: b, c and the outlier');
    const C = 10;
    const rowsSent = targets.indices.length;
    const mass = (cls: number) => {
      let sum = 0;
      for (let r = 0; r < rowsSent; r++) sum += targets.probs[r * C + cls]!;
      return sum / rowsSent;
    };
    assert.ok(mass(3) > 0.8, `mass on the agreed class: ${mass(3)}`);
    assert.ok(mass(7) < 0.1, `mass on the outlier's class: ${mass(7)}`);

    // The admin API lists each participant's trust weight and flags the outlier.
    const res = await app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/participants`,
      headers: auth,
    });
    assert.equal(res.statusCode, 200, res.body);
    const listed = new Map(
      (res.json() as { name: string; trust: number | null; flagged: boolean }[]).map((p) => [p.name, p]),
    );
    for (const name of ['a', 'b', 'c']) {
      assert.equal(listed.get(name)!.trust, 1, `${name} is in line with the others`);
      assert.equal(listed.get(name)!.flagged, false);
    }
    assert.ok(listed.get('outlier')!.trust! < 0.5, `the outlier's trust: ${listed.get('outlier')!.trust}`);
    assert.equal(listed.get('outlier')!.flagged, true);
  });
});
