// GET /v1/federations/:id/rounds gives each round's bytes received (the frames of its
// accepted submissions, summed from the stored submissions): the dashboard's traffic
// history per round, whenever it was opened, and still there after payloads are pruned.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFederation, describeEachDatabase, getJson, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

interface RoundRow {
  number: number;
  status: string;
  submissions: number;
  bytesReceived: number;
}

describeEachDatabase('rounds: bytes received per round', (database) => {
  test('a closed round counts the frames of its submissions; an open one with none counts 0', async (t) => {
    const { app, wsUrl } = await startServer(t, { database });
    const fed = await createFederation(app, { mode: 'sync', minParticipants: 2, batchSize: 16 });
    const clients = await Promise.all(
      ['a', 'b'].map((name) => TestClient.join(wsUrl, { joinToken: fed.token, name })),
    );
    t.after(() => {
      for (const c of clients) c.close();
    });
    await Promise.all(clients.map((c) => c.completeRound(1)));
    const rounds = await getJson<RoundRow[]>(app, `/v1/federations/${fed.id}/rounds`);
    const first = rounds.find((r) => r.number === 1)!;
    assert.equal(first.status, 'closed');
    assert.equal(first.submissions, 2);
    // Two uint8 uploads of 16 rows × 10 classes: at least their payloads, plus framing.
    assert.ok(first.bytesReceived >= 2 * 16 * 10, JSON.stringify(first));
    const traffic = await getJson<{ bytesIn: number }>(app, `/v1/federations/${fed.id}/traffic`);
    assert.ok(first.bytesReceived < traffic.bytesIn, 'uploads are part of all bytes received');
    const open = rounds.find((r) => r.status === 'open');
    if (open) assert.equal(open.bytesReceived, 0);
    // Asked from round 2 on, round 1 is not summed in.
    const later = await getJson<RoundRow[]>(app, `/v1/federations/${fed.id}/rounds?from=2`);
    assert.ok(
      later.every((r) => r.number >= 2 && r.bytesReceived === 0),
      JSON.stringify(later),
    );
  });
});
