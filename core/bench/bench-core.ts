/**
 * Throughput of the learning core per model on the selected backend, and what one public
 * batch of predictions costs on the wire.
 *
 *   npm run bench:core -- [--backend auto|tensorflow|wasm|cpu] [--models mlp,cnn-small,cnn-fedavg]
 *                         [--seconds 3] [--json]
 *
 * - Training: Trainer.trainEpoch, Adam (lr 1e-3), private batch 64, and every step is the
 *   MUTUAL step: the 64 private samples plus a 64-row slice of a 512-row public batch
 *   with consensus targets (T = 3, lambda = 1). The model therefore runs 128 samples
 *   forward and backward per step; trainSamplesPerSec counts the 64 private ones.
 * - Prediction: predictPublic (tempered softmax, T = 3) over 2048 samples in batches of 256.
 * - Wire: the model's own predictions on the 512-row public batch (10 classes), encoded with
 *   each prediction encoding of @mutua/proto (top-k with k = 3); FedAvg's weight upload
 *   for comparison. `codecs` adds, per encoding, the raw-deflated size and the encode,
 *   decode, deflate and coordinator-side decode costs (bench-codecs.ts), on the model's rows
 *   and on `peaked` rows that look like a trained model's tempered output; the top-level
 *   `codecsPeaked` holds the latter (model-independent, computed once). `delta`: a round's
 *   upload as a delta against the one before (bench-delta.ts: peaked rows drifting by DRIFT),
 *   per encoding and threshold, with and without deflate, and its encode/decode cost.
 *
 * Inputs are MNIST-shaped ([28, 28, 1], 10 classes) but synthetic: throughput does not
 * depend on pixel values. Each figure is measured after one warm-up run, over at least
 * `--seconds` of wall time. `--json` prints exactly one JSON array on stdout (one object
 * per model); everything else goes to stderr.
 */
import { parseArgs } from 'node:util';
import {
  Envelope,
  encodePredictions,
  PREDICTION_ENCODINGS,
  publicBatch,
  weightByteLength,
} from '@mutua/proto';
import { isBackendPreference } from '../src/backend.ts';
import { selectBackend } from '../src/backend-node.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { predictPublic, Trainer } from '../src/distill.ts';
import { createModel, isModelArch, MODEL_ARCHS, type ModelArch } from '../src/models.ts';
import { benchCodecs, type CodecFigures, peakedRows } from './bench-codecs.ts';
import { benchDelta, type DeltaFigures, type DriftOptions, driftedRounds } from './bench-delta.ts';

const SHAPE = [28, 28, 1];
const CLASSES = 10;
const BATCH = 64;
const PUBLIC_ROWS = 512;
const PREDICT_ROWS = 2048;
const PREDICT_BATCH = 256;
const TEMPERATURE = 3;
const LAMBDA = 1;
const TOPK = 3;
/** Round-to-round drift of the delta figures: 10% of rows change their top class, all logits move by N(0, 0.5). */
const DRIFT: DriftOptions = {
  rows: PUBLIC_ROWS,
  classes: CLASSES,
  temperature: TEMPERATURE,
  flip: 0.1,
  jitter: 0.5,
  seed: 99,
};
const DELTA_THRESHOLDS = [0, 0.05];

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    models: { type: 'string', default: MODEL_ARCHS.join(',') },
    seconds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const preferred = values.backend;
if (!isBackendPreference(preferred))
  throw new Error(`--backend must be auto, tensorflow, wasm or cpu, got ${preferred}`);
const archs = values.models.split(',').filter(Boolean);
for (const a of archs)
  if (!isModelArch(a)) throw new Error(`unknown model ${a}; expected ${MODEL_ARCHS.join(', ')}`);
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
const log = (line: string) => (values.json ? console.error(line) : console.log(line));

interface ModelResult {
  model: ModelArch;
  backend: string;
  params: number;
  batchSize: number;
  /** Public rows distilled on in every training step (the mutual step). */
  publicBatchSize: number;
  /** Private samples per second; each step also distils on publicBatchSize public rows. */
  trainSamplesPerSec: number;
  predictSamplesPerSec: number;
  /** Payload bytes of PUBLIC_ROWS x CLASSES predictions per encoding ('topk' with k = TOPK). */
  bytesPerPublicBatch: Record<string, number>;
  /** bytesPerPublicBatch raw-deflated, per encoding. */
  deflatedBytesPerPublicBatch: Record<string, number>;
  /** Per encoding: sizes and encode/decode/deflate/coordinator costs on this model's rows. */
  codecs: Record<string, CodecFigures>;
  /** The same on peaked rows (a trained model's look); equal for every model. */
  codecsPeaked: Record<string, CodecFigures>;
  delta?: { drift: DriftOptions; byThreshold: Record<string, Record<string, DeltaFigures>> };
  publicBatch: { rows: number; classes: number; topK: number };
  /** One FedAvg weight upload, for comparison. */
  weightBytes: { float32: number; float16: number };
  /**
   * A whole Task frame (soft1 targets on PUBLIC_ROWS rows) with its two index lists and
   * with them derived (PROTOCOL.md, "Derived indices"), for public sets of these sizes.
   */
  taskFrameBytes: Record<string, { lists: number; derived: number }>;
}

const choice = await selectBackend(preferred);
log(`backend ${choice.name}: ${choice.reason}`);

const rand = lcg(12345);
const privateSet = syntheticDataset(2 * BATCH, rand);
const publicX = uniform(PUBLIC_ROWS * 28 * 28, rand);
const targets = randomDistributions(PUBLIC_ROWS, CLASSES, rand);
const predictX = uniform(PREDICT_ROWS * 28 * 28, rand);

const results: ModelResult[] = [];
let codecsPeaked: Record<string, CodecFigures> | undefined;
let delta: { drift: DriftOptions; byThreshold: Record<string, Record<string, DeltaFigures>> } | undefined;
for (const arch of archs as ModelArch[]) {
  const model = createModel(arch, { inputShape: SHAPE, numClasses: CLASSES, seed: 1 });
  const trainer = new Trainer(model, { learningRate: 1e-3 });
  try {
    let epoch = 0;
    const trainSamplesPerSec = await throughput(async () => {
      const r = await trainer.trainEpoch(privateSet, {
        batchSize: BATCH,
        seed: epoch++,
        publicX,
        targets,
        temperature: TEMPERATURE,
        lambda: LAMBDA,
      });
      return r.samples;
    });
    const predictSamplesPerSec = await throughput(async () => {
      await predictPublic(model, predictX, SHAPE, TEMPERATURE, PREDICT_BATCH);
      return PREDICT_ROWS;
    });
    const probs = await predictPublic(model, publicX, SHAPE, TEMPERATURE, PREDICT_BATCH);
    const bytesPerPublicBatch: Record<string, number> = {};
    for (const enc of PREDICTION_ENCODINGS) {
      bytesPerPublicBatch[enc] = encodePredictions(probs, PUBLIC_ROWS, CLASSES, enc, { k: TOPK }).length;
    }
    const codecs = benchCodecs(probs, PUBLIC_ROWS, CLASSES, TOPK, Math.min(seconds, 2));
    codecsPeaked ??= benchCodecs(
      peakedRows(PUBLIC_ROWS, CLASSES, TEMPERATURE, lcg(777)),
      PUBLIC_ROWS,
      CLASSES,
      TOPK,
      Math.min(seconds, 2),
    );
    if (!delta) {
      const [a, b] = driftedRounds(DRIFT);
      const s = Math.min(seconds, 2);
      delta = {
        drift: DRIFT,
        byThreshold: Object.fromEntries(
          DELTA_THRESHOLDS.map((th) => [String(th), benchDelta(a, b, PUBLIC_ROWS, CLASSES, TOPK, th, s)]),
        ),
      };
    }
    const params = model.countParams();
    results.push({
      model: arch,
      backend: choice.name,
      params,
      batchSize: BATCH,
      publicBatchSize: BATCH,
      trainSamplesPerSec: round1(trainSamplesPerSec),
      predictSamplesPerSec: round1(predictSamplesPerSec),
      bytesPerPublicBatch,
      deflatedBytesPerPublicBatch: Object.fromEntries(
        Object.entries(codecs).map(([enc, f]) => [enc, f.deflatedBytes]),
      ),
      codecs,
      codecsPeaked: codecsPeaked!,
      delta,
      publicBatch: { rows: PUBLIC_ROWS, classes: CLASSES, topK: TOPK },
      weightBytes: {
        float32: weightByteLength(params, 'float32'),
        float16: weightByteLength(params, 'float16'),
      },
      taskFrameBytes: taskFrames(probs),
    });
    log(`  ${arch} done`);
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

if (values.json) {
  console.log(JSON.stringify(results));
} else {
  console.log('');
  console.log(
    `training: batch ${BATCH} private + ${BATCH} public rows per step (mutual step, T=${TEMPERATURE}, ` +
      `lambda=${LAMBDA}), Adam lr 1e-3; samples/s counts private samples`,
  );
  console.log(`prediction: tempered softmax over ${PREDICT_ROWS} samples, batch ${PREDICT_BATCH}`);
  console.log('');
  console.log(
    `${'model'.padEnd(12)}${'params'.padStart(12)}${'train samples/s'.padStart(18)}${'predict samples/s'.padStart(20)}`,
  );
  for (const r of results) {
    console.log(
      `${r.model.padEnd(12)}${r.params.toLocaleString('en-US').padStart(12)}` +
        `${r.trainSamplesPerSec.toFixed(1).padStart(18)}${r.predictSamplesPerSec.toFixed(1).padStart(20)}`,
    );
  }
  const first = results[0];
  if (first) {
    console.log('');
    console.log(`bytes per public batch of ${PUBLIC_ROWS} x ${CLASSES} predictions (payload, no envelope):`);
    console.log(
      `  ${'encoding'.padEnd(10)}${'bytes'.padStart(8)}${'deflated'.padStart(10)}${'peaked defl.'.padStart(14)}` +
        `${'enc rows/s'.padStart(12)}${'dec rows/s'.padStart(12)}${'coord us plain/defl'.padStart(22)}${'deflate us'.padStart(12)}`,
    );
    for (const [enc, bytes] of Object.entries(first.bytesPerPublicBatch)) {
      const f = first.codecs[enc]!;
      const p = first.codecsPeaked[enc]!;
      console.log(
        `  ${(enc === 'topk' ? `topk k=${TOPK}` : enc).padEnd(10)}${bytes.toLocaleString('en-US').padStart(8)}` +
          `${f.deflatedBytes.toLocaleString('en-US').padStart(10)}${p.deflatedBytes.toLocaleString('en-US').padStart(14)}` +
          `${f.encodeRowsPerSec.toLocaleString('en-US').padStart(12)}${f.decodeRowsPerSec.toLocaleString('en-US').padStart(12)}` +
          `${`${f.coordinatorUsPerUpload.plain} / ${f.coordinatorUsPerUpload.deflated}`.padStart(22)}${String(f.deflateUsPerUpload).padStart(12)}`,
      );
    }
    console.log(
      `one Task frame with soft1 targets on ${PUBLIC_ROWS} rows, index lists sent / derived (PROTOCOL.md, "Derived indices"):`,
    );
    for (const [n, f] of Object.entries(first.taskFrameBytes)) {
      console.log(
        `  public set of ${Number(n).toLocaleString('en-US').padStart(6)}: ${String(f.lists).padStart(6)} / ${String(f.derived).padStart(4)} bytes`,
      );
    }
    if (delta) printDelta(delta);
    console.log('versus one FedAvg weight upload (float32 / float16):');
    for (const r of results) {
      console.log(
        `  ${r.model.padEnd(12)}${r.weightBytes.float32.toLocaleString('en-US').padStart(12)} / ` +
          r.weightBytes.float16.toLocaleString('en-US'),
      );
    }
  }
}

// --- helpers -----------------------------------------------------------------------------

/** Task frames of round 7 with targets of round 6, lists sent and derived, per public-set size. */
function taskFrames(probs: Float32Array): Record<string, { lists: number; derived: number }> {
  const out: Record<string, { lists: number; derived: number }> = {};
  const payload = encodePredictions(probs, PUBLIC_ROWS, CLASSES, 'soft1');
  for (const n of [2000, 5000, 60000]) {
    const rule = { sampleCount: n, batchSize: PUBLIC_ROWS, seed: 1 };
    const frame = (derived: boolean) =>
      Envelope.encode({
        seq: 1000,
        task: {
          round: 7,
          mode: 1,
          predictIndices: derived ? [] : Array.from(publicBatch(rule, 7)),
          indicesDerived: derived,
          targets: {
            version: 6,
            indices: derived ? [] : Array.from(publicBatch(rule, 6)),
            indexVersions: derived ? [6] : [],
            encoding: 6,
            rows: PUBLIC_ROWS,
            classes: CLASSES,
            payload,
            contributors: 9,
          },
          localEpochs: 1,
        },
      }).finish().length;
    out[String(n)] = { lists: frame(false), derived: frame(true) };
  }
  return out;
}

function printDelta(d: NonNullable<typeof delta>): void {
  const { flip, jitter } = d.drift;
  console.log(
    `delta payloads: round 2 against round 1, ${flip * 100}% of rows with a new top class, logits +N(0, ${jitter}):`,
  );
  console.log(
    `  ${'encoding'.padEnd(10)}${'thresh'.padStart(7)}${'full/defl'.padStart(14)}${'delta/defl'.padStart(14)}` +
      `${'rows'.padStart(6)}${'encode us'.padStart(11)}${'coord us plain/defl'.padStart(22)}`,
  );
  for (const [th, byEnc] of Object.entries(d.byThreshold)) {
    for (const [enc, f] of Object.entries(byEnc)) {
      console.log(
        `  ${enc.padEnd(10)}${th.padStart(7)}${`${f.fullBytes}/${f.fullDeflated}`.padStart(14)}` +
          `${`${f.deltaBytes}/${f.deltaDeflated}`.padStart(14)}${String(f.rowsSent).padStart(6)}` +
          `${String(f.encodeUsPerUpload).padStart(11)}` +
          `${`${f.coordinatorUsPerUpload.plain} / ${f.coordinatorUsPerUpload.deflated}`.padStart(22)}`,
      );
    }
  }
}

/** Items per second of `run` (which returns how many it processed), after one warm-up run. */
async function throughput(run: () => Promise<number>): Promise<number> {
  await run();
  let items = 0;
  const t0 = performance.now();
  do items += await run();
  while (performance.now() - t0 < seconds * 1000);
  return items / ((performance.now() - t0) / 1000);
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
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

function syntheticDataset(n: number, r: () => number): Dataset {
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % CLASSES;
  return { x: uniform(n * 28 * 28, r), y, n, shape: SHAPE, numClasses: CLASSES };
}

/** Softmax rows of random logits, like a consensus. */
function randomDistributions(n: number, C: number, r: () => number): Float32Array {
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(4 * r());
      out[i * C + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[i * C + c] = out[i * C + c]! / sum;
  }
  return out;
}
