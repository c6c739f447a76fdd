/**
 * What one public batch of predictions costs per prediction encoding, with and without raw
 * deflate, and what encoding and decoding cost on each side:
 *
 * - bytes: the payload (no envelope), plain and raw-deflated (zlib default level 6, which is
 *   also what CompressionStream('deflate-raw') uses);
 * - encodeRowsPerSec / decodeRowsPerSec: encodePredictions / decodePredictions alone;
 * - coordinatorUsPerUpload: the coordinator's whole decode of one upload as the server runs it
 *   (validatePredictionPayload: shape checks, zlib inflate capped at the expected length when
 *   deflated, decode and row checks), in microseconds;
 * - deflateUsPerUpload: the participant's zlib deflate of one payload.
 *
 * Rows come from `probs` (the caller's: the bench model's own tempered predictions) and from
 * a "peaked" set that looks like a trained model's tempered output (one class with a logit
 * about 8 above the others, T = 3), because entropy coding depends on what the rows hold.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type CompressionName,
  decodePredictions,
  encodePredictions,
  PayloadError,
  PREDICTION_ENCODINGS,
  type PredictionEncoding,
  validatePredictionPayload,
} from '@mutua/proto';

export interface CodecFigures {
  bytes: number;
  deflatedBytes: number;
  encodeRowsPerSec: number;
  decodeRowsPerSec: number;
  coordinatorUsPerUpload: { plain: number; deflated: number };
  deflateUsPerUpload: number;
}

export function benchCodecs(
  probs: Float32Array,
  rows: number,
  classes: number,
  topK: number,
  seconds: number,
): Record<string, CodecFigures> {
  const out: Record<string, CodecFigures> = {};
  for (const enc of PREDICTION_ENCODINGS) {
    const opts = { k: topK };
    const plain = encodePredictions(probs, rows, classes, enc, opts);
    const packed = new Uint8Array(deflateRawSync(plain));
    const upload = (payload: Uint8Array, compression: number) => ({
      round: 1,
      encoding: ENCODING_NUMBERS[enc],
      rows,
      classes,
      k: enc === 'topk' ? topK : 0,
      payload,
      compression,
    });
    const shape = {
      rows,
      classes,
      allowedEncodings: PREDICTION_ENCODINGS,
      maxK: topK,
      compression: { allowed: ['deflate-raw'] as CompressionName[], inflate: inflateCapped },
    };
    const coordinator = (compression: number, payload: Uint8Array) =>
      perCall(seconds / 4, () => {
        const v = validatePredictionPayload(upload(payload, compression), shape);
        if (!v.ok) throw v.error;
      });
    out[enc] = {
      bytes: plain.length,
      deflatedBytes: packed.length,
      encodeRowsPerSec: Math.round(
        rows / perCall(seconds / 4, () => encodePredictions(probs, rows, classes, enc, opts)),
      ),
      decodeRowsPerSec: Math.round(
        rows / perCall(seconds / 4, () => decodePredictions(plain, rows, classes, enc, opts)),
      ),
      coordinatorUsPerUpload: {
        plain: round1(coordinator(0, plain) * 1e6),
        deflated: round1(coordinator(1, packed) * 1e6),
      },
      deflateUsPerUpload: round1(perCall(seconds / 4, () => deflateRawSync(plain)) * 1e6),
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

/** The coordinator's inflate (server/src/ws/payload-compression.ts), without a server import. */
function inflateCapped(payload: Uint8Array, expected: number): Uint8Array {
  const b = inflateRawSync(payload, { maxOutputLength: expected + 1 });
  if (b.length !== expected) throw new PayloadError('PAYLOAD_INFLATE', `inflated to ${b.length}`);
  return b;
}

/** Seconds per call of `f`, after a warm-up, over at least `seconds` of wall time. */
function perCall(seconds: number, f: () => unknown): number {
  for (let i = 0; i < 20; i++) f();
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

/** Tempered softmax rows of a confident model: one logit ~ 8 above the rest, at temperature T. */
export function peakedRows(n: number, C: number, T: number, rand: () => number): Float32Array {
  const out = new Float32Array(n * C);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  for (let i = 0; i < n; i++) {
    const top = Math.floor(rand() * C);
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const logit = (c === top ? 8 + 2 * gauss() : gauss()) / T;
      const e = Math.exp(logit);
      out[i * C + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[i * C + c] = out[i * C + c]! / sum;
  }
  return out;
}
