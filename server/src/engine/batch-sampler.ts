/**
 * Deterministic public-batch choice: version v's batch is a seeded sample without
 * replacement, so a restarted coordinator (or an auditor) re-derives the same batch and
 * consecutive versions cycle through the whole public set before repeating a sample.
 */
export function sampleBatch(
  publicSetSize: number,
  batchSize: number,
  version: number,
  seed: number,
): Uint32Array {
  const size = Math.min(batchSize, publicSetSize);
  // Each epoch over the public set is one seeded permutation; version v takes its slice.
  const perEpoch = Math.max(1, Math.floor(publicSetSize / size));
  const epoch = Math.floor((version - 1) / perEpoch);
  const slot = (version - 1) % perEpoch;
  const perm = permutation(publicSetSize, hash32(seed, epoch));
  return perm.slice(slot * size, slot * size + size);
}

function permutation(n: number, seed: number): Uint32Array {
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
  return out;
}

function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}
