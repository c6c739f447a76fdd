/**
 * Federation settings as the coordinator holds them (camelCase, plain JSON so they
 * persist as one column). Defaults are what a first-time user gets from an empty
 * create request; every choice here is documented in the OpenAPI schema too.
 */
export type StrategyName = 'mutual' | 'fedavg';
export type ModeName = 'sync' | 'async';
/**
 * How a batch's contributions become targets (core/src/aggregate/dispatch.ts). 'agreement'
 * is the mean with each participant's weight times a trust factor from its distance to the
 * coordinate-wise median: the mean when nobody stands out, robust to a minority of poisoned
 * uploads (core/src/aggregate/trust.ts).
 */
export const AGGREGATION_NAMES = ['mean', 'entropy', 'era', 'median', 'trimmed-mean', 'agreement'] as const;
export type AggregationName = (typeof AGGREGATION_NAMES)[number];
/** Prediction encodings, the low-bit ones included (proto/src/payload/lowbit.ts). */
export type EncodingName = 'float32' | 'float16' | 'uint8' | 'topk' | 'soft4' | 'soft2' | 'soft1' | 'hard';
export type CompressionName = 'none' | 'deflate-raw';

export interface FederationSettings {
  task: { inputShape: number[]; numClasses: number; labelNames: string[] };
  strategy: StrategyName;
  mode: ModeName;
  temperature: number;
  lambda: number;
  aggregation: AggregationName;
  /** Fraction trimmed from each side for 'trimmed-mean'. */
  trimFraction: number;
  /** Sharpening temperature for 'era' (< 1 sharpens). */
  eraTemperature: number;
  /** Public samples per task. */
  batchSize: number;
  /**
   * mutual: rows of each batch picked where the consensus is least certain, plus a random
   * eighth (engine/active-rows.ts); participants that support it predict and distill on
   * those only. 0 = off. Fixed at creation (a version's active rows are its batch's first).
   */
  activeRows: number;
  /** Upload encodings accepted, most preferred first. */
  encodings: EncodingName[];
  /**
   * Targets encodings, most preferred first: each participant gets the first it supports,
   * else its upload encoding. [] = the upload encoding (as before target encodings existed).
   */
  targetEncodings: EncodingName[];
  /**
   * Payload compressions, most preferred first ('none' included or not): each participant
   * gets the first it supports, else none. [] = none.
   */
  compressions: CompressionName[];
  /** Prediction payloads as deltas against what the receiver holds, with participants that support it. */
  delta: boolean;
  /** delta: a row is resent when a decoded probability moved more than this (0 = any change). */
  deltaThreshold: number;
  topk: number;
  /**
   * Participants that must be connected before a round (sync) or consensus version (async)
   * opens: one participant alone would train alone at full speed, with no peer to distil from.
   */
  minParticipants: number;
  sync: { quorum: number; deadlineMs: number; minParticipants: number };
  async: { bufferK: number; stalenessExponent: number; maxStaleness: number };
  /**
   * After a coordinator restart, how long the participants of the round (async: version)
   * that was open are waited for before it closes without them: until they are back, they
   * still count as connected for the "every connected participant" rules (sync quorum 0,
   * async all-waiting) and a sync deadline does not close the round. 0 = no grace.
   */
  recoveryGraceMs: number;
  localEpochs: number;
  /**
   * mutual: passes over the targets' public rows with the distillation term alone before
   * local training (FedMD's "digest" before "revisit"); 0 = the KL term only rides along
   * with the private minibatches.
   */
  distillEpochs: number;
  participantLimit: number;
  /** fedavg: required architecture and shared initialization seed. */
  modelArch: string;
  seed: number;
  /**
   * fedavg: how weights travel, uploads and the global weights sent down: float32, float16,
   * or uint8 (8 bits per weight, a scale and offset per tensor; PROTOCOL.md). A participant
   * that cannot use it gets the next more precise one.
   */
  weightEncoding: WeightEncodingName;
}

export type WeightEncodingName = 'float32' | 'float16' | 'uint8';

export const DEFAULT_SETTINGS: FederationSettings = {
  task: { inputShape: [28, 28, 1], numClasses: 10, labelNames: [] },
  strategy: 'mutual',
  mode: 'sync',
  temperature: 3,
  lambda: 1,
  // Holds against a minority of poisoned uploads at no measured cost when nobody attacks
  // (docs/experiments.md, run 5). Stored federations keep the setting they were created with.
  aggregation: 'agreement',
  trimFraction: 0.1,
  eraTemperature: 0.5,
  // 1,000 public rows a round (was 512): with distillEpochs 4 the widest measured gain on
  // Fashion-MNIST (-2.6 -> -0.4 points against 8-bit FedAvg's global model, 3 seeds) and
  // MNIST (-0.1 -> +0.8), for about twice the bytes and training steps a round
  // (docs/experiments.md, "Fashion-MNIST's gap").
  batchSize: 1000,
  activeRows: 0,
  encodings: ['uint8', 'float16', 'float32'],
  targetEncodings: [],
  compressions: [],
  delta: false,
  deltaThreshold: 0,
  topk: 3,
  minParticipants: 2,
  sync: { quorum: 0, deadlineMs: 0, minParticipants: 1 },
  async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
  // The participants' reconnect backoff is capped at 30 s (core/src/session/backoff.ts).
  recoveryGraceMs: 30_000,
  localEpochs: 1,
  // Distillation-only passes over the targets' rows before the local epochs (see batchSize).
  // 2 passes gave +0.6 points on MNIST over one and +1.4 on Fashion-MNIST over none; 4 with
  // 1,000 rows closes Fashion-MNIST's gap (docs/experiments.md, "2, closing the gap").
  distillEpochs: 4,
  participantLimit: 1000,
  modelArch: '',
  seed: 1,
  // Lossless by default; float16 and uint8 are one setting away (docs/experiments.md measures them).
  weightEncoding: 'float32',
};

export class SettingsError extends Error {
  readonly code = 'MUTUA_ERR_BAD_SETTINGS';
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
export type SettingsInput = DeepPartial<FederationSettings>;

/** Fills defaults and checks what a JSON schema cannot (cross-field rules). */
export function resolveSettings(
  input: SettingsInput,
  publicSetShape?: readonly number[],
): FederationSettings {
  const d = DEFAULT_SETTINGS;
  const s: FederationSettings = {
    ...d,
    ...input,
    task: { ...d.task, ...input.task } as FederationSettings['task'],
    sync: { ...d.sync, ...input.sync },
    async: { ...d.async, ...input.async },
    encodings: (input.encodings ?? d.encodings) as EncodingName[],
  } as FederationSettings;
  const fail = (msg: string): never => {
    throw new SettingsError(msg);
  };
  if (!s.task.inputShape.every((v) => Number.isInteger(v) && v > 0))
    fail('task.inputShape must be positive integers');
  if (!Number.isInteger(s.task.numClasses) || s.task.numClasses < 2)
    fail('task.numClasses must be an integer ≥ 2');
  if (s.task.labelNames.length > 0 && s.task.labelNames.length !== s.task.numClasses) {
    fail(`task.labelNames has ${s.task.labelNames.length} names for ${s.task.numClasses} classes`);
  }
  if (publicSetShape && publicSetShape.join('x') !== s.task.inputShape.join('x')) {
    fail(
      `public set samples are ${publicSetShape.join('x')} but task.inputShape is ${s.task.inputShape.join('x')}`,
    );
  }
  // The REST schema refuses unknown names already; this guards the other callers (admin
  // CLI, tests, settings stored by a newer coordinator) before a round reaches the maths.
  if (!(AGGREGATION_NAMES as readonly string[]).includes(s.aggregation)) {
    fail(`aggregation must be one of ${AGGREGATION_NAMES.join(', ')}, got ${JSON.stringify(s.aggregation)}`);
  }
  if (!(s.temperature > 0 && Number.isFinite(s.temperature))) fail('temperature must be > 0');
  if (!(s.lambda >= 0 && Number.isFinite(s.lambda))) fail('lambda must be ≥ 0');
  if (!(s.trimFraction >= 0 && s.trimFraction < 0.5)) fail('trimFraction must be in [0, 0.5)');
  if (!(s.eraTemperature > 0)) fail('eraTemperature must be > 0');
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) fail('batchSize must be a positive integer');
  if (!Number.isInteger(s.activeRows) || s.activeRows < 0 || s.activeRows > s.batchSize)
    fail('activeRows must be an integer in [0, batchSize]');
  if (s.activeRows > 0 && s.strategy !== 'mutual') fail('activeRows needs the mutual strategy');
  if (!(s.deltaThreshold >= 0 && s.deltaThreshold <= 1)) fail('deltaThreshold must be in [0, 1]');
  if (s.encodings.length === 0) fail('encodings must list at least one encoding');
  if (
    (s.encodings.includes('topk') || s.targetEncodings.includes('topk')) &&
    !(Number.isInteger(s.topk) && s.topk >= 1 && s.topk <= s.task.numClasses)
  ) {
    fail('topk must be an integer in [1, numClasses]');
  }
  if (s.strategy === 'fedavg') {
    if (s.mode !== 'sync')
      fail('fedavg runs in sync mode only (weights of different rounds cannot be averaged)');
    if (!s.modelArch) fail('fedavg needs modelArch: every participant must train the same architecture');
  }
  if (!['float32', 'float16', 'uint8'].includes(s.weightEncoding)) {
    fail(`weightEncoding must be float32, float16 or uint8, got ${JSON.stringify(s.weightEncoding)}`);
  }
  if (s.async.bufferK < 1) fail('async.bufferK must be ≥ 1');
  if (s.async.stalenessExponent < 0) fail('async.stalenessExponent must be ≥ 0');
  if (!Number.isInteger(s.recoveryGraceMs) || s.recoveryGraceMs < 0)
    fail('recoveryGraceMs must be an integer ≥ 0');
  if (!Number.isInteger(s.localEpochs) || s.localEpochs < 1) fail('localEpochs must be a positive integer');
  if (!Number.isInteger(s.distillEpochs) || s.distillEpochs < 0 || s.distillEpochs > 100)
    fail('distillEpochs must be an integer in [0, 100]');
  if (!Number.isInteger(s.minParticipants) || s.minParticipants < 1)
    fail('minParticipants must be a positive integer');
  if (s.minParticipants > s.participantLimit)
    fail(`minParticipants (${s.minParticipants}) exceeds participantLimit (${s.participantLimit})`);
  if (!Number.isInteger(s.participantLimit) || s.participantLimit < 1) fail('participantLimit must be ≥ 1');
  return s;
}

/**
 * The participants a federation needs connected before a round or version opens. Stored
 * settings from before the setting existed lack it: they keep their old rule (1). (The sync
 * section's older minParticipants gates only the first round, as it always did.)
 */
export function requiredParticipants(s: FederationSettings): number {
  return Number.isInteger(s.minParticipants) && s.minParticipants > 1 ? s.minParticipants : 1;
}
