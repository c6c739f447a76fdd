import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import {
  admittedFrameLimit,
  MIN_ADMITTED_FRAME_BYTES,
  PRE_AUTH_MAX_BUFFERED_BYTES,
  PRE_AUTH_MAX_FRAME_BYTES,
  PreAuthGuard,
} from './pre-auth-guard.ts';

/** A socket with ws's receiver limit, which is all the guard touches. */
function fakeSocket(maxPayload: number): { ws: WebSocket; receiver: { _maxPayload: number } } {
  const receiver = { _maxPayload: maxPayload };
  return { ws: { _receiver: receiver } as unknown as WebSocket, receiver };
}

const mutual = (rows: number, numClasses = 10) => ({
  settings: { strategy: 'mutual', task: { numClasses } },
  publicSet: { sampleCount: rows },
});

describe('admittedFrameLimit', () => {
  it('mutual: every public row at 8 bytes a probability + 16 a row + 64 KiB, within [256 KiB, configured]', () => {
    assert.equal(admittedFrameLimit(mutual(5000), 16 << 20), 5000 * 96 + 65536);
    assert.equal(
      admittedFrameLimit(mutual(100, 100), 16 << 20),
      MIN_ADMITTED_FRAME_BYTES,
      '147,136 B: the floor',
    );
    assert.equal(admittedFrameLimit(mutual(64), 16 << 20), MIN_ADMITTED_FRAME_BYTES);
    assert.equal(admittedFrameLimit(mutual(60_000, 100), 16 << 20), 16 << 20);
    assert.equal(admittedFrameLimit(mutual(64), 1000), 1000, 'never above the configured maximum');
  });

  it('fedavg: the configured maximum (whole weights)', () => {
    const fedavg = {
      settings: { strategy: 'fedavg', task: { numClasses: 10 } },
      publicSet: { sampleCount: 64 },
    };
    assert.equal(admittedFrameLimit(fedavg, 16 << 20), 16 << 20);
  });
});

describe('PreAuthGuard', () => {
  it('holds ws to the pre-auth buffer until admitted, then to the admitted limit plus 64 KiB', () => {
    const { ws, receiver } = fakeSocket(17 << 20);
    const g = new PreAuthGuard(ws, 60_000, () => assert.fail('no deadline here'));
    assert.equal(receiver._maxPayload, PRE_AUTH_MAX_BUFFERED_BYTES);
    assert.equal(g.maxFrameBytes, PRE_AUTH_MAX_FRAME_BYTES);
    assert.equal(g.authenticated(mutual(3000), 17 << 20), 3000 * 96 + 65536);
    assert.equal(g.maxFrameBytes, 3000 * 96 + 65536);
    assert.equal(receiver._maxPayload, 3000 * 96 + 2 * 65536);
    g.stop();
  });

  it('never raises ws past the server-wide limit', () => {
    const { ws, receiver } = fakeSocket(1 << 20);
    const g = new PreAuthGuard(ws, 60_000, () => {});
    assert.equal(g.authenticated(mutual(20_000), 1 << 20), 1 << 20);
    assert.equal(receiver._maxPayload, 1 << 20);
    g.stop();
  });

  it('closing(): terminates a socket whose peer never completes the handshake; stop() at close cancels it', async () => {
    const { ws } = fakeSocket(1 << 20);
    let terminated = 0;
    const g = new PreAuthGuard(ws, 60_000, () => {});
    g.closing(20, () => terminated++);
    await sleep(60);
    assert.equal(terminated, 1);
    g.closing(20, () => terminated++);
    g.stop(); // the socket closed: nothing may keep the connection alive
    await sleep(60);
    assert.equal(terminated, 1);
  });
});
