import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.ts';
import { ABNORMAL_CLOSURE, createConnectionPair, createMemoryTransport } from './transport.ts';

function closeOf(conn: { onClose(h: (code: number, reason: string) => void): void }) {
  return new Promise<{ code: number; reason: string }>((resolve) =>
    conn.onClose((code, reason) => resolve({ code, reason })),
  );
}

test('a memory pair delivers copies in order, including frames sent before a handler is set', async () => {
  const [a, b] = createConnectionPair();
  const buf = Uint8Array.of(1, 2, 3);
  a.send(buf);
  buf[0] = 9; // the sender reusing its buffer must not change what was sent
  a.send(Uint8Array.of(4));
  const got: number[][] = [];
  const two = new Promise<void>((resolve) =>
    b.onMessage((bytes) => {
      got.push([...bytes]);
      if (got.length === 2) resolve();
    }),
  );
  await two;
  assert.deepEqual(got, [[1, 2, 3], [4]]);
});

test('close reaches both ends once, after the messages sent before it; later sends are dropped', async () => {
  const [a, b] = createConnectionPair();
  const got: number[] = [];
  b.onMessage((bytes) => got.push(bytes[0]!));
  const closedA = closeOf(a);
  const closedB = closeOf(b);
  a.send(Uint8Array.of(7));
  a.close(4001, 'BAD_TOKEN');
  a.send(Uint8Array.of(8));
  b.send(Uint8Array.of(9));
  assert.deepEqual(await closedB, { code: 4001, reason: 'BAD_TOKEN' });
  assert.deepEqual(await closedA, { code: 4001, reason: 'BAD_TOKEN' });
  assert.deepEqual(got, [7]);
  assert.equal(a.closed && b.closed, true);
});

test('terminate() loses what is in flight and both ends see 1006', async () => {
  const [a, b] = createConnectionPair();
  let received = 0;
  a.send(Uint8Array.of(1));
  a.terminate();
  b.onMessage(() => received++);
  assert.equal((await closeOf(b)).code, ABNORMAL_CLOSURE);
  assert.equal((await closeOf(a)).code, ABNORMAL_CLOSURE);
  assert.equal(received, 0);
});

test('createMemoryTransport hands the server end to accept, and rejects when accept throws', async () => {
  const urls: string[] = [];
  let refuse = false;
  const transport = createMemoryTransport((server, url) => {
    if (refuse) throw new Error('ECONNREFUSED');
    urls.push(url);
    server.onMessage((bytes) => server.send(bytes.map((v) => v + 1)));
  });
  const client = await transport.connect('memory://coordinator');
  const echoed = new Promise<number>((resolve) => client.onMessage((bytes) => resolve(bytes[0]!)));
  client.send(Uint8Array.of(41));
  assert.equal(await echoed, 42);
  assert.deepEqual(urls, ['memory://coordinator']);
  refuse = true;
  await assert.rejects(transport.connect('memory://coordinator'), /ECONNREFUSED/);
  client.close();
});

test('backoff doubles from 500 ms up to 30 s, with jitter inside [base/2, base)', () => {
  const mid = () => 0.5;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, {}, mid)),
    [375, 750, 1500, 3000, 6000, 12000, 22500, 22500],
  );
  assert.equal(backoffDelay(3, { jitter: 0 }), 2000);
  assert.equal(
    backoffDelay(1, {}, () => 0),
    250,
  );
  assert.equal(backoffDelay(40, { jitter: 0 }), 30_000);
  assert.equal(backoffDelay(2, { initialDelayMs: 1, maxDelayMs: 4, jitter: 0 }), 2);
  assert.throws(() => backoffDelay(1, { jitter: 2 }), RangeError);
});
