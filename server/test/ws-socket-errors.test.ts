// A peer that breaks WebSocket framing (a frame above the limit, a reserved opcode) is
// closed by ws with the RFC close code and logged at debug: no error-level line with a
// stack trace per attempt (issue 10 item 10; found by `npm run fuzz`).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import WebSocket from 'ws';
import { isPeerFramingError } from '../src/ws/socket-errors.ts';
import { startServer } from './helper.ts';

function capture(): { stream: Writable; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function closeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

it('framing errors from a peer close its socket with their RFC code and log no error-level line', async (t) => {
  const log = capture();
  const s = await startServer(t, { logger: { level: 'debug', stream: log.stream } });

  // Above the pre-auth buffering limit (64 KiB): ws refuses it while reading, 1009.
  const big = new WebSocket(s.wsUrl);
  await new Promise((r) => big.once('open', r));
  const bigClosed = closeOf(big);
  big.on('error', () => undefined);
  big.send(new Uint8Array(100_000));
  assert.equal(await bigClosed, 1009);

  // A reserved opcode (0x3), masked as a client must: a protocol error, 1002.
  const raw = new WebSocket(s.wsUrl);
  await new Promise((r) => raw.once('open', r));
  raw.on('error', () => undefined);
  const rawClosed = closeOf(raw);
  (raw as unknown as { _socket: { write(b: Buffer): void } })._socket.write(
    Buffer.from([0x83, 0x80, 1, 2, 3, 4]),
  );
  assert.equal(await rawClosed, 1002);

  const records = log.records();
  const errors = records.filter((r) => Number(r.level) >= 50);
  assert.deepEqual(errors, [], 'no error-level log line for a peer framing error');
  const peer = records.filter((r) => r.msg === 'websocket closed by a peer error');
  assert.deepEqual(
    peer.map((r) => r.code).sort(),
    ['WS_ERR_INVALID_OPCODE', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
    'each is logged once at debug with its ws code',
  );
  assert.ok(peer.every((r) => r.level === 20));
});

it('only ws framing errors count as the peer’s; other errors stay errors', () => {
  assert.equal(
    isPeerFramingError(Object.assign(new RangeError('x'), { code: 'WS_ERR_INVALID_OPCODE' })),
    true,
  );
  assert.equal(isPeerFramingError(new TypeError('a bug in a handler')), false);
  assert.equal(isPeerFramingError(Object.assign(new Error('x'), { code: 'ERR_ASSERTION' })), false);
  assert.equal(isPeerFramingError(null), false);
});
