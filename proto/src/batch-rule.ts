/**
 * The batch rule (PROTOCOL.md, "Derived indices"): which public samples the batch of a
 * round / consensus version holds, from the federation's seed, batch size and the public
 * set's sample count. The coordinator draws every full batch with it, so a participant
 * that knows the rule rebuilds a Task's `predict_indices` and a Targets' `indices` from
 * their versions instead of receiving the lists.
 *
 * Version v's batch is a seeded sample without replacement: each pass ("epoch") over the
 * public set is one seeded permutation, and consecutive versions take consecutive slices of
 * it, so the whole set is covered before a sample repeats.
 */

export interface BatchRule {
  /** Public samples (PublicSetDescriptor.sample_count). */
  readonly sampleCount: number;
  /** federation.batch_size. */
  readonly batchSize: number;
  /** federation.seed. */
  readonly seed: number;
}

/** The indices of version `version`'s batch (version ≥ 1), in the order the Task lists them. */
export function publicBatch(rule: BatchRule, version: number): Uint32Array {
  const n = rule.sampleCount;
  const size = Math.min(rule.batchSize, n);
  if (size <= 0 || version < 1) return new Uint32Array(0);
  const perEpoch = Math.max(1, Math.floor(n / size));
  const epoch = Math.floor((version - 1) / perEpoch);
  const slot = (version - 1) % perEpoch;
  const perm = permutation(n, hash32(rule.seed, epoch));
  return perm.slice(slot * size, slot * size + size);
}

/**
 * Targets' indices from the versions whose batches they cover: the batches concatenated in
 * the order listed, each index kept at its first occurrence only.
 */
export function mergedBatches(rule: BatchRule, versions: readonly number[]): Uint32Array {
  if (versions.length === 1) return publicBatch(rule, versions[0]!);
  const seen = new Set<number>();
  const out: number[] = [];
  for (const v of versions) {
    for (const i of publicBatch(rule, v)) {
      if (seen.has(i)) continue;
      seen.add(i);
      out.push(i);
    }
  }
  return Uint32Array.from(out);
}

/** The last few permutations drawn (a round's Task and Targets usually share an epoch). */
const recent: { n: number; seed: number; perm: Uint32Array }[] = [];
const RECENT = 4;

/** Fisher–Yates over 0..n-1 driven by mulberry32 seeded with `seed`. */
function permutation(n: number, seed: number): Uint32Array {
  const hit = recent.find((p) => p.n === n && p.seed === seed);
  if (hit) return hit.perm;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    // mulberry32 step
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    const j = Math.floor(r * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  recent.unshift({ n, seed, perm: out });
  if (recent.length > RECENT) recent.pop();
  return out;
}

/** The epoch's permutation seed from the federation's seed. */
function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

/** Whether `indices` are exactly what the rule gives for `versions` (one version: its batch). */
export function followsBatchRule(
  rule: BatchRule,
  versions: readonly number[],
  indices: Uint32Array,
): boolean {
  const expected = mergedBatches(rule, versions);
  if (expected.length !== indices.length) return false;
  for (let i = 0; i < expected.length; i++) if (expected[i] !== indices[i]) return false;
  return true;
}
