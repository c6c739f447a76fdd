/**
 * Informational timings of the coordinator's aggregation maths on a 512×10 public batch.
 * Run: node --import tsx core/bench/bench-aggregate.ts [maxParticipants]
 * Each kind is repeated until about 300 ms have passed (at least once) and the mean time per
 * aggregation is printed, next to the accumulator's per-update and per-target costs.
 */
import { performance } from 'node:perf_hooks';
import { AGGREGATION_KINDS, aggregate, ConsensusAccumulator, type Contribution } from '../src/aggregate.ts';

const N = 512;
const C = 10;
const SIZES = [10, 100, 1_000, 5_000].filter((m) => m <= Number(process.argv[2] ?? 5_000));

// mulberry32; predictions are sharpened random distributions, like a trained model's.
let seed = 42;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function randomPred(): Float32Array {
  const p = new Float32Array(N * C);
  for (let r = 0; r < N; r++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const v = rand() ** 4;
      p[r * C + c] = v;
      sum += v;
    }
    for (let c = 0; c < C; c++) p[r * C + c] /= sum;
  }
  return p;
}

/** Mean milliseconds per call of `fn`, repeated for about `budgetMs`. */
function time(fn: () => unknown, budgetMs = 300): number {
  fn(); // warm-up (JIT)
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < budgetMs);
  return elapsed / runs;
}

const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`);

const maxM = SIZES[SIZES.length - 1] ?? 0;
console.log(`generating ${maxM} predictions of ${N}×${C}…`);
const all: Contribution[] = Array.from({ length: maxM }, () => ({
  pred: randomPred(),
  weight: 0.5 + rand(),
}));

const header = ['participants', ...AGGREGATION_KINDS, 'acc.set', 'acc.leaveOneOut'];
console.log(header.map((h) => h.padStart(16)).join(''));
for (const m of SIZES) {
  const contributions = all.slice(0, m);
  const cells = AGGREGATION_KINDS.map((kind) =>
    time(() => aggregate(kind, contributions, { numClasses: C })),
  );
  const acc = new ConsensusAccumulator(N, C);
  contributions.forEach((c, j) => {
    acc.set(`p${j}`, c.pred, c.weight);
  });
  let j = 0;
  cells.push(
    time(() => {
      acc.set(`p${j % m}`, all[(j + 1) % m].pred, 1);
      j++;
    }),
  );
  cells.push(time(() => acc.leaveOneOut(`p${j++ % m}`)));
  console.log([String(m), ...cells.map(fmt)].map((c) => c.padStart(16)).join(''));
}
