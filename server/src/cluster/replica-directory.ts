/**
 * Which replicas are alive and how many federations each owns: every replica publishes a
 * heartbeat each second on `<cluster>.replicas.hb`; one not heard for three intervals is
 * gone (its participants are then offline until they reconnect elsewhere). The heartbeat
 * also carries, for each federation the replica owns, how many participants are online
 * across the cluster (the owner's union), so every replica can report the same count.
 */
import type { Subscription } from '@nats-io/transport-node';
import type { NatsBus } from './nats-bus.ts';

interface Beat {
  r: string;
  owned: number;
  /** Owned federation → participants online across the cluster. */
  online?: Record<string, number>;
}

export class ReplicaDirectory {
  private readonly seen = new Map<string, { at: number; owned: number }>();
  /** Federation → online count its owner last reported, and when. */
  private readonly reported = new Map<string, { n: number; at: number; by: string }>();
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: NatsBus,
    private readonly subject: string,
    readonly self: string,
    private readonly owned: () => number,
    private readonly gone: (replica: string) => void,
    private readonly onlineOwned: () => Record<string, number> = () => ({}),
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.sub = this.bus.subscribe(this.subject, (data) => {
      const b = JSON.parse(new TextDecoder().decode(data)) as Beat;
      if (typeof b.r !== 'string' || b.r === this.self) return;
      const at = Date.now();
      this.seen.set(b.r, { at, owned: b.owned });
      for (const [id, n] of Object.entries(b.online ?? {}))
        if (Number.isSafeInteger(n) && n >= 0) this.reported.set(id, { n, at, by: b.r });
    });
    const beat = () => {
      const b: Beat = { r: this.self, owned: this.owned(), online: this.onlineOwned() };
      this.bus.publish(this.subject, JSON.stringify(b));
      const cutoff = Date.now() - 3 * this.intervalMs;
      for (const [r, s] of this.seen) {
        if (s.at >= cutoff) continue;
        this.seen.delete(r);
        this.gone(r);
      }
      for (const [id, o] of this.reported) if (o.at < cutoff) this.reported.delete(id);
    };
    beat();
    this.timer = setInterval(beat, this.intervalMs);
  }

  /** Replicas alive now, this one included. */
  get live(): number {
    return this.seen.size + 1;
  }

  /** Participants online in `federationId` as its owner (another replica) last reported; undefined if stale. */
  onlineReported(federationId: string): number | undefined {
    const o = this.reported.get(federationId);
    return o && o.at >= Date.now() - 3 * this.intervalMs ? o.n : undefined;
  }

  /** Fewest federations any other live replica owns (Infinity when alone). */
  get fewestOwnedElsewhere(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const s of this.seen.values()) min = Math.min(min, s.owned);
    return min;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
  }
}
