/**
 * The training half of `mutua federation distill`, loaded only when the command runs (it
 * brings tfjs): a compact student trained on the public rows toward the consensus targets
 * with core's distillation pass (digest.ts: T²·KL(q ‖ softmax(f(u)/T)), no labels), then
 * exported with uint8 weights in the TF.js layers format (core/compress) and loaded back,
 * so the figures printed are those of the files a device downloads.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '@mutua/core/backend-node';
import { quantizedArtifacts } from '@mutua/core/compress';
import type { Dataset } from '@mutua/core/data';
import { digestEpoch, evaluate, predictPublic, Trainer } from '@mutua/core/distill';
import { createModel, type ModelArch } from '@mutua/core/models';
import * as tf from '@tensorflow/tfjs';

export interface DistillJob {
  arch: ModelArch;
  /** The public samples of the target rows, row-aligned with `targets`. */
  x: Float32Array;
  shape: number[];
  classes: number;
  targets: Float32Array;
  temperature: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed?: number;
  /** A labeled test set scored with the exported (quantized) student. */
  test?: Dataset;
  outDir: string;
  metadata: Record<string, unknown>;
  onEpoch(epoch: number, kl: number, ms: number): void;
  onBackend(name: string, reason: string): void;
  signal?: AbortSignal;
}

export interface DistillOutcome {
  params: number;
  /** Bytes of the float32 weights the uint8 export replaces. */
  float32Bytes: number;
  weightBytes: number;
  modelJsonBytes: number;
  /** model.json as written (for the upload) and weights.bin. */
  modelJson: Record<string, unknown>;
  weights: Uint8Array;
  /** Argmax agreement of the exported student with the targets on the training rows. */
  targetAgreement: number;
  testAccuracy?: number;
}

export async function distillStudent(job: DistillJob): Promise<DistillOutcome> {
  const backend = await selectBackend('auto');
  job.onBackend(backend.name, backend.reason);
  const model = createModel(job.arch, { inputShape: job.shape, numClasses: job.classes, seed: job.seed });
  const trainer = new Trainer(model, { learningRate: job.learningRate });
  let exported: tf.LayersModel | null = null;
  try {
    for (let epoch = 1; epoch <= job.epochs; epoch++) {
      const started = performance.now();
      const r = await digestEpoch(trainer, {
        publicX: job.x,
        targets: job.targets,
        temperature: job.temperature,
        batchSize: job.batchSize,
        seed: job.seed === undefined ? undefined : job.seed + epoch,
        signal: job.signal,
      });
      job.onEpoch(epoch, r.kl, performance.now() - started);
    }
    const artifacts = quantizedArtifacts(model, 'uint8', job.metadata);
    const { modelJson, weights } = await writeLayersModel(job.outDir, artifacts);
    exported = await tf.loadLayersModel(
      tf.io.fromMemory({ ...artifacts, weightData: weights.slice().buffer as ArrayBuffer }),
    );
    const outcome: DistillOutcome = {
      params: model.countParams(),
      float32Bytes: model.countParams() * 4,
      weightBytes: weights.byteLength,
      modelJsonBytes: Buffer.byteLength(`${JSON.stringify(modelJson)}\n`),
      modelJson,
      weights,
      targetAgreement: await agreement(exported, job),
    };
    if (job.test) outcome.testAccuracy = (await evaluate(exported, job.test)).accuracy;
    return outcome;
  } finally {
    exported?.dispose();
    trainer.dispose();
    model.dispose();
  }
}

/** Fraction of rows where the student's argmax is the targets' argmax. */
async function agreement(model: tf.LayersModel, job: DistillJob): Promise<number> {
  const probs = await predictPublic(model, job.x, job.shape, 1);
  const C = job.classes;
  const n = job.targets.length / C;
  let same = 0;
  for (let r = 0; r < n; r++) if (argmax(probs, r, C) === argmax(job.targets, r, C)) same++;
  return n === 0 ? 0 : same / n;
}

function argmax(a: Float32Array, row: number, C: number): number {
  let best = 0;
  for (let k = 1; k < C; k++) if (a[row * C + k]! > a[row * C + best]!) best = k;
  return best;
}

/** `dir/model.json` + `dir/weights.bin`, the layout tf.loadLayersModel reads over HTTP or with tfjs-node's file://. */
async function writeLayersModel(
  dir: string,
  artifacts: tf.io.ModelArtifacts,
): Promise<{ modelJson: Record<string, unknown>; weights: Uint8Array }> {
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
  const modelJson: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    userDefinedMetadata: artifacts.userDefinedMetadata,
  };
  await mkdir(dir, { recursive: true });
  const write = async (name: string, data: Uint8Array | string) => {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, data);
    await rename(tmp, join(dir, name));
  };
  // Weights first, model.json last: a model.json on disk always names complete weights.
  await write('weights.bin', weights);
  await write('model.json', `${JSON.stringify(modelJson)}\n`);
  return { modelJson, weights };
}

const EVAL = /^builtin:(mnist|fashion-mnist)(?::(train|test))?$/;
const PUBLIC_SOURCE = /^(mnist|fashion-mnist):(train|test)\[(\d+):(\d+)\]$/;

/**
 * A built-in split to score the student on, without the rows of the federation's public set
 * when it is a slice of the same split (the student was trained on those).
 */
export async function loadEvalSet(
  spec: string,
  publicSource: string | undefined,
): Promise<{ test: Dataset; description: string }> {
  const m = EVAL.exec(spec);
  if (!m)
    throw new RangeError(
      `--eval must be builtin:mnist or builtin:fashion-mnist [:test|:train], got "${spec}"`,
    );
  const [, dataset, split = 'test'] = m as unknown as [string, 'mnist' | 'fashion-mnist', 'train' | 'test'];
  const { loadFashionMnist, loadMnist, subset } = await import('@mutua/core/data-node');
  const all = dataset === 'mnist' ? await loadMnist({ split }) : await loadFashionMnist({ split });
  const p = PUBLIC_SOURCE.exec(publicSource ?? '');
  if (!p || p[1] !== dataset || p[2] !== split)
    return { test: all, description: `${dataset}:${split} (${all.n})` };
  const from = Number(p[3]);
  const to = Number(p[4]);
  const keep: number[] = [];
  for (let i = 0; i < all.n; i++) if (i < from || i >= to) keep.push(i);
  return {
    test: subset(all, keep),
    description: `${dataset}:${split} without the public rows [${from}:${to}] (${keep.length})`,
  };
}
