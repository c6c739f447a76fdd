/**
 * Retention of stored upload payloads. Every accepted upload is stored with its bytes
 * (db Submission.payload) because a restarted coordinator re-aggregates from them; without
 * a rule the database grows by every upload of a long federation. The rule: after version
 * v is published, the payloads of versions older than the last
 * max(retentionVersions, keepVersions) are dropped, except those the latest consensus
 * covers (the store keeps them: recovery re-aggregates them). Their metadata (rows,
 * weights, bytes, metrics) stays, so the rounds API and the dashboard are unchanged.
 * keepVersions is the round policy's (async: maxStaleness; sync: 0): recovery reads
 * versions >= current - keepVersions (runtime-recovery.ts), which are therefore kept.
 *
 * It runs after a publish, off the hot path: nothing awaits it, one prune per federation
 * at a time, and publishes that arrive meanwhile collapse into one more prune.
 */
import type { RuntimeStore } from '../db/store.ts';

/** Versions whose payloads are kept beyond what recovery needs (debugging, audit). */
export const DEFAULT_PAYLOAD_RETENTION_VERSIONS = 16;

/** The first version whose payloads are kept after `published` was published. */
export function retainedFrom(published: number, keepVersions: number, retentionVersions: number): number {
  // Recovery reads from (published + 1) - keepVersions: never prune at or after it.
  return published + 1 - Math.max(keepVersions, retentionVersions, 1);
}

export class PayloadRetention {
  readonly #running = new Map<string, Promise<void>>();
  readonly #wanted = new Map<string, number>();

  constructor(
    private readonly store: Pick<RuntimeStore, 'prunePayloads'>,
    private readonly retentionVersions: number,
    private readonly onError: (error: unknown, federationId: string) => void,
  ) {
    if (!Number.isInteger(retentionVersions) || retentionVersions < 1)
      throw new RangeError(
        `payload retention must be a positive integer of versions, not ${retentionVersions}`,
      );
  }

  /** Schedules the prune that follows the publish of `published`; returns at once. */
  afterPublish(federationId: string, published: number, keepVersions: number): void {
    const before = retainedFrom(published, keepVersions, this.retentionVersions);
    if (before <= 1) return;
    this.#wanted.set(federationId, Math.max(before, this.#wanted.get(federationId) ?? 0));
    if (!this.#running.has(federationId)) this.#running.set(federationId, this.#drain(federationId));
  }

  /** Resolves when no prune is running (shutdown waits for it before the database closes). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  async #drain(federationId: string): Promise<void> {
    // Yield first: the publish that scheduled this finishes its own writes before.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      for (let before = this.#take(federationId); before !== null; before = this.#take(federationId)) {
        try {
          await this.store.prunePayloads(federationId, before);
        } catch (e) {
          this.onError(e, federationId);
        }
      }
    } finally {
      this.#running.delete(federationId);
    }
  }

  #take(federationId: string): number | null {
    const before = this.#wanted.get(federationId);
    this.#wanted.delete(federationId);
    return before ?? null;
  }
}
