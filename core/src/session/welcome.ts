/**
 * Turns a decoded Welcome into plain, checked values the session and the learner use, so
 * that nothing downstream deals with protobuf defaults or enum numbers. A Welcome that
 * contradicts the participant's model is MODEL_MISMATCH; one that is unusable for any
 * client (no settings, a non-positive temperature, no public set for mutual distillation)
 * is BAD_WELCOME; both end the session, since reconnecting would get the same answer.
 */
import {
  type AggregationName,
  aggregationName,
  type BatchRule,
  type CompressionName,
  compressionName,
  encodingName,
  type ModeName,
  modeName,
  negotiateEncoding,
  type PredictionEncoding,
  PUBLIC_SET_FORMAT,
  type StrategyName,
  strategyName,
  type WeightEncoding,
  type WelcomeInit,
  weightEncodingName,
} from '@mutua/proto';
import { SessionError } from './session-error.ts';

export interface FederationInfo {
  id: string;
  name: string;
  strategy: StrategyName;
  mode: ModeName;
  temperature: number;
  lambda: number;
  aggregation: AggregationName | undefined;
  /** Public samples per task. */
  batchSize: number;
  /** Accepted upload encodings, the coordinator's preference first. */
  encodings: PredictionEncoding[];
  /** k for the topk encoding. */
  topk: number;
  /** Suggested local epochs per task (0 = not set). */
  localEpochs: number;
  /**
   * mutual: passes over the held targets' public rows with the distillation term alone,
   * before local training (0 = none, also from a coordinator that does not send it).
   */
  distillEpochs: number;
  /** Required architecture (fedavg); '' = any. */
  modelArch: string;
  /** fedavg: the seed every participant initializes its model with. */
  seed: number;
  inputShape: number[];
  numClasses: number;
  labelNames: string[];
}

export interface PublicSetInfo {
  /** Lowercase hex sha256 of the file, also its id. */
  sha256: string;
  sampleCount: number;
  shape: number[];
  byteLength: number;
  /** Relative to the coordinator's HTTP origin, e.g. /v1/public-sets/<sha256>. */
  url: string;
}

export interface SessionWelcome {
  participantId: string;
  resumed: boolean;
  federation: FederationInfo;
  publicSet: PublicSetInfo | null;
  /** Prediction encoding this participant uploads with. */
  uploadEncoding: PredictionEncoding;
  /**
   * fedavg: how weights travel, both ways: Welcome.weight_encoding; from a coordinator that
   * does not send it, float16 when upload_encoding is float16, else float32.
   */
  weightEncoding: WeightEncoding;
  /** How Targets are encoded for this participant (informational; Targets carry their own). */
  downloadEncoding: PredictionEncoding | undefined;
  /** How this participant wraps its prediction payloads (Welcome.payload_compression; 'none' when unset or not offered). */
  compression: CompressionName;
  /** Delta payloads both ways, with the federation's threshold (Welcome.payload_delta); null: always full. */
  delta: { threshold: number } | null;
  /**
   * Derived indices (Welcome.derived_indices): the batch rule that rebuilds lists the
   * coordinator leaves out; null: every list travels.
   */
  batchRule: BatchRule | null;
  heartbeatIntervalMs: number;
  /** Largest frame the coordinator accepts (0 = not stated). */
  maxFrameBytes: number;
  currentRound: number;
}

export interface WelcomeExpectation {
  inputShape: readonly number[];
  numClasses: number;
  /** Prediction encodings this client can encode and decode. */
  encodings: readonly PredictionEncoding[];
  /** Payload compressions this client offered (besides none). */
  compressions?: readonly CompressionName[];
  /** Whether this client offered delta payloads. */
  delta?: boolean;
  /** Whether this client offered derived indices. */
  derivedIndices?: boolean;
}

function hex(bytes: Uint8Array | null | undefined): string {
  return Array.from(bytes ?? [], (b) => b.toString(16).padStart(2, '0')).join('');
}

function bad(message: string): SessionError {
  return new SessionError('BAD_WELCOME', message, { fatal: true });
}

export function parseWelcome(w: WelcomeInit, expect: WelcomeExpectation): SessionWelcome | SessionError {
  const f = w.federation;
  if (!f?.task) return bad('the Welcome carries no federation settings');
  const numClasses = f.task.numClasses ?? 0;
  const inputShape = [...(f.task.inputShape ?? [])];
  if (numClasses !== expect.numClasses) {
    return new SessionError(
      'MODEL_MISMATCH',
      `the federation has ${numClasses} classes, this model outputs ${expect.numClasses}`,
      { fatal: true, detail: 'NUM_CLASSES' },
    );
  }
  if (inputShape.length > 0 && inputShape.join('x') !== expect.inputShape.join('x')) {
    return new SessionError(
      'MODEL_MISMATCH',
      `the federation's samples are [${inputShape.join(', ')}], this model takes [${expect.inputShape.join(', ')}]`,
      { fatal: true, detail: 'INPUT_SHAPE' },
    );
  }
  const strategy = strategyName(f.strategy) ?? 'mutual';
  const mode = modeName(f.mode) ?? 'sync';
  const temperature = f.temperature ?? 0;
  const lambda = f.lambda ?? 0;
  if (!(Number.isFinite(temperature) && temperature > 0)) {
    return bad(`the federation temperature must be a positive number, got ${temperature}`);
  }
  if (!(Number.isFinite(lambda) && lambda >= 0)) {
    return bad(`the federation lambda must be a finite number >= 0, got ${lambda}`);
  }
  const encodings: PredictionEncoding[] = [];
  for (const e of f.encodings ?? []) {
    const name = encodingName(e);
    if (name && !encodings.includes(name)) encodings.push(name);
  }

  let publicSet: PublicSetInfo | null = null;
  const d = w.publicSet;
  if (d?.url) {
    if (d.format && d.format !== PUBLIC_SET_FORMAT) {
      return bad(
        `the public set is in format ${JSON.stringify(d.format)}; this client reads ${PUBLIC_SET_FORMAT}`,
      );
    }
    const sha256 = hex(d.sha256);
    if (sha256.length !== 64)
      return bad(`the public set's sha256 is ${sha256.length / 2} bytes, expected 32`);
    publicSet = {
      sha256,
      sampleCount: d.sampleCount ?? 0,
      shape: [...(d.shape ?? [])],
      byteLength: Number(d.byteLength ?? 0),
      url: d.url,
    };
  } else if (strategy === 'mutual') {
    return bad('a mutual-distillation federation must announce a public set');
  }

  // The coordinator's choice is authoritative when this client can do it; otherwise negotiate
  // again from the accepted list (an older coordinator may leave upload_encoding unset).
  const offered = encodingName(w.uploadEncoding);
  let uploadEncoding = offered && expect.encodings.includes(offered) ? offered : undefined;
  uploadEncoding ??= negotiateEncoding(encodings.length > 0 ? encodings : ['float32'], expect.encodings);
  if (uploadEncoding === undefined) {
    if (strategy === 'mutual') {
      return new SessionError(
        'NO_COMMON_ENCODING',
        `the federation accepts ${encodings.join(', ')}; this client supports ${expect.encodings.join(', ')}`,
        { fatal: true },
      );
    }
    uploadEncoding = 'float32';
  }

  return {
    participantId: w.participantId ?? '',
    resumed: w.resumed ?? false,
    federation: {
      id: f.federationId ?? '',
      name: f.name ?? '',
      strategy,
      mode,
      temperature,
      lambda,
      aggregation: aggregationName(f.aggregation),
      batchSize: f.batchSize ?? 0,
      encodings,
      topk: f.topk ?? 0,
      localEpochs: f.localEpochs ?? 0,
      distillEpochs: f.distillEpochs ?? 0,
      modelArch: f.modelArch ?? '',
      seed: f.seed ?? 0,
      inputShape: inputShape.length > 0 ? inputShape : [...expect.inputShape],
      numClasses,
      labelNames: [...(f.task.labelNames ?? [])],
    },
    publicSet,
    uploadEncoding,
    weightEncoding:
      weightEncodingName(w.weightEncoding) ??
      (encodingName(w.uploadEncoding) === 'float16' ? 'float16' : 'float32'),
    downloadEncoding: encodingName(w.downloadEncoding),
    compression: chosenCompression(w.payloadCompression, expect.compressions ?? []),
    delta:
      w.payloadDelta && expect.delta && strategy === 'mutual'
        ? { threshold: Math.max(0, f.deltaThreshold ?? 0) }
        : null,
    batchRule:
      w.derivedIndices && expect.derivedIndices && strategy === 'mutual' && publicSet
        ? { sampleCount: publicSet.sampleCount, batchSize: f.batchSize ?? 0, seed: f.seed ?? 0 }
        : null,
    heartbeatIntervalMs: w.heartbeatIntervalMs ?? 0,
    maxFrameBytes: w.maxFrameBytes ?? 0,
    currentRound: Number(w.currentRound ?? 0),
  };
}

/** The Welcome's compression if this client offered it; else none (an older coordinator leaves it unset). */
function chosenCompression(
  value: number | null | undefined,
  offered: readonly CompressionName[],
): CompressionName {
  const name = compressionName(value ?? 0);
  return name !== undefined && offered.includes(name) ? name : 'none';
}
