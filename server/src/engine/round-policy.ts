/**
 * What differs between synchronous rounds and asynchronous versions, behind one
 * interface: which contribution is accepted and with what staleness weight, when the
 * current version publishes, which versions feed the consensus, how long versions stay
 * open, and the timers. The runtime (federation-runtime.ts) holds the state and the
 * queue; a policy only reads the facts it is given and calls back through its host.
 */

import type { OnlineSet } from './online-view.ts';
import type { VersionState } from './runtime-types.ts';
import type { ModeName } from './settings.ts';

/** What a policy may ask of the runtime that owns it. */
export interface RoundHost {
  readonly now: () => number;
  /** Runs `fn` in the runtime's queue of state changes. */
  enqueue(fn: () => Promise<void> | void): void;
  /** The version open for new work, if any. */
  current(): VersionState | undefined;
  /** Recovery grace: participants of the version open at a restart are still awaited. */
  graceActive(): boolean;
  /** Publishes the current version's consensus and opens the next version. */
  publish(reason: string): Promise<void>;
  isClosed(): boolean;
}

/** The facts a publish decision reads. */
export interface PublishFacts {
  readonly current: VersionState | undefined;
  /** Contributions accepted since the last publish (any version). */
  readonly newSincePublish: number;
  /** Participants online now. */
  readonly online: OnlineSet;
  readonly graceActive: boolean;
}

export interface RoundPolicy {
  readonly mode: ModeName;
  /** Versions before the current one that still accept work (and are reloaded on recovery). */
  readonly keepVersions: number;
  /** A version stops accepting work when its consensus is published (sync). */
  readonly closesOnPublish: boolean;
  /** A participant busy with an unanswered task is not offered newer ones (async). */
  readonly skipsBusy: boolean;
  /** Whether a new version may open now, given the current one (0: none yet) and who is online. */
  mayOpen(current: number, online: number): boolean;
  /**
   * The error for a submission to `version` that is older than `current` and no longer
   * held (sync: the round is closed; async: too stale).
   */
  rejectGone(version: number, current: number): Error;
  /**
   * Admits a submission to held version `v` while `current` is open: its staleness and
   * weight, or throws the RuntimeError that refuses it.
   */
  admit(v: VersionState, current: number): { staleness: number; weight: number };
  /** Why the current version publishes now, or null to wait. */
  publishReason(facts: PublishFacts): string | null;
  /** The versions whose contributions feed the consensus published while `current` is open. */
  sourceVersions(versions: Iterable<VersionState>, current: number): number[];
  /** The deadline a Task for `v` carries (0: none). */
  taskDeadline(v: VersionState): number;
  /** (Re)arms the timers for the current version: after it opens, on recovery, after the grace. */
  armTimers(): void;
  /** Stops every timer (the runtime closes). */
  close(): void;
}

/** True when every participant online has contributed to `v` (the size test first keeps it O(1) mostly). */
export function everyoneOnlineContributed(v: VersionState, online: OnlineSet): boolean {
  if (v.contributions.size < online.size) return false;
  for (const id of online.keys()) if (!v.contributions.has(id)) return false;
  return true;
}
