/**
 * The figures every table, claim and summary.json is made from, per method (over seeds)
 * and per sweep point. Pure: results in, numbers out.
 *
 * - A method's accuracy is the mean over participants of their last report; FedAvg's is its
 *   global model (the aggregate of the last round), with the participants' models after
 *   local training kept as a second figure.
 * - With several seeds, the method's accuracy is the mean over seeds of that figure, and its
 *   spread the lowest and highest seed; bytes are means over seeds.
 * - Bytes come in two columns: protocol (WebSocket frames through the coordinator, both
 *   directions) and protocol plus the one-off public-set download (mutual methods only:
 *   FedAvg has no use for the public set).
 * - The FedAvg reference for ratios and targets is the cheapest FedAvg encoding whose final
 *   accuracy is within FEDAVG_TOLERANCE of the best FedAvg encoding that ran.
 */
import { reach, roundsToReach, stats } from './aggregate.ts';
import { isFedAvg, isLocal, type MethodName, type MethodResult } from './types.ts';

/** Accuracy a cheaper FedAvg encoding may lose and still count as "not costing accuracy". */
export const FEDAVG_TOLERANCE = 0.005;

export interface SeedAccuracy {
  seed: number;
  /** Over participants. */
  mean: number;
  min: number;
  max: number;
}

export interface FinalAccuracy {
  /** Mean over seeds of the mean over participants. */
  mean: number;
  /** Lowest and highest participant over every seed. */
  min: number;
  max: number;
  /** Lowest and highest per-seed mean (the spread over seeds). */
  seedMin: number;
  seedMax: number;
  perSeed: SeedAccuracy[];
}

export interface BytesToTarget {
  /** Means over the seeds that reached the target; null when none did. */
  protocol: number | null;
  withPublicSet: number | null;
  /** First round (mean over seeds) whose mean accuracy reached it. */
  round: number | null;
  ms: number | null;
  reachedSeeds: number;
  seeds: number;
}

export interface Ratios {
  /** Reference FedAvg's bytes ÷ this method's (whole run). */
  protocol: number | null;
  withPublicSet: number | null;
  /** The same to the run's target accuracy. */
  toTargetProtocol: number | null;
  toTargetWithPublicSet: number | null;
}

/** This method against the FedAvg reference at the lower of their two final accuracies. */
export interface VersusFedAvg {
  targetAccuracy: number;
  bytesProtocol: number | null;
  bytesWithPublicSet: number | null;
  fedavgBytesProtocol: number | null;
  ratioProtocol: number | null;
  ratioWithPublicSet: number | null;
}

export interface MethodSummaryJson {
  method: MethodName;
  /** FedAvg: its weight encoding; mutual: the prediction encoding; local methods: "none". */
  encoding: string;
  seeds: number[];
  finalAccuracy: FinalAccuracy;
  /** FedAvg: its global model's final accuracy (= finalAccuracy), per seed too. */
  fedavgGlobalAccuracy?: { mean: number; perSeed: { seed: number; accuracy: number }[] };
  /** FedAvg: the participants' models after their last local training. */
  fedavgLocalAccuracy?: FinalAccuracy;
  /** --attackers: finalAccuracy over the honest participants only. */
  honestAccuracy?: FinalAccuracy;
  rounds: number;
  versions: number;
  wallMs: number;
  bytesProtocol: number;
  bytesWithPublicSet: number;
  publicSetBytes: number;
  bytesToTarget: BytesToTarget | null;
  ratioVsFedavg: Ratios;
  vsFedavg?: VersusFedAvg;
}

export interface VariantSummary {
  /** --sweep: the grid point ("lambda=0.5 temperature=3"); "" outside a sweep. */
  variant: string;
  overrides: Record<string, string | number>;
  fedavgReference: { method: MethodName; encoding: string; reason: string } | null;
  /** Accuracy the "to target" figures are read at. */
  targetAccuracy: number | null;
  methods: MethodSummaryJson[];
}

interface Group {
  method: MethodName;
  runs: MethodResult[];
}

const ran = (r: MethodResult) => !r.skipped && r.summary !== undefined && r.summary.final.n > 0;
const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);

/** Results by sweep point (in order of appearance), then by method. */
export function byVariant(results: readonly MethodResult[]): { variant: string; results: MethodResult[] }[] {
  const out = new Map<string, MethodResult[]>();
  for (const r of results) {
    const key = r.variant ?? '';
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return [...out.entries()].map(([variant, list]) => ({ variant, results: list }));
}

function groups(results: readonly MethodResult[]): Group[] {
  const out = new Map<MethodName, MethodResult[]>();
  for (const r of results) if (ran(r)) out.set(r.method, [...(out.get(r.method) ?? []), r]);
  return [...out.entries()].map(([method, runs]) => ({ method, runs }));
}

function finalAccuracy(
  runs: readonly MethodResult[],
  pick: (r: MethodResult) => AccuracyLike,
): FinalAccuracy {
  const perSeed = runs.map((r) => {
    const s = pick(r);
    return { seed: r.seed ?? 0, mean: s.mean, min: s.min, max: s.max };
  });
  const means = perSeed.map((s) => s.mean);
  return {
    mean: mean(means),
    min: Math.min(...perSeed.map((s) => s.min)),
    max: Math.max(...perSeed.map((s) => s.max)),
    seedMin: Math.min(...means),
    seedMax: Math.max(...means),
    perSeed,
  };
}
type AccuracyLike = { mean: number; min: number; max: number };

const protocolBytes = (r: MethodResult) => r.summary!.bytesUp + r.summary!.bytesDown;

function bytesToTarget(runs: readonly MethodResult[], target: number): BytesToTarget {
  const hits = runs.map((r) => ({
    r,
    hit: reach(r.timeline, target),
    round: roundsToReach(r.rounds, target),
  }));
  const reached = hits.filter((h) => h.hit !== null);
  if (reached.length === 0) {
    return {
      protocol: null,
      withPublicSet: null,
      round: null,
      ms: null,
      reachedSeeds: 0,
      seeds: runs.length,
    };
  }
  const local = isLocal(runs[0]!.method);
  const protocol = local ? 0 : mean(reached.map((h) => h.hit!.bytes));
  return {
    protocol,
    withPublicSet: protocol + mean(reached.map((h) => h.r.summary!.publicSetBytes)),
    round: mean(reached.filter((h) => h.round !== null).map((h) => h.round!)),
    ms: mean(reached.map((h) => h.hit!.ms)),
    reachedSeeds: reached.length,
    seeds: runs.length,
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a != null && b != null && a > 0 && b > 0 ? a / b : null;

/**
 * The FedAvg encoding tables compare with: the cheapest (protocol bytes) whose final
 * accuracy is within FEDAVG_TOLERANCE of the most accurate FedAvg encoding.
 */
export function fedavgReference(
  methods: readonly MethodSummaryJson[],
): { method: MethodName; encoding: string; reason: string } | null {
  const fed = methods.filter((m) => isFedAvg(m.method));
  if (fed.length === 0) return null;
  const best = Math.max(...fed.map((m) => m.finalAccuracy.mean));
  const fair = fed.filter((m) => m.finalAccuracy.mean >= best - FEDAVG_TOLERANCE);
  const pick = fair.reduce((a, b) => (b.bytesProtocol < a.bytesProtocol ? b : a));
  const all = fed.map((m) => `${m.encoding} ${(m.finalAccuracy.mean * 100).toFixed(1)}%`).join(', ');
  const reason =
    fed.length === 1
      ? `the only FedAvg encoding run (${pick.encoding})`
      : `the cheapest FedAvg encoding within ${(FEDAVG_TOLERANCE * 100).toFixed(1)} points of the best (${all})`;
  return { method: pick.method, encoding: pick.encoding, reason };
}

/** The lowest final accuracy among the reference FedAvg and the mutual methods (half-point floor). */
function runTarget(methods: readonly MethodSummaryJson[], reference: MethodName | undefined): number | null {
  const finals = methods
    .filter((m) => !isLocal(m.method) && (!isFedAvg(m.method) || m.method === reference))
    .map((m) => m.finalAccuracy.mean);
  if (finals.length === 0) return null;
  return Math.floor(Math.min(...finals) * 200) / 200;
}

/** Every figure of one sweep point's (or the whole run's) results. `target` overrides the default. */
export function summarizeVariant(results: readonly MethodResult[], target?: number | null): VariantSummary {
  const gs = groups(results);
  const first = results.find((r) => r.variant !== undefined);
  const methods: MethodSummaryJson[] = gs.map(({ method, runs }) => {
    const fed = isFedAvg(method);
    const global = fed && runs.every((r) => r.globalAccuracy);
    const wall = mean(runs.map((r) => r.summary!.wallMs));
    const protocol = mean(runs.map(protocolBytes));
    const publicSet = mean(runs.map((r) => r.summary!.publicSetBytes));
    const final = finalAccuracy(runs, (r) => r.summary!.final);
    return {
      method,
      encoding:
        runs[0]!.encoding ??
        // Runs from before `encoding` was recorded: what the federation settings say.
        (fed
          ? String(runs[0]!.settings?.weightEncoding ?? 'float32')
          : isLocal(method)
            ? 'none'
            : String((runs[0]!.settings?.encodings as string[] | undefined)?.[0] ?? 'unknown')),
      seeds: runs.map((r) => r.seed ?? 0),
      finalAccuracy: final,
      ...(global
        ? {
            fedavgGlobalAccuracy: {
              mean: final.mean,
              perSeed: final.perSeed.map((s) => ({ seed: s.seed, accuracy: s.mean })),
            },
            fedavgLocalAccuracy: finalAccuracy(runs, (r) => r.summary!.localFinal ?? stats([])),
          }
        : {}),
      ...(runs.every((r) => r.summary!.honestFinal)
        ? { honestAccuracy: finalAccuracy(runs, (r) => r.summary!.honestFinal!) }
        : {}),
      rounds: Math.max(...runs.map((r) => r.summary!.rounds)),
      versions: Math.round(mean(runs.map((r) => r.summary!.versions))),
      wallMs: wall,
      bytesProtocol: protocol,
      bytesWithPublicSet: protocol + publicSet,
      publicSetBytes: publicSet,
      bytesToTarget: null,
      ratioVsFedavg: {
        protocol: null,
        withPublicSet: null,
        toTargetProtocol: null,
        toTargetWithPublicSet: null,
      },
    };
  });
  const reference = fedavgReference(methods);
  const targetAccuracy = target ?? runTarget(methods, reference?.method);
  const ref = methods.find((m) => m.method === reference?.method);
  const runsOf = (m: MethodName) => gs.find((g) => g.method === m)!.runs;
  for (const m of methods) {
    if (targetAccuracy !== null) m.bytesToTarget = bytesToTarget(runsOf(m.method), targetAccuracy);
  }
  for (const m of methods) {
    if (!ref || isLocal(m.method)) continue;
    m.ratioVsFedavg = {
      protocol: ratio(ref.bytesProtocol, m.bytesProtocol),
      withPublicSet: ratio(ref.bytesWithPublicSet, m.bytesWithPublicSet),
      toTargetProtocol: ratio(ref.bytesToTarget?.protocol, m.bytesToTarget?.protocol),
      toTargetWithPublicSet: ratio(ref.bytesToTarget?.withPublicSet, m.bytesToTarget?.withPublicSet),
    };
    if (isFedAvg(m.method)) continue;
    const x = Math.min(ref.finalAccuracy.mean, m.finalAccuracy.mean);
    const mine = bytesToTarget(runsOf(m.method), x);
    const theirs = bytesToTarget(runsOf(ref.method), x);
    m.vsFedavg = {
      targetAccuracy: x,
      bytesProtocol: mine.protocol,
      bytesWithPublicSet: mine.withPublicSet,
      fedavgBytesProtocol: theirs.protocol,
      ratioProtocol: ratio(theirs.protocol, mine.protocol),
      ratioWithPublicSet: ratio(theirs.withPublicSet, mine.withPublicSet),
    };
  }
  return {
    variant: first?.variant ?? '',
    overrides: first?.overrides ?? {},
    fedavgReference: reference,
    targetAccuracy,
    methods,
  };
}
