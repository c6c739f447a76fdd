/** The demo shard's wire form: the coordinator's encoder and the browser's decoder agree. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMnist } from '@mutua/core/data-node';
import { buildDemoShard, demoSourceOf } from '../../server/src/demo-shard.ts';
import { DemoShardError, decodeDemoShard } from '../src/shared/demo-shard.ts';

test('a shard decodes to the MNIST samples it was built from, outside the public range', async () => {
  const source = demoSourceOf('mnist:train[100:60000]');
  assert.deepEqual(source, { dataset: 'mnist', exclude: { offset: 100, end: 60000 } });
  const shard = await buildDemoShard(source!, 50, 7);
  const ds = decodeDemoShard(shard.bytes);
  assert.equal(ds.n, 50);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.numClasses, 10);
  // Only train[0:100] is outside the public range: every sample must be one of those.
  const train = await loadMnist({ split: 'train', limit: 100 });
  const size = 784;
  for (let k = 0; k < ds.n; k++) {
    const row = ds.x.subarray(k * size, (k + 1) * size);
    let found = -1;
    for (let i = 0; i < 100 && found < 0; i++) {
      const ref = train.x.subarray(i * size, (i + 1) * size);
      if (ref.every((v, p) => Math.abs(v - row[p]!) < 1 / 255)) found = i;
    }
    assert.ok(found >= 0, `sample ${k} is not from train[0:100]`);
    assert.equal(ds.y[k], train.y[found]);
  }
  // Same seed, same shard; another seed, another one.
  assert.deepEqual((await buildDemoShard(source!, 50, 7)).bytes, shard.bytes);
  assert.notDeepEqual((await buildDemoShard(source!, 50, 8)).bytes, shard.bytes);
});

test('uploads have no demo data; malformed bytes are refused', () => {
  assert.equal(demoSourceOf('upload:my.csv'), null);
  assert.deepEqual(demoSourceOf('fashion-mnist:test[0:500]'), { dataset: 'fashion-mnist', exclude: null });
  assert.throws(() => decodeDemoShard(new Uint8Array(8)), DemoShardError);
  assert.throws(() => decodeDemoShard(new Uint8Array(40)), /wrong magic/);
});
