/**
 * Active selection of public rows (a strategy option, settings.activeRows): instead of a
 * fresh random batch, version v asks participants for the rows where distillation has
 * the most to teach, as CFD's "active distillation-data curation" does (Sattler et al.,
 * "Communication-Efficient Federated Distillation", 2020): a row whose consensus is
 * already near one-hot, and that everybody agrees on, carries almost no information.
 *
 * The rule, deterministic given (seed, version, scores):
 * - A row's score is the entropy of the weighted mean of the participants' predictions on
 *   it, divided by log C (so in [0, 1]). By the generalized Jensen-Shannon identity,
 *   H(Σ w_j p_j) = Σ w_j H(p_j) + Σ w_j KL(p_j ‖ p̄): the score is high when the
 *   participants are uncertain OR when they disagree, and low only when they agree
 *   confidently. It is updated every time a row is aggregated.
 * - A row never scored counts as maximally uncertain (score 1), so the public set is
 *   covered before rows are revisited.
 * - Of `count` active rows, ⌈count/8⌉ are drawn uniformly at random among the others
 *   (exploration: a score goes stale as the models improve, and only a drawn row is
 *   re-scored); the rest are the highest scores, ties broken by a seeded random order.
 * - A participant that does not declare support (Hello.supports_active_rows) predicts
 *   the full batch: the active rows first, then a seeded random fill (batch-sampler.ts).
 */
import { sampleBatch } from './batch-sampler.ts';

/** Entropy of the weighted mean prediction per row, / log C: uncertainty plus disagreement. */
export function rowUncertainty(
  preds: readonly Float32Array[],
  weights: readonly number[],
  rows: number,
  C: number,
): Float32Array {
  const out = new Float32Array(rows);
  let total = 0;
  for (const w of weights) total += w;
  if (total <= 0 || preds.length === 0) return out.fill(1);
  const logC = Math.log(C);
  const mean = new Float64Array(C);
  for (let r = 0; r < rows; r++) {
    mean.fill(0);
    for (let j = 0; j < preds.length; j++) {
      const p = preds[j]!;
      const w = weights[j]! / total;
      for (let k = 0; k < C; k++) mean[k]! += w * p[r * C + k]!;
    }
    let h = 0;
    for (let k = 0; k < C; k++) {
      const m = mean[k]!;
      if (m > 0) h -= m * Math.log(m);
    }
    out[r] = Math.min(1, Math.max(0, h / logC));
  }
  return out;
}

/** The newest score of every public row (NaN: never scored). */
export class RowScores {
  readonly scores: Float32Array;
  constructor(publicSetSize: number) {
    this.scores = new Float32Array(publicSetSize).fill(Number.NaN);
  }
  update(indices: Uint32Array, scores: Float32Array): void {
    for (let r = 0; r < indices.length; r++) {
      const i = indices[r]!;
      if (i < this.scores.length) this.scores[i] = scores[r]!;
    }
  }
}

/** ⌈count/8⌉ of the active rows are drawn at random (exploration). */
export function explorationCount(count: number): number {
  return Math.ceil(count / 8);
}

/**
 * The `count` active rows of version `version`: the highest scores, then the exploration
 * draws, each a distinct row. Deterministic given its arguments.
 */
export function selectActiveRows(
  scores: Float32Array,
  count: number,
  version: number,
  seed: number,
): Uint32Array {
  const n = scores.length;
  const size = Math.min(count, n);
  const explore = Math.min(explorationCount(size), size);
  const rand = mulberry32(hash32(seed ^ 0x5f3759df, version));
  const order = new Uint32Array(n);
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    const s = scores[i]!;
    // Unscored rows count as maximally uncertain; the tie-break is a seeded random fraction.
    key[i] = (Number.isNaN(s) ? 1 : s) + rand() * 1e-6;
  }
  order.sort((a, b) => key[b]! - key[a]!);
  const out = new Uint32Array(size);
  const exploit = size - explore;
  out.set(order.subarray(0, exploit));
  // Exploration: a partial Fisher-Yates shuffle over the rows not taken.
  const rest = order.slice(exploit);
  for (let e = 0; e < explore; e++) {
    const j = e + Math.floor(rand() * (rest.length - e));
    const t = rest[e]!;
    rest[e] = rest[j]!;
    rest[j] = t;
    out[exploit + e] = rest[e]!;
  }
  return out;
}

/**
 * Version `version`'s full batch with active rows: the `activeRows` selected rows first,
 * then rows of the ordinary seeded batch not already in it, up to `batchSize`.
 */
export function activeBatch(
  scores: Float32Array,
  batchSize: number,
  activeRows: number,
  version: number,
  seed: number,
): Uint32Array {
  const n = scores.length;
  const size = Math.min(batchSize, n);
  const active = selectActiveRows(scores, Math.min(activeRows, size), version, seed);
  const out = new Uint32Array(size);
  out.set(active);
  const taken = new Set(active);
  let o = active.length;
  // The ordinary batch has `size` distinct rows, at most active.length of them taken: enough.
  const fill = sampleBatch(n, size, version, seed);
  for (let r = 0; r < fill.length && o < size; r++) {
    if (!taken.has(fill[r]!)) out[o++] = fill[r]!;
  }
  return out;
}

/** How many of a version's first batch rows are active (0: the option is off). */
export function activeCount(activeRows: number, batchRows: number): number {
  return activeRows > 0 ? Math.min(activeRows, batchRows) : 0;
}

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}
