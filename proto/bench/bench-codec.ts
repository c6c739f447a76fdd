// Encode/decode cost of one prediction upload per encoding (informational, not a test).
// Usage: node --import tsx proto/bench/bench-codec.ts [n] [C] [k]
import { decodePredictions, encodePredictions, type PredictionEncoding } from '../src/prediction-codec.ts';

const n = Number(process.argv[2] ?? 512);
const C = Number(process.argv[3] ?? 10);
const k = Number(process.argv[4] ?? 3);

// Deterministic softmax rows, so runs are comparable.
let seed = 12345;
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const probs = new Float32Array(n * C);
for (let r = 0; r < n; r++) {
  let sum = 0;
  for (let j = 0; j < C; j++) {
    const e = Math.exp(6 * rand());
    probs[r * C + j] = e;
    sum += e;
  }
  for (let j = 0; j < C; j++) probs[r * C + j] = probs[r * C + j]! / sum;
}

/** Fastest round, in microseconds per call, over `rounds` timed rounds of `reps` calls (the minimum is the least disturbed by other load). */
function time(fn: () => unknown, reps = 200, rounds = 15): number {
  for (let i = 0; i < reps * 3; i++) fn(); // warm up the JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3 / reps);
  }
  samples.sort((a, b) => a - b);
  return samples[0]!;
}

console.log(`prediction codec, ${n} x ${C} batch (topk k=${k}), Node ${process.version}`);
console.log('encoding   bytes   encode µs   decode+validate µs');
for (const enc of ['float32', 'float16', 'uint8', 'topk'] as PredictionEncoding[]) {
  const bytes = encodePredictions(probs, n, C, enc, { k });
  // Decode from an odd byteOffset too, as a Buffer sliced out of a pooled frame would be.
  const shifted = new Uint8Array(bytes.length + 1).subarray(1);
  shifted.set(bytes);
  const enc_us = time(() => encodePredictions(probs, n, C, enc, { k }));
  const dec_us = time(() => decodePredictions(bytes, n, C, enc, { k }));
  const decUnaligned = time(() => decodePredictions(shifted, n, C, enc, { k }));
  console.log(
    `${enc.padEnd(9)} ${String(bytes.length).padStart(6)} ${enc_us.toFixed(1).padStart(11)} ${dec_us
      .toFixed(1)
      .padStart(12)}  (unaligned ${decUnaligned.toFixed(1)})`,
  );
}
