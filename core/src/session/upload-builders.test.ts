import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  decodePredictions,
  maxAbsError,
  STRATEGY_NAMES,
  validatePredictionUpload,
  validateWeightsUpload,
} from '@mutua/proto';
import { createFakePublicSet, type FakeWelcomeOptions, fakeWelcome } from './fake-coordinator.ts';
import { fedavgUpload } from './fedavg-upload.ts';
import type { Learner } from './learner.ts';
import { mutualUpload } from './mutual-upload.ts';
import { SessionError } from './session-error.ts';
import type { TaskInHand } from './task-queue.ts';
import { type TimedMetrics, toLocalMetrics, UPLOAD_BUILDERS, type UploadInput } from './upload-builder.ts';
import { parseWelcome, type SessionWelcome } from './welcome.ts';

const C = 3;
const PROBS = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.6, 0.3]);
const METRICS: TimedMetrics = { trainLoss: 0.4, trainAccuracy: 0.9, samples: 12.4, trainMs: 30.6 };

function learner(overrides: Partial<Learner> = {}): Learner {
  return {
    train: async () => METRICS,
    predict: async () => PROBS,
    getWeights: async () => new Float32Array([0.5, -1.5, 2.25, 3]),
    setWeights: async () => {},
    numSamples: 40,
    ...overrides,
  };
}

const TASK: TaskInHand = {
  round: 7,
  mode: 'sync',
  predictIndices: Uint32Array.of(1, 4),
  localEpochs: 1,
  deadlineUnixMs: 0,
};

let publicSet: Awaited<ReturnType<typeof createFakePublicSet>>;

function welcome(o: FakeWelcomeOptions): SessionWelcome {
  const parsed = parseWelcome(fakeWelcome({ publicSet, ...o }), {
    inputShape: [4],
    numClasses: C,
    encodings: ['float32', 'float16', 'uint8', 'topk'],
  });
  assert.ok(!(parsed instanceof SessionError), String(parsed));
  return parsed;
}

function input(w: SessionWelcome, l: Learner = learner()): UploadInput {
  return {
    learner: l,
    task: TASK,
    welcome: w,
    metrics: METRICS,
    localMetrics: toLocalMetrics(METRICS),
    signature: 'sig-9',
  };
}

describe('upload builders', () => {
  before(async () => {
    publicSet = await createFakePublicSet(10, [4]);
  });

  test('there is one per strategy; mutual distills, fedavg does not', () => {
    assert.deepEqual(Object.keys(UPLOAD_BUILDERS).sort(), [...STRATEGY_NAMES].sort());
    assert.equal(UPLOAD_BUILDERS.mutual, mutualUpload);
    assert.equal(UPLOAD_BUILDERS.fedavg, fedavgUpload);
    assert.equal(mutualUpload.distills, true);
    assert.equal(fedavgUpload.distills, false);
  });

  test('mutual: predictions on the task samples in the negotiated encoding, with the metrics', async () => {
    const seen: Array<[number[], number]> = [];
    const l = learner({
      predict: async (indices, temperature) => {
        seen.push([[...indices], temperature]);
        return PROBS;
      },
    });
    const body = await mutualUpload.build(input(welcome({ encodings: [3] }), l));
    assert.deepEqual(seen, [[[1, 4], 2]], 'the task indices, at the federation temperature');
    const p = body.predictions!;
    assert.equal(p.round, 7);
    assert.equal(p.rows, 2);
    assert.equal(p.classes, C);
    assert.equal(p.k, 0);
    assert.equal(p.encoding, 3);
    assert.deepEqual(p.metrics, toLocalMetrics(METRICS));
    const decoded = validatePredictionUpload(p, { rows: 2, classes: C, allowedEncodings: ['uint8'] });
    assert.ok(decoded.ok);
    for (const [i, v] of decoded.value.entries()) {
      assert.ok(Math.abs(v - PROBS[i]!) <= maxAbsError('uint8', C), `value ${i}`);
    }
  });

  test('mutual: topk keeps the federation k, clamped to [1, C]', async () => {
    for (const [topk, k] of [
      [2, 2],
      [9, 3],
      [0, 3],
    ] as const) {
      const body = await mutualUpload.build(input(welcome({ encodings: [4], topk })));
      const p = body.predictions!;
      assert.equal(p.k, k, `topk ${topk}`);
      const decoded = decodePredictions(p.payload!, 2, C, 'topk', { k });
      // Each row keeps its k largest probabilities (renormalised): the top class stays on top.
      assert.equal(decoded.length, 2 * C);
      assert.equal(decoded.indexOf(Math.max(...decoded.subarray(0, C))), 0);
      assert.equal(decoded.subarray(C).indexOf(Math.max(...decoded.subarray(C))), 1);
    }
  });

  test('mutual: a learner that predicts the wrong number of values is refused', async () => {
    const l = learner({ predict: async () => new Float32Array(5) });
    await assert.rejects(
      mutualUpload.build(input(welcome({}), l)),
      /predict returned 5 values for 2 samples x 3 classes/,
    );
  });

  test('fedavg: all weights, the averaging weight and the model signature', async () => {
    const w = welcome({ strategy: 2, publicSet: null, encodings: [1] });
    const body = await fedavgUpload.build(input(w));
    const u = body.weights!;
    assert.equal(u.round, 7);
    assert.equal(u.count, 4);
    assert.equal(u.numSamples, 40);
    assert.equal(u.modelSignature, 'sig-9');
    assert.equal(u.encoding, 1);
    const decoded = validateWeightsUpload(u, { count: 4, signature: 'sig-9' });
    assert.ok(decoded.ok);
    assert.deepEqual([...decoded.value], [0.5, -1.5, 2.25, 3]);
  });

  test('fedavg: float16 when the coordinator asks for it; samples from the metrics without numSamples', async () => {
    const w = welcome({ strategy: 2, publicSet: null, encodings: [2], uploadEncoding: 2 });
    assert.equal(w.weightEncoding, 'float16');
    const body = await fedavgUpload.build(input(w, learner({ numSamples: undefined })));
    const u = body.weights!;
    assert.equal(u.encoding, 2);
    assert.equal(u.payload!.byteLength, 4 * 2);
    assert.equal(u.numSamples, 12.4);
    const decoded = validateWeightsUpload(u, { count: 4, signature: 'sig-9' });
    assert.ok(decoded.ok);
    assert.deepEqual([...decoded.value], [0.5, -1.5, 2.25, 3], 'these values are exact in float16');
  });

  test('toLocalMetrics rounds counts and marks a test accuracy as present', () => {
    assert.deepEqual(toLocalMetrics(METRICS), {
      trainLoss: 0.4,
      trainAccuracy: 0.9,
      valAccuracy: 0,
      distillLoss: 0,
      samples: 12,
      trainMs: 31,
      testAccuracy: 0,
      hasTestAccuracy: false,
    });
    const m = toLocalMetrics({ ...METRICS, testAccuracy: 0.5, samples: -2 });
    assert.equal(m.hasTestAccuracy, true);
    assert.equal(m.testAccuracy, 0.5);
    assert.equal(m.samples, 0);
  });
});
