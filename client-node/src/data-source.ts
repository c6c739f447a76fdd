/**
 * The participant's private data, from the --data spec: a built-in set (or a simulation
 * shard of one), an IDX pair, a CSV file or an image folder; then a held-out validation
 * slice for the local accuracy each round reports.
 *
 * Simulation shards (--shard k/N) reproduce the experiment harness's split exactly:
 *
 *   const source = builtinSource(dataset, { limit })   // TRAIN then TEST, first `limit` samples
 *   const split  = federatedSplit(source, { clients: N, alpha, seed, publicSize, testSize })
 *   private data = split.clients[k]; --eval-test set = split.test; public set = split.public
 *
 * loadBuiltinSplit() below is that call, for the harness to build the same public and test
 * sets. A client does not need the pixels of the other clients' shards, so shardOf() runs
 * federatedSplit on a labels-only stand-in (the split depends only on the labels and the
 * options) and copies just its own rows and the test rows: ~10x less memory per process.
 * client-node/test/data-source.test.ts checks the two agree.
 */
import {
  DataError,
  type Dataset,
  type FederatedSplit,
  type FederatedSplitOptions,
  federatedSplit,
  loadCsvFile,
  loadFashionMnist,
  loadIdxDataset,
  loadImageFolder,
  loadMnist,
  Rng,
  sampleSize,
  subset,
  take,
} from '@mutua/core/data-node';
import { CliError } from './cli-error.ts';
import type { ClientOptions, ShardOptions } from './options.ts';

export type BuiltinName = 'mnist' | 'fashion-mnist';
export type Split = 'train' | 'test';

export type DataSpec =
  | { kind: 'builtin'; dataset: BuiltinName; split?: Split }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'csv'; file: string }
  | { kind: 'images'; folder: string };

export function parseDataSpec(spec: string): DataSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const bad = (why: string) => new CliError('USAGE', `--data ${JSON.stringify(spec)}: ${why} (see --help)`);
  switch (kind) {
    case 'builtin': {
      const [dataset, split, ...extra] = rest.split(':');
      if (dataset !== 'mnist' && dataset !== 'fashion-mnist') {
        throw bad('the built-in data sets are builtin:mnist and builtin:fashion-mnist');
      }
      if (extra.length > 0 || (split !== undefined && split !== 'train' && split !== 'test')) {
        throw bad('a built-in split is :train or :test');
      }
      return { kind, dataset, split };
    }
    case 'idx': {
      const [images, labels, ...extra] = rest.split(',');
      if (!images || !labels || extra.length > 0) throw bad('write idx:IMAGES_FILE,LABELS_FILE');
      return { kind, images, labels };
    }
    case 'csv':
      if (!rest) throw bad('write csv:FILE');
      return { kind, file: rest };
    case 'images':
      if (!rest) throw bad('write images:FOLDER');
      return { kind, folder: rest };
    default:
      throw bad('the spec starts with builtin:, idx:, csv: or images:');
  }
}

export function loadBuiltin(dataset: BuiltinName, split: Split, limit?: number): Promise<Dataset> {
  return dataset === 'mnist' ? loadMnist({ split, limit }) : loadFashionMnist({ split, limit });
}

/**
 * A read-only concatenation of data sets (same shape and classes) that copies rows only
 * when asked: the 70,000-sample TRAIN+TEST source is never materialised.
 */
export class ConcatSource {
  readonly n: number;
  readonly y: Int32Array;
  readonly shape: readonly number[];
  readonly numClasses: number;
  readonly labelNames?: readonly string[];

  constructor(private readonly parts: readonly Dataset[]) {
    const first = parts[0]!;
    this.shape = first.shape;
    this.numClasses = Math.max(...parts.map((p) => p.numClasses));
    this.labelNames = first.labelNames;
    this.n = parts.reduce((a, p) => a + p.n, 0);
    this.y = new Int32Array(this.n);
    let at = 0;
    for (const p of parts) {
      this.y.set(p.y, at);
      at += p.n;
    }
  }

  /** The samples at `indices`, copied (as subset() would on the concatenation). */
  gather(indices: ArrayLike<number>): Dataset {
    const size = sampleSize(this.shape);
    const x = new Float32Array(indices.length * size);
    const y = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      let i = indices[k]!;
      let part = 0;
      while (i >= this.parts[part]!.n) i -= this.parts[part++]!.n;
      const p = this.parts[part]!;
      x.set(p.x.subarray(i * size, (i + 1) * size), k * size);
      y[k] = p.y[i]!;
    }
    return {
      x,
      y,
      n: indices.length,
      shape: this.shape,
      numClasses: this.numClasses,
      labelNames: this.labelNames,
    };
  }

  /** Every sample in one Dataset (copies everything). */
  materialise(): Dataset {
    return this.gather(Array.from({ length: this.n }, (_, i) => i));
  }
}

/**
 * The source a simulation splits: the built-in TRAIN set followed by its TEST set (or the
 * one split asked for), keeping the first `limit` samples.
 */
export async function builtinSource(
  dataset: BuiltinName,
  options: { split?: Split; limit?: number } = {},
): Promise<ConcatSource> {
  const { split, limit } = options;
  if (split) return new ConcatSource([await loadBuiltin(dataset, split, limit)]);
  const train = await loadBuiltin(dataset, 'train', limit);
  if (limit !== undefined && limit <= train.n) return new ConcatSource([train]);
  const test = await loadBuiltin(dataset, 'test', limit === undefined ? undefined : limit - train.n);
  return new ConcatSource([train, test]);
}

function splitOptions(shard: ShardOptions): FederatedSplitOptions {
  return {
    clients: shard.count,
    alpha: shard.alpha,
    seed: shard.seed,
    publicSize: shard.publicSize,
    testSize: shard.testSize,
  };
}

/** The whole simulation split, as the harness computes it (materialises every sample). */
export async function loadBuiltinSplit(
  dataset: BuiltinName,
  shard: Omit<ShardOptions, 'index'>,
  options: { split?: Split; limit?: number } = {},
): Promise<FederatedSplit> {
  const source = await builtinSource(dataset, options);
  return federatedSplit(source.materialise(), splitOptions({ ...shard, index: 0 }));
}

/** Client k's shard and the split's test set, equal to loadBuiltinSplit()'s clients[k] and test. */
export function shardOf(source: ConcatSource, shard: ShardOptions): { train: Dataset; test: Dataset } {
  const labelsOnly: Dataset = {
    x: new Float32Array(source.n),
    y: source.y,
    n: source.n,
    shape: [1],
    numClasses: source.numClasses,
  };
  const split = federatedSplit(labelsOnly, splitOptions(shard));
  const indices = shard.all
    ? split.clientIndices.flat().sort((a, b) => a - b)
    : split.clientIndices[shard.index]!;
  return { train: source.gather(indices), test: source.gather(split.testIndices) };
}

/**
 * Splits off a validation slice: `fraction` of the samples, chosen by a seeded shuffle (so
 * a restarted client holds out the same samples), at least one when fraction > 0.
 */
export function holdOut(ds: Dataset, fraction: number, seed: number): { train: Dataset; val?: Dataset } {
  if (fraction <= 0 || ds.n < 2) return { train: ds };
  const count = Math.min(ds.n - 1, Math.max(1, Math.round(ds.n * fraction)));
  const order = new Rng(seed).shuffle(Array.from({ length: ds.n }, (_, i) => i));
  const val = order.slice(0, count).sort((a, b) => a - b);
  const train = order.slice(count).sort((a, b) => a - b);
  return { train: subset(ds, train), val: subset(ds, val) };
}

/** `ds` declared to have `numClasses` classes (for data that does not show every class). */
export function withNumClasses(ds: Dataset, numClasses: number): Dataset {
  let max = -1;
  for (let i = 0; i < ds.n; i++) max = Math.max(max, ds.y[i]!);
  if (max >= numClasses) {
    throw new CliError('USAGE', `--num-classes ${numClasses} is too small: the data has label ${max}`);
  }
  if (ds.labelNames && ds.labelNames.length !== numClasses) {
    return { ...ds, numClasses, labelNames: undefined };
  }
  return { ...ds, numClasses };
}

export interface PrivateData {
  train: Dataset;
  /** Held-out slice of the participant's own data (val_accuracy). */
  val?: Dataset;
  /** --eval-test: the simulation split's shared test set (test_accuracy). */
  test?: Dataset;
  shape: number[];
  numClasses: number;
  labelNames?: readonly string[];
  /** One line for the log, e.g. "builtin:mnist shard 2/10: 5,123 samples (4,611 train, 512 validation)". */
  description: string;
}

type DataOptions = Pick<
  ClientOptions,
  'data' | 'limit' | 'shape' | 'numClasses' | 'shard' | 'evalTest' | 'valFraction' | 'seed'
>;

async function loadSpec(
  spec: DataSpec,
  o: DataOptions,
): Promise<{ ds: Dataset; test?: Dataset; what: string }> {
  switch (spec.kind) {
    case 'builtin': {
      if (o.shard) {
        const source = await builtinSource(spec.dataset, { split: spec.split, limit: o.limit });
        const { train, test } = shardOf(source, o.shard);
        const what = `${o.data} shard ${o.shard.all ? 'all' : o.shard.index}/${o.shard.count} (alpha ${o.shard.alpha}, seed ${o.shard.seed})`;
        return { ds: train, test: o.evalTest ? test : undefined, what };
      }
      return { ds: await loadBuiltin(spec.dataset, spec.split ?? 'train', o.limit), what: o.data };
    }
    case 'idx':
      return {
        ds: take(await loadIdxDataset({ images: spec.images, labels: spec.labels }), o.limit),
        what: o.data,
      };
    case 'csv':
      return { ds: take(await loadCsvFile(spec.file, { shape: o.shape }), o.limit), what: o.data };
    case 'images': {
      if (o.shape && o.shape.length !== 3) {
        throw new CliError(
          'USAGE',
          `--shape for images: is HxWxC (channels 1, 3 or 4), got ${o.shape.join('x')}`,
        );
      }
      const shape = o.shape as [number, number, number] | undefined;
      return { ds: take(await loadImageFolder(spec.folder, { shape }), o.limit), what: o.data };
    }
  }
}

/** Loads, shards and splits the private data. Throws DataError (malformed files) or CliError. */
export async function loadPrivateData(o: DataOptions): Promise<PrivateData> {
  const spec = parseDataSpec(o.data);
  if (o.shape && spec.kind !== 'csv' && spec.kind !== 'images') {
    throw new CliError('USAGE', '--shape applies to csv: and images: data (other formats carry their shape)');
  }
  let { ds, test, what } = await loadSpec(spec, o);
  if (ds.n < 1) throw new DataError('DATA_INVALID_OPTION', `${o.data} holds no samples`);
  if (o.numClasses !== undefined) {
    ds = withNumClasses(ds, o.numClasses);
    if (test) test = withNumClasses(test, o.numClasses);
  }
  // A seed per shard so that shards held out with the same --seed differ.
  const valSeed = (o.seed ?? 0) * 1009 + (o.shard?.all ? o.shard.count : (o.shard?.index ?? 0));
  const { train, val } = holdOut(ds, o.valFraction, valSeed);
  const n = (v: number) => v.toLocaleString('en-US');
  const description =
    `${what}: ${n(ds.n)} samples [${ds.shape.join('x')}], ${ds.numClasses} classes ` +
    `(${n(train.n)} train, ${n(val?.n ?? 0)} validation${test ? `, ${n(test.n)} test` : ''})`;
  return {
    train,
    val,
    test,
    shape: [...ds.shape],
    numClasses: ds.numClasses,
    labelNames: ds.labelNames,
    description,
  };
}
