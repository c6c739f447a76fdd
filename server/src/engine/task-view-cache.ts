/**
 * Builds the TaskViews a runtime hands out and keeps them for as long as they stay valid.
 *
 * Contract:
 * - A TaskView is immutable once handed out.
 * - Targets are computed once per (consensus version, participant); a participant that is
 *   not in the consensus gets the targets shared by all such participants (leave-one-out
 *   leaves nobody out for it), computed once per consensus version.
 * - A view carrying no per-participant part (no targets, the shared targets, or the global
 *   weights) is the same object for every participant it is handed to while the version,
 *   deadline, epochs and mode are unchanged (up to 16 such views are kept). A sender may
 *   therefore memoize a view's encoding per object (ws/wire-mapping.ts does, in a WeakMap).
 * - consensusChanged() must be called when a new consensus replaces the previous one.
 */

import type { GlobalWeightsView, TargetsView, TaskView, VersionState } from './runtime-types.ts';
import type { FederationSettings } from './settings.ts';
import type { Consensus, RoundContext, Strategy } from './strategy.ts';

const MAX_SHARED_VIEWS = 16;

export class TaskViewCache {
  private readonly targetsById = new Map<string, TargetsView | null>();
  /**
   * Targets of everyone who did not contribute to the consensus (the same for all of them),
   * for participants given full batches [0] and active rows only [1].
   */
  private readonly sharedTargets: ({ version: number; view: TargetsView | null } | null)[] = [null, null];
  private contributors: { version: number; ids: Set<string> } | null = null;
  /** Views handed to several participants, keyed by the targets / global weights they carry (full batches, active rows). */
  private readonly sharedViews = [new Map<unknown, TaskView>(), new Map<unknown, TaskView>()];
  private sharedGlobalWeights: GlobalWeightsView | null = null;

  constructor(
    private readonly strategy: Strategy,
    private readonly ctx: (version: number) => RoundContext,
  ) {}

  consensusChanged(): void {
    this.targetsById.clear();
  }

  /** What `participantId` distills toward from a mutual consensus (null: nothing yet); `activeOnly`: it gets active rows only. */
  targets(c: Consensus, participantId: string, activeOnly = false): TargetsView | null {
    const slot = activeOnly ? 1 : 0;
    if (!this.strategy.targetsFor) return null;
    if (c.kind === 'mutual') {
      if (this.contributors?.version !== c.version) {
        const ids = new Set<string>();
        for (const b of c.batches) for (const x of b.contributions) ids.add(x.participantId);
        this.contributors = { version: c.version, ids };
      }
      if (!this.contributors.ids.has(participantId)) {
        let shared = this.sharedTargets[slot];
        if (shared?.version !== c.version) {
          shared = { version: c.version, view: this.compute(c, participantId, activeOnly) };
          this.sharedTargets[slot] = shared;
        }
        return shared.view;
      }
    }
    const key = `${c.version}:${slot}:${participantId}`;
    if (this.targetsById.has(key)) return this.targetsById.get(key)!;
    const view = this.compute(c, participantId, activeOnly);
    this.targetsById.set(key, view);
    return view;
  }

  /** The global weights of a fedavg consensus, one object per consensus version. */
  globalWeights(c: Consensus & { kind: 'fedavg' }, signature: string): GlobalWeightsView {
    if (this.sharedGlobalWeights?.round !== c.version) {
      this.sharedGlobalWeights = { round: c.version, params: c.params, signature };
    }
    return this.sharedGlobalWeights;
  }

  view(
    v: VersionState,
    settings: FederationSettings,
    deadline: number,
    targets: TargetsView | null,
    globalWeights: GlobalWeightsView | null,
    activeRows = 0,
  ): TaskView {
    const slot = activeRows > 0 ? 1 : 0;
    const shared = targets === null || targets === this.sharedTargets[slot]?.view;
    const key = globalWeights ?? targets;
    const views = this.sharedViews[slot]!;
    let view = shared ? views.get(key) : undefined;
    if (
      !view ||
      view.round !== v.version ||
      view.deadlineUnixMs !== deadline ||
      view.localEpochs !== settings.localEpochs ||
      view.mode !== settings.mode
    ) {
      view = {
        round: v.version,
        mode: settings.mode,
        // Active rows are the batch's first (engine/active-rows.ts).
        predictIndices:
          activeRows > 0 ? v.indices.subarray(0, Math.min(activeRows, v.indices.length)) : v.indices,
        targets,
        globalWeights,
        deadlineUnixMs: deadline,
        localEpochs: settings.localEpochs,
      };
      if (shared) {
        if (views.size > MAX_SHARED_VIEWS) views.clear();
        views.set(key, view);
      }
    }
    return view;
  }

  private compute(c: Consensus, participantId: string, activeOnly: boolean): TargetsView | null {
    const t = this.strategy.targetsFor!(this.ctx(c.version), c, participantId, activeOnly);
    return t ? { version: c.version, ...t } : null;
  }
}
