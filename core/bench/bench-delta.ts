/**
 * What delta payloads (PROTOCOL.md, "Delta payloads") save per round, and what they cost.
 *
 * Two rounds of a confident model's tempered rows on the same public batch: round 1 is
 * peakedRows; round 2 moves every row's logits by Gaussian noise (sd `jitter`) and gives a
 * fraction `flip` of the rows a new top class, which is how a participant's predictions
 * drift between rounds once its model has learnt something (the real figure depends on the
 * learning rate and the data; the CLI test measured 22-25% of MNIST rows changing their
 * argmax after the first rounds of a small MLP). Per encoding:
 *
 * - fullBytes / fullDeflated: round 2 sent full (plain; raw-deflated);
 * - deltaBytes / deltaDeflated, rowsSent: round 2 as a delta against round 1 as the receiver
 *   decoded it, at the given threshold;
 * - encodeUsPerUpload: the participant's encodeDelta (encode, decode, compare, encode the sent
 *   rows), in microseconds; coordinatorUsPerUpload: the coordinator's validatePredictionPayload
 *   of the delta (mask, decode of the sent rows, rebuild from the held rows), plain and
 *   inflated first.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type CompressionName,
  DeltaRows,
  decodePredictions,
  encodeDelta,
  encodePredictions,
  PayloadError,
  PREDICTION_ENCODINGS,
  type PredictionEncoding,
  validatePredictionPayload,
} from '@mutua/proto';

export interface DeltaFigures {
  threshold: number;
  fullBytes: number;
  fullDeflated: number;
  deltaBytes: number;
  deltaDeflated: number;
  rowsSent: number;
  encodeUsPerUpload: number;
  coordinatorUsPerUpload: { plain: number; deflated: number };
}

export interface DriftOptions {
  rows: number;
  classes: number;
  temperature: number;
  /** Fraction of rows whose top class changes between the rounds. */
  flip: number;
  /** Standard deviation of the logit noise added to every row. */
  jitter: number;
  seed: number;
}

/** Two rounds of logits-derived rows, the second drifted from the first. */
export function driftedRounds(o: DriftOptions): [Float32Array, Float32Array] {
  let s = o.seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const { rows: n, classes: C, temperature: T } = o;
  const logits = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    const top = Math.floor(rand() * C);
    for (let c = 0; c < C; c++) logits[i * C + c] = c === top ? 8 + 2 * gauss() : gauss();
  }
  const moved = Float64Array.from(logits, (v) => v + o.jitter * gauss());
  for (let i = 0; i < n; i++) {
    if (rand() >= o.flip) continue;
    const row = moved.subarray(i * C, (i + 1) * C);
    const top = row.indexOf(Math.max(...row));
    const other = (top + 1 + Math.floor(rand() * (C - 1))) % C;
    [row[top], row[other]] = [row[other]!, row[top]!];
  }
  return [softmax(logits, n, C, T), softmax(moved, n, C, T)];
}

export function benchDelta(
  first: Float32Array,
  second: Float32Array,
  rows: number,
  classes: number,
  topK: number,
  threshold: number,
  seconds: number,
): Record<string, DeltaFigures> {
  const indices = Uint32Array.from({ length: rows }, (_, i) => i);
  const out: Record<string, DeltaFigures> = {};
  for (const enc of PREDICTION_ENCODINGS) {
    const opts = { k: topK, threshold };
    const held = new DeltaRows(classes);
    held.update(
      indices,
      decodePredictions(encodePredictions(first, rows, classes, enc, opts), rows, classes, enc, opts),
      1,
    );
    const full = encodePredictions(second, rows, classes, enc, opts);
    const d = encodeDelta(second, indices, classes, enc, held, opts);
    const packed = new Uint8Array(deflateRawSync(d.payload));
    const shape = {
      rows,
      classes,
      allowedEncodings: PREDICTION_ENCODINGS,
      maxK: topK,
      compression: { allowed: ['deflate-raw'] as CompressionName[], inflate: inflateAtMost },
      delta: { indices, base: held },
    };
    const upload = (payload: Uint8Array, compression: number) => ({
      round: 2,
      encoding: ENCODING_NUMBERS[enc],
      rows,
      classes,
      k: enc === 'topk' ? topK : 0,
      payload,
      compression,
      deltaBase: 1,
    });
    const coordinator = (compression: number, payload: Uint8Array) =>
      perCall(seconds / 3, () => {
        const v = validatePredictionPayload(upload(payload, compression), shape);
        if (!v.ok) throw v.error;
      });
    out[enc] = {
      threshold,
      fullBytes: full.length,
      fullDeflated: deflateRawSync(full).length,
      deltaBytes: d.payload.length,
      deltaDeflated: packed.length,
      rowsSent: d.sent,
      encodeUsPerUpload: round1(
        perCall(seconds / 3, () => encodeDelta(second, indices, classes, enc, held, opts)) * 1e6,
      ),
      coordinatorUsPerUpload: {
        plain: round1(coordinator(0, d.payload) * 1e6),
        deflated: round1(coordinator(1, packed) * 1e6),
      },
    };
  }
  return out;
}

const ENCODING_NUMBERS: Record<PredictionEncoding, number> = {
  float32: 1,
  float16: 2,
  uint8: 3,
  topk: 4,
  soft1: 6,
  soft2: 7,
  soft4: 8,
  hard: 9,
};

/** The coordinator's inflate of a delta (at most `expected` bytes), without a server import. */
function inflateAtMost(payload: Uint8Array, expected: number): Uint8Array {
  const b = inflateRawSync(payload, { maxOutputLength: expected + 1 });
  if (b.length > expected) throw new PayloadError('PAYLOAD_INFLATE', `inflated to ${b.length}`);
  return b;
}

function softmax(logits: Float64Array, n: number, C: number, T: number): Float32Array {
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[i * C + c]!);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp((logits[i * C + c]! - max) / T);
    for (let c = 0; c < C; c++) out[i * C + c] = Math.exp((logits[i * C + c]! - max) / T) / sum;
  }
  return out;
}

/** Seconds per call of `f`, after a warm-up, over at least `seconds` of wall time. */
function perCall(seconds: number, f: () => unknown): number {
  for (let i = 0; i < 10; i++) f();
  let calls = 0;
  const t0 = performance.now();
  do {
    for (let i = 0; i < 10; i++) f();
    calls += 10;
  } while (performance.now() - t0 < seconds * 1000);
  return (performance.now() - t0) / 1000 / calls;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
