import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataset } from '@mutua/core/data-node';
import { CliError } from '../src/cli-error.ts';
import {
  builtinSource,
  holdOut,
  loadBuiltinSplit,
  loadPrivateData,
  parseDataSpec,
  shardOf,
  withNumClasses,
} from '../src/data-source.ts';

const shard = { count: 4, alpha: 0.5, seed: 11, publicSize: 150, testSize: 250 };

function same(a: Dataset, b: Dataset, what: string): void {
  assert.equal(a.n, b.n, `${what}: n`);
  assert.deepEqual(a.shape, b.shape);
  assert.equal(a.numClasses, b.numClasses);
  assert.ok(
    Buffer.from(a.y.buffer, a.y.byteOffset, a.y.byteLength).equals(
      Buffer.from(b.y.buffer, b.y.byteOffset, b.y.byteLength),
    ),
    `${what}: labels`,
  );
  assert.ok(
    Buffer.from(a.x.buffer, a.x.byteOffset, a.x.byteLength).equals(
      Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength),
    ),
    `${what}: pixels`,
  );
}

describe('data specs', () => {
  it('parses every kind and refuses the rest with a usage error', () => {
    assert.deepEqual(parseDataSpec('builtin:mnist'), { kind: 'builtin', dataset: 'mnist', split: undefined });
    assert.deepEqual(parseDataSpec('builtin:fashion-mnist:test'), {
      kind: 'builtin',
      dataset: 'fashion-mnist',
      split: 'test',
    });
    assert.deepEqual(parseDataSpec('idx:/a/img.gz,/a/lbl.gz'), {
      kind: 'idx',
      images: '/a/img.gz',
      labels: '/a/lbl.gz',
    });
    assert.deepEqual(parseDataSpec('csv:C:/data.csv'), { kind: 'csv', file: 'C:/data.csv' });
    assert.deepEqual(parseDataSpec('images:./pics'), { kind: 'images', folder: './pics' });
    for (const bad of ['mnist', 'builtin:cifar', 'builtin:mnist:val', 'idx:only-one', 'csv:', 'images:']) {
      assert.throws(
        () => parseDataSpec(bad),
        (err: unknown) => err instanceof CliError && err.code === 'USAGE',
        bad,
      );
    }
  });
});

describe('simulation shards', () => {
  it('TRAIN+TEST: the source is the train set followed by the test set, cut at --limit', async () => {
    const small = await builtinSource('mnist', { limit: 500 });
    assert.equal(small.n, 500);
    const across = await builtinSource('mnist', { limit: 60_010 });
    assert.equal(across.n, 60_010);
    const test = await builtinSource('mnist', { split: 'test', limit: 10 });
    const tail = across.gather([60_000, 60_009]);
    same(tail, test.gather([0, 9]), 'the rows after the train set are the test set');
  });

  it("a client's shard and the test set equal federatedSplit's on the materialised source", async () => {
    const full = await loadBuiltinSplit('mnist', shard, { limit: 3000 });
    const source = await builtinSource('mnist', { limit: 3000 });
    for (let k = 0; k < shard.count; k++) {
      const mine = shardOf(source, { ...shard, index: k });
      same(mine.train, full.clients[k]!, `client ${k}`);
      same(mine.test, full.test, 'test set');
    }
    // all/N (the centralised baseline): every private sample once, none of public or test.
    const union = shardOf(source, { ...shard, index: 0, all: true });
    assert.equal(
      union.train.n,
      full.clients.reduce((n, c) => n + c.n, 0),
    );
    const labels = (ds: { y: Int32Array; n: number }) => {
      const counts = new Array<number>(10).fill(0);
      for (let i = 0; i < ds.n; i++) counts[ds.y[i]!]!++;
      return counts;
    };
    assert.deepEqual(
      labels(union.train),
      full.clients.map(labels).reduce((a, c) => a.map((v, i) => v + c[i]!)),
    );
  });

  it('loadPrivateData holds out a seeded validation slice of the shard and keeps the test set apart', async () => {
    const o = {
      data: 'builtin:mnist',
      limit: 3000,
      shard: { ...shard, index: 1 },
      evalTest: true,
      valFraction: 0.2,
      seed: 3,
    };
    const a = await loadPrivateData(o);
    const b = await loadPrivateData(o);
    const full = await loadBuiltinSplit('mnist', shard, { limit: 3000 });
    assert.equal(a.train.n + a.val!.n, full.clients[1]!.n);
    assert.equal(a.val!.n, Math.round(full.clients[1]!.n * 0.2));
    same(a.val!, b.val!, 'the same slice every run');
    same(a.test!, full.test, 'test set');
    assert.match(a.description, /shard 1\/4 .*validation, 250 test/);
    const noTest = await loadPrivateData({ ...o, evalTest: false });
    assert.equal(noTest.test, undefined);
  });
});

describe('holdOut and withNumClasses', () => {
  const ds: Dataset = {
    x: Float32Array.from({ length: 10 }, (_, i) => i),
    y: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
    n: 10,
    shape: [1],
    numClasses: 2,
  };

  it('holds out a fraction (at least one sample), disjoint from training', () => {
    const { train, val } = holdOut(ds, 0.25, 1);
    assert.equal(val!.n, 3);
    assert.equal(train.n, 7);
    const seen = new Set([...train.x, ...val!.x]);
    assert.equal(seen.size, 10);
    assert.equal(holdOut(ds, 0.01, 1).val!.n, 1);
    assert.equal(holdOut(ds, 0, 1).val, undefined);
  });

  it('declares more classes than the data shows, never fewer', () => {
    assert.equal(withNumClasses(ds, 5).numClasses, 5);
    assert.throws(
      () => withNumClasses({ ...ds, y: Int32Array.from([...ds.y.subarray(0, 9), 4]) }, 3),
      /label 4/,
    );
  });
});
