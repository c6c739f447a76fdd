/**
 * Which replicas are alive and how many federations each owns: every replica publishes a
 * heartbeat each second on `<cluster>.replicas.hb`; one not heard for three intervals is
 * gone (its participants are then offline until they reconnect elsewhere).
 */
import type { Subscription } from '@nats-io/transport-node';
import type { NatsBus } from './nats-bus.ts';

interface Beat {
  r: string;
  owned: number;
}

export class ReplicaDirectory {
  private readonly seen = new Map<string, { at: number; owned: number }>();
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: NatsBus,
    private readonly subject: string,
    readonly self: string,
    private readonly owned: () => number,
    private readonly gone: (replica: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.sub = this.bus.subscribe(this.subject, (data) => {
      const b = JSON.parse(new TextDecoder().decode(data)) as Beat;
      if (typeof b.r === 'string' && b.r !== this.self)
        this.seen.set(b.r, { at: Date.now(), owned: b.owned });
    });
    const beat = () => {
      this.bus.publish(this.subject, JSON.stringify({ r: this.self, owned: this.owned() } satisfies Beat));
      const cutoff = Date.now() - 3 * this.intervalMs;
      for (const [r, s] of this.seen) {
        if (s.at >= cutoff) continue;
        this.seen.delete(r);
        this.gone(r);
      }
    };
    beat();
    this.timer = setInterval(beat, this.intervalMs);
  }

  /** Replicas alive now, this one included. */
  get live(): number {
    return this.seen.size + 1;
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
