import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig, conv2dBackpropFilterConfigFor } from './conv2d-backprop-filter.ts';
import {
  assertMatchesCpu,
  assertNoLeak,
  initBackends,
  type Padding,
  randomInput,
  runKernel,
} from './test-helpers.ts';

type Case = {
  x: [number, number, number, number];
  filter: [number, number];
  outC: number;
  stride: number;
  pad: Padding;
};

const cases: Case[] = [];
for (const pad of ['valid', 'same'] as const) {
  for (const stride of [1, 2]) {
    cases.push({ x: [2, 8, 8, 3], filter: [3, 3], outC: 4, stride, pad });
    cases.push({ x: [3, 7, 9, 2], filter: [3, 2], outC: 5, stride, pad }); // odd, non-square
    cases.push({ x: [1, 6, 5, 1], filter: [4, 4], outC: 2, stride, pad }); // even filter: uneven 'same' pads
    cases.push({ x: [2, 11, 11, 4], filter: [5, 5], outC: 3, stride, pad });
    cases.push({ x: [3, 10, 9, 17], filter: [3, 3], outC: 6, stride, pad }); // many channels
  }
}

function dyShape(c: Case): number[] {
  const [n, h, w] = c.x;
  const [fh, fw] = c.filter;
  const out = (size: number, f: number) =>
    c.pad === 'same' ? Math.ceil(size / c.stride) : Math.ceil((size - f + 1) / c.stride);
  return [n, out(h, fh), out(w, fw), c.outC];
}

function backpropFilter(c: Case) {
  return (x: tf.Tensor, dy: tf.Tensor) =>
    runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      {
        strides: [c.stride, c.stride],
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: [...c.filter, c.x[3], c.outC],
      },
    );
}

const inputsOf = (c: Case, seed: number) => [randomInput(c.x, seed), randomInput(dyShape(c), seed + 1)];

// 'auto' picks one formulation per shape; each must be right for every shape.
for (const strategy of ['im2col', 'convolution', 'depthwise'] as const) {
  describe(`Conv2DBackpropFilter on wasm via ${strategy}, forced`, () => {
    before(async () => {
      await initBackends();
      tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
      tf.registerKernel(conv2dBackpropFilterConfigFor(strategy));
    });
    after(() => {
      tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
      tf.registerKernel(conv2dBackpropFilterConfig);
    });

    for (const [i, c] of cases.entries()) {
      it(`matches cpu: x ${c.x} filter ${c.filter}x${c.outC} stride ${c.stride} ${c.pad}`, async () => {
        await assertMatchesCpu('dW', inputsOf(c, 10 * i), backpropFilter(c));
      });
    }

    it('leaks no tensors or buffers', async () => {
      for (const c of [cases[1]!, cases[6]!]) await assertNoLeak(inputsOf(c, 1), backpropFilter(c));
    });
  });
}

describe('Conv2DBackpropFilter on wasm, as registered', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: x ${c.x} filter ${c.filter}x${c.outC} stride ${c.stride} ${c.pad}`, async () => {
      await assertMatchesCpu('dW', inputsOf(c, 10 * i), backpropFilter(c));
    });
  }

  it('is what tf.grad of conv2d uses, and matches cpu', async () => {
    const x = randomInput([2, 9, 9, 3], 1);
    const w = randomInput([3, 3, 3, 4], 2);
    await assertMatchesCpu('grad', [x, w], (xt, wt) =>
      tf.grad((f: tf.Tensor) =>
        tf
          .conv2d(xt as tf.Tensor4D, f as tf.Tensor4D, 2, 'same')
          .square()
          .sum(),
      )(wt!),
    );
  });

  it('rejects NCHW with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 2, 3, 3]);
    assert.throws(
      () =>
        runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] },
        ),
      /only dataFormat 'NHWC'/,
    );
    tf.dispose([x, dy]);
  });
});
