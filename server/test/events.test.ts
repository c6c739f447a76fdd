// GET /v1/events (routes/federations/events.ts): the lifecycle events as server-sent
// events over real HTTP, as the dashboard reads them (fetch with the admin token): the
// admin token is required, an unknown federation is a 404, a filtered stream carries only
// its federation's events, a participant joining and a round closing arrive as they
// happen, and closing the coordinator ends open streams instead of waiting on them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auth, createFederation, startServer, type TestServer } from './helper.ts';
import { TestClient } from './test-client.ts';

interface Message {
  event: string;
  data: Record<string, unknown>;
}

/** An open event stream: messages as they are parsed, and a wait for one that matches. */
async function openStream(server: TestServer, query = '') {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/v1/events${query}`, { headers: auth, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const messages: Message[] = [];
  const waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  const done = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let at = buffer.indexOf('\n\n');
      while (at >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        at = buffer.indexOf('\n\n');
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const event = field('event');
        if (!event) continue;
        const m = { event, data: JSON.parse(field('data') ?? '{}') };
        messages.push(m);
        for (const w of [...waiters]) {
          if (w.match(m)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    }
  })();
  return {
    messages,
    done,
    close: () => controller.abort(),
    next(match: (m: Message) => boolean, what: string): Promise<Message> {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${what} within 10 s; got ${JSON.stringify(messages)}`)),
          10_000,
        );
        waiters.push({
          match,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

describe('GET /v1/events (server-sent events)', () => {
  it('needs the admin token; an unknown federation is a 404', async (t) => {
    const server = await startServer(t);
    const none = await fetch(`${server.url}/v1/events`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'MUTUA_ERR_UNAUTHORIZED');
    const unknown = await fetch(`${server.url}/v1/events?federation=nope`, { headers: auth });
    assert.equal(unknown.status, 404);
  });

  it('streams what happens as it happens; a filtered stream carries only its federation', async (t) => {
    const server = await startServer(t);
    const all = await openStream(server);
    t.after(() => all.close());
    await all.next((m) => m.event === 'ready', 'ready');
    const fed = await createFederation(server.app, { mode: 'sync', minParticipants: 2 });
    const created = await all.next((m) => m.event === 'federation-created', 'federation-created');
    assert.equal(created.data.federationId, fed.id);
    assert.equal(created.data.minParticipants, 2);
    await all.next((m) => m.event === 'token-issued' && m.data.federationId === fed.id, 'token-issued');

    const mine = await openStream(server, `?federation=${fed.id}`);
    t.after(() => mine.close());
    await mine.next((m) => m.event === 'ready', 'ready');
    const other = await createFederation(server.app, { mode: 'sync' });

    const clients = await Promise.all(
      ['a', 'b'].map((name) => TestClient.join(server.wsUrl, { joinToken: fed.token, name })),
    );
    t.after(() => {
      for (const c of clients) c.close();
    });
    const joined = await mine.next(
      (m) => m.event === 'participant-joined' && m.data.online === 2,
      'the second participant-joined',
    );
    assert.equal(joined.data.federationId, fed.id);
    await Promise.all(clients.map((c) => c.completeRound(1)));
    const closed = await mine.next((m) => m.event === 'round-closed', 'round-closed');
    assert.equal(closed.data.round, 1);
    assert.equal(closed.data.submissions, 2);

    // The other federation's events reached the unfiltered stream, never the filtered one.
    await all.next((m) => m.event === 'token-issued' && m.data.federationId === other.id, 'other token');
    assert.ok(mine.messages.every((m) => m.event === 'ready' || m.data.federationId === fed.id));

    const res = await server.app.inject({
      method: 'DELETE',
      url: `/v1/federations/${fed.id}`,
      headers: auth,
    });
    assert.equal(res.statusCode, 204);
    await mine.next((m) => m.event === 'federation-deleted', 'federation-deleted');
  });

  it('closing the coordinator ends open streams instead of waiting for them', {
    timeout: 15_000,
  }, async (t) => {
    const server = await startServer(t);
    const stream = await openStream(server);
    await stream.next((m) => m.event === 'ready', 'ready');
    const started = Date.now();
    await server.close();
    await stream.done;
    assert.ok(Date.now() - started < 5_000, `closing took ${Date.now() - started} ms`);
  });
});
