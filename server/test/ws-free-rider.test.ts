import assert from 'node:assert/strict';
import { it } from 'node:test';
import { auth, createFederation, describeEachDatabase, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

// A free-rider through the real protocol: it uploads the targets it was sent back as its
// predictions. Its upload lies within the honest participants' spread of the median (z about
// 0.9 against the threshold 2.5), so the agreement score alone keeps it at full weight; the
// coordinator compares each upload with the targets it sent that participant and flags it in
// the admin API, with the reason.
const C = 10;

/** n rows with `peak` on class 3 and the rest spread evenly. */
function peaked(n: number, peak: number): Float32Array {
  const p = new Float32Array(n * C).fill((1 - peak) / (C - 1));
  for (let r = 0; r < n; r++) p[r * C + 3] = peak;
  return p;
}

describeEachDatabase(
  "WebSocket: 'agreement' flags a participant that uploads its targets back",
  (database) => {
    it('the copier is flagged "copies its targets"; the honest participants keep trust 1', async (t) => {
      const { app, wsUrl } = await startServer(t, { database });
      // The batch is the whole public set (reshuffled every version), so each version's batch
      // holds every sample of the targets sent with it.
      const fed = await createFederation(
        app,
        { mode: 'sync', aggregation: 'agreement', batchSize: 32, minParticipants: 4 },
        32,
      );
      const names = ['a', 'b', 'c', 'copier'];
      const clients = await Promise.all(names.map(() => TestClient.connect(wsUrl)));
      t.after(() => {
        for (const c of clients) c.close();
      });
      for (const [i, c] of clients.entries()) {
        assert.equal((await c.hello({ joinToken: fed.token, name: names[i]! })).body, 'welcome');
      }
      const first = await Promise.all(clients.map((c) => c.validTask(1)));
      const rows = first[0]!.predictIndices.length;
      for (const c of clients)
        assert.equal((await c.reply(c.upload(1, rows, { probs: peaked(rows, 0.9) }))).body, 'ack');

      // Version 2: the honest participants have moved on from their targets (each by its own
      // amount); the copier sends its targets back, row by row for the samples it is asked for.
      const second = await Promise.all(clients.map((c) => c.validTask(2)));
      const peaks = [0.6, 0.75, 0.5];
      for (const [i, c] of clients.entries()) {
        const task = second[i]!;
        let probs: Float32Array;
        if (i < 3) probs = peaked(task.predictIndices.length, peaks[i]!);
        else {
          const targets = task.targets!;
          assert.ok(targets, 'the copier was sent targets');
          probs = new Float32Array(task.predictIndices.length * C);
          task.predictIndices.forEach((sample, r) => {
            const row = targets.indices.indexOf(sample);
            assert.ok(row >= 0, `sample ${sample} is among the targets`);
            probs.set(targets.probs.subarray(row * C, (row + 1) * C), r * C);
          });
        }
        assert.equal((await c.reply(c.upload(2, task.predictIndices.length, { probs }))).body, 'ack');
      }
      assert.equal((await clients[0]!.validTask(3)).round, 3, 'version 2 was published');

      const res = await app.inject({
        method: 'GET',
        url: `/v1/federations/${fed.id}/participants`,
        headers: auth,
      });
      assert.equal(res.statusCode, 200, res.body);
      type Listed = { name: string; trust: number | null; flagged: boolean; flagReason: string | null };
      const listed = new Map((res.json() as Listed[]).map((p) => [p.name, p]));
      for (const name of ['a', 'b', 'c']) {
        assert.deepEqual(
          {
            trust: listed.get(name)!.trust,
            flagged: listed.get(name)!.flagged,
            reason: listed.get(name)!.flagReason,
          },
          { trust: 1, flagged: false, reason: null },
          name,
        );
      }
      const copier = listed.get('copier')!;
      assert.ok(copier.trust! < 0.5, `the copier's trust: ${copier.trust}`);
      assert.equal(copier.flagged, true);
      assert.equal(copier.flagReason, 'copies its targets');
    });
  },
);
