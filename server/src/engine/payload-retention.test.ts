// The retention rule and its scheduling, without a database: which bound each publish asks
// for, that prunes of one federation never overlap and publishes meanwhile collapse into
// one more, that a failing prune is reported and does not stop the next, and that idle()
// waits. End to end (sockets, both databases, a restart): test/payload-retention.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PayloadRetention, retainedFrom } from './payload-retention.ts';

/** A store whose prunes wait until released, recording each call. */
function gatedStore() {
  const calls: { federationId: string; before: number }[] = [];
  const gates: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  return {
    calls,
    get maxRunning() {
      return maxRunning;
    },
    release(): void {
      for (const open of gates.splice(0)) open();
    },
    async prunePayloads(federationId: string, before: number): Promise<number> {
      calls.push({ federationId, before });
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      if (federationId === 'broken') throw new Error('disk full');
      return 1;
    },
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('payload retention', () => {
  it('keeps max(retention, what recovery reads) versions, at least the published one', () => {
    assert.equal(retainedFrom(10, 0, 2), 9, 'sync, retention 2: versions 9 and 10');
    assert.equal(retainedFrom(10, 8, 2), 3, 'async maxStaleness 8 wins over a retention of 2');
    assert.equal(retainedFrom(10, 0, 16), -5, 'nothing to prune yet');
    assert.equal(retainedFrom(10, 0, 1), 10);
  });

  it('refuses a retention that is not a positive integer', () => {
    const store = gatedStore();
    for (const bad of [0, -1, 1.5, Number.NaN])
      assert.throws(() => new PayloadRetention(store, bad, () => {}), RangeError, String(bad));
  });

  it('prunes after a publish, off the caller; nothing while the window is not full', async () => {
    const store = gatedStore();
    const r = new PayloadRetention(store, 2, () => {});
    r.afterPublish('f', 2, 0);
    await tick();
    assert.deepEqual(store.calls, [], 'versions 1 and 2 are both inside the window');
    r.afterPublish('f', 5, 0);
    assert.deepEqual(store.calls, [], 'nothing runs inside afterPublish');
    await tick();
    assert.deepEqual(store.calls, [{ federationId: 'f', before: 4 }]);
    store.release();
    await r.idle();
  });

  it('one prune per federation at a time; publishes meanwhile collapse into one more, with the newest bound', async () => {
    const store = gatedStore();
    const r = new PayloadRetention(store, 2, () => {});
    r.afterPublish('f', 5, 0);
    r.afterPublish('g', 7, 3);
    await tick();
    r.afterPublish('f', 6, 0);
    r.afterPublish('f', 8, 0);
    r.afterPublish('f', 7, 0);
    let idle = false;
    const waiting = r.idle().then(() => {
      idle = true;
    });
    await tick();
    assert.equal(store.maxRunning, 2, 'f and g in parallel, never two of f');
    store.release();
    await tick();
    assert.equal(idle, false, "f's second prune is still running");
    store.release();
    await waiting;
    assert.deepEqual(store.calls, [
      { federationId: 'f', before: 4 },
      { federationId: 'g', before: 5 },
      { federationId: 'f', before: 7 },
    ]);
  });

  it('a failing prune goes to onError and the next publish prunes again', async () => {
    const store = gatedStore();
    const errors: string[] = [];
    const r = new PayloadRetention(store, 1, (e, federationId) =>
      errors.push(`${federationId}: ${(e as Error).message}`),
    );
    r.afterPublish('broken', 3, 0);
    await tick();
    store.release();
    await r.idle();
    assert.deepEqual(errors, ['broken: disk full']);
    r.afterPublish('broken', 4, 0);
    await tick();
    store.release();
    await r.idle();
    assert.equal(store.calls.length, 2);
    assert.equal(errors.length, 2);
  });
});
