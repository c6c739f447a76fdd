import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { useCpuBackend } from '@mutua/core/backend';
import { createModel } from '@mutua/core/models';
import * as tf from '@tensorflow/tfjs';
import { CheckpointStore } from '../src/checkpoints.ts';
import { fileSystemHandler, loadModelDir, snapshotArtifacts } from '../src/model-files.ts';

before(async () => {
  await useCpuBackend();
});

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mutua-model-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('model.save through fileSystemHandler writes the TF.js layers format that tf.loadLayersModel reads back', async (t) => {
  const dir = tempDir(t);
  const model = createModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 4 });
  await model.save(fileSystemHandler(dir));
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.equal(json.modelTopology.class_name, 'Sequential');
  assert.equal(json.weightsManifest.length, 1);
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  assert.equal(json.weightsManifest[0].weights.length, model.weights.length);

  const loaded = await tf.loadLayersModel(fileSystemHandler(dir));
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 1);
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  assert.deepEqual(await b.array(), await a.array());
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});

test('a snapshot keeps the weights of the moment it was taken, and carries metadata', async (t) => {
  const dir = tempDir(t);
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  const before = model.getWeights().map((w) => w.dataSync().slice());
  const numTensors = tf.memory().numTensors;
  const pending = snapshotArtifacts(model, { round: 7 });
  // Training goes on right away: the snapshot must not see it.
  for (const w of model.weights) {
    const ones = tf.onesLike(w.read());
    w.write(ones);
    ones.dispose();
  }
  await fileSystemHandler(dir).save(await pending);
  assert.equal(tf.memory().numTensors, numTensors, 'no tensor leaked');
  const loaded = await loadModelDir(dir);
  const saved = loaded.getWeights().map((w) => w.dataSync());
  assert.deepEqual(saved, before);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.userDefinedMetadata, { mutua: { round: 7 } });
  model.dispose();
  loaded.dispose();
});

test('CheckpointStore saves in order, swaps the model directory, and reads back', async (t) => {
  const dir = tempDir(t);
  const store = new CheckpointStore(join(dir, 'ck'));
  assert.equal(await store.readState(), null);
  assert.equal(await store.loadModel(), null);
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  const state = { arch: 'mlp', inputShape: [4], numClasses: 3, round: 1, roundsDone: 1 };
  void store.save(model, state);
  void store.save(model, { ...state, round: 2, roundsDone: 2 });
  await store.flush();
  const read = await store.readState();
  assert.equal(read!.round, 2);
  const loaded = await store.loadModel();
  assert.ok(loaded);
  assert.deepEqual(
    loaded.getWeights().map((w) => w.shape),
    model.getWeights().map((w) => w.shape),
  );
  model.dispose();
  loaded.dispose();
});
