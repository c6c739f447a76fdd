/** FedAvg weights: uploads and the global weights a client receives. */
import { weightEncodingName } from '../enums.ts';
import { ProtocolError } from '../errors.ts';
import type { mutua } from '../gen/mutua.js';
import { decodeWeights, type WeightEncoding } from '../prediction-codec.ts';
import { describeEncoding, err, ok, payloadFailure, type Validated } from './common.ts';
import { validateMetrics } from './metrics.ts';

export interface WeightsExpectation {
  /** Number of model parameters. */
  count: number;
  /** The federation's model signature (hash of the parameter shapes). */
  signature: string;
}

export function decodeWeightsMessage(
  msg: {
    encoding?: number | null;
    count?: number | null;
    payload?: Uint8Array | null;
    modelSignature?: string | null;
  },
  expect: WeightsExpectation,
  what: string,
): Validated<Float32Array> {
  const name = weightEncodingName(msg.encoding);
  if (name === undefined) {
    return err(
      new ProtocolError(
        'ENCODING_NOT_ALLOWED',
        `${what} use ${describeEncoding(msg.encoding)}; accepted: float32, float16, uint8-affine`,
      ),
    );
  }
  const signature = msg.modelSignature ?? '';
  if (signature !== expect.signature) {
    // Non-fatal like every submission error: the participant keeps its session and can reconnect with the right model.
    return err(
      new ProtocolError(
        'MODEL_MISMATCH',
        `${what} have model signature "${signature}", the federation "${expect.signature}"`,
        { fatal: false, detail: 'SIGNATURE' },
      ),
    );
  }
  const count = msg.count ?? 0;
  if (count !== expect.count) {
    return err(
      new ProtocolError(
        'BAD_SHAPE',
        `${what} have count ${count}, the model has ${expect.count} parameters`,
        {
          detail: 'COUNT',
        },
      ),
    );
  }
  try {
    return ok(
      decodeWeights(msg.payload ?? new Uint8Array(0), count, name satisfies WeightEncoding, {
        maxElements: count,
      }),
    );
  } catch (e) {
    return err(payloadFailure(`${what} payload`, e));
  }
}

/**
 * A FedAvg WeightsUpload: FLOAT32/FLOAT16, the federation's signature and parameter count, a
 * positive num_samples (the averaging weight), finite metrics and values. Returns the weights.
 */
export function validateWeightsUpload(
  msg: mutua.v1.WeightsUpload.$Properties,
  expect: WeightsExpectation,
): Validated<Float32Array> {
  if ((msg.numSamples ?? 0) < 1) {
    return err(
      new ProtocolError('BAD_PAYLOAD', 'num_samples must be at least 1: it is the FedAvg averaging weight', {
        detail: 'NUM_SAMPLES',
      }),
    );
  }
  const badMetrics = validateMetrics(msg.metrics);
  if (badMetrics) return err(badMetrics);
  return decodeWeightsMessage(msg, expect, 'the weights');
}

/** GlobalWeights as a fedavg client receives them. */
export function validateGlobalWeights(
  msg: mutua.v1.GlobalWeights.$Properties,
  expect: WeightsExpectation,
): Validated<Float32Array> {
  return decodeWeightsMessage(msg, expect, 'global weights');
}
