// What an unauthenticated socket may cost (issue 10 items 5 and 7): a small frame limit and
// bounded fragment buffering until Welcome, a Hello deadline, caps on connections and on
// unauthenticated connections (HTTP 503 at the upgrade), and the optional Origin allow-list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mutua } from '@mutua/proto';
import WebSocket from 'ws';
import { PRE_AUTH_MAX_FRAME_BYTES } from '../src/ws/pre-auth-guard.ts';
import { createFederation, startServer, type TestServer } from './helper.ts';
import { TestClient } from './test-client.ts';

const E = mutua.v1.ErrorCode;

/** The HTTP status of a refused upgrade, or 101 when the socket opened (then closed at once). */
function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

describe('WebSocket before Welcome', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(null, { helloTimeoutMs: 400 });
  });
  after(() => s?.close());

  it('a frame larger than the pre-auth limit is FRAME_TOO_LARGE (PRE_AUTH) without being decoded', async (t) => {
    const c = await TestClient.connect(s.wsUrl);
    t.after(() => c.close());
    // Garbage: decoded it would be BAD_FRAME (1007); refused by size it is FRAME_TOO_LARGE (1009).
    c.sendRaw(new Uint8Array(PRE_AUTH_MAX_FRAME_BYTES + 1).fill(0xff));
    const e = await c.error(E.FRAME_TOO_LARGE);
    assert.equal(e.detail, 'PRE_AUTH');
    assert.equal(e.fatal, true);
    assert.equal((await c.waitClose()).code, 1009);
  });

  it('fragments of an unfinished message are not buffered beyond the pre-auth bound', async (t) => {
    const c = await TestClient.connect(s.wsUrl);
    t.after(() => c.close());
    const chunk = new Uint8Array(16 * 1024);
    // 512 KiB in fragments, never finished: within the post-Welcome limit (1 MiB here), far above the pre-auth bound.
    for (let i = 0; i < 32 && c.ws.readyState === WebSocket.OPEN; i++) c.ws.send(chunk, { fin: false });
    assert.equal((await c.waitClose()).code, 1009);
  });

  it('a socket that sends no Hello is told NOT_AUTHENTICATED (HELLO_TIMEOUT) and closed with 4007', async (t) => {
    const c = await TestClient.connect(s.wsUrl);
    t.after(() => c.close());
    const e = await c.error(E.NOT_AUTHENTICATED);
    assert.equal(e.detail, 'HELLO_TIMEOUT');
    assert.equal((await c.waitClose()).code, 4007);
  });

  it('the deadline ends with Welcome, and large frames are accepted after it', async (t) => {
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const c = await TestClient.join(s.wsUrl, { joinToken: fed.token, name: 'p' });
    // A silent socket opened after it: its HELLO_TIMEOUT is the event that says c's deadline has passed too.
    const silent = await TestClient.connect(s.wsUrl);
    t.after(() => {
      c.close();
      silent.close();
    });
    assert.equal((await silent.waitClose()).code, 4007);
    // Past the deadline the admitted socket is still open and answers.
    assert.equal(c.closed, null);
    const seq = c.send({ heartbeat: { unixMs: 1 } });
    assert.equal((await c.reply(seq)).body, 'heartbeat');
    // A frame above the pre-auth limit is now judged by the normal rules (a coded non-size error).
    c.sendRaw(new Uint8Array(PRE_AUTH_MAX_FRAME_BYTES * 4).fill(0xff));
    assert.equal((await c.nextBody('error')).envelope.error!.code, E.BAD_FRAME);
  });
});

describe('WebSocket connection caps', () => {
  it('unauthenticated sockets per address are capped with HTTP 503; an admitted one frees its slot', async (t) => {
    const s = await startServer(t, { maxUnauthenticatedPerAddress: 2 });
    const fed = await createFederation(s.app, { sync: { quorum: 1 } });
    const a = await TestClient.connect(s.wsUrl);
    const b = await TestClient.connect(s.wsUrl);
    t.after(() => {
      a.close();
      b.close();
    });
    const refused = await upgradeStatus(s.wsUrl);
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body).code, 'MUTUA_ERR_TOO_MANY_CONNECTIONS');
    assert.equal((await a.hello({ joinToken: fed.token, name: 'a' })).body, 'welcome');
    assert.equal((await upgradeStatus(s.wsUrl)).status, 101);
  });

  it('all connections are capped globally; a closed one frees its slot', async (t) => {
    const s = await startServer(t, { maxConnections: 2 });
    const a = await TestClient.connect(s.wsUrl);
    const b = await TestClient.connect(s.wsUrl);
    t.after(() => b.close());
    assert.equal((await upgradeStatus(s.wsUrl)).status, 503);
    a.close();
    await a.waitClose();
    let status = 0;
    // The server learns of the close a moment after the client: wait on the outcome.
    for (let i = 0; i < 100 && status !== 101; i++) {
      status = (await upgradeStatus(s.wsUrl)).status;
      if (status !== 101) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 101);
  });

  it('with an Origin allow-list, foreign browser origins get 403; listed, own and absent origins connect', async (t) => {
    const s = await startServer(t, { allowedOrigins: ['https://ok.example'] });
    const foreign = await upgradeStatus(s.wsUrl, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(JSON.parse(foreign.body).code, 'MUTUA_ERR_ORIGIN_NOT_ALLOWED');
    assert.equal((await upgradeStatus(s.wsUrl, { origin: 'https://ok.example' })).status, 101);
    assert.equal((await upgradeStatus(s.wsUrl, { origin: new URL(s.url).origin })).status, 101);
    assert.equal((await upgradeStatus(s.wsUrl)).status, 101);
  });
});
