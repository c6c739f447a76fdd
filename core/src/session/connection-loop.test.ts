import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionLoop } from './connection-loop.ts';
import { TokenKeeper } from './token-keeper.ts';
import { createMemoryTransport, type Transport } from './transport.ts';

const hello = () => ({ leave: { reason: 'a stand-in body; these tests never read it' } });

function loop(transport: Transport, maxAttempts = Number.POSITIVE_INFINITY) {
  return new ConnectionLoop({
    url: 'ws://coord.test/v1/ws',
    transport,
    tokens: new TokenKeeper('k', 'join', undefined, undefined),
    hello,
    reconnect: { initialDelayMs: 100, maxDelayMs: 100, maxAttempts },
    random: () => 0.5,
  });
}

describe('ConnectionLoop', () => {
  test('drain() during backoff cancels the pending reconnect', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let connects = 0;
    const l = loop({
      connect: async () => {
        connects++;
        throw new Error('ECONNREFUSED');
      },
    });
    const reconnecting = l.once('reconnecting');
    l.start();
    const r = await reconnecting;
    assert.equal(r.attempt, 1);
    assert.equal(r.error.code, 'UNREACHABLE');
    assert.equal(l.state.kind, 'backoff');
    l.drain('leave');
    assert.deepEqual(l.state, { kind: 'draining', link: null });
    t.mock.timers.tick(10_000);
    assert.equal(connects, 1, 'no reconnect after drain()');
  });

  test('a connection that opens after drain() is closed at once and never says Hello', async () => {
    let l!: ConnectionLoop;
    const serverClosed = new Promise<{ code: number; reason: string; frames: number }>((resolve) => {
      l = loop(
        createMemoryTransport((conn) => {
          let frames = 0;
          conn.onMessage(() => frames++);
          conn.onClose((code, reason) => resolve({ code, reason, frames }));
          // stop() while the transport is still connecting.
          l.drain('leave');
        }),
      );
    });
    l.start();
    assert.deepEqual(await serverClosed, { code: 1000, reason: 'stopped', frames: 0 });
    assert.deepEqual(l.state, { kind: 'draining', link: null });
  });

  test('gives up after maxAttempts with a fatal error naming the count', async () => {
    const l = loop(
      {
        connect: async () => {
          throw new Error('ECONNREFUSED');
        },
      },
      0,
    );
    const failed = l.once('failed');
    l.start();
    const error = await failed;
    assert.equal(error.code, 'UNREACHABLE');
    assert.equal(error.fatal, true);
    assert.match(error.message, /gave up after 0 reconnect attempts/);
  });
});
