/**
 * Training-step throughput and per-kernel profile on the tfjs wasm backend.
 *
 *   node --import tsx core/bench/profile-step.ts [model ...] [--mode stock|fast|both]
 *        [--batch 64] [--steps 10] [--rounds 5] [--top 15] [--profile-steps 3] [--no-profile]
 *        [--optimizer adam|sgd]
 *
 * models: mlp, cnn-small, cnn-fedavg (default: all three). A step is what a participant
 * runs: forward, softmax cross-entropy, tf.variableGrads, Adam. "stock" registers only
 * the gradients wasm lacks and uses tf.train.adam; "fast" adds Mutua's faster kernels
 * and its fused Adam (same maths); "both" (default) alternates the two round by round
 * in one process, so both see the same machine state. --optimizer sgd swaps Adam for
 * plain SGD in both modes, which shows what the optimizer itself costs.
 *
 * Two figures per mode, because a shared machine's load inflates wall time:
 * - wall samples/s: median and best round (the best is closest to an idle machine);
 * - cpu samples/s: samples per second of this process's CPU time, which other processes
 *   barely affect (wasm runs single-threaded under Node, so on an idle machine the two
 *   agree up to GC threads).
 * The per-kernel table is tf.profile of a few extra steps with kernel times measured as
 * CPU time, for the same reason; each row shows its lowest time over those steps, which
 * drops the garbage-collection pauses that land on random kernels.
 */

import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend-node.ts';
import { fusedAdam } from '../src/fused-adam.ts';
import { registerWasmGradientKernels } from '../src/kernels/register.ts';
import { createModel, isModelArch, MODEL_ARCHS, type ModelArch } from '../src/models.ts';

type Mode = 'stock' | 'fast';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mode: { type: 'string', default: 'both' },
    batch: { type: 'string', default: '64' },
    steps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    top: { type: 'string', default: '15' },
    'profile-steps': { type: 'string', default: '3' },
    optimizer: { type: 'string', default: 'adam' },
    'no-profile': { type: 'boolean', default: false },
  },
});

const archs = positionals.length > 0 ? positionals : [...MODEL_ARCHS];
for (const a of archs)
  if (!isModelArch(a)) throw new Error(`unknown model ${a}; expected ${MODEL_ARCHS.join(', ')}`);
const modes: Mode[] =
  values.mode === 'both'
    ? ['stock', 'fast']
    : values.mode === 'stock' || values.mode === 'fast'
      ? [values.mode]
      : [];
if (modes.length === 0) throw new Error(`--mode must be stock, fast or both, got ${values.mode}`);
const batch = Number(values.batch);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const top = Number(values.top);

const chosen = await selectBackend('wasm');
console.log(`backend ${chosen.name}: ${chosen.reason}`);

function useMode(mode: Mode): void {
  registerWasmGradientKernels({ fast: mode === 'fast' });
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** One participant's training step, as the trainer runs it, on fixed random data. */
function trainer(arch: ModelArch, mode: Mode) {
  const numClasses = 10;
  const inputShape = arch === 'mlp' ? [784] : [28, 28, 1];
  const model = createModel(arch, { inputShape, numClasses, seed: 1 });
  const x = tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', 7);
  const labels = tf.tidy(() =>
    tf.oneHot(tf.randomUniform([batch], 0, numClasses, 'int32', 8) as tf.Tensor1D, numClasses),
  );
  // Adam is tfjs' own in stock mode and Mutua's fused one (same maths) in fast mode.
  const optimizer =
    values.optimizer === 'sgd' ? tf.train.sgd(1e-2) : mode === 'fast' ? fusedAdam(1e-3) : tf.train.adam(1e-3);
  const step = () => {
    // minimize = tf.variableGrads + applyGradients + disposing the gradients.
    const loss = optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss?.dispose();
  };
  const dispose = () => {
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
  };
  return { step, dispose };
}

interface Round {
  wall: number;
  cpu: number;
}

async function measure(arch: ModelArch): Promise<Map<Mode, Round[]>> {
  const trainers = new Map(modes.map((m) => [m, trainer(arch, m)] as const));
  for (const mode of modes) {
    useMode(mode);
    for (let i = 0; i < 3; i++) trainers.get(mode)!.step();
  }
  const results = new Map<Mode, Round[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) {
    for (const mode of modes) {
      useMode(mode);
      const { step } = trainers.get(mode)!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      const wall = performance.now() - t0;
      results
        .get(mode)!
        .push({ wall: (steps * batch * 1000) / wall, cpu: (steps * batch * 1000) / cpuMs(c0) });
    }
  }
  if (!values['no-profile']) {
    for (const mode of modes) {
      useMode(mode);
      await printProfile(arch, mode, trainers.get(mode)!.step);
    }
  }
  for (const t of trainers.values()) t.dispose();
  return results;
}

async function printProfile(arch: ModelArch, mode: Mode, step: () => void): Promise<void> {
  // tf.profile times each kernel through backend.time(); measure CPU time instead of wall.
  const backend = tf.backend();
  const wallTime = backend.time.bind(backend);
  backend.time = async (f: () => void) => {
    const c0 = process.cpuUsage();
    f();
    return { kernelMs: cpuMs(c0) };
  };
  const groups = new Map<string, { ms: number[]; count: number }>();
  const stepMs: number[] = [];
  let kernelCount = 0;
  for (let p = 0; p < Number(values['profile-steps']); p++) {
    const c0 = process.cpuUsage();
    const info = await tf.profile(step);
    stepMs.push(cpuMs(c0));
    kernelCount = info.kernels.length;
    const perKey = new Map<string, { ms: number; count: number }>();
    for (const k of info.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      const g = perKey.get(key) ?? { ms: 0, count: 0 };
      g.ms += Number(k.kernelTimeMs);
      g.count += 1;
      perKey.set(key, g);
    }
    for (const [key, g] of perKey) {
      const all = groups.get(key) ?? { ms: [], count: g.count };
      all.ms.push(g.ms);
      groups.set(key, all);
    }
  }
  backend.time = wallTime;
  const rows = [...groups.entries()].map(([key, g]) => ({ key, ms: Math.min(...g.ms), count: g.count }));
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(
    `\n${arch} [${mode}]: profiled step ${Math.min(...stepMs).toFixed(1)} ms CPU, ` +
      `sum of kernel times ${total.toFixed(1)} ms, #kernels ${kernelCount}`,
  );
  rows.sort((a, b) => b.ms - a.ms);
  for (const r of rows.slice(0, top))
    console.log(`  ${r.ms.toFixed(2).padStart(8)} ms  x${r.count}  ${r.key}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const all = new Map<string, Map<Mode, Round[]>>();
for (const arch of archs as ModelArch[]) all.set(arch, await measure(arch));

const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(
  `\nsamples/s, batch ${batch}, ${values.optimizer}, ${rounds} rounds x ${steps} steps, 1-min load avg ${load}:`,
);
console.log(
  `  ${'model'.padEnd(11)} ${'mode'.padEnd(6)} ${'wall median'.padStart(12)} ${'wall best'.padStart(10)} ${'cpu'.padStart(8)}`,
);
for (const [arch, byMode] of all) {
  for (const [mode, rs] of byMode) {
    const wall = rs.map((r) => r.wall);
    const cpu = median(rs.map((r) => r.cpu));
    console.log(
      `  ${arch.padEnd(11)} ${mode.padEnd(6)} ${median(wall).toFixed(0).padStart(12)} ` +
        `${Math.max(...wall)
          .toFixed(0)
          .padStart(10)} ${cpu.toFixed(0).padStart(8)}`,
    );
  }
  const s = byMode.get('stock');
  const f = byMode.get('fast');
  if (s && f) {
    const ratio = (pick: (r: Round) => number) => (median(f.map(pick)) / median(s.map(pick))).toFixed(2);
    console.log(`  ${''.padEnd(11)} speed-up: wall x${ratio((r) => r.wall)}, cpu x${ratio((r) => r.cpu)}`);
  }
}
