/**
 * The data the experiment harness moves between its modules: what a participant reports per
 * round (one line of `mutua-client --metrics-out`), the coordinator's traffic counters over
 * time, and the per-method results that the table, CSV and plots are made from.
 */

export const METHODS = ['local-only', 'fedavg', 'mutual-sync', 'mutual-async'] as const;
export type MethodName = (typeof METHODS)[number];

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
}

export interface MethodSummary {
  /** Final statistics over every participant's last report. */
  final: AccuracyStats;
  /** Most reports any participant made (rounds or async tasks). */
  rounds: number;
  /** Rounds or consensus versions the coordinator opened (0 for local-only). */
  versions: number;
  bytesUp: number;
  bytesDown: number;
  /** One-off HTTP download of the public set by all participants (not in bytesUp/Down). */
  publicSetBytes: number;
  /** ms from the start to the last report. */
  wallMs: number;
}

export interface MethodResult {
  method: MethodName;
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
  /** Participant exits other than success, coordinator complaints: said, not hidden. */
  errors: string[];
  /** What the harness had to do that a reader should know (e.g. ending an async stall). */
  notes: string[];
}
