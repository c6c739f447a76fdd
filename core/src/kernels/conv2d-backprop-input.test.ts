import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import {
  assertMatchesCpu,
  assertNoLeak,
  initBackends,
  type Padding,
  randomInput,
  runKernel,
} from './test-helpers.ts';
import { stockKernel } from './wasm-ops.ts';

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
  }
}

function dyShape(c: Case): number[] {
  const [n, h, w] = c.x;
  const [fh, fw] = c.filter;
  const out = (size: number, f: number) =>
    c.pad === 'same' ? Math.ceil(size / c.stride) : Math.ceil((size - f + 1) / c.stride);
  return [n, out(h, fh), out(w, fw), c.outC];
}

function backpropInput(c: Case) {
  return (dy: tf.Tensor, filter: tf.Tensor) =>
    runKernel(
      'Conv2DBackpropInput',
      { dy, filter },
      { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
    );
}

function inputsOf(c: Case, seed: number) {
  return [randomInput(dyShape(c), seed), randomInput([...c.filter, c.x[3], c.outC], seed + 1)];
}

describe('Conv2DBackpropInput on wasm, as registered', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: x ${c.x} filter ${c.filter}x${c.outC} stride ${c.stride} ${c.pad}`, async () => {
      await assertMatchesCpu('dx', inputsOf(c, 10 * i), backpropInput(c));
    });
  }

  it('leaves NCHW to the stock kernel, which matches cpu', async () => {
    await assertMatchesCpu('dx', [randomInput([2, 4, 6, 6], 1), randomInput([3, 3, 3, 4], 2)], (dy, filter) =>
      runKernel(
        'Conv2DBackpropInput',
        { dy: dy!, filter: filter! },
        { strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [2, 3, 8, 8] },
      ),
    );
  });

  it('is what tf.grad of conv2d uses, and matches cpu', async () => {
    const x = randomInput([2, 9, 9, 3], 1);
    const w = randomInput([3, 3, 3, 4], 2);
    await assertMatchesCpu('grad', [x, w], (xt, wt) =>
      tf.grad((xi: tf.Tensor) =>
        tf
          .conv2d(xi as tf.Tensor4D, wt as tf.Tensor4D, 1, 'same')
          .square()
          .sum(),
      )(xt!),
    );
  });
});

// The registration may keep the stock kernel for some shapes; the composition must be
// right for all of them anyway, so force it here.
describe('Conv2DBackpropInput composition, forced for every shape', () => {
  before(async () => {
    await initBackends();
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(conv2dBackpropInputConfig(stockKernel('Conv2DBackpropInput'), () => true));
  });
  after(() => {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(stockKernel('Conv2DBackpropInput'));
  });

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: x ${c.x} filter ${c.filter}x${c.outC} stride ${c.stride} ${c.pad}`, async () => {
      await assertMatchesCpu('dx', inputsOf(c, 10 * i), backpropInput(c));
    });
  }

  it('matches cpu with explicit paddings larger than the filter', async () => {
    const c: Case = { x: [2, 6, 7, 2], filter: [2, 3], outC: 3, stride: 1, pad: 'valid' };
    const pad = [
      [0, 0],
      [3, 1],
      [0, 4],
      [0, 0],
    ];
    const dy = randomInput([2, 6 + 4 - 2 + 1, 7 + 4 - 3 + 1, 3], 5);
    await assertMatchesCpu('dx', [dy, randomInput([2, 3, 2, 3], 6)], (d, f) =>
      runKernel(
        'Conv2DBackpropInput',
        { dy: d, filter: f },
        { strides: 1, pad, dataFormat: 'NHWC', inputShape: c.x },
      ),
    );
  });

  it('leaks no tensors or buffers, strided or not', async () => {
    for (const c of [cases[1]!, cases[3]!, cases[5]!]) await assertNoLeak(inputsOf(c, 1), backpropInput(c));
  });
});
