// participantLimit holds under concurrency (issue 10 item 8): 30 Hellos at once on one join
// token against a limit of 5 admit exactly 5, on both databases; the others are told
// FEDERATION_FULL (4009), and exactly 5 participants are stored.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mutua } from '@mutua/proto';
import { auth, createFederation, describeEachDatabase, getJson, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

const E = mutua.v1.ErrorCode;

describeEachDatabase('participant limit', (database) => {
  it('30 concurrent joins on one token against a limit of 5 admit exactly 5', async (t) => {
    const s = await startServer(t, { database, maxUnauthenticatedPerAddress: 100 });
    const fed = await createFederation(s.app, { participantLimit: 5 });
    const clients = await Promise.all(Array.from({ length: 30 }, () => TestClient.connect(s.wsUrl)));
    t.after(() => {
      for (const c of clients) c.close();
    });
    const replies = await Promise.all(
      clients.map((c, i) => c.hello({ joinToken: fed.token, name: `p${i}` })),
    );
    const admitted = replies.filter((r) => r.body === 'welcome').length;
    const full = replies.filter((r) => r.body === 'error' && r.envelope.error!.code === E.FEDERATION_FULL);
    assert.equal(admitted, 5, `admitted ${admitted}`);
    assert.equal(full.length, 25, 'every other one is FEDERATION_FULL, none INTERNAL');
    const stored = await getJson<unknown[]>(s.app, `/v1/federations/${fed.id}/participants`);
    assert.equal(stored.length, 5);
  });

  it('a join token issued with maxUses registers that many participants, concurrently too; then BAD_TOKEN TOKEN_USED_UP', async (t) => {
    const s = await startServer(t, { database, maxUnauthenticatedPerAddress: 100 });
    const fed = await createFederation(s.app);
    const issued = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/tokens`,
      headers: auth,
      payload: { label: 'twice', maxUses: 2 },
    });
    assert.equal(issued.statusCode, 201, issued.body);
    assert.equal(issued.json().maxUses, 2);
    const token = issued.json().token as string;
    const clients = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(s.wsUrl)));
    t.after(() => {
      for (const c of clients) c.close();
    });
    const replies = await Promise.all(clients.map((c, i) => c.hello({ joinToken: token, name: `u${i}` })));
    assert.equal(replies.filter((r) => r.body === 'welcome').length, 2);
    const usedUp = replies.filter((r) => r.envelope.error?.code === E.BAD_TOKEN);
    assert.equal(usedUp.length, 4);
    for (const r of usedUp) assert.equal(r.envelope.error!.detail, 'TOKEN_USED_UP');
    // A participant that joined resumes with its resume token, which the use limit does not touch.
    const first = replies.find((r) => r.body === 'welcome')!;
    const again = await TestClient.join(s.wsUrl, { resumeToken: first.envelope.welcome!.resumeToken! });
    again.close();
    const listed = await getJson<{ maxUses: number | null; label: string }[]>(
      s.app,
      `/v1/federations/${fed.id}/tokens`,
    );
    assert.equal(listed.find((x) => x.label === 'twice')?.maxUses, 2);
    const bad = await s.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/tokens`,
      headers: auth,
      payload: { maxUses: 0 },
    });
    assert.equal(bad.statusCode, 400);
  });
});
