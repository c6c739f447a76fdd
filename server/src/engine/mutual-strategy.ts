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
import { aggregateLeaveOneOut, leaveOneOutFromMean, mean, trustScores } from '@mutua/core/aggregate';
import { activeBatch, activeCount, RowScores, rowUncertainty } from './active-rows.ts';
import { aggregateOptions, aggregatePredictions } from './aggregation.ts';
import { sampleBatch } from './batch-sampler.ts';
import { FreeRiderWatch } from './free-riders.ts';
import type {
  BatchConsensus,
  Consensus,
  Contribution,
  RoundContext,
  RoundPlan,
  Strategy,
} from './strategy.ts';

export class MutualStrategy implements Strategy {
  readonly name = 'mutual';
  readonly uploads = 'predictions';
  /**
   * Active rows only: each public row's newest uncertainty, from the batches aggregated so
   * far. A cache of what the consensuses showed, not state to persist: after a restart the
   * rows of the recovered consensus are scored again and the others count as unseen.
   */
  private rowScores: RowScores | null = null;
  /** 'agreement': each participant's copy standing (free-riders.ts), also a cache. */
  private readonly freeRiders = new FreeRiderWatch();

  configureRound(ctx: RoundContext): RoundPlan {
    const { settings } = ctx;
    const { batchSize, activeRows, seed } = settings;
    return {
      predictIndices:
        activeRows > 0
          ? activeBatch(this.scores(ctx).scores, batchSize, activeRows, ctx.version, seed)
          : sampleBatch(ctx.publicSetSize, batchSize, ctx.version, seed),
      localEpochs: settings.localEpochs,
    };
  }

  aggregate(
    ctx: RoundContext,
    byVersion: ReadonlyMap<number, { indices: Uint32Array; contributions: readonly Contribution[] }>,
    previous?: Consensus | null,
  ): Consensus | null {
    const batches: BatchConsensus[] = [];
    for (const [version, { indices, contributions }] of [...byVersion].sort((a, b) => b[0] - a[0])) {
      const usable = contributions.filter((c) => c.probs && c.weight > 0);
      const standing =
        ctx.settings.aggregation === 'agreement'
          ? this.freeRiders.score(ctx, previous, version, indices, usable, (c, id, activeOnly) =>
              this.targetsFor({ ...ctx, version: c.version }, c, id, activeOnly),
            )
          : null;
      for (const part of splitActive(ctx, indices, usable)) {
        if (part.contributions.length === 0) continue;
        if (standing) {
          const b = agreementBatch(ctx, version, part.indices, part.contributions, standing);
          batches.push(part.fullOnly ? { ...b, fullOnly: true } : b);
        } else {
          const all = aggregatePredictions(
            ctx.settings,
            part.contributions.map((c) => c.probs!),
            part.contributions.map((c) => c.weight),
          );
          batches.push({ version, ...part, all });
        }
        if (ctx.settings.activeRows > 0) this.score(ctx, part);
      }
    }
    return batches.length === 0 ? null : { kind: 'mutual', version: ctx.version, batches };
  }

  private scores(ctx: RoundContext): RowScores {
    if (this.rowScores?.scores.length !== ctx.publicSetSize)
      this.rowScores = new RowScores(ctx.publicSetSize);
    return this.rowScores;
  }

  private score(ctx: RoundContext, part: { indices: Uint32Array; contributions: readonly Contribution[] }) {
    const { indices, contributions } = part;
    const u = rowUncertainty(
      contributions.map((c) => c.probs!),
      contributions.map((c) => c.weight),
      indices.length,
      ctx.settings.task.numClasses,
    );
    this.scores(ctx).update(indices, u);
  }

  targetsFor(
    ctx: RoundContext,
    consensus: Consensus,
    participantId: string,
    activeOnly = false,
  ): {
    indices: Uint32Array;
    probs: Float32Array;
    contributors: number;
    versions: readonly number[];
  } | null {
    if (consensus.kind !== 'mutual') return null;
    const C = ctx.settings.task.numClasses;
    // An async consensus holds a batch per version contributed to since the last one. A
    // participant distills on `batchSize` public rows per round (the learner cycles
    // through the targets one public minibatch per private step), so rows beyond that
    // would mostly travel unused: take the batches with the most other contributors
    // (newest first among equals) until `batchSize` rows are covered.
    const candidates: { b: number; others: number; own: Contribution | undefined }[] = [];
    consensus.batches.forEach((batch, b) => {
      // A participant given only active rows distills on those only.
      if (activeOnly && batch.fullOnly) return;
      const own = batchFacts(batch).byId.get(participantId);
      const others = batch.contributions.length - (own ? 1 : 0);
      if (others > 0) candidates.push({ b, others, own });
    });
    candidates.sort((x, y) => y.others - x.others || x.b - y.b);
    const chosen: typeof candidates = [];
    let rows = 0;
    for (const c of candidates) {
      if (rows >= ctx.settings.batchSize) break;
      chosen.push(c);
      rows += consensus.batches[c.b]!.indices.length;
    }
    chosen.sort((x, y) => x.b - y.b);
    const parts: { indices: Uint32Array; probs: Float32Array }[] = [];
    const present: number[] = [];
    let contributors = 0;
    for (const { b, others, own } of chosen) {
      const batch = consensus.batches[b]!;
      contributors = Math.max(contributors, others);
      const probs = own ? leaveOneOut(ctx, batch, batchFacts(batch), own, C) : batch.all;
      parts.push({ indices: batch.indices, probs });
      present.push(b);
    }
    if (parts.length === 0) return null;
    // Newest first, as the merge below takes them (PROTOCOL.md, "Derived indices").
    const versions = present.map((b) => consensus.batches[b]!.version);
    if (parts.length === 1) return { ...parts[0]!, contributors, versions };
    // Each version draws its own batch, so batches of different versions may share public
    // samples; a sample's targets come from its newest batch (parts are newest first), once:
    // Targets.indices must be distinct (clients reject a task that repeats an index).
    const plan = mergePlan(consensus, present);
    const probs = new Float32Array(plan.indices.length * C);
    for (let r = 0; r < plan.indices.length; r++) {
      const src = parts[plan.part[r]!]!.probs;
      const from = plan.row[r]! * C;
      for (let k = 0; k < C; k++) probs[r * C + k] = src[from + k]!;
    }
    return { indices: plan.indices, probs, contributors, versions };
  }
}

/**
 * 'agreement' (core/src/aggregate/trust.ts): each weight times the contribution's trust
 * factor, scored ONCE against everyone, and its copy standing (free-riders.ts), then the
 * plain weighted mean. The batch keeps
 * the trust-weighted contributions, so each participant's leave-one-out target comes from
 * the mean in O(n·C) like 'mean' (recomputing the trust over the others for every
 * participant cost O(m²·n·C) per version: too much for thousands of participants). An
 * attacker's own factor does not shape its target: it is taken out with its weight.
 */
function agreementBatch(
  ctx: RoundContext,
  version: number,
  indices: Uint32Array,
  usable: readonly Contribution[],
  standing: ReadonlyMap<string, number>,
): BatchConsensus {
  const C = ctx.settings.task.numClasses;
  const preds = usable.map((c) => c.probs!);
  const { trust } = trustScores(
    preds,
    C,
    usable.map((c) => c.weight),
  );
  const copy = Float64Array.from(usable, (c) => standing.get(c.participantId) ?? 1);
  const contributions = usable.map((c, j) => ({ ...c, weight: c.weight * trust[j]! * copy[j]! }));
  const weights = contributions.map((c) => c.weight);
  // Every factor can underflow to 0 only if every contribution is an outlier; keep the mean then.
  const all = mean(preds, C, weights.some((w) => w > 0) ? weights : usable.map((c) => c.weight));
  return { version, indices, contributions, all, trust, copy };
}

/**
 * With active rows, a version's contributions cover its first A rows (participants that
 * support active rows) or the whole batch (the others): the active rows are aggregated over
 * everyone, the remaining rows over the full-batch contributions only (fullOnly).
 */
function splitActive(
  ctx: RoundContext,
  indices: Uint32Array,
  usable: readonly Contribution[],
): { indices: Uint32Array; contributions: Contribution[]; fullOnly?: boolean }[] {
  const A = activeCount(ctx.settings.activeRows, indices.length);
  if (A === 0 || A === indices.length) return [{ indices, contributions: [...usable] }];
  const C = ctx.settings.task.numClasses;
  const full = usable.filter((c) => c.probs!.length === indices.length * C);
  return [
    {
      indices: indices.subarray(0, A),
      contributions: usable.map((c) =>
        c.probs!.length === A * C ? c : { ...c, probs: c.probs!.subarray(0, A * C) },
      ),
    },
    {
      indices: indices.subarray(A),
      contributions: full.map((c) => ({ ...c, probs: c.probs!.subarray(A * C) })),
      fullOnly: true,
    },
  ];
}

/**
 * What every participant's targets need from a batch, computed once per batch rather
 * than once per participant (which made targets for all contributors O(m²)).
 */
interface BatchFacts {
  byId: Map<string, Contribution>;
  totalWeight: number;
}
const factsByBatch = new WeakMap<BatchConsensus, BatchFacts>();

function batchFacts(batch: BatchConsensus): BatchFacts {
  let f = factsByBatch.get(batch);
  if (!f) {
    const byId = new Map<string, Contribution>();
    let totalWeight = 0;
    for (const c of batch.contributions) {
      byId.set(c.participantId, c);
      totalWeight += c.weight;
    }
    f = { byId, totalWeight };
    factsByBatch.set(batch, f);
  }
  return f;
}

/** Which (part, row) gives each distinct sample, newest part first; the same for everyone with the same parts. */
interface MergePlan {
  indices: Uint32Array;
  part: Uint16Array;
  row: Uint32Array;
}
const plansByConsensus = new WeakMap<Consensus, Map<string, MergePlan>>();

function mergePlan(consensus: Consensus & { kind: 'mutual' }, present: number[]): MergePlan {
  let plans = plansByConsensus.get(consensus);
  if (!plans) {
    plans = new Map();
    plansByConsensus.set(consensus, plans);
  }
  const key = present.join(',');
  let plan = plans.get(key);
  if (plan) return plan;
  const seen = new Set<number>();
  const indices: number[] = [];
  const part: number[] = [];
  const row: number[] = [];
  present.forEach((b, p) => {
    const batchIndices = consensus.batches[b]!.indices;
    for (let r = 0; r < batchIndices.length; r++) {
      const index = batchIndices[r]!;
      if (seen.has(index)) continue;
      seen.add(index);
      indices.push(index);
      part.push(p);
      row.push(r);
    }
  });
  plan = { indices: Uint32Array.from(indices), part: Uint16Array.from(part), row: Uint32Array.from(row) };
  plans.set(key, plan);
  return plan;
}

/**
 * q_{-i} through core's rules: for 'mean' from the batch's weighted mean in O(n·C)
 * (leaveOneOutFromMean); the other rules recompute over the others (aggregateLeaveOneOut).
 * `own` is in the batch and someone else is, so neither returns null here.
 */
/**
 * Aggregations whose leave-one-out targets come from a batch's weighted mean, its total
 * weight and the participant's own upload alone (leaveOneOut below), so that a cluster
 * follower needs no other participant's upload to send them (replica-mirror.ts).
 */
export function targetsFromMean(aggregation: RoundContext['settings']['aggregation']): boolean {
  return aggregation === 'mean' || aggregation === 'agreement';
}

function leaveOneOut(
  ctx: RoundContext,
  batch: BatchConsensus,
  facts: BatchFacts,
  own: Contribution,
  C: number,
): Float32Array {
  // 'agreement' batches hold trust-weighted contributions and their mean (agreementBatch).
  if (!targetsFromMean(ctx.settings.aggregation)) {
    const index = batch.contributions.indexOf(own);
    return aggregateLeaveOneOut(
      ctx.settings.aggregation,
      batch.contributions.map((c) => ({ pred: c.probs!, weight: c.weight })),
      index,
      aggregateOptions(ctx.settings),
    )!;
  }
  return leaveOneOutFromMean(batch.all, facts.totalWeight, own.probs!, own.weight, C)!;
}
