import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '@mutua/proto';
import { CoordinatorMetrics } from '../metrics-registry.ts';
import type { ParticipantConnection } from '../ws/participant-connection.ts';
import { ConnectionRegistry } from './connection-registry.ts';

/** A connection that records how it was ended. */
function fakeConnection() {
  let end!: () => void;
  const conn = {
    endedWith: [] as string[],
    ended: new Promise<void>((resolve) => (end = resolve)),
    terminateWith(err: ProtocolError) {
      this.endedWith.push(err.code);
      end();
    },
  };
  return conn as typeof conn & ParticipantConnection;
}

/** The participants-online gauge of federation f, read from its Prometheus text. */
function online(metrics: CoordinatorMetrics): number {
  const line = metrics.participantsOnline
    .render()
    .split('\n')
    .find((l) => l.includes('federation="f"'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

describe('ConnectionRegistry', () => {
  it('keeps one live connection per participant and hands back the one replaced', async () => {
    const metrics = new CoordinatorMetrics();
    const reg = new ConnectionRegistry(metrics);
    const first = fakeConnection();
    const second = fakeConnection();
    assert.equal(reg.register('p', first, 'f'), undefined);
    assert.equal(reg.register('p', second, 'f'), first);
    assert.equal(online(metrics), 1, 'a replacement is not a second participant online');
    reg.unregister('p', first, 'f');
    assert.ok(reg.isOnline('p'), 'the replaced connection ending does not take the new one offline');
    reg.unregister('p', second, 'f');
    assert.ok(!reg.isOnline('p'));
    assert.equal(online(metrics), 0);
  });

  it('terminates selected participants, and every tracked socket at close', async () => {
    const reg = new ConnectionRegistry(new CoordinatorMetrics());
    const a = fakeConnection();
    const b = fakeConnection();
    const unadmitted = fakeConnection();
    reg.register('a', a, 'f');
    reg.register('b', b, 'f');
    for (const c of [a, b, unadmitted]) reg.track(c);
    reg.terminate((id) => id === 'a', new ProtocolError('FEDERATION_PAUSED', 'paused'));
    assert.deepEqual([a.endedWith, b.endedWith], [['FEDERATION_PAUSED'], []]);
    reg.disconnect(['b', 'nobody'], new ProtocolError('TOKEN_REVOKED', 'revoked'));
    assert.deepEqual(b.endedWith, ['TOKEN_REVOKED']);
    await reg.closeAll(new ProtocolError('SHUTTING_DOWN', 'stopping'));
    assert.deepEqual(unadmitted.endedWith, ['SHUTTING_DOWN'], 'an unadmitted socket is told too');
  });
});
