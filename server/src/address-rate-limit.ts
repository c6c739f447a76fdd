/**
 * A token bucket per client address, for HTTP routes whose answers are expensive to make
 * (demo shards: ~66 ms of CPU and ~4 MB each). Idle addresses are forgotten so the map
 * stays bounded by the addresses active within one refill period.
 */
import { TokenBucket } from './ws/rate-limiter.ts';

export class AddressRateLimit {
  private readonly buckets = new Map<string, { bucket: TokenBucket; last: number }>();
  private lastSweep: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** 0 when `address` may go on, else milliseconds until it may. */
  take(address: string): number {
    const t = this.now();
    this.sweep(t);
    let b = this.buckets.get(address);
    if (!b) {
      b = { bucket: new TokenBucket(this.perMinute / 60, this.perMinute, this.now), last: t };
      this.buckets.set(address, b);
    }
    b.last = t;
    return b.bucket.take();
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < 60_000) return;
    this.lastSweep = t;
    // A bucket untouched for a minute is full again: dropping it changes nothing.
    for (const [a, b] of this.buckets) if (t - b.last >= 60_000) this.buckets.delete(a);
  }
}
