/**
 * `mutua-client --prune S`: the participant's kernels reach sparsity S and stay pruned through
 * later training rounds (the masks are re-applied after every step). Run through the
 * --local-only path, and in a federation against a real coordinator with an unpruned peer,
 * where the later rounds also train toward the peer's predictions.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useCpuBackend } from '@mutua/core/backend';
import { createFederation, startServer } from '../../server/test/helper.ts';
import type { MetricsLine } from '../src/metrics-log.ts';
import { loadModelDir } from '../src/model-files.ts';
import { readJsonLines, runClient, scratch } from './client-process.ts';

/** Fraction of exact zeros in each kernel (rank ≥ 2) of the model saved in `dir`. */
async function kernelSparsity(dir: string): Promise<Map<string, number>> {
  await useCpuBackend();
  const model = await loadModelDir(dir);
  const out = new Map<string, number>();
  for (const w of model.weights) {
    if (w.shape.length < 2) continue;
    const v = w.read().dataSync();
    out.set(w.name, v.filter((x) => x === 0).length / v.length);
  }
  model.dispose();
  return out;
}

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
    const sparsity = await kernelSparsity(exportDir);
    assert.equal(sparsity.size, 2);
    for (const [name, s] of sparsity) assert.ok(Math.abs(s - 0.8) < 0.01, `${name}: ${s}`);
  });

  it('in a federation: the pruned participant keeps its sparsity through rounds with an unpruned peer', async (t) => {
    const dir = scratch(t);
    const server = await startServer(t);
    // minParticipants 2: every round waits for both, so each trains toward the other's predictions.
    const fed = await createFederation(server.app, { mode: 'sync', batchSize: 32, minParticipants: 2 }, 64);
    const run = (k: number) =>
      runClient(
        t,
        [
          '--model',
          'mlp-tiny',
          '--backend',
          'wasm',
          '--epochs',
          '1',
          '--batch-size',
          '32',
          '--coordinator',
          server.wsUrl,
          '--token',
          fed.token,
          '--name',
          `p${k}`,
          '--data',
          'builtin:mnist:test',
          '--shard',
          `${k}/2`,
          '--limit',
          '800',
          '--alpha',
          '1',
          '--seed',
          '7',
          '--public-size',
          '100',
          '--test-size',
          '100',
          '--max-rounds',
          '3',
          '--checkpoint-dir',
          join(dir, `ck${k}`),
          '--export-dir',
          join(dir, `export${k}`),
          '--metrics-out',
          join(dir, `p${k}.jsonl`),
          ...(k === 0 ? ['--prune', '0.8', '--prune-steps', '4'] : []),
        ],
        { XDG_CACHE_HOME: join(dir, 'cache') },
        300_000,
      );
    const [pruned, peer] = await Promise.all([run(0), run(1)]);
    for (const r of [pruned, peer]) {
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /joined federation "test" .*: mutual, sync/);
      assert.match(r.stdout, /completed 3 rounds; leaving/);
    }
    assert.match(pruned.stdout, /pruning: kernels to 0.8 sparsity over the first 4 steps/);
    assert.match(pruned.stdout, /pruned: 80\.0% of the kernel weights are zero/);
    assert.doesNotMatch(peer.stdout, /prun/);
    // The target is reached within round 1 (4 steps); rounds 2 and 3 distil toward the peer.
    const lines = readJsonLines<MetricsLine>(join(dir, 'p0.jsonl'));
    assert.equal(lines.length, 3);
    assert.ok(
      lines.slice(1).some((l) => typeof l.distillLoss === 'number' && l.distillLoss > 0),
      `a distillation term after pruning: ${JSON.stringify(lines.map((l) => l.distillLoss))}`,
    );

    for (const saved of [join(dir, 'export0'), join(dir, 'ck0', 'model')]) {
      const sparsity = await kernelSparsity(saved);
      assert.equal(sparsity.size, 2, saved);
      for (const [name, s] of sparsity) assert.ok(Math.abs(s - 0.8) < 0.01, `${saved} ${name}: ${s}`);
    }
    // The peer trained on the same schedule without --prune: dense kernels.
    for (const [name, s] of await kernelSparsity(join(dir, 'export1')))
      assert.ok(s < 0.01, `peer ${name}: ${s}`);
  });
});
