import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useCpuBackend } from './backend.ts';
import {
  countParams,
  createModel,
  describeModel,
  MODEL_ARCHS,
  type ModelArch,
  ModelConfigError,
} from './models.ts';

before(async () => {
  await useCpuBackend();
});

function outputShape(model: tf.LayersModel, input: number[]): number[] {
  return tf.tidy(() => (model.predict(tf.zeros(input)) as tf.Tensor).shape);
}

describe('createModel', () => {
  test('MODEL_ARCHS lists every architecture', () => {
    assert.deepEqual([...MODEL_ARCHS], ['mlp', 'cnn-small', 'cnn-fedavg', 'mlp-tiny', 'cnn-tiny']);
  });

  for (const arch of MODEL_ARCHS) {
    test(`${arch}: [b, 28, 28, 1] -> [b, 10] logits`, () => {
      const model = createModel(arch, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
      assert.deepEqual(model.inputs[0]!.shape, [null, 28, 28, 1]);
      assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
      assert.deepEqual(outputShape(model, [3, 28, 28, 1]), [3, 10]);
      // Logits, not probabilities: the last layer has no softmax.
      const last = model.layers[model.layers.length - 1]!;
      assert.equal(last.getConfig().activation, 'linear');
      model.dispose();
    });
  }

  test('parameter counts match the architectures', () => {
    const counts: Record<ModelArch, number> = {
      // 784·200+200, 200·200+200, 200·10+10
      mlp: 784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10,
      // conv 3·3·1·16+16; 28->26->13; conv 3·3·16·32+32; 13->11->5; 5·5·32=800 -> 64 -> 10
      'cnn-small': 9 * 16 + 16 + 9 * 16 * 32 + 32 + 800 * 64 + 64 + 64 * 10 + 10,
      // conv 25·32+32, conv 25·32·64+64, 7·7·64=3136 -> 512 -> 10
      'cnn-fedavg': 25 * 32 + 32 + 25 * 32 * 64 + 64 + 3136 * 512 + 512 + 512 * 10 + 10,
      // 784·24+24, 24·10+10
      'mlp-tiny': 784 * 24 + 24 + 24 * 10 + 10,
      // conv 9·16+16; 28->14; separable 9·16 + 16·32 + 32; 14->7; 9·32 + 32·64 + 64; 7->3;
      // 3·3·64 = 576 -> 10
      'cnn-tiny': 9 * 16 + 16 + (9 * 16 + 16 * 32 + 32) + (9 * 32 + 32 * 64 + 64) + 576 * 10 + 10,
    };
    for (const arch of MODEL_ARCHS) {
      const model = createModel(arch, { inputShape: [28, 28, 1], numClasses: 10 });
      assert.equal(countParams(model), counts[arch], arch);
      model.dispose();
    }
  });

  test('the tiny models have at most 20,000 parameters on MNIST', () => {
    for (const arch of ['mlp-tiny', 'cnn-tiny'] as const) {
      const model = createModel(arch, { inputShape: [28, 28, 1], numClasses: 10 });
      assert.ok(countParams(model) <= 20_000, `${arch}: ${countParams(model)}`);
      model.dispose();
    }
  });

  test('mlp accepts flat and image inputs; cnns accept other image sizes and channels', () => {
    const flat = createModel('mlp', { inputShape: [20], numClasses: 3 });
    assert.deepEqual(outputShape(flat, [2, 20]), [2, 3]);
    const rgb = createModel('cnn-small', { inputShape: [32, 32, 3], numClasses: 100 });
    assert.deepEqual(outputShape(rgb, [2, 32, 32, 3]), [2, 100]);
    const tiny = createModel('cnn-small', { inputShape: [10, 12, 1], numClasses: 2 });
    assert.deepEqual(outputShape(tiny, [1, 10, 12, 1]), [1, 2]);
    const fedavg = createModel('cnn-fedavg', { inputShape: [4, 4, 2], numClasses: 2 });
    assert.deepEqual(outputShape(fedavg, [1, 4, 4, 2]), [1, 2]);
    for (const m of [flat, rgb, tiny, fedavg]) m.dispose();
  });

  test('a seed makes the weights reproducible; different seeds and layers differ', () => {
    const weights = (seed?: number) => {
      const m = createModel('cnn-small', { inputShape: [12, 12, 1], numClasses: 3, seed });
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    const a = weights(7);
    assert.deepEqual(weights(7), a);
    assert.notDeepEqual(weights(8), a);
    assert.notDeepEqual(weights(), weights());
    // Kernels of the two dense layers have their own seeds (not the same stream prefix).
    assert.notDeepEqual(a[4]!.slice(0, 10), a[6]!.slice(0, 10));
    // Biases start at zero.
    assert.ok(a[1]!.every((v) => v === 0));
  });

  test('describeModel gives plain data and a one-line summary', () => {
    const m = createModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    const d = describeModel(m);
    assert.equal(d.name, 'cnn-small');
    assert.deepEqual(d.inputShape, [28, 28, 1]);
    assert.equal(d.numClasses, 10);
    assert.equal(d.params, countParams(m));
    assert.deepEqual(
      d.layers.map((l) => l.className),
      ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense'],
    );
    assert.deepEqual(d.layers[3]!.outputShape, [5, 5, 32]);
    assert.equal(
      d.layers.reduce((s, l) => s + l.params, 0),
      d.params,
    );
    assert.match(d.summary, /^cnn-small \[28,28,1\] -> 10 logits, 7 layers, [\d,]+ params$/);
    assert.doesNotThrow(() => JSON.stringify(d));
    m.dispose();
  });

  describe('rejects bad arguments with a coded error', () => {
    const cases: [string, () => unknown, string, RegExp][] = [
      [
        'unknown arch',
        () => createModel('resnet' as ModelArch, { inputShape: [28, 28, 1], numClasses: 10 }),
        'ERR_MODEL_UNKNOWN_ARCH',
        /unknown model architecture "resnet"; expected one of mlp, cnn-small, cnn-fedavg/,
      ],
      [
        'missing options',
        () => createModel('mlp', undefined as never),
        'ERR_MODEL_BAD_INPUT_SHAPE',
        /options/,
      ],
      [
        'empty input shape',
        () => createModel('mlp', { inputShape: [], numClasses: 10 }),
        'ERR_MODEL_BAD_INPUT_SHAPE',
        /non-empty/,
      ],
      [
        'batch axis included',
        () => createModel('mlp', { inputShape: [null as never, 784], numClasses: 10 }),
        'ERR_MODEL_BAD_INPUT_SHAPE',
        /leave the batch axis out/,
      ],
      [
        'fractional dimension',
        () => createModel('mlp', { inputShape: [28.5, 28], numClasses: 10 }),
        'ERR_MODEL_BAD_INPUT_SHAPE',
        /positive integers/,
      ],
      [
        'zero dimension',
        () => createModel('mlp', { inputShape: [0], numClasses: 10 }),
        'ERR_MODEL_BAD_INPUT_SHAPE',
        /positive integers/,
      ],
      [
        'one class',
        () => createModel('mlp', { inputShape: [4], numClasses: 1 }),
        'ERR_MODEL_BAD_NUM_CLASSES',
        /numClasses must be an integer >= 2, got 1/,
      ],
      [
        'fractional classes',
        () => createModel('mlp', { inputShape: [4], numClasses: 2.5 }),
        'ERR_MODEL_BAD_NUM_CLASSES',
        /got 2.5/,
      ],
      [
        'conv on flat input',
        () => createModel('cnn-small', { inputShape: [784], numClasses: 10 }),
        'ERR_MODEL_NOT_IMAGE_INPUT',
        /cnn-small needs an image input \[height, width, channels\], got \[784\]/,
      ],
      [
        'conv on 2-d input',
        () => createModel('cnn-fedavg', { inputShape: [28, 28], numClasses: 10 }),
        'ERR_MODEL_NOT_IMAGE_INPUT',
        /cnn-fedavg needs an image input/,
      ],
      [
        'image too small',
        () => createModel('cnn-small', { inputShape: [9, 28, 1], numClasses: 10 }),
        'ERR_MODEL_BAD_INPUT_SHAPE',
        /9x28 is too small/,
      ],
      [
        'bad seed',
        () => createModel('mlp', { inputShape: [4], numClasses: 2, seed: Number.NaN }),
        'ERR_MODEL_BAD_SEED',
        /seed/,
      ],
    ];
    for (const [name, fn, code, message] of cases) {
      test(name, () => {
        assert.throws(fn, (err: unknown) => {
          assert.ok(err instanceof ModelConfigError);
          assert.equal(err.code, code);
          assert.match(err.message, message);
          return true;
        });
      });
    }
  });
});
