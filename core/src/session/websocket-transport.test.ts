import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WebSocketConstructor } from './websocket-transport.ts';
import { createWebSocketTransport } from './websocket-transport.ts';

// `ws` is the coordinator's dependency, not core's: the test runs where it is installed.
type WsModule = typeof import('ws');
let ws: WsModule | null = null;
try {
  ws = await import('ws');
} catch {
  ws = null;
}

let server: InstanceType<WsModule['WebSocketServer']> | null = null;
let url = '';

before(async () => {
  if (!ws) return;
  server = new ws.WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const address = server.address();
  url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/ws`;
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      if (!isBinary || bytes[0] === 0) socket.close(4001, 'BAD_TOKEN');
      else socket.send(Buffer.from(bytes.map((v) => v + 1)));
    });
  });
});

after(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

test('createWebSocketTransport carries binary messages and the peer close code over a real socket', {
  skip: !ws,
}, async () => {
  const transport = createWebSocketTransport({ WebSocket: ws!.WebSocket as unknown as WebSocketConstructor });
  const conn = await transport.connect(url);
  const reply = new Promise<Uint8Array>((resolve) => conn.onMessage(resolve));
  conn.send(Uint8Array.of(1, 2, 3));
  const got = await reply;
  assert.ok(got instanceof Uint8Array);
  assert.deepEqual([...got], [2, 3, 4]);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    conn.onClose((code, reason) => resolve({ code, reason })),
  );
  conn.send(Uint8Array.of(0));
  assert.deepEqual(await closed, { code: 4001, reason: 'BAD_TOKEN' });
});

test('createWebSocketTransport rejects when nothing listens', { skip: !ws }, async () => {
  const transport = createWebSocketTransport({ WebSocket: ws!.WebSocket as unknown as WebSocketConstructor });
  await assert.rejects(transport.connect('ws://127.0.0.1:1/v1/ws'), /failed|closed before opening/);
});
