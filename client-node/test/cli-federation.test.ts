// A short federation through real `mutua-client` processes and a real coordinator: two
// participants on small MNIST shards take part in two rounds and leave (exit 0), their
// metrics lines are written, the coordinator's REST API shows their submissions and bytes,
// and the exported model loads with tf.loadLayersModel. Then Ctrl-C: a clean leave with a
// checkpoint.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useCpuBackend } from '@mutua/core/backend';
import * as tf from '@tensorflow/tfjs';
import { createFederation, getJson, startServer, type TestServer } from '../../server/test/helper.ts';
import type { MetricsLine } from '../src/metrics-log.ts';
import { fileSystemHandler } from '../src/model-files.ts';
import { readJsonLines, runClient, scratch, startClient } from './client-process.ts';

/** Shards of the first 1,200 MNIST test samples (parsing 10k images, not 60k): ~300 private samples each. */
const SHARD = [
  '--limit',
  '1200',
  '--alpha',
  '1',
  '--seed',
  '7',
  '--public-size',
  '100',
  '--test-size',
  '200',
];
const COMMON = ['--model', 'mlp', '--backend', 'wasm', '--epochs', '1', '--batch-size', '32'];

describe('mutua-client in a federation', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(null);
  });
  after(() => server.close());

  it('two participants take part in two rounds, report metrics, and export a loadable model', async (t) => {
    const dir = scratch(t);
    const fed = await createFederation(server.app, { mode: 'sync', batchSize: 32 }, 64);
    const run = (k: number) =>
      runClient(
        t,
        [
          ...COMMON,
          '--coordinator',
          server.wsUrl,
          '--token',
          fed.token,
          '--name',
          `p${k}`,
          '--data',
          'builtin:mnist:test',
          '--shard',
          `${k}/3`,
          ...SHARD,
          '--eval-test',
          '--max-rounds',
          '2',
          '--checkpoint-dir',
          join(dir, `ck${k}`),
          '--metrics-out',
          join(dir, `p${k}.jsonl`),
          ...(k === 0 ? ['--export-dir', join(dir, 'export')] : []),
        ],
        { XDG_CACHE_HOME: join(dir, 'cache') },
      );
    const exits = await Promise.all([run(0), run(1)]);
    for (const [k, r] of exits.entries()) {
      assert.equal(r.code, 0, `p${k}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /joined federation "test" .* as participant \S+: mutual, sync/);
      assert.match(
        r.stdout,
        /round \d+.*: loss \d\.\d{4}, val acc \d+\.\d%, test acc \d+\.\d%, up [\d.]+ k?B, down [\d.]+ k?B/,
      );
      assert.match(r.stdout, /completed 2 rounds; leaving/);
    }

    const participants = await getJson<{ id: string; name: string; bytesIn: number; bytesOut: number }[]>(
      server.app,
      `/v1/federations/${fed.id}/participants`,
    );
    assert.deepEqual(participants.map((p) => p.name).sort(), ['p0', 'p1']);
    for (const p of participants) assert.ok(p.bytesIn > 0 && p.bytesOut > 0, JSON.stringify(p));

    for (const k of [0, 1]) {
      const lines = readJsonLines<MetricsLine>(join(dir, `p${k}.jsonl`));
      assert.equal(lines.length, 2, `p${k}: one line per acknowledged round`);
      const me = participants.find((p) => p.name === `p${k}`)!;
      for (const line of lines) {
        assert.equal(line.participant, me.id);
        assert.equal(line.name, `p${k}`);
        assert.equal(line.shard, k);
        for (const key of [
          'trainLoss',
          'trainAccuracy',
          'valAccuracy',
          'testAccuracy',
          'trainMs',
          't',
        ] as const) {
          assert.equal(typeof line[key], 'number', `${key} in ${JSON.stringify(line)}`);
        }
        assert.ok(line.bytesUp > 0 && line.bytesDown > 0);
        assert.equal(line.staleness, 0);
      }
      assert.ok(lines[1]!.round > lines[0]!.round);
      assert.ok(lines[1]!.bytesUp > lines[0]!.bytesUp, 'bytes are cumulative');
      // The client counts the frames it sent; the coordinator the frames it received from it.
      assert.ok(
        me.bytesIn >= lines[1]!.bytesUp,
        `coordinator saw ${me.bytesIn} B, client sent ${lines[1]!.bytesUp} B`,
      );
    }
    const rounds = await getJson<{ number: number; submissions: number }[]>(
      server.app,
      `/v1/federations/${fed.id}/rounds`,
    );
    assert.equal(
      rounds.reduce((n, r) => n + r.submissions, 0),
      4,
      `every acknowledged upload is an accepted submission: ${JSON.stringify(rounds)}`,
    );
    const traffic = await getJson<{ bytesIn: number; bytesOut: number }>(
      server.app,
      `/v1/federations/${fed.id}/traffic`,
    );
    assert.ok(traffic.bytesIn > 0 && traffic.bytesOut > 0);

    // The export: TF.js layers format, loadable with tf.loadLayersModel.
    const exportDir = join(dir, 'export');
    const json = JSON.parse(readFileSync(join(exportDir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.equal(json.modelTopology.class_name, 'Sequential');
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    const bytes = json.weightsManifest[0].weights.reduce(
      (n: number, w: { shape: number[] }) => n + 4 * w.shape.reduce((a, b) => a * b, 1),
      0,
    );
    assert.equal(statSync(join(exportDir, 'weights.bin')).size, bytes);
    await useCpuBackend();
    const model = await tf.loadLayersModel(fileSystemHandler(exportDir));
    try {
      const out = tf.tidy(() => model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor);
      assert.deepEqual(out.shape, [2, 10]);
      out.dispose();
    } finally {
      model.dispose();
    }
  });

  it('Ctrl-C leaves cleanly with a checkpoint; started again, the client resumes as the same participant', async (t) => {
    const dir = scratch(t);
    const fed = await createFederation(server.app, { mode: 'sync', batchSize: 32 }, 64);
    const ck = join(dir, 'ck');
    const args = [
      ...COMMON,
      '--coordinator',
      server.url,
      '--token',
      fed.token,
      '--name',
      'interrupted',
      '--data',
      'builtin:mnist:test',
      '--shard',
      '2/3',
      ...SHARD,
      '--checkpoint-dir',
      ck,
    ];
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    const p = startClient(t, args, env);
    await p.waitFor(/^round 1\b.*: loss/);
    p.kill('SIGINT');
    const r = await p.exited;
    assert.equal(r.code, 0, p.output);
    assert.match(r.stdout, /stopping: finishing the current step/);
    for (const file of ['model/model.json', 'model/weights.bin', 'checkpoint.json', 'resume-token.json']) {
      assert.ok(existsSync(join(ck, file)), `${file} in the checkpoint directory\n${p.output}`);
    }
    const state = JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8'));
    assert.equal(state.arch, 'mlp');
    assert.equal(state.federationId, fed.id);
    assert.ok(state.round >= 1);
    assert.equal((statSync(join(ck, 'resume-token.json')).mode & 0o777).toString(8), '600');
    const [me] = await getJson<{ id: string; online: boolean; name: string }[]>(
      server.app,
      `/v1/federations/${fed.id}/participants`,
    );
    assert.equal(me!.name, 'interrupted');
    assert.equal(me!.online, false, 'the participant left');

    // The same command again: the resume token and the model come from the checkpoint directory.
    const again = await runClient(t, [...args, '--max-rounds', '1'], env);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, new RegExp(`as participant ${me!.id} \\(resumed\\)`));
    assert.match(again.stdout, /model: restored from .* \(round \d+\)/);
    const participants = await getJson<unknown[]>(server.app, `/v1/federations/${fed.id}/participants`);
    assert.equal(participants.length, 1, 'no second participant');
    assert.ok(JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8')).round > state.round);
  });
});
