/**
 * Mutual distillation: every version's task predicts a fresh public batch; the
 * consensus of a batch is the aggregate of every participant's predictions on it, and
 * each participant is sent the leave-one-out aggregate of the OTHERS (ARCHITECTURE.md,
 * "The learning rule"), so nobody distills toward its own echo.
 *
 * Cost of leave-one-out: for 'mean' it comes from the running sum in O(n·C) per
 * participant; the robust and confidence-weighted aggregators are recomputed over the
 * others, O(m·n·C) per participant (m contributors), which is why they are opt-in.
 */
import { aggregatePredictions } from './aggregation.ts';
import { sampleBatch } from './batch-sampler.ts';
import type {
  BatchConsensus,
  Consensus,
  Contribution,
  RoundContext,
  RoundPlan,
  Strategy,
} from './strategy.ts';

export class MutualStrategy implements Strategy {
  configureRound(ctx: RoundContext): RoundPlan {
    const { settings } = ctx;
    return {
      predictIndices: sampleBatch(ctx.publicSetSize, settings.batchSize, ctx.version, settings.seed),
      localEpochs: settings.localEpochs,
    };
  }

  aggregate(
    ctx: RoundContext,
    byVersion: ReadonlyMap<number, { indices: Uint32Array; contributions: readonly Contribution[] }>,
  ): Consensus | null {
    const batches: BatchConsensus[] = [];
    for (const [version, { indices, contributions }] of [...byVersion].sort((a, b) => b[0] - a[0])) {
      const usable = contributions.filter((c) => c.probs && c.weight > 0);
      if (usable.length === 0) continue;
      const all = aggregatePredictions(
        ctx.settings,
        usable.map((c) => c.probs!),
        usable.map((c) => c.weight),
      );
      batches.push({ version, indices, contributions: usable, all });
    }
    return batches.length === 0 ? null : { kind: 'mutual', version: ctx.version, batches };
  }

  targetsFor(
    ctx: RoundContext,
    consensus: Consensus,
    participantId: string,
  ): { indices: Uint32Array; probs: Float32Array; contributors: number } | null {
    if (consensus.kind !== 'mutual') return null;
    const C = ctx.settings.task.numClasses;
    const parts: { indices: Uint32Array; probs: Float32Array }[] = [];
    let contributors = 0;
    for (const batch of consensus.batches) {
      const others = batch.contributions.filter((c) => c.participantId !== participantId);
      if (others.length === 0) continue;
      contributors = Math.max(contributors, others.length);
      const probs =
        others.length === batch.contributions.length
          ? batch.all
          : leaveOneOut(ctx, batch, others, participantId, C);
      parts.push({ indices: batch.indices, probs });
    }
    if (parts.length === 0) return null;
    if (parts.length === 1) return { ...parts[0]!, contributors };
    // Each version draws its own batch, so batches of different versions may share public
    // samples; a sample's targets come from its newest batch (parts are newest first), once:
    // Targets.indices must be distinct (clients reject a task that repeats an index).
    const seen = new Set<number>();
    const rows: { part: number; row: number }[] = [];
    parts.forEach((p, part) => {
      p.indices.forEach((index, row) => {
        if (seen.has(index)) return;
        seen.add(index);
        rows.push({ part, row });
      });
    });
    const indices = new Uint32Array(rows.length);
    const probs = new Float32Array(rows.length * C);
    rows.forEach(({ part, row }, r) => {
      const p = parts[part]!;
      indices[r] = p.indices[row]!;
      probs.set(p.probs.subarray(row * C, row * C + C), r * C);
    });
    return { indices, probs, contributors };
  }
}

function leaveOneOut(
  ctx: RoundContext,
  batch: BatchConsensus,
  others: readonly Contribution[],
  participantId: string,
  C: number,
): Float32Array {
  if (ctx.settings.aggregation !== 'mean') {
    return aggregatePredictions(
      ctx.settings,
      others.map((c) => c.probs!),
      others.map((c) => c.weight),
    );
  }
  // (Σ_j w_j p_j − w_i p_i) / (W − w_i), from the batch's weighted sum.
  const own = batch.contributions.find((c) => c.participantId === participantId)!;
  const n = batch.indices.length;
  let W = 0;
  for (const c of batch.contributions) W += c.weight;
  const out = new Float32Array(n * C);
  const rest = W - own.weight;
  const all = batch.all;
  const p = own.probs!;
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let k = r * C; k < r * C + C; k++) {
      const v = Math.max(0, (all[k]! * W - own.weight * p[k]!) / rest);
      out[k] = v;
      sum += v;
    }
    for (let k = r * C; k < r * C + C; k++) out[k] = sum > 0 ? out[k]! / sum : 1 / C;
  }
  return out;
}
