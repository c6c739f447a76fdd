/**
 * `mutua-client --local-mutual A,B[,…]`: options of the local mutual-learning experiment
 * (no coordinator). Parsed and validated before any data is read (exit 2 on a typo).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isModelArch, MODEL_ARCHS, type ModelArch } from '@mutua/core/model-archs';
import { CliError } from '../cli-error.ts';

export interface LocalMutualOptions {
  /** The cohort trained together (k >= 2, repeats allowed). */
  cohort: ModelArch[];
  dataset: 'mnist' | 'fashion-mnist';
  trainSize: number;
  testSize: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  temperature: number;
  lambda: number;
  /** One-way baseline: this arch is trained alone first, then distilled into each student. */
  teacher?: ModelArch;
  teacherEpochs: number;
  /** Also train each distinct cohort arch alone (default true). */
  alone: boolean;
  seeds: number[];
  /** Target sparsity of the students' kernels (teacher never pruned); absent: dense. */
  prune?: number;
  /** Pruning window as fractions of the training steps. */
  pruneBegin: number;
  pruneEnd: number;
  exportDir?: string;
  out?: string;
  csv?: string;
  quiet: boolean;
}

export const LOCAL_MUTUAL_HELP = `Usage: mutua-client --local-mutual ARCH,ARCH[,…] [options]

Local mutual learning without a coordinator: the listed models train together on one
data set, each with the federation's loss CE + λ·T²·KL toward the mean of the others'
tempered predictions, against two baselines run by the same command: each model
trained alone, and one-way distillation from a larger pre-trained teacher.

  --local-mutual LIST   the cohort, e.g. mlp-tiny,cnn-tiny (k >= 2; from ${MODEL_ARCHS.join(', ')})
  --data NAME           builtin:mnist | builtin:fashion-mnist (default builtin:mnist)
  --train-size N        first N training samples (default 5000)
  --test-size N         first N test samples (default 2000)
  --epochs N            epochs of every training (default 3)
  --batch-size N        minibatch size (default 32)
  --lr X                Adam learning rate (default 0.001)
  --temperature T       softmax temperature of the KL term (default 1)
  --lambda L            weight of the KL term (default 1)
  --teacher ARCH        one-way baseline: train ARCH alone, then distill it into each
                        student (e.g. cnn-fedavg); without it the baseline is skipped
  --teacher-epochs N    epochs of the teacher (default: --epochs)
  --no-alone            skip the train-alone baseline
  --seeds LIST|N        seeds, e.g. 1,2,3 or 3 (= 1,2,3) (default 1)
  --prune S             prune the students' kernels to sparsity S in [0, 1) by magnitude on a
                        polynomial-decay schedule (TFMOT), masks re-applied after each step
  --prune-begin F       fraction of the steps where pruning starts (default 0.2)
  --prune-end F         fraction of the steps where S is reached (default 0.7); the rest
                        recovers with the masks fixed
  --export-dir DIR      export every student as TF.js layers format with float32, float16 and
                        uint8 weights (+ gzip), and score each exported file
  --out FILE            write every result as JSON
  --csv FILE            write every result as CSV
  --quiet               no progress bar or table
  --help                show this help
`;

const SPEC = {
  'local-mutual': { type: 'string' },
  data: { type: 'string' },
  'train-size': { type: 'string' },
  'test-size': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  temperature: { type: 'string' },
  lambda: { type: 'string' },
  teacher: { type: 'string' },
  'teacher-epochs': { type: 'string' },
  'no-alone': { type: 'boolean' },
  seeds: { type: 'string' },
  prune: { type: 'string' },
  'prune-begin': { type: 'string' },
  'prune-end': { type: 'string' },
  'export-dir': { type: 'string' },
  out: { type: 'string' },
  csv: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(message: string): CliError {
  return new CliError('USAGE', `${message} (see --local-mutual --help)`);
}

function int(flag: string, value: string | undefined, min: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw usage(`--${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

function num(
  flag: string,
  value: string | undefined,
  ok: (n: number) => boolean,
  rule: string,
  dflt: number,
) {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !ok(n))
    throw usage(`--${flag} must be ${rule}, got "${value}"`);
  return n;
}

function arch(flag: string, name: string): ModelArch {
  if (!isModelArch(name))
    throw usage(`--${flag}: unknown model "${name}"; expected one of ${MODEL_ARCHS.join(', ')}`);
  return name;
}

/** "1,2,3" → [1, 2, 3]; "3" → [1, 2, 3]. */
export function parseSeeds(value: string | undefined): number[] {
  if (value === undefined) return [1];
  if (/^\s*\d+\s*$/.test(value) && !value.includes(',')) {
    const n = Number(value);
    if (n < 1 || n > 100) throw usage(`--seeds N must be in 1..100, got "${value}"`);
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  const seeds = value.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^\d+$/.test(s)))
    throw usage(`--seeds must be N or a list like 1,2,3, got "${value}"`);
  const out = seeds.map(Number);
  if (new Set(out).size !== out.length) throw usage(`--seeds repeats a seed: "${value}"`);
  return out;
}

/** Null when --help was asked for. */
export function parseLocalMutualOptions(argv: readonly string[]): LocalMutualOptions | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: SPEC, strict: true, allowPositionals: false }));
  } catch (err) {
    throw usage((err as Error).message.split('\n')[0]!.replace(/^TypeError \[\w+\]: /, ''));
  }
  const s = (k: keyof typeof SPEC) => values[k] as string | undefined;
  if (values.help === true) return null;
  const list = s('local-mutual');
  if (!list) throw usage('--local-mutual needs a list of models, e.g. mlp-tiny,cnn-tiny');
  const cohort = list.split(',').map((a) => arch('local-mutual', a.trim()));
  if (cohort.length < 2)
    throw usage('--local-mutual needs at least two models (mutual learning is between peers)');
  const data = s('data') ?? 'builtin:mnist';
  const m = /^builtin:(mnist|fashion-mnist)$/.exec(data);
  if (!m)
    throw usage(`--data must be builtin:mnist or builtin:fashion-mnist for --local-mutual, got "${data}"`);
  const epochs = int('epochs', s('epochs'), 1, 3);
  const teacher = s('teacher') === undefined ? undefined : arch('teacher', s('teacher')!);
  const prune =
    s('prune') === undefined ? undefined : num('prune', s('prune'), (n) => n > 0 && n < 1, 'in (0, 1)', 0);
  const pruneBegin = num('prune-begin', s('prune-begin'), (n) => n >= 0 && n < 1, 'in [0, 1)', 0.2);
  const pruneEnd = num(
    'prune-end',
    s('prune-end'),
    (n) => n > pruneBegin && n <= 1,
    `in (${pruneBegin}, 1]`,
    0.7,
  );
  if (prune === undefined && (s('prune-begin') !== undefined || s('prune-end') !== undefined)) {
    throw usage('--prune-begin and --prune-end only apply with --prune S');
  }
  const path = (k: keyof typeof SPEC) => (s(k) === undefined ? undefined : resolve(s(k)!));
  return {
    cohort,
    dataset: m[1] as 'mnist' | 'fashion-mnist',
    trainSize: int('train-size', s('train-size'), 10, 5000),
    testSize: int('test-size', s('test-size'), 10, 2000),
    epochs,
    batchSize: int('batch-size', s('batch-size'), 1, 32),
    learningRate: num('lr', s('lr'), (n) => n > 0, 'a number > 0', 1e-3),
    temperature: num('temperature', s('temperature'), (n) => n > 0, 'a number > 0', 1),
    lambda: num('lambda', s('lambda'), (n) => n >= 0, 'a number >= 0', 1),
    ...(teacher ? { teacher } : {}),
    teacherEpochs: int('teacher-epochs', s('teacher-epochs'), 1, epochs),
    alone: values['no-alone'] !== true,
    seeds: parseSeeds(s('seeds')),
    ...(prune === undefined ? {} : { prune }),
    pruneBegin,
    pruneEnd,
    ...(path('export-dir') ? { exportDir: path('export-dir')! } : {}),
    ...(path('out') ? { out: path('out')! } : {}),
    ...(path('csv') ? { csv: path('csv')! } : {}),
    quiet: values.quiet === true,
  };
}
