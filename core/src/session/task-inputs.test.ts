import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodePredictions, encodeWeights } from '@mutua/proto';
import { SessionError } from './session-error.ts';
import { type InputExpectation, TaskInputs } from './task-inputs.ts';
import type { FederationInfo } from './welcome.ts';

const C = 3;

function federation(overrides: Partial<FederationInfo> = {}): FederationInfo {
  return {
    id: 'fed-1',
    name: 'test',
    strategy: 'mutual',
    mode: 'sync',
    temperature: 2,
    lambda: 0.5,
    aggregation: 'mean',
    batchSize: 4,
    encodings: ['float32'],
    topk: 2,
    localEpochs: 3,
    distillEpochs: 0,
    modelArch: '',
    seed: 1,
    inputShape: [4],
    numClasses: C,
    labelNames: [],
    ...overrides,
  };
}

const mutual: InputExpectation = { federation: federation(), sampleCount: 10, encodings: ['float32'] };

function targets(version: number) {
  const probs = new Float32Array([0.5, 0.25, 0.25]);
  return {
    version,
    indices: [version],
    encoding: 1,
    rows: 1,
    classes: C,
    payload: encodePredictions(probs, 1, C, 'float32'),
    contributors: 2,
  };
}

describe('TaskInputs', () => {
  test('a valid Task becomes a task in hand; local epochs: the client, else the Task, else the federation', () => {
    const inputs = new TaskInputs();
    const t = inputs.acceptTask({ round: 4, mode: 2, predictIndices: [1, 2], deadlineUnixMs: 99 }, mutual);
    assert.ok(!(t instanceof SessionError));
    assert.equal(t.round, 4);
    assert.equal(t.mode, 'async');
    assert.deepEqual([...t.predictIndices], [1, 2]);
    assert.equal(t.localEpochs, 3);
    assert.equal(t.deadlineUnixMs, 99);
    const t2 = inputs.acceptTask({ round: 5, predictIndices: [1], localEpochs: 2 }, mutual);
    assert.ok(!(t2 instanceof SessionError));
    assert.equal(t2.mode, 'sync', 'the federation mode when the Task does not say');
    assert.equal(t2.localEpochs, 2);
    const t3 = inputs.acceptTask(
      { round: 6, predictIndices: [1], localEpochs: 2 },
      { ...mutual, localEpochs: 7 },
    );
    assert.ok(!(t3 instanceof SessionError));
    assert.equal(t3.localEpochs, 7);
  });

  test('an invalid Task is a non-fatal coded error naming its round', () => {
    const err = new TaskInputs().acceptTask({ round: 3, predictIndices: [10] }, mutual);
    assert.ok(err instanceof SessionError);
    assert.equal(err.code, 'BAD_SHAPE');
    assert.equal(err.fatal, false);
    assert.equal(err.round, 3);
  });

  test('targets are kept across tasks; older versions do not replace newer ones', () => {
    const inputs = new TaskInputs();
    assert.equal(inputs.acceptTargets(targets(2), mutual), null);
    assert.equal(inputs.targets?.version, 2);
    inputs.acceptTask({ round: 3, predictIndices: [1], targets: targets(1) }, mutual);
    assert.equal(inputs.targets?.version, 2);
    inputs.acceptTask({ round: 4, predictIndices: [1], targets: targets(3) }, mutual);
    assert.equal(inputs.targets?.version, 3);
    assert.deepEqual([...inputs.targets!.indices], [3]);
    const bad = inputs.acceptTargets({ ...targets(9), classes: 4 }, mutual);
    assert.ok(bad instanceof SessionError);
    assert.equal(inputs.targets?.version, 3);
    inputs.reset();
    assert.equal(inputs.targets, null);
  });

  test('fedavg: global weights are kept until loaded, replaced only by newer ones', () => {
    const fedavg: InputExpectation = {
      federation: federation({ strategy: 'fedavg' }),
      sampleCount: undefined,
      encodings: ['float32'],
      weights: { count: 2, signature: 'sig' },
    };
    const gw = (round: number, values: number[], modelSignature = 'sig') => ({
      round,
      encoding: 1,
      count: values.length,
      payload: encodeWeights(Float32Array.from(values), 'float32'),
      modelSignature,
    });
    const inputs = new TaskInputs();
    assert.ok(
      !(inputs.acceptTask({ round: 2, globalWeights: gw(1, [1, 2]) }, fedavg) instanceof SessionError),
    );
    inputs.acceptTask({ round: 3, globalWeights: gw(0, [9, 9]) }, fedavg);
    const kept = inputs.globalWeights!;
    assert.deepEqual([...kept.values], [1, 2]);
    inputs.acceptTask({ round: 4, globalWeights: gw(2, [3, 4]) }, fedavg);
    inputs.loaded(kept);
    assert.deepEqual([...inputs.globalWeights!.values], [3, 4], 'newer weights came while the old loaded');
    inputs.loaded(inputs.globalWeights!);
    assert.equal(inputs.globalWeights, null);
    const wrongCount = inputs.acceptTask({ round: 5, globalWeights: gw(3, [1, 2, 3]) }, fedavg);
    assert.ok(wrongCount instanceof SessionError);
    const otherModel = inputs.acceptTask({ round: 5, globalWeights: gw(3, [1, 2], 'other') }, fedavg);
    assert.ok(otherModel instanceof SessionError);
    // A coordinator that states no signature: only the count is checked.
    assert.ok(
      !(inputs.acceptTask({ round: 5, globalWeights: gw(3, [1, 2], '') }, fedavg) instanceof SessionError),
    );
  });
});
