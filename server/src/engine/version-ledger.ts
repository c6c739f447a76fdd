/**
 * The versions (sync: rounds) a runtime still holds: the current one, the older ones that
 * accept late work or feed the newest consensus, their contributions, and how many
 * contributions arrived since the last publish.
 */
import type { RecoveredVersions } from './runtime-recovery.ts';
import type { VersionState } from './runtime-types.ts';
import type { Contribution } from './strategy.ts';

export class VersionLedger {
  private readonly byVersion = new Map<number, VersionState>();
  private currentVersion = 0;
  private fresh = 0;

  /** The newest version opened (0: none yet). */
  get current(): number {
    return this.currentVersion;
  }
  /** Contributions accepted since the last publish (any version). */
  get newSincePublish(): number {
    return this.fresh;
  }
  get(version: number): VersionState | undefined {
    return this.byVersion.get(version);
  }
  /** The current version's state. */
  head(): VersionState | undefined {
    return this.byVersion.get(this.currentVersion);
  }
  all(): IterableIterator<VersionState> {
    return this.byVersion.values();
  }

  /** Replaces everything held with what was loaded from the store. */
  restore(state: RecoveredVersions): void {
    this.byVersion.clear();
    this.currentVersion = state.current;
    for (const [version, v] of state.versions) this.byVersion.set(version, v);
    this.fresh = state.newSincePublish;
  }

  /** Opens `version` (it becomes current). */
  add(version: number, indices: Uint32Array, openedAt: number): void {
    this.byVersion.set(version, {
      version,
      indices,
      openedAt,
      open: true,
      dirty: false,
      contributions: new Map(),
    });
    this.currentVersion = version;
  }

  record(v: VersionState, contribution: Contribution): void {
    v.contributions.set(contribution.participantId, contribution);
    v.dirty = true;
    this.fresh++;
  }

  /** A consensus was published: every contribution so far is in it. */
  published(): void {
    this.fresh = 0;
    for (const v of this.byVersion.values()) v.dirty = false;
  }

  /** The contributions of `sources`, as a strategy aggregates them. */
  inputs(sources: readonly number[]): Map<number, { indices: Uint32Array; contributions: Contribution[] }> {
    const byVersion = new Map<number, { indices: Uint32Array; contributions: Contribution[] }>();
    for (const sv of sources) {
      const v = this.byVersion.get(sv);
      if (v && v.contributions.size > 0)
        byVersion.set(sv, { indices: v.indices, contributions: [...v.contributions.values()] });
    }
    return byVersion;
  }

  /**
   * Drops versions more than `keep` behind the current one, except those in `needed`
   * (behind the newest consensus), which stay loaded but closed.
   */
  prune(keep: number, needed: ReadonlySet<number>): void {
    for (const v of [...this.byVersion.keys()]) {
      if (v >= this.currentVersion - keep) continue;
      if (!needed.has(v)) this.byVersion.delete(v);
      else this.byVersion.get(v)!.open = false;
    }
  }
}
