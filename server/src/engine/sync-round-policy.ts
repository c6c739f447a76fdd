/**
 * Synchronous rounds: round r accepts work until it closes, at a quorum (or when every
 * participant online has submitted) or at its deadline; late work is STALE_ROUND.
 */
import {
  everyoneOnlineContributed,
  type PublishFacts,
  type RoundHost,
  type RoundPolicy,
} from './round-policy.ts';
import { RuntimeError, type VersionState } from './runtime-types.ts';
import type { FederationSettings } from './settings.ts';

export class SyncRoundPolicy implements RoundPolicy {
  readonly mode = 'sync';
  readonly keepVersions = 0;
  readonly closesOnPublish = true;
  readonly skipsBusy = false;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly settings: FederationSettings['sync'],
    private readonly host: RoundHost,
  ) {}

  mayOpen(_current: number, online: number): boolean {
    return online >= Math.max(1, this.settings.minParticipants);
  }

  rejectGone(version: number, current: number): Error {
    return stale(version, current);
  }

  admit(v: VersionState, current: number): { staleness: number; weight: number } {
    if (!v.open) throw stale(v.version, current);
    return { staleness: current - v.version, weight: 1 };
  }

  /**
   * Quorum 0: every connected participant (and, after a restart, every one awaited) has
   * contributed. Checked on every join too, so the size test keeps a reconnect storm O(1)
   * per Hello while most participants have not contributed yet.
   */
  publishReason({ current: v, online, graceActive }: PublishFacts): string | null {
    if (!v?.open || v.contributions.size === 0) return null;
    const quorum = this.settings.quorum;
    const done =
      quorum > 0 ? v.contributions.size >= quorum : !graceActive && everyoneOnlineContributed(v, online);
    return done ? 'quorum' : null;
  }

  sourceVersions(_versions: Iterable<VersionState>, current: number): number[] {
    return [current];
  }

  taskDeadline(v: VersionState): number {
    return this.settings.deadlineMs ? v.openedAt + this.settings.deadlineMs : 0;
  }

  /** The deadline of the open round; one falling due during a recovery grace waits for its end. */
  armTimers(): void {
    if (!this.host.current()?.open) return;
    this.armDeadline();
  }

  close(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
  }

  private armDeadline(): void {
    this.close();
    const ms = this.settings.deadlineMs;
    const v = this.host.current();
    if (!ms || !v || this.host.isClosed()) return;
    const wait = Math.max(0, v.openedAt + ms - this.host.now());
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      this.host.enqueue(async () => {
        const open = this.host.current();
        if (!open?.open || open.version !== v.version) return;
        // Restarted: the deadline is re-armed when the grace ends.
        if (this.host.graceActive()) return;
        if (open.contributions.size === 0) {
          // Nothing to aggregate: keep the round open for another deadline period.
          open.openedAt = this.host.now();
          this.armDeadline();
          return;
        }
        await this.host.publish('deadline');
      });
    }, wait);
  }
}

function stale(version: number, current: number): RuntimeError {
  return new RuntimeError('STALE_ROUND', `round ${version} is closed; the current round is ${current}`);
}
