/**
 * Federation ownership by lease: a JetStream KV entry per federation (`fed-<id>`, value =
 * the owning replica) in a bucket whose entries expire `leaseMs` after their last write.
 * The owner renews every leaseMs/3; a replica that dies stops renewing and its leases
 * lapse, after which another replica creates the entry (create is atomic: one winner).
 *
 * Spreading: a replica takes a free federation only while it owns fewer than its fair
 * share, ceil(federations / live replicas), so ownership spreads; one owning more than
 * that while another owns less hands one over (after holding it a while, so ownership does
 * not flap). A federation left free for three lease periods is taken whatever the counts.
 *
 * Self-fencing: a lease counts as held only until `VALID_FRACTION` of leaseMs after the
 * renewal that confirmed it was sent (the server's time-to-live starts no earlier). A
 * replica whose event loop or NATS link stalls therefore stops deciding before its entry
 * can expire and another replica create it, instead of overlapping with its successor;
 * once a late renewal succeeds (nobody took the entry meanwhile) it decides again.
 *
 * Renewals run on their own, never behind the balancing pass (listing the bucket, taking
 * over a federation, which rebuilds it from the database): a slow takeover or listing must
 * not let the leases already held lapse. The listing is bounded (LIST_FRACTION of leaseMs):
 * nats.js's `kv.keys()` counts the entries, then waits for each one, and an entry that
 * expires in between (what a dead owner's lease does) leaves it waiting for the consumer's
 * idle heartbeat, 30 s; that pass is abandoned and the next one lists again.
 */
import type { KV } from '@nats-io/kv';
import type { ReplicaDirectory } from './replica-directory.ts';

export interface LeaseEvents {
  /** The active federations (ids) ownership is spread over. */
  federations(): Promise<string[]>;
  acquired(federationId: string): Promise<void>;
  /** Lost (renewal failed) or handed over: stop deciding. Resolves once stopped. */
  released(federationId: string, why: 'lost' | 'handover' | 'shutdown'): Promise<void>;
  /** A late renewal succeeded after the lease had stopped counting as held: decide again. */
  revalidated(federationId: string): void;
}

const keyOf = (federationId: string) => `fed-${federationId}`;
/** Part of the lease, from the confirming write's send time, during which this replica decides. */
export const VALID_FRACTION = 0.8;
/** Longest a listing of the bucket may take, as a part of leaseMs, before the pass gives up. */
export const LIST_FRACTION = 0.5;
const idOf = (key: string) => key.slice(4);

export class LeaseManager {
  /** Owned federations, the revision of their lease entry, and until when (performance.now()) it counts. */
  private readonly owned = new Map<string, { revision: number; since: number; validUntil: number }>();
  private readonly freeSince = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private balancing = false;
  /** The renewal pass in progress, if any (a release waits for it: see release()). */
  private renewal: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly directory: ReplicaDirectory,
    private readonly events: LeaseEvents,
    private readonly leaseMs: number,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  /** Holds the lease and its last confirmation is recent enough to decide on (self-fencing). */
  owns(federationId: string): boolean {
    const o = this.owned.get(federationId);
    return o !== undefined && performance.now() < o.validUntil;
  }

  get count(): number {
    return this.owned.size;
  }

  ownedIds(): string[] {
    return [...this.owned.keys()];
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      if (!this.renewal)
        this.renewal = this.renew()
          .catch((err) => this.log('lease renewal failed', err))
          .finally(() => {
            this.renewal = null;
          });
      if (this.balancing) return;
      this.balancing = true;
      this.balance()
        .catch((err) => this.log('lease tick failed', err))
        .finally(() => {
          this.balancing = false;
        });
    };
    this.timer = setInterval(tick, Math.max(100, Math.floor(this.leaseMs / 3)));
    tick();
  }

  /** Shutdown: stops deciding and deletes the leases so others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const id of [...this.owned.keys()]) await this.release(id, 'shutdown');
  }

  /** The keys in the bucket, or null when listing them took longer than LIST_FRACTION of leaseMs. */
  private async listHeld(): Promise<Set<string> | null> {
    const held = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(100, LIST_FRACTION * this.leaseMs));
    });
    const listing = this.kv.keys();
    try {
      const keys = await Promise.race([listing, timeout]);
      if (keys === 'timeout') {
        listing.then((k) => k.stop()).catch(() => undefined);
        return null;
      }
      try {
        const it = keys[Symbol.asyncIterator]();
        for (;;) {
          const next = await Promise.race([it.next(), timeout]);
          if (next === 'timeout') return null;
          if (next.done) return held;
          held.add(idOf(next.value));
        }
      } finally {
        keys.stop(); // ends the consumer behind an abandoned listing; a no-op once it ended
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async balance(): Promise<void> {
    const federations = await this.events.federations();
    const held = await this.listHeld();
    if (!held) {
      this.log('listing the leases timed out; listing again at the next tick');
      return;
    }
    const now = Date.now();
    const share = Math.ceil(federations.length / this.directory.live);
    for (const id of [...this.owned.keys()])
      if (!federations.includes(id)) await this.release(id, 'handover');
    const free = federations.filter((id) => !held.has(id));
    for (const id of federations) if (held.has(id)) this.freeSince.delete(id);
    for (const id of free) if (!this.freeSince.has(id)) this.freeSince.set(id, now);
    // One acquisition per tick, so replicas ticking together spread the free ones.
    const order = free.sort(() => Math.random() - 0.5);
    for (const id of order) {
      const abandoned = now - (this.freeSince.get(id) ?? now) > 3 * this.leaseMs;
      if (this.owned.size >= share && !abandoned) break;
      if (await this.acquire(id)) break;
    }
    const newest = Math.max(0, ...[...this.owned.values()].map((o) => o.since));
    if (
      this.owned.size > share &&
      this.directory.fewestOwnedElsewhere < share &&
      now - newest > 3 * this.leaseMs
    ) {
      const [first] = this.owned.keys();
      if (first) await this.release(first, 'handover');
    }
  }

  private async renew(): Promise<void> {
    for (const [id, o] of [...this.owned]) {
      if (this.owned.get(id) !== o) continue; // released meanwhile
      const sent = performance.now();
      try {
        o.revision = await this.kv.update(keyOf(id), this.directory.self, o.revision);
        if (this.owned.get(id) !== o) continue;
        const lapsed = performance.now() >= o.validUntil;
        o.validUntil = sent + VALID_FRACTION * this.leaseMs;
        if (lapsed && performance.now() < o.validUntil) this.events.revalidated(id);
      } catch (err) {
        if (this.owned.get(id) !== o) continue;
        this.log(`lease on ${id} lost`, err);
        this.owned.delete(id);
        await this.events.released(id, 'lost');
      }
    }
  }

  private async acquire(id: string): Promise<boolean> {
    let revision: number;
    const sent = performance.now();
    try {
      revision = await this.kv.create(keyOf(id), this.directory.self);
    } catch {
      return false; // someone else was faster
    }
    this.owned.set(id, { revision, since: Date.now(), validUntil: sent + VALID_FRACTION * this.leaseMs });
    this.freeSince.delete(id);
    try {
      await this.events.acquired(id);
    } catch (err) {
      this.log(`taking over ${id} failed; handing it back`, err);
      await this.release(id, 'handover');
      return false;
    }
    return true;
  }

  private async release(id: string, why: 'handover' | 'shutdown'): Promise<void> {
    const o = this.owned.get(id);
    if (!o) return;
    this.owned.delete(id);
    await this.events.released(id, why).catch((err) => this.log(`releasing ${id}`, err));
    // A renewal in flight moves the revision: delete the entry at the one it leaves.
    await this.renewal;
    // Deleted only once this replica stopped deciding: the next owner starts from the store.
    await this.kv.delete(keyOf(id), { previousSeq: o.revision }).catch(() => undefined);
  }
}
