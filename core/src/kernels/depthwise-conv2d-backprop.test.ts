import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
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
  multiplier: number;
  stride: number;
  pad: Padding;
};

const cases: Case[] = [];
for (const pad of ['valid', 'same'] as const) {
  for (const stride of [1, 2]) {
    cases.push({ x: [2, 8, 8, 3], filter: [3, 3], multiplier: 1, stride, pad });
    cases.push({ x: [3, 7, 9, 2], filter: [3, 2], multiplier: 3, stride, pad }); // odd, non-square
    cases.push({ x: [1, 6, 5, 1], filter: [4, 4], multiplier: 2, stride, pad }); // uneven 'same' pads
    cases.push({ x: [2, 11, 11, 4], filter: [5, 5], multiplier: 1, stride, pad });
  }
}

function dyShape(c: Case): number[] {
  const [n, h, w, ch] = c.x;
  const [fh, fw] = c.filter;
  const out = (size: number, f: number) =>
    c.pad === 'same' ? Math.ceil(size / c.stride) : Math.ceil((size - f + 1) / c.stride);
  return [n, out(h, fh), out(w, fw), ch * c.multiplier];
}

const filterShape = (c: Case) => [...c.filter, c.x[3], c.multiplier] as [number, number, number, number];

function backpropFilter(c: Case) {
  return (x: tf.Tensor, dy: tf.Tensor) =>
    runKernel(
      'DepthwiseConv2dNativeBackpropFilter',
      { x, dy },
      { strides: [c.stride, c.stride], dilations: [1, 1], pad: c.pad, filterShape: filterShape(c) },
    );
}

function backpropInput(c: Case) {
  return (dy: tf.Tensor, filter: tf.Tensor) =>
    runKernel(
      'DepthwiseConv2dNativeBackpropInput',
      { dy, filter },
      { strides: [c.stride, c.stride], dilations: [1, 1], pad: c.pad, inputShape: c.x },
    );
}

describe('DepthwiseConv2dNativeBackpropFilter on wasm', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: x ${c.x} filter ${c.filter}x${c.multiplier} stride ${c.stride} ${c.pad}`, async () => {
      await assertMatchesCpu(
        'dW',
        [randomInput(c.x, 10 + i), randomInput(dyShape(c), 100 + i)],
        backpropFilter(c),
      );
    });
  }

  it('leaks no tensors or buffers', async () => {
    const c = cases[5]!;
    await assertNoLeak([randomInput(c.x, 1), randomInput(dyShape(c), 2)], backpropFilter(c));
  });

  it('rejects dilations other than 1 with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 7, 7, 2]);
    const dy = tf.zeros([1, 3, 3, 2]);
    assert.throws(
      () =>
        runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { strides: 1, dilations: 2, pad: 'valid', filterShape: [3, 3, 2, 1] },
        ),
      /dilations must be 1/,
    );
    tf.dispose([x, dy]);
  });
});

describe('DepthwiseConv2dNativeBackpropInput on wasm', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: x ${c.x} filter ${c.filter}x${c.multiplier} stride ${c.stride} ${c.pad}`, async () => {
      await assertMatchesCpu(
        'dx',
        [randomInput(dyShape(c), 10 + i), randomInput(filterShape(c), 100 + i)],
        backpropInput(c),
      );
    });
  }

  it('both are what tf.grads of depthwiseConv2d uses, and match cpu', async () => {
    const x = randomInput([2, 9, 9, 3], 1);
    const w = randomInput([3, 3, 3, 2], 2);
    const loss = (xi: tf.Tensor, wi: tf.Tensor) =>
      tf
        .depthwiseConv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 2, 'same')
        .square()
        .sum();
    await assertMatchesCpu('dx', [x, w], (xt, wt) => tf.grads(loss)([xt!, wt!])[0]!);
    await assertMatchesCpu('dW', [x, w], (xt, wt) => tf.grads(loss)([xt!, wt!])[1]!);
  });

  it('leaks no tensors or buffers', async () => {
    const c = cases[5]!;
    await assertNoLeak([randomInput(dyShape(c), 1), randomInput(filterShape(c), 2)], backpropInput(c));
  });
});
