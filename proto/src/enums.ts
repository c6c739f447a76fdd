/**
 * Wire enums <-> the lowercase names used in configuration, the REST API and logs.
 *
 * protobuf enums are open: a newer peer may send a value this build does not know. The
 * `...Name` functions therefore return undefined for unknown numbers (and for UNSPECIFIED),
 * and callers decide whether that is an error.
 */
import { mutua } from './gen/mutua.js';
import type { CompressionName, PredictionEncoding, WeightEncoding } from './prediction-codec.ts';

export type ModeName = 'sync' | 'async';
export type StrategyName = 'mutual' | 'fedavg';
export type AggregationName = 'mean' | 'entropy' | 'era' | 'median' | 'trimmed-mean' | 'agreement';

const { Encoding, Mode, Strategy, Aggregation } = mutua.v1;

function table<N extends string>(pairs: readonly (readonly [N, number])[]) {
  const byName = new Map<N, number>(pairs);
  const byValue = new Map<number, N>(pairs.map(([n, v]) => [v, n]));
  return {
    names: pairs.map(([n]) => n) as readonly N[],
    name: (value: number | null | undefined): N | undefined =>
      value == null ? undefined : byValue.get(value),
    value: (name: N): number => {
      const v = byName.get(name);
      if (v === undefined) throw new TypeError(`unknown name ${JSON.stringify(name)}`);
      return v;
    },
    isName: (s: string): s is N => byName.has(s as N),
  };
}

const encodings = table<PredictionEncoding>([
  ['float32', Encoding.ENCODING_FLOAT32],
  ['float16', Encoding.ENCODING_FLOAT16],
  ['uint8', Encoding.ENCODING_UINT8],
  ['topk', Encoding.ENCODING_TOPK],
  ['soft4', Encoding.ENCODING_SOFT4],
  ['soft2', Encoding.ENCODING_SOFT2],
  ['soft1', Encoding.ENCODING_SOFT1],
  ['hard', Encoding.ENCODING_HARD],
]);
// Weights have their own 8-bit layout: 'uint8' is ENCODING_UINT8_AFFINE, never ENCODING_UINT8.
const weightEncodings = table<WeightEncoding>([
  ['float32', Encoding.ENCODING_FLOAT32],
  ['float16', Encoding.ENCODING_FLOAT16],
  ['uint8', Encoding.ENCODING_UINT8_AFFINE],
]);
const modes = table<ModeName>([
  ['sync', Mode.MODE_SYNC],
  ['async', Mode.MODE_ASYNC],
]);
const strategies = table<StrategyName>([
  ['mutual', Strategy.STRATEGY_MUTUAL],
  ['fedavg', Strategy.STRATEGY_FEDAVG],
]);
const aggregations = table<AggregationName>([
  ['mean', Aggregation.AGGREGATION_MEAN],
  ['entropy', Aggregation.AGGREGATION_ENTROPY],
  ['era', Aggregation.AGGREGATION_ERA],
  ['median', Aggregation.AGGREGATION_MEDIAN],
  ['trimmed-mean', Aggregation.AGGREGATION_TRIMMED_MEAN],
  ['agreement', Aggregation.AGGREGATION_AGREEMENT],
]);

export const MODE_NAMES = modes.names;
export const STRATEGY_NAMES = strategies.names;
export const AGGREGATION_NAMES = aggregations.names;
export const ENCODING_NAMES = encodings.names;
const compressions = table<CompressionName>([
  ['none', mutua.v1.Compression.COMPRESSION_NONE],
  ['deflate-raw', mutua.v1.Compression.COMPRESSION_DEFLATE_RAW],
]);
/** `Compression` number -> 'none' | 'deflate-raw' (0 is 'none': an unset field means plain). */
export const compressionName = compressions.name;
export const compressionValue = compressions.value as (name: CompressionName) => mutua.v1.Compression;
export const isCompressionName = compressions.isName;

/** `Encoding` number -> 'float32' | 'float16' | 'uint8' | 'topk' | 'soft4' | …; undefined for UNSPECIFIED or unknown. */
export const encodingName = encodings.name;
/** 'float32' ... -> `Encoding` number. */
export const encodingValue = encodings.value as (name: PredictionEncoding) => mutua.v1.Encoding;
export const isEncodingName = encodings.isName;

/** `Encoding` number -> weight encoding name; undefined for values that are not weight encodings. */
export const weightEncodingName = weightEncodings.name;
export const weightEncodingValue = weightEncodings.value as (name: WeightEncoding) => mutua.v1.Encoding;

export const modeName = modes.name;
export const modeValue = modes.value as (name: ModeName) => mutua.v1.Mode;
export const isModeName = modes.isName;

export const strategyName = strategies.name;
export const strategyValue = strategies.value as (name: StrategyName) => mutua.v1.Strategy;
export const isStrategyName = strategies.isName;

export const aggregationName = aggregations.name;
export const aggregationValue = aggregations.value as (name: AggregationName) => mutua.v1.Aggregation;
export const isAggregationName = aggregations.isName;

/**
 * The encoding a participant uploads with: the first of the federation's accepted encodings
 * (its order is the coordinator's preference) that the participant supports. A participant
 * that lists nothing is taken to support float32 only, which every implementation must.
 * Undefined when there is no common encoding.
 */
export function negotiateEncoding(
  accepted: readonly PredictionEncoding[],
  supported: readonly PredictionEncoding[],
): PredictionEncoding | undefined {
  const offer = supported.length === 0 ? ['float32'] : supported;
  return accepted.find((e) => offer.includes(e));
}

/**
 * The encoding of a participant's Targets: the first of the federation's `targetEncodings`
 * (preference first) that the participant supports, else its upload encoding (which it can
 * always decode: it produces it). An empty list means "the upload encoding", as before
 * target encodings existed.
 */
export function negotiateTargetEncoding(
  preferred: readonly PredictionEncoding[],
  supported: readonly PredictionEncoding[],
  upload: PredictionEncoding,
): PredictionEncoding {
  const offer = supported.length === 0 ? ['float32'] : supported;
  return preferred.find((e) => offer.includes(e)) ?? upload;
}

/**
 * The weight encodings a participant can use, from its Hello.supported_encodings: float32
 * and float16 always (every FedAvg client could decode both before 8-bit weights existed),
 * 8 bits only when it lists ENCODING_UINT8_AFFINE.
 */
export function supportedWeightEncodings(
  supported: readonly (number | null | undefined)[],
): WeightEncoding[] {
  const out: WeightEncoding[] = ['float32', 'float16'];
  if (supported.includes(Encoding.ENCODING_UINT8_AFFINE)) out.push('uint8');
  return out;
}

/**
 * The weight encoding of a fedavg participant: the federation's when the participant has it,
 * else the next more precise one it has (uint8 -> float16 -> float32).
 */
export function negotiateWeightEncoding(
  preferred: WeightEncoding,
  supported: readonly WeightEncoding[],
): WeightEncoding {
  const order: WeightEncoding[] = ['uint8', 'float16', 'float32'];
  return order.slice(order.indexOf(preferred)).find((e) => supported.includes(e)) ?? 'float32';
}
