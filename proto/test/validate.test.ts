import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AGGREGATION_NAMES,
  aggregationName,
  aggregationValue,
  Encoding,
  encodePredictions,
  encodeWeights,
  encodingName,
  encodingValue,
  type HelloInit,
  MODE_NAMES,
  maxWeightError,
  modeName,
  modeValue,
  negotiateEncoding,
  negotiateWeightEncoding,
  type ProtocolError,
  STRATEGY_NAMES,
  strategyName,
  strategyValue,
  type Validated,
  validateGlobalWeights,
  validateHello,
  validateTargets,
  validateTask,
  validateWeightsUpload,
  weightEncodingName,
  weightEncodingValue,
} from '../src/index.ts';

function failure<T>(r: Validated<T>, code: string, detail?: string): ProtocolError {
  assert.equal(r.ok, false, 'expected a rejection');
  if (r.ok) return undefined as never;
  assert.equal(r.error.code, code, r.error.message);
  if (detail !== undefined) assert.equal(r.error.detail, detail, r.error.message);
  return r.error;
}

describe('validateHello', () => {
  const hello: HelloInit = {
    protocolVersion: 1,
    joinToken: 'jt_1',
    name: 'a',
    kind: 1,
    inputShape: [28, 28, 1],
    numClasses: 10,
    supportedEncodings: [3, 1, 3],
  };

  it('accepts a join and a resume', () => {
    const r = validateHello(hello);
    assert.ok(r.ok);
    assert.deepEqual(r.value.token, { kind: 'join', value: 'jt_1' });
    assert.deepEqual(r.value.encodings, ['uint8', 'float32'], 'deduplicated, in the client order');
    assert.deepEqual(r.value.inputShape, [28, 28, 1]);
    const resume = validateHello({ ...hello, joinToken: '', resumeToken: 'rt_1' });
    assert.ok(resume.ok);
    assert.deepEqual(resume.value.token, { kind: 'resume', value: 'rt_1' });
  });

  it('rejects other protocol versions (fatal UNSUPPORTED_PROTOCOL)', () => {
    assert.equal(
      failure(validateHello({ ...hello, protocolVersion: 2 as never }), 'UNSUPPORTED_PROTOCOL').fatal,
      true,
    );
    failure(validateHello({ ...hello, protocolVersion: 0 }), 'UNSUPPORTED_PROTOCOL');
  });

  it('needs exactly one token', () => {
    failure(validateHello({ ...hello, joinToken: '' }), 'BAD_TOKEN', 'TOKEN_MISSING');
    failure(validateHello({ ...hello, resumeToken: 'rt' }), 'BAD_TOKEN', 'TOKEN_BOTH');
    failure(validateHello({ ...hello, joinToken: 'x'.repeat(513) }), 'BAD_TOKEN', 'TOKEN_TOO_LONG');
  });

  it('checks the model description', () => {
    failure(validateHello({ ...hello, inputShape: [] }), 'MODEL_MISMATCH', 'INPUT_SHAPE');
    failure(validateHello({ ...hello, inputShape: [28, 0] }), 'MODEL_MISMATCH', 'INPUT_SHAPE');
    failure(validateHello({ ...hello, numClasses: 1 }), 'MODEL_MISMATCH', 'NUM_CLASSES');
    failure(validateHello({ ...hello, numClasses: 0 }), 'MODEL_MISMATCH', 'NUM_CLASSES');
  });

  it('keeps the low-bit encodings and the compressions it knows, dropping unknown ones', () => {
    const r = validateHello({
      ...hello,
      supportedEncodings: [9, 7, 1],
      supportedCompressions: [5 as never, 1, 0],
    });
    assert.ok(r.ok);
    assert.deepEqual(r.value.encodings, ['hard', 'soft2', 'float32']);
    assert.deepEqual(r.value.compressions, ['deflate-raw']);
  });

  it('drops encodings it does not know instead of refusing a newer client', () => {
    const r = validateHello({ ...hello, supportedEncodings: [77 as never, 0, 2] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.encodings, ['float16']);
  });

  it('weight encodings: float32 and float16 for anyone, 8 bits only when ENCODING_UINT8_AFFINE is listed', () => {
    const old = validateHello(hello);
    assert.ok(old.ok);
    assert.deepEqual(old.value.weightEncodings, ['float32', 'float16']);
    const r = validateHello({ ...hello, supportedEncodings: [1, 2, 3, 4, 5] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.weightEncodings, ['float32', 'float16', 'uint8']);
    assert.deepEqual(r.value.encodings, ['float32', 'float16', 'uint8', 'topk'], 'not a prediction encoding');
  });
});

describe('validateWeightsUpload / validateGlobalWeights', () => {
  const expect = { count: 3, signature: 'sig' };
  const payload = encodeWeights(Float32Array.of(1, 2, 3), 'float32');

  it('returns the weights', () => {
    const r = validateWeightsUpload(
      { encoding: 1, count: 3, payload, numSamples: 10, modelSignature: 'sig' },
      expect,
    );
    assert.ok(r.ok);
    assert.deepEqual(Array.from(r.value), [1, 2, 3]);
    const h = validateWeightsUpload(
      {
        encoding: 2,
        count: 3,
        payload: encodeWeights(Float32Array.of(1, 2, 3), 'float16'),
        numSamples: 1,
        modelSignature: 'sig',
      },
      expect,
    );
    assert.ok(h.ok);
    const u = validateWeightsUpload(
      {
        encoding: 5,
        count: 3,
        payload: encodeWeights(Float32Array.of(1, 2, 3), 'uint8'),
        numSamples: 1,
        modelSignature: 'sig',
      },
      expect,
    );
    assert.ok(u.ok);
    assert.equal(u.value[0], 1, 'the offset is exact');
    for (const [i, v] of [1, 2, 3].entries()) assert.ok(Math.abs(u.value[i]! - v) <= maxWeightError(1, 3));
    failure(
      validateWeightsUpload(
        {
          encoding: 5,
          count: 3,
          payload: encodeWeights(Float32Array.of(1, 2, 3), 'float32'),
          numSamples: 1,
          modelSignature: 'sig',
        },
        expect,
      ),
      'BAD_SHAPE',
      'PAYLOAD_BAD_SHAPE',
    );
  });

  it('rejects encoding, signature, count, num_samples, non-finite values', () => {
    const base = { encoding: 1, count: 3, payload, numSamples: 10, modelSignature: 'sig' };
    failure(validateWeightsUpload({ ...base, encoding: 3 }, expect), 'ENCODING_NOT_ALLOWED');
    const sig = failure(
      validateWeightsUpload({ ...base, modelSignature: 'other' }, expect),
      'MODEL_MISMATCH',
      'SIGNATURE',
    );
    assert.equal(sig.fatal, false);
    failure(validateWeightsUpload({ ...base, count: 4 }, expect), 'BAD_SHAPE', 'COUNT');
    failure(validateWeightsUpload({ ...base, numSamples: 0 }, expect), 'BAD_PAYLOAD', 'NUM_SAMPLES');
    failure(
      validateWeightsUpload({ ...base, payload: payload.subarray(1) }, expect),
      'BAD_PAYLOAD',
      'PAYLOAD_LENGTH_MISMATCH',
    );
    const nan = new Uint8Array(Float32Array.of(1, Number.NaN, 3).buffer);
    failure(validateWeightsUpload({ ...base, payload: nan }, expect), 'BAD_PAYLOAD', 'PAYLOAD_NON_FINITE');
    failure(
      validateWeightsUpload({ ...base, metrics: { trainLoss: Number.POSITIVE_INFINITY } }, expect),
      'BAD_PAYLOAD',
      'METRICS_NON_FINITE',
    );
  });

  it('checks global weights the same way', () => {
    assert.ok(validateGlobalWeights({ encoding: 1, count: 3, payload, modelSignature: 'sig' }, expect).ok);
    failure(
      validateGlobalWeights({ encoding: 1, count: 2, payload, modelSignature: 'sig' }, expect),
      'BAD_SHAPE',
    );
  });
});

describe('validateTargets / validateTask', () => {
  const probs = Float32Array.of(0.5, 0.5, 0.25, 0.75);
  const targets = {
    version: 4,
    indices: [3, 9],
    encoding: 3,
    rows: 2,
    classes: 2,
    payload: encodePredictions(probs, 2, 2, 'uint8'),
    contributors: 2,
  };

  it('decodes targets', () => {
    const r = validateTargets(targets, { classes: 2, sampleCount: 10 });
    assert.ok(r.ok);
    assert.equal(r.value.version, 4);
    assert.deepEqual(r.value.indices, [3, 9]);
    assert.equal(r.value.probs.length, 4);
    assert.ok(Math.abs(r.value.probs[3]! - 0.75) < 1 / 255);
  });

  it('rejects disagreeing shapes and indices', () => {
    failure(validateTargets(targets, { classes: 3 }), 'BAD_SHAPE', 'CLASSES');
    failure(validateTargets({ ...targets, rows: 3 }, { classes: 2 }), 'BAD_SHAPE', 'ROWS');
    failure(validateTargets(targets, { classes: 2, sampleCount: 9 }), 'BAD_SHAPE', 'INDICES');
    failure(validateTargets({ ...targets, indices: [3, 3] }, { classes: 2 }), 'BAD_SHAPE', 'INDICES');
    failure(validateTargets(targets, { classes: 2, allowedEncodings: ['float32'] }), 'ENCODING_NOT_ALLOWED');
    failure(
      validateTargets({ ...targets, payload: Uint8Array.of(128, 128, 64, 191) }, { classes: 2 }),
      'BAD_PAYLOAD',
      'PAYLOAD_ROW_SUM',
    );
  });

  it('validates a task with targets, and a fedavg task with weights', () => {
    const t = validateTask({ round: 5, predictIndices: [0, 1, 2], targets }, { classes: 2, sampleCount: 10 });
    assert.ok(t.ok);
    assert.equal(t.value.round, 5);
    assert.equal(t.value.targets?.version, 4);
    failure(validateTask({ round: 5, predictIndices: [] }, { classes: 2 }), 'BAD_SHAPE', 'INDICES');
    failure(
      validateTask({ round: 5, predictIndices: [10] }, { classes: 2, sampleCount: 10 }),
      'BAD_SHAPE',
      'INDICES',
    );
    const payload = encodeWeights(Float32Array.of(1, 2), 'float32');
    const gw = { round: 1, encoding: 1, count: 2, payload, modelSignature: 's' };
    const f = validateTask(
      { round: 2, globalWeights: gw },
      { classes: 2, weights: { count: 2, signature: 's' } },
    );
    assert.ok(f.ok);
    assert.deepEqual(Array.from(f.value.globalWeights ?? []), [1, 2]);
    failure(
      validateTask({ round: 2, predictIndices: [0], globalWeights: gw }, { classes: 2 }),
      'WRONG_STRATEGY',
    );
  });
});

describe('enum names', () => {
  it('round-trips encodings, modes, strategies, aggregations', () => {
    for (const n of ['float32', 'float16', 'uint8', 'topk'] as const)
      assert.equal(encodingName(encodingValue(n)), n);
    for (const n of MODE_NAMES) assert.equal(modeName(modeValue(n)), n);
    for (const n of STRATEGY_NAMES) assert.equal(strategyName(strategyValue(n)), n);
    for (const n of AGGREGATION_NAMES) assert.equal(aggregationName(aggregationValue(n)), n);
    assert.deepEqual(
      [...AGGREGATION_NAMES],
      ['mean', 'entropy', 'era', 'median', 'trimmed-mean', 'agreement'],
    );
    assert.equal(encodingValue('topk'), Encoding.ENCODING_TOPK);
    assert.equal(modeValue('async'), 2);
    assert.equal(strategyValue('fedavg'), 2);
    assert.equal(aggregationValue('trimmed-mean'), 5);
    assert.equal(aggregationValue('agreement'), 6);
  });

  it('maps UNSPECIFIED and unknown numbers to undefined', () => {
    assert.equal(encodingName(0), undefined);
    assert.equal(encodingName(42), undefined);
    assert.equal(modeName(undefined), undefined);
    assert.equal(aggregationName(null), undefined);
  });

  it('negotiates the first accepted encoding the participant supports', () => {
    assert.equal(negotiateEncoding(['uint8', 'float32'], ['float32', 'uint8']), 'uint8');
    assert.equal(negotiateEncoding(['uint8', 'float32'], []), 'float32', 'nothing listed = float32');
    assert.equal(negotiateEncoding(['topk'], ['float16']), undefined);
  });

  it('negotiates the federation weight encoding, or the next more precise one the participant has', () => {
    const all = ['float32', 'float16', 'uint8'] as const;
    const old = ['float32', 'float16'] as const;
    assert.equal(negotiateWeightEncoding('uint8', all), 'uint8');
    assert.equal(negotiateWeightEncoding('uint8', old), 'float16');
    assert.equal(negotiateWeightEncoding('float16', all), 'float16');
    assert.equal(negotiateWeightEncoding('float32', all), 'float32', 'never less precise than asked');
    assert.equal(negotiateWeightEncoding('uint8', ['float32']), 'float32');
    assert.equal(weightEncodingName(5), 'uint8');
    assert.equal(weightEncodingName(3), undefined, 'the prediction uint8 is not a weight encoding');
    assert.equal(weightEncodingValue('uint8'), 5);
  });
});
