// `mutua federation distill` as an operator runs it: the bin spawned against a real
// coordinator whose federation has run a few rounds. Two protocol-level participants
// upload predictions that follow the public samples' true MNIST labels (one more sure than
// the other), so the consensus is learnable; the student the command writes must load with
// tf.loadLayersModel and predict the targets' argmax far above chance, and the coordinator
// must serve the same student for download.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useCpuBackend } from '@mutua/core/backend';
import { loadMnist } from '@mutua/core/data-node';
import * as tf from '@tensorflow/tfjs';
import { REPO_ROOT, runServer } from './child-server.ts';
import { ADMIN_TOKEN, auth, createFederation, issueToken, startServer, type TestServer } from './helper.ts';
import { TestClient } from './test-client.ts';

const MUTUA_BIN = fileURLToPath(new URL('../bin/mutua.js', import.meta.url));
const C = 10;
const PUBLIC = 256;

/** Predictions putting `sure` on each row's true label, the rest spread evenly. */
function labelled(labels: Int32Array, indices: readonly number[], sure: number): Float32Array {
  const p = new Float32Array(indices.length * C).fill((1 - sure) / (C - 1));
  indices.forEach((i, r) => {
    p[r * C + labels[i]!] = sure;
  });
  return p;
}

/** model.json + weights.bin from a folder, through the stock loader. */
function loadDir(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const bin = readFileSync(join(dir, 'weights.bin'));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
    }),
  );
}

describe('mutua federation distill', () => {
  let s: TestServer;
  let out: string;
  before(async () => {
    await useCpuBackend();
    s = await startServer(null);
    out = mkdtempSync(join(tmpdir(), 'mutua-distill-'));
  });
  after(async () => {
    await s?.close();
    rmSync(out, { recursive: true, force: true });
  });

  const mutua = (args: string[]) =>
    runServer(
      {
        command: [process.execPath, MUTUA_BIN, ...args],
        env: { MUTUA_COORDINATOR: s.url, MUTUA_ADMIN_TOKEN: ADMIN_TOKEN },
      },
      180_000,
    );

  it('refuses what cannot work, with one line and exit 2', async () => {
    const fed = await createFederation(s.app, {}, PUBLIC);
    const noOut = await mutua(['federation', 'distill', fed.id]);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /^mutua: --out DIR is required/);
    const arch = await mutua(['federation', 'distill', fed.id, '--out', out, '--model', 'resnet']);
    assert.equal(arch.code, 2);
    assert.match(arch.stderr, /--model must be one of cnn-tiny, mlp-tiny/);
    const early = await mutua(['federation', 'distill', fed.id, '--out', out]);
    assert.equal(early.code, 2, early.stderr);
    assert.match(early.stderr, /has published no consensus yet.*\(MUTUA_ERR_NO_CONSENSUS\)/);
    assert.equal(early.stderr.trim().split('\n').length, 1);
  });

  it('trains on the consensus, writes a uint8 TF.js model that predicts the targets, and publishes it', async (t) => {
    const labels = (await loadMnist({ split: 'test' })).y;
    const fed = await createFederation(s.app, { mode: 'sync', batchSize: 64, temperature: 2 }, PUBLIC);
    const clients: TestClient[] = [];
    t.after(() => {
      for (const c of clients) c.close();
    });
    for (const name of ['a', 'b']) {
      const { token } = await issueToken(s.app, fed.id);
      clients.push(await TestClient.join(s.wsUrl, { joinToken: token, name }));
    }
    for (let round = 1; round <= 3; round++)
      await Promise.all(
        clients.map(async (c, i) => {
          const task = await c.validTask(round);
          const indices = [...task.predictIndices];
          const probs = labelled(labels, indices, i === 0 ? 0.8 : 0.6);
          const ack = await c.reply(c.upload(task.round, indices.length, { probs, encoding: 'float32' }));
          assert.equal(ack.body, 'ack');
        }),
      );
    const targets = await s.app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/consensus-targets`,
      headers: auth,
    });
    assert.equal(targets.statusCode, 200, targets.body);
    const { indices } = targets.json() as { indices: number[] };
    assert.ok(indices.length >= 64, `rows ${indices.length}`);

    const dir = join(out, 'student');
    const run = await mutua([
      'federation',
      'distill',
      fed.id,
      '--model',
      'mlp-tiny',
      '--epochs',
      '25',
      '--seed',
      '1',
      '--out',
      dir,
      '--eval',
      'builtin:mnist',
      '--json',
    ]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const r = JSON.parse(run.stdout) as Record<string, unknown> & { published: { modelUrl: string } };
    assert.equal(r.arch, 'mlp-tiny');
    assert.equal(r.encoding, 'uint8');
    assert.equal(r.rows, indices.length);
    assert.equal(r.consensusVersion, 3);
    assert.equal(r.temperature, 2, "the federation's temperature by default");
    assert.equal(r.weightBytes, r.params, 'uint8: one byte a parameter');
    assert.equal(r.float32Bytes, (r.params as number) * 4);
    assert.match(String(r.testSet), /^mnist:test without the public rows \[0:256\] \(9744\)$/);
    assert.ok((r.testAccuracy as number) > 0.2, `test accuracy ${r.testAccuracy}`);
    assert.match(run.stderr, /epoch 25\/25/, 'progress reaches the last epoch');
    assert.match(r.published.modelUrl, new RegExp(`/v1/federations/${fed.id}/student/model\\.json$`));

    // The written files load with the stock loader and agree with the targets' argmax
    // (above chance: 10% for 10 classes) on the public rows it was distilled on.
    const student = await loadDir(dir);
    t.after(() => student.dispose());
    const set = await loadMnist({ split: 'test' });
    const x = tf.tensor4d(
      Float32Array.from(indices.flatMap((i) => [...set.x.subarray(i * 784, (i + 1) * 784)])),
      [indices.length, 28, 28, 1],
    );
    const predicted = tf.tidy(() => (student.predict(x) as tf.Tensor).argMax(-1).dataSync());
    x.dispose();
    const agree = indices.filter((i, r) => predicted[r] === labels[i]).length / indices.length;
    assert.ok(agree > 0.5, `agreement with the targets' argmax ${agree}`);
    assert.ok(Math.abs(agree - (r.targetAgreement as number)) < 1e-9, 'the figure the command printed');

    // Published: the coordinator serves the same bytes, and the URL loads as is.
    const shown = await s.app.inject({
      method: 'GET',
      url: `/v1/federations/${fed.id}/student`,
      headers: auth,
    });
    assert.equal(shown.statusCode, 200);
    assert.equal(shown.json().weightBytes, r.weightBytes);
    const served = await fetch(`${s.url}/v1/federations/${fed.id}/student/weights.bin`);
    assert.deepEqual(
      new Uint8Array(await served.arrayBuffer()),
      new Uint8Array(readFileSync(join(dir, 'weights.bin'))),
    );
    const remote = await tf.loadLayersModel(r.published.modelUrl);
    remote.dispose();
  });
  it('the coordinator keeps acknowledging uploads at its usual latency while a student trains', async (t) => {
    const labels = (await loadMnist({ split: 'test' })).y;
    const fed = await createFederation(s.app, { mode: 'sync', batchSize: 128 }, PUBLIC);
    const clients: TestClient[] = [];
    t.after(() => {
      for (const c of clients) c.close();
    });
    for (const name of ['a', 'b']) {
      const { token } = await issueToken(s.app, fed.id);
      clients.push(await TestClient.join(s.wsUrl, { joinToken: token, name }));
    }
    let round = 1;
    /** One round: both upload; the time from each upload to its Ack, in ms. */
    const oneRound = async (): Promise<number[]> => {
      const r = round++;
      return Promise.all(
        clients.map(async (c) => {
          const task = await c.validTask(r);
          const indices = [...task.predictIndices];
          const sent = performance.now();
          const ack = await c.reply(
            c.upload(task.round, indices.length, { probs: labelled(labels, indices, 0.7) }),
          );
          assert.equal(ack.body, 'ack');
          return performance.now() - sent;
        }),
      );
    };
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const before: number[] = [];
    for (let i = 0; i < 6; i++) before.push(...(await oneRound()));

    // The student trains in the command's own process; the coordinator only answers its reads.
    const child = spawn(
      process.execPath,
      [
        MUTUA_BIN,
        'federation',
        'distill',
        fed.id,
        '--model',
        'mlp-tiny',
        '--epochs',
        '400',
        '--out',
        join(out, 'busy'),
        '--no-publish',
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, MUTUA_COORDINATOR: s.url, MUTUA_ADMIN_TOKEN: ADMIN_TOKEN },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const training = new Promise<void>((resolve) =>
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/epoch \d+\/400/.test(stderr)) resolve();
      }),
    );
    await Promise.race([training, exited]);
    const during: number[] = [];
    let done = false;
    void exited.then(() => {
      done = true;
    });
    while (!done && during.length < 40) during.push(...(await oneRound()));
    const finished = done;
    child.kill('SIGTERM');
    const code = await exited;
    // Stopped mid-training (Ctrl-C / SIGTERM): one line, exit 2, nothing published.
    if (!finished) {
      assert.equal(code, 2, stderr);
      assert.match(stderr, /^mutua: stopped before the end: nothing published$/m);
    }
    assert.match(stderr, /epoch \d+\/400/, `the student was training: ${stderr}`);
    assert.ok(during.length >= 10, `uploads acknowledged while it trained: ${during.length}`);
    const [b, d] = [median(before), median(during)];
    console.log(
      `ack latency, median: ${b.toFixed(1)} ms before, ${d.toFixed(1)} ms while a student trains (${during.length} uploads)`,
    );
    // The same order of magnitude: CPU shared with the training process may add a little,
    // training on the coordinator's event loop would add whole training steps.
    assert.ok(
      d < Math.max(4 * b, b + 50),
      `median ack ${d.toFixed(1)} ms while training, ${b.toFixed(1)} ms before`,
    );
  });
});
