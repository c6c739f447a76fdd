/**
 * Turns what participants reported and what the coordinator counted into the series the
 * report shows. Pure functions, no I/O.
 *
 * Two views of one run:
 * - per round: statistics over each participant's k-th report. In sync modes that is round
 *   k; in async mode it is every participant's k-th task, whatever consensus version it
 *   ran against (a straggler's k-th task comes later than the others').
 * - timeline: after every report, statistics over each participant's latest report. This is
 *   what accuracy-vs-time and accuracy-vs-bytes plot, and what "time/bytes to reach X%" read:
 *   it is fair to async mode, where participants are never on the same round.
 * Bytes are the coordinator's counters, sampled while the method ran, interpolated at the
 * moment of each point.
 */
import type {
  AccuracyStats,
  GlobalLine,
  GlobalRecord,
  MethodSummary,
  ParticipantRecord,
  RoundPoint,
  RoundRecord,
  TimelinePoint,
  TrafficSample,
} from './types.ts';

/** A participant's metrics-out lines as the harness keeps them (file order = report order). */
export function toParticipantRecords(
  p: number,
  lines: readonly RoundRecord[],
  startMs: number,
): ParticipantRecord[] {
  return lines.map((r, k) => ({
    p,
    step: k + 1,
    round: r.round,
    testAccuracy: r.testAccuracy,
    trainLoss: r.trainLoss,
    bytesUp: r.bytesUp,
    bytesDown: r.bytesDown,
    staleness: r.staleness,
    ms: Math.max(0, r.t - startMs),
  }));
}

/** A participant's global-scoring lines as the harness keeps them. */
export function toGlobalRecords(p: number, lines: readonly GlobalLine[], startMs: number): GlobalRecord[] {
  return lines.map((g) => ({
    p,
    globalRound: g.globalRound,
    testAccuracy: g.globalTestAccuracy,
    ms: Math.max(0, g.t - startMs),
  }));
}

/**
 * FedAvg's global model round by round: for the aggregate of round r, statistics over the
 * participants that scored it (they load the same weights, so min = max unless the test set
 * differs), at the moment the last of them had it, with the coordinator's bytes then (which
 * include sending it to every participant). Doubles as its timeline: one point per round.
 */
export function globalRounds(
  globals: readonly GlobalRecord[],
  traffic: readonly TrafficSample[],
): RoundPoint[] {
  const byRound = new Map<number, GlobalRecord[]>();
  for (const g of globals) {
    const list = byRound.get(g.globalRound) ?? [];
    // A participant scores each aggregate once; a repeat (a resent task) keeps the first.
    if (!list.some((x) => x.p === g.p)) list.push(g);
    byRound.set(g.globalRound, list);
  }
  return [...byRound.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, list]) => {
      const ms = Math.max(...list.map((g) => g.ms));
      return { round, ...stats(list.map((g) => g.testAccuracy)), ms, ...trafficAt(traffic, ms) };
    });
}

export function stats(values: readonly number[]): AccuracyStats {
  if (values.length === 0) return { n: 0, mean: Number.NaN, min: Number.NaN, max: Number.NaN };
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { n: values.length, mean: sum / values.length, min, max };
}

/**
 * Cumulative bytes at `ms`, linearly interpolated between samples; the counters are 0 at
 * ms 0 (a fresh federation) and stay at the last sample after it.
 */
export function trafficAt(
  samples: readonly TrafficSample[],
  ms: number,
): { bytesUp: number; bytesDown: number } {
  let prev: TrafficSample = { ms: 0, bytesUp: 0, bytesDown: 0 };
  for (const s of samples) {
    if (s.ms >= ms) {
      const span = s.ms - prev.ms;
      const f = span > 0 ? (ms - prev.ms) / span : 1;
      const lerp = (a: number, b: number) => Math.round(a + (b - a) * Math.min(1, Math.max(0, f)));
      return { bytesUp: lerp(prev.bytesUp, s.bytesUp), bytesDown: lerp(prev.bytesDown, s.bytesDown) };
    }
    prev = s;
  }
  return { bytesUp: prev.bytesUp, bytesDown: prev.bytesDown };
}

/** Statistics over each participant's k-th report, k = 1, 2, ... */
export function perRound(
  records: readonly ParticipantRecord[],
  traffic: readonly TrafficSample[],
): RoundPoint[] {
  const byStep = new Map<number, ParticipantRecord[]>();
  for (const r of records) {
    const list = byStep.get(r.step) ?? [];
    list.push(r);
    byStep.set(r.step, list);
  }
  return [...byStep.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, list]) => {
      const ms = Math.max(...list.map((r) => r.ms));
      return { round, ...stats(list.map((r) => r.testAccuracy)), ms, ...trafficAt(traffic, ms) };
    });
}

/**
 * After each report (in time order), statistics over every participant's latest report.
 * Points start once all `participants` have reported, so early points are not the mean of
 * whoever happened to be fastest.
 */
export function timeline(
  records: readonly ParticipantRecord[],
  traffic: readonly TrafficSample[],
  participants: number,
): TimelinePoint[] {
  const latest = new Map<number, number>();
  const out: TimelinePoint[] = [];
  const sorted = [...records].sort((a, b) => a.ms - b.ms || a.p - b.p);
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    latest.set(r.p, r.testAccuracy);
    // Reports at the same ms form one point.
    if (i + 1 < sorted.length && sorted[i + 1]!.ms === r.ms) continue;
    if (latest.size < participants) continue;
    out.push({ ms: r.ms, ...stats([...latest.values()]), ...trafficAt(traffic, r.ms) });
  }
  return out;
}

export interface Reach {
  ms: number;
  bytes: number;
}

/** The first timeline point whose mean accuracy is at least `target`, or null. */
export function reach(points: readonly TimelinePoint[], target: number): Reach | null {
  for (const p of points) if (atLeast(p.mean, target)) return { ms: p.ms, bytes: p.bytesUp + p.bytesDown };
  return null;
}

/**
 * Means summed in another order differ in the last bits: a run whose target is its own final
 * mean (the lower of two finals) must reach it at its last point, not miss it by 1e-16.
 */
const atLeast = (mean: number, target: number) => mean >= target - 1e-9;

/** The first round whose mean accuracy (over the participants' k-th reports) is at least `target`. */
export function roundsToReach(rounds: readonly RoundPoint[], target: number): number | null {
  for (const r of rounds) if (atLeast(r.mean, target)) return r.round;
  return null;
}

export interface SummaryInput {
  records: readonly ParticipantRecord[];
  traffic: readonly TrafficSample[];
  participants: number;
  versions: number;
  publicSetBytes: number;
  /** publicSetBytes was measured on the wire (MethodSummary.publicSetOnWire). */
  publicSetOnWire?: boolean;
  /** Indices of the attacking participants (--attackers), left out of `honestFinal`. */
  attackers?: readonly number[];
}

export function summarize(input: SummaryInput): MethodSummary {
  const last = new Map<number, ParticipantRecord>();
  for (const r of input.records) {
    const prev = last.get(r.p);
    if (!prev || r.step > prev.step) last.set(r.p, r);
  }
  const finals = [...last.values()];
  const end = input.traffic.at(-1);
  const attackers = new Set(input.attackers ?? []);
  return {
    final: stats(finals.map((r) => r.testAccuracy)),
    ...(attackers.size > 0
      ? { honestFinal: stats(finals.filter((r) => !attackers.has(r.p)).map((r) => r.testAccuracy)) }
      : {}),
    rounds: finals.reduce((m, r) => Math.max(m, r.step), 0),
    versions: input.versions,
    bytesUp: end?.bytesUp ?? 0,
    bytesDown: end?.bytesDown ?? 0,
    publicSetBytes: input.publicSetBytes,
    ...(input.publicSetOnWire ? { publicSetOnWire: true } : {}),
    wallMs: finals.reduce((m, r) => Math.max(m, r.ms), 0),
  };
}
