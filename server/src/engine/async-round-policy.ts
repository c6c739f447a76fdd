/**
 * Asynchronous versions (FedBuff-like): no barrier. A new consensus version publishes
 * after `bufferK` new contributions; work up to `maxStaleness` versions old is accepted,
 * weighted by FedAsync's (1 + tau)^-a (core's stalenessWeight), so a slow participant
 * never holds the others back.
 */
import { isTooStale, type StalenessPolicy, stalenessWeight } from '@mutua/core/aggregate';
import { everyoneOnlineContributed, type PublishFacts, type RoundPolicy } from './round-policy.ts';
import { RuntimeError, type VersionState } from './runtime-types.ts';
import type { FederationSettings } from './settings.ts';

export class AsyncRoundPolicy implements RoundPolicy {
  readonly mode = 'async';
  readonly keepVersions: number;
  readonly closesOnPublish = false;
  readonly skipsBusy = true;
  private readonly staleness: StalenessPolicy;

  constructor(private readonly settings: FederationSettings['async']) {
    this.keepVersions = settings.maxStaleness;
    this.staleness = {
      kind: 'polynomial',
      a: settings.stalenessExponent,
      maxStaleness: settings.maxStaleness,
    };
  }

  /** Only the first version opens on demand; the next ones open when one publishes. */
  mayOpen(current: number, online: number): boolean {
    return current === 0 && online >= 1;
  }

  rejectGone(version: number, current: number): Error {
    return this.tooStale(version, current - version);
  }

  admit(v: VersionState, current: number): { staleness: number; weight: number } {
    const staleness = current - v.version;
    if (isTooStale(staleness, this.staleness)) throw this.tooStale(v.version, staleness);
    return { staleness, weight: stalenessWeight(staleness, this.staleness) };
  }

  /**
   * After `bufferK` new contributions, or sooner when every participant online has already
   * contributed to the current version: they would all wait for a version that fewer than
   * `bufferK` workers can never complete (the last ones of a federation, or one smaller
   * than `bufferK`). After a restart, that shortcut waits for the participants awaited.
   */
  publishReason({ current: v, newSincePublish, online, graceActive }: PublishFacts): string | null {
    if (newSincePublish === 0) return null;
    if (newSincePublish >= this.settings.bufferK) return 'buffer';
    if (!v || online.size === 0 || graceActive) return null;
    return everyoneOnlineContributed(v, online) ? 'all-waiting' : null;
  }

  /** Every version contributed to since the last publish. */
  sourceVersions(versions: Iterable<VersionState>): number[] {
    const out: number[] = [];
    for (const v of versions) if (v.dirty && v.contributions.size > 0) out.push(v.version);
    return out;
  }

  taskDeadline(): number {
    return 0;
  }

  armTimers(): void {}

  close(): void {}

  private tooStale(version: number, staleness: number): RuntimeError {
    return new RuntimeError(
      'TOO_STALE',
      `version ${version} is ${staleness} versions old (max ${this.settings.maxStaleness})`,
    );
  }
}
