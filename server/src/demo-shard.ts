/**
 * Demo shards: a small labeled slice of a built-in data set that the coordinator hands to
 * someone who opens a join link without data of their own, so they can try the federation
 * from a browser tab. A shard never overlaps the federation's public set: samples come
 * from the training split of the data set the public set was cut from, minus the public
 * set's own range when it was cut from that split.
 *
 * Wire form "mutua-shard-v1" (all integers little-endian), ~1 byte per pixel:
 *
 *   offset  size        field
 *   0       4           magic "MSH1"
 *   4       4           n, uint32: samples
 *   8       2           numClasses, uint16 (<= 256)
 *   10      1           rank, uint8 (1..4)
 *   11      1           reserved, 0
 *   12      4 x rank    sample shape, uint32 each
 *   ..      n           labels, uint8 each, < numClasses
 *   ..      n x prod    pixels, uint8, value = byte / 255, sample-major
 *
 * client-web/src/shared/demo-shard.ts decodes it.
 */
import { Rng } from '@mutua/core/data';
import { loadFashionMnist, loadMnist } from '@mutua/core/data-node';

export const DEMO_SHARD_FORMAT = 'mutua-shard-v1';
export const DEMO_SHARD_MAGIC = 0x3148534d; // "MSH1" read as little-endian uint32
export const DEMO_SHARD_MAX = 5000;

export interface DemoSource {
  dataset: 'mnist' | 'fashion-mnist';
  /** Public set range to avoid in the train split (exclusive end), if it came from there. */
  exclude: { offset: number; end: number } | null;
}

/**
 * Which built-in data set a public set's `source` (public-set-builder.ts, e.g.
 * "mnist:test[0:64]") comes from; null for uploads, which have no demo data.
 */
export function demoSourceOf(publicSetSource: string): DemoSource | null {
  const m = /^(mnist|fashion-mnist):(train|test)\[(\d+):(\d+)\]$/.exec(publicSetSource);
  if (!m) return null;
  const dataset = m[1] as DemoSource['dataset'];
  const exclude = m[2] === 'train' ? { offset: Number(m[3]), end: Number(m[4]) } : null;
  return { dataset, exclude };
}

export interface DemoShard {
  bytes: Uint8Array;
  n: number;
  seed: number;
  source: string;
}

/** `n` samples drawn without replacement (seeded) from the train split outside the public range. */
export async function buildDemoShard(source: DemoSource, n: number, seed: number): Promise<DemoShard> {
  const ds =
    source.dataset === 'mnist'
      ? await loadMnist({ split: 'train' })
      : await loadFashionMnist({ split: 'train' });
  const ex = source.exclude;
  const excluded = ex ? Math.max(0, Math.min(ds.n, ex.end) - ex.offset) : 0;
  const available = ds.n - excluded;
  const count = Math.min(n, available);
  // A partial Fisher-Yates over the allowed positions, mapped around the excluded range.
  const rng = new Rng(seed);
  const picked = new Map<number, number>();
  const indices = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    const j = k + rng.int(available - k);
    const vj = picked.get(j) ?? j;
    picked.set(j, picked.get(k) ?? k);
    indices[k] = ex && vj >= ex.offset ? vj + excluded : vj;
  }
  const size = ds.shape.reduce((a, b) => a * b, 1);
  const header = 12 + 4 * ds.shape.length;
  const bytes = new Uint8Array(header + count + count * size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, DEMO_SHARD_MAGIC, true);
  view.setUint32(4, count, true);
  view.setUint16(8, ds.numClasses, true);
  view.setUint8(10, ds.shape.length);
  ds.shape.forEach((d, i) => {
    view.setUint32(12 + 4 * i, d, true);
  });
  const pixels = header + count;
  for (let k = 0; k < count; k++) {
    const i = indices[k]!;
    bytes[header + k] = ds.y[i]!;
    const row = ds.x.subarray(i * size, (i + 1) * size);
    const at = pixels + k * size;
    for (let p = 0; p < size; p++) bytes[at + p] = Math.round(row[p]! * 255);
  }
  return { bytes, n: count, seed, source: `${source.dataset}:train (${count} samples, seed ${seed})` };
}
