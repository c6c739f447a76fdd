/**
 * Local training throughput, measured the same way in the browser (bench worker) and in
 * Node (bench/bench-web.ts), so the two numbers compare like for like: core's
 * Trainer.trainEpoch with the join page's settings — private batch 32, and every step the
 * mutual step (32 private samples plus 32 public rows with consensus targets, T = 3,
 * lambda = 1), Adam lr 1e-3 — on synthetic MNIST-shaped data ([28, 28, 1], 10 classes;
 * throughput does not depend on pixel values). One warm-up epoch, then epochs until
 * `seconds` of wall time have passed; samples/s counts private samples.
 */
import type { Dataset } from '@mutua/core/data';
import { Trainer } from '@mutua/core/distill';
import { createModel, type ModelArch } from '@mutua/core/models';

export const BENCH_BATCH = 32;
const SHAPE = [28, 28, 1];
const CLASSES = 10;
const PRIVATE_ROWS = 256;
const PUBLIC_ROWS = 256;

export interface BenchResult {
  model: ModelArch;
  params: number;
  samplesPerSecond: number;
  epochs: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function uniform(n: number, r: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r();
  return out;
}

export async function measureTraining(arch: ModelArch, seconds: number): Promise<BenchResult> {
  const r = lcg(12345);
  const size = SHAPE.reduce((a, b) => a * b, 1);
  const ds: Dataset = {
    x: uniform(PRIVATE_ROWS * size, r),
    y: Int32Array.from({ length: PRIVATE_ROWS }, () => Math.floor(r() * CLASSES)),
    n: PRIVATE_ROWS,
    shape: SHAPE,
    numClasses: CLASSES,
  };
  const publicX = uniform(PUBLIC_ROWS * size, r);
  const targets = new Float32Array(PUBLIC_ROWS * CLASSES);
  for (let i = 0; i < PUBLIC_ROWS; i++) {
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) sum += targets[i * CLASSES + c] = r() + 1e-3;
    for (let c = 0; c < CLASSES; c++) targets[i * CLASSES + c]! /= sum;
  }
  const model = createModel(arch, { inputShape: SHAPE, numClasses: CLASSES, seed: 1 });
  const trainer = new Trainer(model, { learningRate: 1e-3 });
  try {
    let epoch = 0;
    const run = async () =>
      (
        await trainer.trainEpoch(ds, {
          batchSize: BENCH_BATCH,
          seed: epoch++,
          publicX,
          targets,
          temperature: 3,
          lambda: 1,
        })
      ).samples;
    await run();
    let samples = 0;
    let epochs = 0;
    const t0 = performance.now();
    do {
      samples += await run();
      epochs++;
    } while (performance.now() - t0 < seconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    return { model: arch, params: model.countParams(), samplesPerSecond: samples / elapsed, epochs };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
