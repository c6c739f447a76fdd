import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KV } from '@nats-io/kv';
import { LeaseManager, VALID_FRACTION } from './lease-manager.ts';
import type { ReplicaDirectory } from './replica-directory.ts';

/** The part of a JetStream KV bucket the lease manager uses, with renewals that can be held. */
class FakeKv {
  readonly entries = new Map<string, number>();
  private rev = 0;
  hold: Promise<void> | null = null;

  async create(key: string): Promise<number> {
    if (this.entries.has(key)) throw new Error('wrong last sequence: key exists');
    this.entries.set(key, ++this.rev);
    return this.rev;
  }
  async update(key: string, _value: string, revision: number): Promise<number> {
    if (this.hold) await this.hold;
    if (this.entries.get(key) !== revision) throw new Error('wrong last sequence');
    this.entries.set(key, ++this.rev);
    return this.rev;
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  /** Listings still to stall: counted entries that never arrive (one expired in between). */
  stallListings = 0;
  stoppedListings = 0;
  async keys(): Promise<AsyncIterable<string> & { stop(): void }> {
    const ks = [...this.entries.keys()];
    const stall = this.stallListings > 0;
    if (stall) this.stallListings--;
    let stopped = false;
    return {
      stop: () => {
        if (!stopped && stall) this.stoppedListings++;
        stopped = true;
      },
      [Symbol.asyncIterator]: async function* () {
        if (stall) await new Promise(() => {}); // nats.js waits for the 30 s idle heartbeat
        yield* ks;
      },
    };
  }
  /** Another replica took the entry over (after it expired). */
  stolen(key: string): void {
    this.entries.set(key, ++this.rev);
  }
}

const directory = { self: 'r1', live: 1, fewestOwnedElsewhere: Number.POSITIVE_INFINITY } as ReplicaDirectory;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function manager(kv: FakeKv, leaseMs: number, federations = ['f1']) {
  const events: string[] = [];
  const m = new LeaseManager(
    kv as unknown as KV,
    directory,
    {
      federations: async () => federations,
      acquired: async (id) => void events.push(`acquired ${id}`),
      released: async (id, why) => void events.push(`released ${id} ${why}`),
      revalidated: (id) => void events.push(`revalidated ${id}`),
    },
    leaseMs,
    () => undefined,
  );
  return { m, events };
}

describe('LeaseManager self-fencing', () => {
  it('stops deciding while its renewal is stalled, and decides again once the renewal lands', async () => {
    const kv = new FakeKv();
    const leaseMs = 300;
    const { m, events } = manager(kv, leaseMs);
    m.start();
    try {
      await until('the lease', () => m.owns('f1'));
      let release = () => {};
      kv.hold = new Promise<void>((r) => {
        release = r;
      });
      const stalledAt = performance.now();
      await until('the lease to stop counting', () => !m.owns('f1'));
      // Not before VALID_FRACTION of the lease since the last confirmation was sent.
      assert.ok(performance.now() - stalledAt <= VALID_FRACTION * leaseMs + 50);
      assert.deepEqual(m.ownedIds(), ['f1'], 'still holds the entry; only stops deciding');
      kv.hold = null;
      release();
      await until('the lease to count again', () => m.owns('f1'));
      assert.ok(events.includes('revalidated f1'), events.join(', '));
      assert.ok(!events.some((e) => e.startsWith('released')), events.join(', '));
    } finally {
      await m.stop();
    }
  });

  it('lets go when another replica holds the entry at its next renewal', async () => {
    const kv = new FakeKv();
    const { m, events } = manager(kv, 300);
    m.start();
    try {
      await until('the lease', () => m.owns('f1'));
      kv.stolen('fed-f1');
      await until('the lease to be lost', () => events.includes('released f1 lost'));
      assert.equal(m.owns('f1'), false);
    } finally {
      await m.stop();
    }
  });

  it('keeps renewing the leases it holds while listing the bucket stalls', async () => {
    const kv = new FakeKv();
    const leaseMs = 300;
    const { m } = manager(kv, leaseMs);
    m.start();
    try {
      await until('the lease', () => m.owns('f1'));
      kv.stallListings = 1_000;
      const revision = kv.entries.get('fed-f1')!;
      const end = performance.now() + 5 * leaseMs;
      while (performance.now() < end) {
        assert.ok(m.owns('f1'), 'the lease stopped counting while a listing was stalled');
        await sleep(10);
      }
      assert.ok(kv.entries.get('fed-f1')! >= revision + 5, 'renewed about every leaseMs/3');
    } finally {
      await m.stop();
    }
  });

  it('takes a free federation after a listing that never ends (an entry expired mid-listing)', async () => {
    const kv = new FakeKv();
    const leaseMs = 300;
    kv.stallListings = 1;
    const { m, events } = manager(kv, leaseMs);
    const began = performance.now();
    m.start();
    try {
      await until('the lease', () => m.owns('f1'), 3 * leaseMs);
      assert.ok(performance.now() - began < 3 * leaseMs, 'within a few ticks, not after the stall');
      assert.equal(kv.stoppedListings, 1, 'the stalled listing was stopped');
      assert.deepEqual(events, ['acquired f1']);
    } finally {
      await m.stop();
    }
  });
});
