/**
 * `mutua-client --prune S`: the participant's kernels reach sparsity S and stay pruned through
 * later training rounds (the masks are re-applied after every step). Run through the
 * --local-only path, which shares prepare() (and so the pruner) with a federated run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useCpuBackend } from '@mutua/core/backend';
import { loadModelDir } from '../src/model-files.ts';
import { runClient, scratch } from './client-process.ts';

describe('mutua-client --prune', () => {
  it('refuses --prune-steps without --prune and a sparsity outside (0, 1)', async (t) => {
    for (const args of [
      ['--prune-steps', '10'],
      ['--prune', '1.5'],
    ]) {
      const r = await runClient(t, ['--local-only', '--rounds', '1', '--data', 'builtin:mnist', ...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /USAGE: --prune/);
    }
  });

  it('prunes the kernels to the target and keeps them pruned through further rounds', async (t) => {
    const dir = scratch(t);
    const exportDir = join(dir, 'export');
    const r = await runClient(
      t,
      [
        '--local-only',
        '--rounds',
        '3',
        '--data',
        'builtin:mnist',
        '--limit',
        '200',
        '--model',
        'mlp-tiny',
        '--backend',
        'wasm',
        '--seed',
        '1',
        '--prune',
        '0.8',
        '--prune-steps',
        '4',
        '--checkpoint-dir',
        join(dir, 'ckpt'),
        '--export-dir',
        exportDir,
      ],
      { XDG_CACHE_HOME: dir },
      300_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pruning: kernels to 0.8 sparsity over the first 4 steps/);
    // 180 training samples / 32 = 6 steps a round: the target is reached in round 1, rounds 2-3 train on.
    assert.match(r.stdout, /pruned: 80\.0% of the kernel weights are zero/);
    await useCpuBackend();
    const model = await loadModelDir(exportDir);
    for (const w of model.weights) {
      if (w.shape.length < 2) continue;
      const v = w.read().dataSync();
      const zeros = v.filter((x) => x === 0).length;
      assert.ok(Math.abs(zeros / v.length - 0.8) < 0.01, `${w.name}: ${zeros}/${v.length}`);
    }
    model.dispose();
  });
});
