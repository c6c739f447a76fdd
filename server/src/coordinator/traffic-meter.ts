/**
 * Per-participant traffic counters, added up in memory and written in one batch at most
 * every `flushMs` (and on demand: before the admin API reads them, at shutdown). The
 * batched write also sets each participant's last seen.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LiveStore } from '../db/store.ts';

export class TrafficMeter {
  private readonly pending = new Map<string, { in: number; out: number }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Pick<LiveStore, 'addTrafficMany'>,
    private readonly log: FastifyBaseLogger,
    flushMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref?.();
  }

  /** Adds traffic; 0 bytes still marks the participant as seen now. */
  count(participantId: string, bytesIn: number, bytesOut: number): void {
    const t = this.pending.get(participantId) ?? { in: 0, out: 0 };
    t.in += bytesIn;
    t.out += bytesOut;
    this.pending.set(participantId, t);
  }

  /** Writes the pending counters; a failed write keeps them for the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = [...this.pending];
      this.pending.clear();
      if (batch.length === 0) return;
      // One batched write for everyone: with thousands of connected participants, one
      // committed UPDATE each (an fsync each on SQLite) would take longer than the interval.
      try {
        await this.db.addTrafficMany(batch.map(([id, t]) => ({ id, bytesIn: t.in, bytesOut: t.out })));
      } catch (err) {
        this.log.warn({ err, participants: batch.length }, 'traffic counters not written; retrying');
        for (const [id, t] of batch) this.count(id, t.in, t.out);
      }
    });
    return this.flushing;
  }

  /** Stops the timer; the caller flushes once more after the last connection ended. */
  stop(): void {
    clearInterval(this.timer);
  }
}
