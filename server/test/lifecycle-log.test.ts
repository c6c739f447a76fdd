// The coordinator's log as an operator reads it: lifecycle events at info (federation
// created/paused/resumed/deleted, participant joined/left, round closed with its size and
// aggregation time, join token issued/revoked), per-request lines only at debug (health
// checks not even there), ISO timestamps; JSON for collectors, one human line per event
// on a terminal (logging.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverLogger } from '../src/logging.ts';
import { auth, createFederation, getJson, issueToken, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

/** A stand-in for stdout that keeps what is written. */
function capture(isTTY: boolean) {
  const lines: string[] = [];
  const out = {
    isTTY,
    write(chunk: string) {
      lines.push(...chunk.split('\n').filter((l) => l !== ''));
      return true;
    },
  };
  return { lines, out: out as unknown as NodeJS.WriteStream };
}

async function session(logger: ReturnType<typeof serverLogger>) {
  const s = await startServer(null, { logger });
  try {
    const fed = await createFederation(s.app, { mode: 'sync', minParticipants: 2 });
    const clients = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const { token } = await issueToken(s.app, fed.id);
        return TestClient.join(s.wsUrl, { joinToken: token, name });
      }),
    );
    await Promise.all(clients.map((c) => c.completeRound(1)));
    for (let i = 0; i < 3; i++) await s.app.inject({ url: '/healthz' });
    await getJson(s.app, `/v1/federations/${fed.id}`);
    clients[1]!.close();
    await new Promise<void>((resolve) => {
      const off = s.app.coordinator.events.on((e) => {
        if (e.type === 'participant-left') {
          off();
          resolve();
        }
      });
    });
    const tokens = await getJson<{ id: string; label: string }[]>(s.app, `/v1/federations/${fed.id}/tokens`);
    const del = (url: string) => s.app.inject({ method: 'DELETE', url, headers: auth });
    const post = (url: string) => s.app.inject({ method: 'POST', url, headers: auth });
    assert.equal((await del(`/v1/federations/${fed.id}/tokens/${tokens[0]!.id}`)).statusCode, 204);
    assert.equal((await post(`/v1/federations/${fed.id}/pause`)).statusCode, 200);
    assert.equal((await post(`/v1/federations/${fed.id}/resume`)).statusCode, 200);
    assert.equal((await del(`/v1/federations/${fed.id}`)).statusCode, 204);
    clients[0]!.close();
    return fed.id;
  } finally {
    await s.close();
  }
}

describe('coordinator log', () => {
  it('JSON: lifecycle events at info with ISO timestamps, no per-request lines', async () => {
    const { lines, out } = capture(false);
    const options = serverLogger('info', { MUTUA_LOG_FORMAT: 'json' }, out) as Record<string, unknown>;
    const fedId = await session({ ...options, stream: out });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) assert.match(String(r.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const of = (msg: string) => records.filter((r) => r.msg === msg && r.federationId === fedId);
    assert.equal(of('federation created').length, 1);
    assert.equal(of('federation created')[0]!.minParticipants, 2);
    assert.equal(of('join token issued').length, 3, "the helper's and one per participant");
    assert.equal(of('participant joined').length, 2);
    const closed = of('round closed');
    assert.ok(closed.length >= 1, 'a round closed');
    assert.equal(closed[0]!.round, 1);
    assert.equal(closed[0]!.submissions, 2, 'its size');
    assert.equal(typeof closed[0]!.aggregationMs, 'number', 'its aggregation time');
    assert.equal(closed[0]!.level, 30);
    assert.ok(of('participant left').length >= 1);
    assert.equal(of('join token revoked').length, 1);
    for (const msg of ['federation paused', 'federation resumed', 'federation deleted'])
      assert.equal(of(msg).length, 1, msg);
    assert.equal(
      records.filter((r) => /request/.test(String(r.msg)) && Number(r.level) >= 30).length,
      0,
      'no per-request lines at info (fastify logged two per request)',
    );
  });

  it('per-request lines at debug, health checks only at trace', async () => {
    const { lines, out } = capture(false);
    const options = serverLogger('debug', { MUTUA_LOG_FORMAT: 'json' }, out) as Record<string, unknown>;
    await session({ ...options, stream: out });
    const requests = lines.map((l) => JSON.parse(l)).filter((r) => r.msg === 'request');
    assert.ok(requests.length > 0);
    assert.ok(requests.every((r) => r.level === 20 && typeof r.status === 'number' && r.method));
    assert.ok(requests.some((r) => r.url === '/v1/federations' && r.method === 'POST'));
    assert.equal(requests.filter((r) => r.url === '/healthz').length, 0);
  });

  it('on a terminal: one human line per event, no JSON', async () => {
    const { lines, out } = capture(true);
    await session(serverLogger('info', {}, out));
    assert.ok(lines.length > 0);
    assert.ok(
      lines.every((l) => !l.startsWith('{')),
      lines.find((l) => l.startsWith('{')),
    );
    const round = lines.find((l) => l.includes('round closed'));
    assert.ok(round, lines.join('\n'));
    assert.match(round, /^\d\d:\d\d:\d\d\.\d{3} .*INFO.* round closed .*submissions=2.*aggregationMs=/);
  });
});
