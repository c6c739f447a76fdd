/**
 * `mutua-client --local-mutual` as a user runs it: a tiny run (few hundred samples, one
 * epoch) of the cohort with both baselines, pruning and the quantized export; the table,
 * JSON and CSV it writes; the exported files loading with tf.loadLayersModel.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useCpuBackend } from '@mutua/core/backend';
import * as tf from '@tensorflow/tfjs';
import { loadExportDir } from '../src/quantized-export.ts';
import { runClient, scratch } from './client-process.ts';

describe('mutua-client --local-mutual', () => {
  it('prints its own --help', async (t) => {
    const r = await runClient(t, ['--local-mutual', 'mlp-tiny,cnn-tiny', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Local mutual learning without a coordinator/);
    assert.match(r.stdout, /--teacher ARCH/);
  });

  it('refuses a bad cohort, data set or sparsity with exit 2 and a USAGE line', async (t) => {
    for (const [args, re] of [
      [['--local-mutual', 'mlp-tiny'], /at least two models/],
      [['--local-mutual', 'mlp-tiny,resnet'], /unknown model "resnet"/],
      [['--local-mutual', 'mlp,mlp', '--data', 'csv:x.csv'], /builtin:mnist or builtin:fashion-mnist/],
      [['--local-mutual', 'mlp,mlp', '--prune', '1'], /--prune must be in \(0, 1\)/],
      [['--local-mutual', 'mlp,mlp', '--seeds', '1,1'], /repeats a seed/],
    ] as const) {
      const r = await runClient(t, [...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /mutua-client: USAGE: /);
      assert.match(r.stderr, re);
    }
  });

  it('trains the cohort, both baselines, prunes, exports, and writes the table, JSON and CSV', async (t) => {
    const dir = scratch(t);
    const out = join(dir, 'r.json');
    const csv = join(dir, 'r.csv');
    const exportDir = join(dir, 'export');
    const r = await runClient(
      t,
      [
        '--local-mutual',
        'mlp-tiny,cnn-tiny',
        '--teacher',
        'cnn-small',
        '--train-size',
        '200',
        '--test-size',
        '100',
        '--epochs',
        '1',
        '--batch-size',
        '20',
        '--prune',
        '0.5',
        '--prune-begin',
        '0',
        '--prune-end',
        '0.5',
        '--seeds',
        '2',
        '--export-dir',
        exportDir,
        '--out',
        out,
        '--csv',
        csv,
      ],
      {},
      300_000,
    );
    assert.equal(r.code, 0, r.stderr);
    // The table: one row per (setting, member).
    for (const row of [
      /teacher\s+teacher\(cnn-small\)\s+0 cnn-small\s+2/,
      /alone\s+alone\(mlp-tiny\)\s+0 mlp-tiny\s+2/,
      /alone\s+alone\(cnn-tiny\)/,
      /one-way\s+one-way\(mlp-tiny\)/,
      /one-way\s+one-way\(cnn-tiny\)/,
      /mutual\s+mutual\(mlp-tiny,cnn-tiny\)\s+0 mlp-tiny/,
      /mutual\s+mutual\(mlp-tiny,cnn-tiny\)\s+1 cnn-tiny/,
    ]) {
      assert.match(r.stdout, row);
    }
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      results: {
        setting: string;
        arch: string;
        seed: number;
        accuracy: number;
        sparsity: number;
        exports?: {
          encoding: string;
          weightBytes: number;
          gzipBytes: number;
          accuracy: number;
          dir: string;
        }[];
      }[];
      summary: { n: number }[];
    };
    // 2 seeds x (teacher + 2 alone + 2 one-way + 2 mutual members)
    assert.equal(doc.results.length, 14);
    for (const s of doc.summary) assert.equal(s.n, 2);
    for (const res of doc.results) {
      assert.ok(res.accuracy >= 0 && res.accuracy <= 1);
      if (res.setting === 'teacher') {
        assert.equal(res.sparsity, 0);
        assert.equal(res.exports, undefined);
        continue;
      }
      // Pruned to 50% of the kernels (biases dense) and exported in three encodings.
      assert.ok(Math.abs(res.sparsity - 0.5) < 0.01, `${res.setting} ${res.arch}: ${res.sparsity}`);
      const [f32, f16, u8] = res.exports!;
      assert.deepEqual(
        res.exports!.map((e) => e.encoding),
        ['float32', 'float16', 'uint8'],
      );
      assert.equal(f16!.weightBytes * 2, f32!.weightBytes);
      assert.equal(u8!.weightBytes * 4, f32!.weightBytes);
      assert.ok(u8!.gzipBytes < u8!.weightBytes, 'gzip shrinks the half-zero uint8 weights');
      assert.ok(Math.abs(f32!.accuracy - res.accuracy) < 1e-9);
    }
    assert.equal(readFileSync(csv, 'utf8').split('\n')[0]!.split(',')[0], 'dataset');
    // An exported uint8 model loads with tf.loadLayersModel, from weights.bin and from the .gz.
    const u8dir = doc.results.find((x) => x.setting === 'mutual')!.exports![2]!.dir;
    assert.ok(existsSync(join(u8dir, 'weights.bin.gz')));
    const manifest = JSON.parse(readFileSync(join(u8dir, 'model.json'), 'utf8')).weightsManifest[0].weights;
    assert.equal(manifest[0].quantization.dtype, 'uint8');
    assert.equal(typeof manifest[0].quantization.scale, 'number');
    assert.equal(typeof manifest[0].quantization.min, 'number');
    await useCpuBackend();
    const plain = await loadExportDir(u8dir);
    const gz = await loadExportDir(u8dir, { gzip: true });
    const x = tf.randomUniform([3, 28, 28, 1]);
    assert.deepEqual((plain.predict(x) as tf.Tensor).dataSync(), (gz.predict(x) as tf.Tensor).dataSync());
    tf.dispose([x, plain, gz] as never);
  });
});
