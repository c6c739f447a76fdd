/**
 * Free-rider detection: a participant that uploads the targets it was sent back as its own
 * predictions ("copy") lies close to the consensus, so the agreement score (trust.ts) cannot
 * see it. The coordinator can: it knows the targets it sent each participant, so for the
 * public samples that are both in a participant's targets and in the batch it was asked to
 * predict, it compares the upload with those targets.
 *
 *     e_j   = mean over the shared samples of ½·Σ_c |upload_j − sent_j|   (in [0, 1])
 *     ref   = median of e over the participants scored this version (≥ minShared samples)
 *     f_j   = min(1, (e_j / ref) / ratio)
 *
 * An honest participant distils toward its targets but also trains on its own data, so its
 * upload stays some way from them; the participants' distances are of one size (measured:
 * docs/experiments.md, section 5). A copier's distance is the encoding's rounding, far
 * below the others': its factor falls towards 0. The comparison is relative, so a
 * federation that has converged (everyone close to its targets) flags nobody; it needs a
 * majority of honest participants among those scored (the median's breakdown point) and
 * cannot score anyone when fewer than `minScored` participants share samples with their
 * targets, or when the median distance is below `minReference` (everyone repeats its
 * targets: copying cannot be told from agreement).
 */
import { medianOf } from './trust.ts';
import { checkRange } from './validate.ts';

export interface SampleRows {
  /** Public-set sample per row. */
  readonly indices: Uint32Array;
  /** indices.length × C probabilities, row-major. */
  readonly probs: Float32Array;
}

export interface CopyDistance {
  /** Samples present in both the upload and the targets sent. */
  readonly shared: number;
  /** e: mean total-variation distance over those samples (0 when none). */
  readonly distance: number;
}

export interface CopyOptions {
  /** e_j / ref below this ratio lowers the factor (linearly to 0 at e_j = 0). Default 0.25. */
  readonly ratio?: number;
  /** Samples a participant must share with its targets to be scored. Default 16. */
  readonly minShared?: number;
  /** Participants that must be scored for anyone to be. Default 3. */
  readonly minScored?: number;
  /** Below this median distance nobody is scored. Default 0.005. */
  readonly minReference?: number;
}

export const DEFAULT_COPY_RATIO = 0.25;
export const DEFAULT_COPY_MIN_SHARED = 16;
export const DEFAULT_COPY_MIN_SCORED = 3;
export const DEFAULT_COPY_MIN_REFERENCE = 0.005;

/** e_j of one upload against the targets sent: O(rows) with one index lookup per row. */
export function copyDistance(upload: SampleRows, sent: SampleRows, numClasses: number): CopyDistance {
  const C = numClasses;
  const rowOf = new Map<number, number>();
  for (let r = 0; r < sent.indices.length; r++) rowOf.set(sent.indices[r]!, r);
  let shared = 0;
  let total = 0;
  for (let r = 0; r < upload.indices.length; r++) {
    const t = rowOf.get(upload.indices[r]!);
    if (t === undefined) continue;
    shared++;
    let d = 0;
    for (let k = 0; k < C; k++) d += Math.abs(upload.probs[r * C + k]! - sent.probs[t * C + k]!);
    total += d / 2;
  }
  return { shared, distance: shared === 0 ? 0 : total / shared };
}

/**
 * f_j per participant, in [0, 1], or null when it is not scored this version (no targets
 * sent, too few shared samples, too few scored participants, or the median below
 * minReference).
 */
export function copyFactors(
  distances: readonly (CopyDistance | null)[],
  options: CopyOptions = {},
): (number | null)[] {
  const ratio = options.ratio ?? DEFAULT_COPY_RATIO;
  const minShared = options.minShared ?? DEFAULT_COPY_MIN_SHARED;
  const minScored = options.minScored ?? DEFAULT_COPY_MIN_SCORED;
  const minReference = options.minReference ?? DEFAULT_COPY_MIN_REFERENCE;
  checkRange('ratio', ratio, 0, 1, { minOpen: true });
  checkRange('minShared', minShared, 1, Number.MAX_SAFE_INTEGER);
  checkRange('minScored', minScored, 1, Number.MAX_SAFE_INTEGER);
  checkRange('minReference', minReference, 0, 1);
  const scored = distances.map((d) => d !== null && d.shared >= minShared);
  const values = distances.filter((_, j) => scored[j]).map((d) => d!.distance);
  if (values.length < minScored) return distances.map(() => null);
  const ref = medianOf(values);
  if (ref < minReference) return distances.map(() => null);
  return distances.map((d, j) => (scored[j] ? Math.min(1, d!.distance / ref / ratio) : null));
}
