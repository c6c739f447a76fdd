/**
 * A trust weight per participant, kept across versions: the moving average of the trust
 * factors its contributions got ('agreement', core/src/aggregate/trust.ts), so that one
 * unusual batch does not flag anyone but a participant that keeps uploading far from the
 * others does, times its copy standing (free-riders.ts: itself a moving average, over the
 * versions where its upload could be compared with the targets it was sent). Held in memory
 * by the federation's runtime (a restart starts everyone at 1 again); the admin API lists it
 * with a flag and the reason.
 */
import type { Consensus } from './strategy.ts';

/** Weight of the newest factor in the moving average. */
export const TRUST_SMOOTHING = 0.5;
/** Below this trust weight a participant is flagged. */
export const TRUST_FLAG_BELOW = 0.5;

/** Why a participant is flagged: its uploads lie far from the others', or repeat its targets. */
export type FlagReason = 'far from the others' | 'copies its targets';

export class TrustLedger {
  readonly #trust = new Map<string, number>();
  readonly #copy = new Map<string, number>();

  /** Folds in the factors of a newly published consensus (nothing for rules without them). */
  record(consensus: Consensus | null): void {
    if (consensus?.kind !== 'mutual') return;
    for (const batch of consensus.batches) {
      if (!batch.trust) continue;
      batch.contributions.forEach((c, j) => {
        const factor = batch.trust![j]!;
        const before = this.#trust.get(c.participantId);
        this.#trust.set(
          c.participantId,
          before === undefined ? factor : (1 - TRUST_SMOOTHING) * before + TRUST_SMOOTHING * factor,
        );
        // Already a moving average (FreeRiderWatch): the newest is the standing.
        if (batch.copy) this.#copy.set(c.participantId, batch.copy[j]!);
      });
    }
  }

  /** Its trust weight in [0, 1], or null when none of its contributions was scored yet. */
  of(participantId: string): number | null {
    const trust = this.#trust.get(participantId);
    return trust === undefined ? null : trust * (this.#copy.get(participantId) ?? 1);
  }

  /** Why it is flagged, or null when it is not. */
  reason(participantId: string): FlagReason | null {
    if (!isFlagged(this.of(participantId))) return null;
    return (this.#copy.get(participantId) ?? 1) < TRUST_FLAG_BELOW
      ? 'copies its targets'
      : 'far from the others';
  }

  forget(participantId: string): void {
    this.#trust.delete(participantId);
    this.#copy.delete(participantId);
  }
}

export const isFlagged = (trust: number | null): boolean => trust !== null && trust < TRUST_FLAG_BELOW;
