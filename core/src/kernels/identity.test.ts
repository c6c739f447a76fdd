import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackends } from './test-helpers.ts';

describe('Identity on wasm', () => {
  before(initBackends);

  it('shares the buffer instead of copying, and the clone outlives its source', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const buffers = tf.backend().numDataIds();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    assert.equal(tf.backend().numDataIds(), buffers + 1);
    x.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3, 4]);
    y.dispose();
    assert.equal(tf.backend().numDataIds(), buffers);
  });

  it('a variable cloned before assign() keeps the old value', async () => {
    const v = tf.tidy(() => tf.variable(tf.tensor([1, 2, 3])));
    const snapshot = tf.clone(v);
    tf.tidy(() => v.assign(tf.tensor([7, 8, 9])));
    assert.deepEqual(Array.from(await snapshot.data()), [1, 2, 3]);
    assert.deepEqual(Array.from(await v.data()), [7, 8, 9]);
    tf.dispose([v, snapshot]);
  });

  it('keeps string tensors working', async () => {
    const s = tf.tensor(['a', 'b']);
    const t = tf.clone(s);
    s.dispose();
    assert.deepEqual(await t.data(), ['a', 'b']);
    t.dispose();
  });
});
