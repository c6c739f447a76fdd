/**
 * 'agreement' against free-riders (core/src/aggregate/free-rider.ts): each version's uploads
 * are compared with the targets the same participants were sent in that version's task,
 * and a participant's copy standing is the moving average of its copy factors over the
 * versions it could be scored in (those where its batch shared samples with its targets).
 *
 * What the coordinator can compare exactly: the task of version v carries the leave-one-out
 * targets of consensus v−1, so an upload answering version v is scored against
 * targetsFor(consensus v−1) when that consensus is the one being replaced; uploads
 * answering older versions (asynchronous staleness) were sent other targets and are not
 * scored. Within one pass over the public set consecutive batches are disjoint
 * (batch-sampler.ts), so a copier can only be caught on the versions where batches overlap
 * its targets; its standing carries over between those versions.
 *
 * A cache like MutualStrategy's row scores, not persisted: a restart starts everyone at 1.
 */
import { type CopyDistance, copyDistance, copyFactors } from '@mutua/core/aggregate';
import type { Consensus, Contribution, RoundContext } from './strategy.ts';

/** Weight of the newest factor in the moving average (as TrustLedger). */
export const COPY_SMOOTHING = 0.5;

export type TargetsOf = (
  consensus: Consensus,
  participantId: string,
  activeOnly: boolean,
) => { indices: Uint32Array; probs: Float32Array } | null;

export class FreeRiderWatch {
  private readonly standing = new Map<string, number>();

  /**
   * Scores the uploads answering `version` (batch `indices`) against the targets sent from
   * `previous`, folds the factors into each participant's standing and returns every
   * contributor's standing (1 when never scored).
   */
  score(
    ctx: RoundContext,
    previous: Consensus | null | undefined,
    version: number,
    indices: Uint32Array,
    usable: readonly Contribution[],
    targetsOf: TargetsOf,
  ): Map<string, number> {
    const C = ctx.settings.task.numClasses;
    if (previous?.kind === 'mutual' && previous.version === version - 1) {
      const distances: (CopyDistance | null)[] = usable.map((c) => {
        const rows = c.probs!.length / C;
        // A participant given active rows only uploads the batch's first rows.
        const sent = targetsOf(previous, c.participantId, rows < indices.length);
        if (!sent) return null;
        return copyDistance({ indices: indices.subarray(0, rows), probs: c.probs! }, sent, C);
      });
      copyFactors(distances).forEach((f, j) => {
        if (f === null) return;
        const id = usable[j]!.participantId;
        const before = this.standing.get(id);
        this.standing.set(id, before === undefined ? f : (1 - COPY_SMOOTHING) * before + COPY_SMOOTHING * f);
      });
    }
    return new Map(usable.map((c) => [c.participantId, this.standing.get(c.participantId) ?? 1]));
  }
}
