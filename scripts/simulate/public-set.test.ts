import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Dataset } from '@mutua/core/data';
import { decodePublicSet } from '@mutua/proto';
import { loadBuiltinSplit } from '../../client-node/src/data-source.ts';
import { parseOptions, type SimulateOptions } from './options.ts';
import { buildSplit, encodeSamples } from './public-set.ts';

describe('simulation public set', () => {
  it('pixels k/255 are stored as uint8, anything else as float32, and decode to the same values', () => {
    const pixels: Dataset = {
      x: Float32Array.from([0, 1 / 255, 128 / 255, 1]),
      y: new Int32Array(2),
      n: 2,
      shape: [2],
      numClasses: 2,
    };
    const a = decodePublicSet(encodeSamples(pixels));
    assert.equal(a.dtype, 'uint8');
    assert.deepEqual(
      Array.from(a.x, (v) => Math.round(v * 255)),
      [0, 1, 128, 255],
    );
    const other: Dataset = { ...pixels, x: Float32Array.from([0.1234, -1, 2, 0]) };
    const b = decodePublicSet(encodeSamples(other));
    assert.equal(b.dtype, 'float32');
    assert.deepEqual(Array.from(b.x), Array.from(other.x));
  });

  it('is exactly the public samples of the split the participants make', async () => {
    const o = parseOptions([
      '--clients',
      '3',
      '--limit',
      '100',
      '--public-size',
      '40',
      '--test-size',
      '30',
      '--seed',
      '5',
    ]) as SimulateOptions;
    const split = await buildSplit(o);
    const reference = await loadBuiltinSplit(
      'mnist',
      { count: 3, alpha: 0.5, seed: 5, publicSize: 40, testSize: 30 },
      { limit: 370 },
    );
    const decoded = decodePublicSet(split.publicSet);
    assert.equal(decoded.sampleCount, 40);
    assert.deepEqual(decoded.shape, [28, 28, 1]);
    assert.equal(split.publicSha256, createHash('sha256').update(split.publicSet).digest('hex'));
    for (let i = 0; i < reference.public.x.length; i++) {
      if (Math.abs(decoded.x[i]! - reference.public.x[i]!) > 1e-6) assert.fail(`value ${i} differs`);
    }
    assert.equal(split.testCount, 30);
    assert.deepEqual(
      split.clientSizes,
      reference.clients.map((c) => c.n),
    );
    assert.equal(
      split.clientSizes.reduce((a, b) => a + b, 0),
      300,
    );
    assert.deepEqual(
      split.clientLabels.map((h) => h.reduce((a, b) => a + b, 0)),
      split.clientSizes,
    );
  });
});
