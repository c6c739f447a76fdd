/**
 * A Strategy decides what a round asks for and how submissions become the next
 * consensus. It is pure: membership, timers, persistence and encoding belong to the
 * federation runtime (Flower's split between Strategy and server loop).
 */
import type { FederationSettings, StrategyName } from './settings.ts';

export interface RoundContext {
  readonly settings: FederationSettings;
  /** The round (sync) or consensus version (async) being configured or aggregated. */
  readonly version: number;
  readonly publicSetSize: number;
}

export interface RoundPlan {
  /** Public-set indices the participants predict on (mutual); empty for fedavg. */
  readonly predictIndices: Uint32Array;
  readonly localEpochs: number;
}

/** One accepted submission as a strategy sees it. */
export interface Contribution {
  readonly participantId: string;
  /** Version of the task it answers. */
  readonly version: number;
  readonly staleness: number;
  /** Staleness weight in (0, 1]. */
  readonly weight: number;
  /** mutual: n×C probabilities on the task's indices. */
  readonly probs?: Float32Array;
  /** fedavg: flattened parameters and the sample count they were trained on. */
  readonly params?: Float32Array;
  readonly numSamples?: number;
}

/** Per batch: the indices and every contribution on them, from which targets are derived. */
export interface BatchConsensus {
  readonly version: number;
  readonly indices: Uint32Array;
  readonly contributions: readonly Contribution[];
  /** Aggregate over all contributions (n×C). */
  readonly all: Float32Array;
  /** 'agreement': each contribution's trust factor in [0, 1], in the order of `contributions`. */
  readonly trust?: Float64Array;
  /**
   * 'agreement': each contributor's copy standing in [0, 1] (free-riders.ts; 1 = never
   * caught uploading its targets back), in the order of `contributions`. The weight of a
   * contribution is multiplied by both factors.
   */
  readonly copy?: Float64Array;
  /**
   * Active rows: the batch rows beyond the active ones, predicted only by participants
   * that get full batches; their targets go to those participants only.
   */
  readonly fullOnly?: boolean;
}

export type Consensus =
  | { readonly kind: 'mutual'; readonly version: number; readonly batches: readonly BatchConsensus[] }
  | { readonly kind: 'fedavg'; readonly version: number; readonly params: Float32Array };

export interface Strategy {
  readonly name: StrategyName;
  /** What a participant uploads: predictions on the public batch, or model weights. */
  readonly uploads: 'predictions' | 'weights';
  configureRound(ctx: RoundContext): RoundPlan;
  /**
   * Turns the contributions of one or more versions' batches into a consensus.
   * `byVersion` maps a version to its batch indices and contributions.
   * Returns null to keep the previous consensus. `previous`: the consensus being replaced
   * (whose targets the participants were sent), null when unknown (recovery).
   */
  aggregate(
    ctx: RoundContext,
    byVersion: ReadonlyMap<number, { indices: Uint32Array; contributions: readonly Contribution[] }>,
    previous?: Consensus | null,
  ): Consensus | null;
  /**
   * What participant `participantId` is sent from a consensus: leave-one-out targets
   * (mutual) — null when nobody else contributed. `activeOnly`: it is given active rows
   * only (settings.activeRows), so its targets cover those only.
   */
  targetsFor?(
    ctx: RoundContext,
    consensus: Consensus,
    participantId: string,
    activeOnly?: boolean,
  ): {
    indices: Uint32Array;
    probs: Float32Array;
    contributors: number;
    /** The batches' versions `indices` merge, in order (the wire layer checks they follow the batch rule). */
    versions?: readonly number[];
  } | null;
}
