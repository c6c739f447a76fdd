/**
 * The data the experiment harness moves between its modules: what a participant reports per
 * round (one line of `mutua-client --metrics-out`), the coordinator's traffic counters over
 * time, and the per-method results that the table, CSV and plots are made from.
 */

import type { AttackName } from '../../client-node/src/attack.ts';

export const METHODS = [
  'local-only',
  'centralised',
  'fedavg',
  'fedavg-f16',
  'fedavg-u8',
  'mutual-sync',
  'mutual-async',
] as const;
export type MethodName = (typeof METHODS)[number];

/** The FedAvg variants: the same algorithm, its weights sent in float32, float16 or 8 bits. */
export const FEDAVG_ENCODINGS = {
  fedavg: 'float32',
  'fedavg-f16': 'float16',
  'fedavg-u8': 'uint8',
} as const;
export type FedAvgMethod = keyof typeof FEDAVG_ENCODINGS;
export const isFedAvg = (m: string): m is FedAvgMethod => m in FEDAVG_ENCODINGS;
/** Methods that move nothing through a coordinator. */
export const isLocal = (m: string): boolean => m === 'local-only' || m === 'centralised';

export const MODELS = ['mlp', 'cnn-small', 'cnn-fedavg'] as const;
export type ModelName = (typeof MODELS)[number];

/** One line of a participant's --metrics-out file (one per acknowledged round). */
export interface RoundRecord {
  round: number;
  participant: string;
  trainLoss: number;
  trainAccuracy: number;
  valAccuracy: number;
  testAccuracy: number;
  bytesUp: number;
  bytesDown: number;
  staleness: number;
  weight: number;
  trainMs: number;
  /** When the round was acknowledged, Unix ms. */
  t: number;
}

/** A `"event": "global"` line of --metrics-out: FedAvg's global weights scored as they were loaded. */
export interface GlobalLine {
  /** The aggregate of this round. */
  globalRound: number;
  participant: string;
  globalTestAccuracy: number;
  /** Unix ms. */
  t: number;
}

/** A global scoring as the harness keeps it. */
export interface GlobalRecord {
  p: number;
  globalRound: number;
  testAccuracy: number;
  /** ms since the method started. */
  ms: number;
}

/** A record as the harness keeps it: which participant (by index) and ms since the method started. */
export interface ParticipantRecord {
  /** Participant index, 0-based, as the harness assigned shards. */
  p: number;
  /** 1-based count of this participant's reports so far (its k-th round; async: its k-th task). */
  step: number;
  /** The round or consensus version the participant reported. */
  round: number;
  testAccuracy: number;
  trainLoss: number;
  /** Bytes the participant says it sent / received so far in this round. */
  bytesUp: number;
  bytesDown: number;
  staleness: number;
  /** ms since the method started. */
  ms: number;
}

/** The coordinator's cumulative WebSocket byte counters for one federation at one moment. */
export interface TrafficSample {
  /** ms since the method started. */
  ms: number;
  /** Received from participants (their uploads). */
  bytesUp: number;
  /** Sent to participants (their downloads). */
  bytesDown: number;
}

export interface AccuracyStats {
  /** Participants the statistic covers. */
  n: number;
  mean: number;
  min: number;
  max: number;
}

/** Statistics over each participant's k-th report. */
export interface RoundPoint extends AccuracyStats {
  round: number;
  /** When the last of these reports arrived, ms since the method started. */
  ms: number;
  /** Coordinator-counted cumulative bytes at that moment. */
  bytesUp: number;
  bytesDown: number;
}

/** Statistics over every participant's latest report, after each report (once all have one). */
export interface TimelinePoint extends AccuracyStats {
  ms: number;
  bytesUp: number;
  bytesDown: number;
}

export interface ParticipantPlan {
  index: number;
  model: ModelName;
  /** 1 = normal speed; s > 1 = straggler slowed s times. */
  slowdown: number;
  /**
   * --attackers: what this participant uploads instead of its predictions (mutual methods;
   * in the others it runs honestly but still counts as an attacker, so the honest means of
   * every method cover the same participants).
   */
  attack?: AttackName;
}

export interface MethodSummary {
  /**
   * Final statistics over every participant's last report. FedAvg: its global model, the
   * aggregate of the last round, as every participant scored it (so min = max).
   */
  final: AccuracyStats;
  /** FedAvg only: each participant's model after its last local training. */
  localFinal?: AccuracyStats;
  /**
   * --attackers: `final` over the honest participants only (FedAvg: its global model as they
   * scored it). Absent when nobody attacks.
   */
  honestFinal?: AccuracyStats;
  /** Most reports any participant made (rounds or async tasks). */
  rounds: number;
  /** Rounds or consensus versions the coordinator opened (0 for local-only). */
  versions: number;
  bytesUp: number;
  bytesDown: number;
  /** One-off HTTP download of the public set by all participants (not in bytesUp/Down). */
  publicSetBytes: number;
  /**
   * true: publicSetBytes is what the coordinator sent for this method's downloads (its
   * mutua_public_set_bytes_sent_total counter; brotli or gzip, as the participants accept).
   * Absent: the uncompressed file's size times the participants (runs made before that
   * counter was read).
   */
  publicSetOnWire?: boolean;
  /** ms from the start to the last report. */
  wallMs: number;
}

export interface MethodResult {
  method: MethodName;
  /** The split's seed (--seeds runs every method once per seed). */
  seed?: number;
  /** --sweep: the grid point, e.g. "lambda=0.5 temperature=3"; absent outside a sweep. */
  variant?: string;
  /** --sweep: the settings of this grid point. */
  overrides?: Record<string, string | number>;
  /** What travels: FedAvg's weight encoding, or the prediction encoding; "none" for local methods. */
  encoding?: string;
  /**
   * FedAvg: true when `rounds`, `timeline` and `summary.final` are its global model (this
   * harness); results of older runs scored it after local training and lack the flag.
   */
  globalAccuracy?: boolean;
  /** FedAvg: every global scoring. */
  globals?: GlobalRecord[];
  /** FedAvg: the participants' models after local training (what `rounds` was before). */
  localRounds?: RoundPoint[];
  /** Set when the method was not run; the reason. */
  skipped?: string;
  participants: ParticipantPlan[];
  federationId?: string;
  settings?: Record<string, unknown>;
  records: ParticipantRecord[];
  traffic: TrafficSample[];
  rounds: RoundPoint[];
  timeline: TimelinePoint[];
  summary?: MethodSummary;
  /**
   * Mutual methods: the participants the coordinator flagged (aggregation 'agreement': trust
   * weight below 0.5) as its admin API listed them last while they were running.
   */
  flagged?: { participant: number; trust: number; reason: string | null }[];
  /** Participant exits other than success, coordinator complaints: said, not hidden. */
  errors: string[];
  /** What the harness had to do that a reader should know (e.g. ending an async stall). */
  notes: string[];
}
