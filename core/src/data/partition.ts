/**
 * Non-IID splits for simulations: a seeded Dirichlet(alpha) label partition over clients,
 * plus a public (unlabeled) set and a test set held out before partitioning so that no
 * client ever trains on them. Pure and isomorphic; everything is reproducible from `seed`.
 */
import { type Dataset, subset } from './dataset.ts';
import { checkInt, DataError } from './errors.ts';
import { deriveSeed, Rng } from './rng.ts';

export interface DirichletOptions {
  /**
   * Every client must end with at least this many samples; otherwise the whole partition is
   * redrawn with the next seed (attempt k uses seed + k). Default 1: no empty clients.
   */
  readonly minPerClient?: number;
  /** Attempts before giving up with DATA_PARTITION_MIN_UNREACHABLE. Default 1000. */
  readonly maxAttempts?: number;
  /**
   * The NIID-Bench / FedML variant: while splitting a class, clients that already hold
   * n / numClients samples get no more of it. Evens out client sizes at the cost of some
   * label skew. Default false (the plain scheme).
   */
  readonly balance?: boolean;
}

/**
 * Label-skewed partition of Hsu, Qi & Brown (2019), as in FedML and NIID-Bench: for each
 * class c, shuffle the indices of c, draw proportions p ~ Dirichlet(alpha, ..., alpha) over
 * the clients, and give client j the next floor(cumsum(p)_j * n_c) - floor(cumsum(p)_{j-1} * n_c)
 * of them (the last client with a non-zero share takes the rounding remainder). Classes are
 * taken in label order, each from one stream seeded by `seed`. Small alpha (0.1) gives each
 * client few classes; large alpha (100) approaches an IID split.
 *
 * Returns, for each client, the indices into `labels` it owns, ascending. Every index is in
 * exactly one client.
 */
export function partitionDirichlet(
  labels: Int32Array,
  numClients: number,
  alpha: number,
  seed: number,
  options: DirichletOptions = {},
): number[][] {
  checkInt('numClients', numClients, 1);
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `alpha must be finite and > 0 (use e.g. 1000 for a near-IID split), got ${alpha}`,
    );
  }
  const minPerClient = options.minPerClient ?? 1;
  const maxAttempts = options.maxAttempts ?? 1000;
  checkInt('minPerClient', minPerClient, 0);
  checkInt('maxAttempts', maxAttempts, 1);
  if (minPerClient * numClients > labels.length) {
    throw new DataError(
      'DATA_PARTITION_MIN_UNREACHABLE',
      `${numClients} clients with at least ${minPerClient} samples each need ${minPerClient * numClients}, there are ${labels.length}`,
    );
  }
  const byClass = indicesByClass(labels);
  const concentration = new Float64Array(numClients).fill(alpha);
  const cap = labels.length / numClients;

  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const rng = new Rng(seed + attempt);
    const parts: number[][] = Array.from({ length: numClients }, () => []);
    for (const members of byClass) {
      const idx = rng.shuffle(members.slice());
      const p = rng.dirichlet(concentration);
      if (options.balance) capProportions(p, parts, cap);
      // The last client with a non-zero share takes the rounding remainder, so a client
      // whose share is 0 (capped, or an underflowed draw) really gets none of this class.
      let last = numClients - 1;
      while (last > 0 && p[last] === 0) last--;
      let start = 0;
      let cum = 0;
      for (let j = 0; j <= last; j++) {
        cum += p[j]!;
        const end =
          j === last ? idx.length : Math.min(idx.length, Math.max(start, Math.floor(cum * idx.length)));
        const part = parts[j]!;
        for (let k = start; k < end; k++) part.push(idx[k]!);
        start = end;
      }
    }
    if (parts.every((part) => part.length >= minPerClient)) {
      for (const part of parts) part.sort((a, b) => a - b);
      return parts;
    }
  }
  throw new DataError(
    'DATA_PARTITION_MIN_UNREACHABLE',
    `no partition in ${maxAttempts} attempts (seeds ${seed}..${seed + maxAttempts - 1}) gave every one of ${numClients} clients ${minPerClient}+ samples at alpha ${alpha}; raise alpha, lower minPerClient or use fewer clients`,
  );
}

function capProportions(p: Float64Array, parts: number[][], cap: number): void {
  let sum = 0;
  for (let j = 0; j < p.length; j++) if (parts[j]!.length < cap) sum += p[j]!;
  if (sum === 0) return; // every client is full (rounding at the last classes): keep the draw
  for (let j = 0; j < p.length; j++) p[j] = parts[j]!.length < cap ? p[j]! / sum : 0;
}

/** Indices of each class, ascending; class c is labels value c (labels must be >= 0 integers). */
function indicesByClass(labels: Int32Array, pool?: ArrayLike<number>): number[][] {
  const byClass: number[][] = [];
  const n = pool === undefined ? labels.length : pool.length;
  for (let k = 0; k < n; k++) {
    const i = pool === undefined ? k : pool[k]!;
    const c = labels[i]!;
    if (c < 0) throw new DataError('DATA_LABEL_OUT_OF_RANGE', `label ${c} at index ${i} is negative`);
    while (byClass.length <= c) byClass.push([]);
    byClass[c]!.push(i);
  }
  return byClass;
}

/** Count of each label among `indices` (default: all). Labels >= numClasses are an error. */
export function labelHistogram(
  labels: ArrayLike<number>,
  numClasses: number,
  indices?: ArrayLike<number>,
): number[] {
  checkInt('numClasses', numClasses, 1);
  const counts = new Array<number>(numClasses).fill(0);
  const n = indices === undefined ? labels.length : indices.length;
  for (let k = 0; k < n; k++) {
    const i = indices === undefined ? k : indices[k]!;
    const c = labels[i]!;
    if (!(c >= 0 && c < numClasses)) {
      throw new DataError(
        'DATA_LABEL_OUT_OF_RANGE',
        `label ${c} at index ${i} is outside [0, ${numClasses})`,
      );
    }
    counts[c]!++;
  }
  return counts;
}

/** Total-variation distance between two histograms (normalised here): 0 = same, 1 = disjoint. */
export function totalVariation(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  if (sp === 0 || sq === 0) return 0;
  let d = 0;
  for (let c = 0; c < Math.max(p.length, q.length); c++) d += Math.abs((p[c] ?? 0) / sp - (q[c] ?? 0) / sq);
  return d / 2;
}

/**
 * Label skew of a partition: the mean, over non-empty clients, of the total-variation
 * distance between the client's label distribution and that of all partitioned samples.
 * About 0 for an IID split; approaches 1 - 1/numClasses when every client holds one class.
 */
export function labelSkew(
  labels: ArrayLike<number>,
  parts: readonly (readonly number[])[],
  numClasses: number,
): number {
  const global = new Array<number>(numClasses).fill(0);
  const hists = parts.map((part) => labelHistogram(labels, numClasses, part));
  for (const h of hists) for (let c = 0; c < numClasses; c++) global[c]! += h[c]!;
  const nonEmpty = hists.filter((_, j) => parts[j]!.length > 0);
  if (nonEmpty.length === 0) return 0;
  return nonEmpty.reduce((acc, h) => acc + totalVariation(h, global), 0) / nonEmpty.length;
}

export interface FederatedSplitOptions extends DirichletOptions {
  readonly clients: number;
  readonly alpha: number;
  readonly seed: number;
  /** Samples held out as the public (unlabeled) batch pool. */
  readonly publicSize: number;
  /** Samples held out for evaluation. 0 is allowed, e.g. when a separate test split exists. */
  readonly testSize: number;
  /**
   * Hold-outs keep the class proportions of `ds` (largest-remainder rounding) when true
   * (default), or are a plain random sample when false.
   */
  readonly stratify?: boolean;
}

export interface FederatedSplit {
  readonly clients: Dataset[];
  /** clientIndices[j]: the indices into the source data set that client j owns, ascending. */
  readonly clientIndices: number[][];
  /**
   * The public set. Labels are kept in `y` for experiments (e.g. consensus accuracy); a
   * coordinator must send participants `x` only.
   */
  readonly public: Dataset;
  readonly publicIndices: number[];
  readonly test: Dataset;
  readonly testIndices: number[];
}

/**
 * Splits `ds` for a simulation. First the public set, then the test set are drawn (seeded by
 * deriveSeed(seed, 1) and deriveSeed(seed, 2), stratified by default) from samples no one
 * else holds; the remainder is partitioned with partitionDirichlet(…, deriveSeed(seed, 3)).
 * Every sample ends up in exactly one of: a client, public, test.
 */
export function federatedSplit(ds: Dataset, options: FederatedSplitOptions): FederatedSplit {
  const { clients, alpha, seed, publicSize, testSize } = options;
  checkInt('publicSize', publicSize, 0);
  checkInt('testSize', testSize, 0);
  if (publicSize + testSize >= ds.n) {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `publicSize ${publicSize} + testSize ${testSize} leave no samples for clients out of ${ds.n}`,
    );
  }
  const stratify = options.stratify ?? true;
  const all = Array.from({ length: ds.n }, (_, i) => i);
  const publicIndices = sampleHoldout(ds.y, all, publicSize, new Rng(deriveSeed(seed, 1)), stratify);
  const afterPublic = without(all, publicIndices);
  const testIndices = sampleHoldout(ds.y, afterPublic, testSize, new Rng(deriveSeed(seed, 2)), stratify);
  const rest = without(afterPublic, testIndices);

  const restLabels = new Int32Array(rest.length);
  for (let k = 0; k < rest.length; k++) restLabels[k] = ds.y[rest[k]!]!;
  const parts = partitionDirichlet(restLabels, clients, alpha, deriveSeed(seed, 3), options);
  const clientIndices = parts.map((part) => part.map((k) => rest[k]!));
  return {
    clients: clientIndices.map((idx) => subset(ds, idx)),
    clientIndices,
    public: subset(ds, publicIndices),
    publicIndices,
    test: subset(ds, testIndices),
    testIndices,
  };
}

/** `size` indices from `pool` (ascending in, ascending out). */
function sampleHoldout(
  labels: Int32Array,
  pool: number[],
  size: number,
  rng: Rng,
  stratify: boolean,
): number[] {
  if (size === 0) return [];
  let picked: number[];
  if (!stratify) {
    picked = rng.shuffle(pool.slice()).slice(0, size);
  } else {
    const byClass = indicesByClass(labels, pool);
    // Largest remainder: floor of each exact quota, then +1 to the largest fractions (ties: lower class).
    const exact = byClass.map((m) => (size * m.length) / pool.length);
    const quota = exact.map(Math.floor);
    let missing = size - quota.reduce((a, b) => a + b, 0);
    const order = exact
      .map((_, c) => c)
      .sort((a, b) => exact[b]! - quota[b]! - (exact[a]! - quota[a]!) || a - b);
    for (const c of order) {
      if (missing === 0) break;
      if (quota[c]! < byClass[c]!.length) {
        quota[c]!++;
        missing--;
      }
    }
    picked = [];
    byClass.forEach((members, c) => {
      const idx = rng.shuffle(members.slice());
      for (let k = 0; k < quota[c]!; k++) picked.push(idx[k]!);
    });
  }
  return picked.sort((a, b) => a - b);
}

/** Ascending `all` minus ascending `remove`. */
function without(all: number[], remove: number[]): number[] {
  const out: number[] = [];
  let r = 0;
  for (const i of all) {
    if (r < remove.length && remove[r] === i) r++;
    else out.push(i);
  }
  return out;
}
