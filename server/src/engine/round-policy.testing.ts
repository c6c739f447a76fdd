/** Test helpers for round policies: versions and a host with a manual clock and queue. */
import type { RoundHost } from './round-policy.ts';
import type { VersionState } from './runtime-types.ts';
import type { Contribution } from './strategy.ts';

export function version(v: number, contributors: string[] = [], openedAt = 0): VersionState {
  const contributions = new Map<string, Contribution>();
  for (const id of contributors)
    contributions.set(id, { participantId: id, version: v, staleness: 0, weight: 1 });
  return {
    version: v,
    indices: new Uint32Array(4),
    openedAt,
    open: true,
    dirty: contributors.length > 0,
    contributions,
  };
}

export function online(...ids: string[]): ReadonlyMap<string, unknown> {
  return new Map(ids.map((id) => [id, true]));
}

/** A host whose queue runs on demand; `published` records every publish. */
export class FakeHost implements RoundHost {
  time = 1_000;
  grace = false;
  closed = false;
  head: VersionState | undefined;
  readonly published: string[] = [];
  private readonly queued: (() => Promise<void> | void)[] = [];
  private wake: (() => void) | null = null;

  readonly now = () => this.time;
  enqueue(fn: () => Promise<void> | void): void {
    this.queued.push(fn);
    this.wake?.();
  }
  current(): VersionState | undefined {
    return this.head;
  }
  graceActive(): boolean {
    return this.grace;
  }
  async publish(reason: string): Promise<void> {
    this.published.push(reason);
  }
  isClosed(): boolean {
    return this.closed;
  }
  /** Waits until a timer enqueues work, then runs everything queued. */
  async nextQueued(): Promise<void> {
    if (this.queued.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    while (this.queued.length > 0) await this.queued.shift()!();
  }
}
