import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { type BackendPreference, isBackendName, isBackendPreference, useCpuBackend } from './backend.ts';
import { selectBackend } from './backend-node.ts';

describe('selectBackend (Node)', () => {
  it('falls back to wasm here, since tfjs-node is not installed, and says why', async () => {
    const choice = await selectBackend();
    assert.equal(choice.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(choice.reason, /tfjs-node unavailable/);
    assert.match(choice.reason, /WebAssembly/);
    assert.equal(choice.threads, 1); // tfjs wasm runs single-threaded under Node
    assert.equal(typeof choice.simd, 'boolean');
  });

  it('registers the gradients wasm lacks', async () => {
    await selectBackend('wasm');
    for (const k of [
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ]) {
      assert.ok(tf.getKernel(k, 'wasm'), `${k} registered`);
    }
  });

  it('is idempotent and restores its choice if another backend was set meanwhile', async () => {
    const first = await selectBackend('wasm');
    await useCpuBackend();
    const again = await selectBackend('wasm');
    assert.deepEqual(again, first);
    assert.equal(tf.getBackend(), 'wasm');
  });

  it('an explicit tensorflow request falls back to wasm with the reason', async () => {
    const choice = await selectBackend('tensorflow');
    assert.equal(choice.name, 'wasm');
    assert.match(choice.reason, /^tensorflow requested; tfjs-node unavailable/);
  });

  it('honours cpu when asked', async () => {
    const choice = await selectBackend('cpu');
    assert.deepEqual(choice, { name: 'cpu', reason: 'cpu was requested' });
    assert.equal(tf.getBackend(), 'cpu');
    await selectBackend('wasm');
  });

  it('rejects an unknown preference with a coded error', async () => {
    await assert.rejects(selectBackend('webgpu' as BackendPreference), { code: 'ERR_BACKEND_UNKNOWN' });
  });

  it('knows the names', () => {
    assert.ok(isBackendName('webgl'));
    assert.ok(!isBackendName('auto'));
    assert.ok(isBackendPreference('auto'));
    assert.ok(!isBackendPreference('webgl'));
  });
});
