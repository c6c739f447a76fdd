/**
 * `npm run simulate -- [options]`: the flags, their defaults, validation and --help text.
 * Every refusal says which flag and what it accepts.
 */
import { parseArgs } from 'node:util';
import { AGGREGATION_NAMES, type AggregationName, isAggregationName } from '@mutua/proto';
import { ATTACKS, type AttackName, isAttackName } from '../../client-node/src/attack.ts';
import { OptionError } from './option-error.ts';
import { parseSweep, type SweepAxis } from './sweep.ts';
import { METHODS, type MethodName, MODELS, type ModelName } from './types.ts';

export type DatasetName = 'mnist' | 'fashion-mnist';

export interface SimulateOptions {
  dataset: DatasetName;
  clients: number;
  alpha: number;
  seed: number;
  publicSize: number;
  testSize: number;
  /**
   * About this many private samples per participant on average (quick runs): the split runs
   * over the first clients*limit + publicSize + testSize samples. undefined = all.
   */
  limit: number | undefined;
  methods: MethodName[];
  rounds: number;
  /** Assigned to participants round-robin. */
  models: ModelName[];
  epochs: number;
  batchSize: number;
  /** Public samples per round (federation batchSize). */
  publicBatch: number;
  temperature: number;
  lambda: number;
  aggregation: AggregationName;
  bufferK: number;
  maxStaleness: number;
  stalenessExponent: number;
  stragglers: number;
  slowdown: number;
  /**
   * Poisoning: the last `attackers` participants upload `attack` instead of their honest
   * predictions (mutual methods; in the others they run honestly). Absent in runs from
   * before the flag: 0.
   */
  attackers?: number;
  attack?: AttackName;
  /**
   * mutual-async only: run for this long (ms, or 'sync' = mutual-sync's wall time in this
   * run) with no cap on tasks, then stop every participant. undefined = --rounds tasks each.
   */
  asyncBudget: number | 'sync' | undefined;
  /** Accuracy (0..1) for "MB / time to reach X%"; undefined = chosen from the results. */
  target: number | undefined;
  out: string;
  /** Per method; 0 = no limit. */
  timeoutMinutes: number;
  keepTemp: boolean;
  progress: boolean;
  /** Rewrite the table, CSVs and plots of an earlier run from its results.json; run nothing. */
  render: string | undefined;
  /** Print a docs table from these runs' summary.json; run nothing. */
  table: string[] | undefined;
  /** --seeds: every method runs once per seed (split, models and federation); `seed` is the current one. */
  seeds: number[];
  /** --sweep key=v1,v2 (repeatable): the grid of federation settings to run every method at. */
  sweep: SweepAxis[];
  /** Federation settings set as given (a sweep point's keys that no flag above covers). */
  settings?: Record<string, string | number | boolean | string[]>;
}

export {
  applySweepPoint,
  parseSweep,
  SWEEP_FLAGS,
  type SweepAxis,
  sweepAffects,
  sweepGrid,
  variantLabel,
} from './sweep.ts';

export { OptionError };

interface Flag {
  name: string;
  value?: string;
  help: string;
}

const FLAGS: Flag[] = [
  { name: 'dataset', value: 'mnist|fashion-mnist', help: 'built-in data set (default mnist)' },
  { name: 'clients', value: 'N', help: 'participants (default 10)' },
  {
    name: 'alpha',
    value: 'A',
    help: 'Dirichlet label-skew concentration; small = more skewed (default 0.5)',
  },
  { name: 'seed', value: 'S', help: 'seed of the split, the models and the federation (default 1)' },
  {
    name: 'seeds',
    value: 'LIST',
    help: 'run every method once per seed (e.g. 1,2,3); tables show the mean and the range over seeds',
  },
  { name: 'public-size', value: 'P', help: 'samples held out as the unlabeled public set (default 5000)' },
  {
    name: 'test-size',
    value: 'T',
    help: 'samples held out as the test set no one trains on (default 10000)',
  },
  {
    name: 'limit',
    value: 'L',
    help: 'about L private samples per participant, for quick runs: the split uses the first clients x L + public + test samples (default: all)',
  },
  {
    name: 'methods',
    value: 'LIST',
    help: `comma-separated, run in this order (default ${METHODS.join(',')})`,
  },
  { name: 'rounds', value: 'R', help: 'rounds per participant (async: tasks per participant) (default 20)' },
  { name: 'model', value: 'ARCH', help: `${MODELS.join('|')} for every participant (default cnn-small)` },
  {
    name: 'models',
    value: 'LIST',
    help: 'heterogeneous architectures, assigned round-robin; fedavg is skipped when they differ',
  },
  { name: 'epochs', value: 'E', help: 'local epochs per round (default 1)' },
  { name: 'batch-size', value: 'B', help: 'local training batch size (default 32)' },
  {
    name: 'public-batch',
    value: 'K',
    help: 'public samples predicted per round (default 1000, the federation default batchSize)',
  },
  { name: 'temperature', value: 'T', help: 'distillation temperature (default 3)' },
  { name: 'lambda', value: 'L', help: 'weight of the mutual KL term (default 1)' },
  { name: 'aggregation', value: 'NAME', help: `${AGGREGATION_NAMES.join('|')} (default mean)` },
  { name: 'buffer-k', value: 'K', help: 'async: contributions per consensus version (default clients/2)' },
  { name: 'max-staleness', value: 'V', help: 'async: oldest accepted version lag (default 4 x clients)' },
  { name: 'staleness-exponent', value: 'A', help: 'async: weight (1 + staleness)^-A (default 0.5)' },
  {
    name: 'async-budget',
    value: 'S|sync',
    help: "mutual-async: no task cap; stop every participant after S seconds, or after mutual-sync's wall time in this run (default: --rounds tasks each)",
  },
  { name: 'stragglers', value: 'K', help: 'the last K participants are slowed down (default 0)' },
  { name: 'slowdown', value: 'S', help: 'how many times slower a straggler is (default 5)' },
  {
    name: 'attackers',
    value: 'K',
    help: 'poisoning: the last K participants attack (needs --attack); the tables add the mean over the others (default 0)',
  },
  {
    name: 'attack',
    value: 'KIND',
    help: `${ATTACKS.join('|')}: what attackers upload (mutua-client --attack; mutual methods only, elsewhere they run honestly)`,
  },
  {
    name: 'target-accuracy',
    value: 'X',
    help: 'accuracy (0.9 or 90) for the "MB / time to reach X%" columns (default: the lowest final mean of the federated methods)',
  },
  {
    name: 'sweep',
    value: 'KEY=V1,V2',
    help: 'repeatable: run every method at each point of the grid of these federation settings (lambda, temperature, batchSize, localEpochs, distillEpochs, aggregation, eraTemperature, async.bufferK, ...)',
  },
  { name: 'out', value: 'DIR', help: 'where results go (default results/tmp/simulate-<dataset>-<time>)' },
  { name: 'timeout-minutes', value: 'M', help: 'stop a method that runs longer (default 0 = no limit)' },
  { name: 'keep-temp', help: "keep the coordinator's data dir and the participants' logs" },
  { name: 'no-progress', help: 'no progress bar (one line per finished method instead)' },
  {
    name: 'render',
    value: 'DIR',
    help: 'run nothing: rewrite summary.md, summary.json, the CSVs and plots in DIR from its results.json',
  },
  {
    name: 'table',
    value: 'DIR[,DIR]',
    help: 'run nothing: print a Markdown table for the docs from the summary.json of these runs',
  },
  { name: 'help', help: 'this text' },
];

export function helpText(): string {
  const width = Math.max(...FLAGS.map((f) => f.name.length + (f.value ? f.value.length + 1 : 0))) + 4;
  const lines = FLAGS.map((f) => {
    const left = `--${f.name}${f.value ? ` ${f.value}` : ''}`;
    return `  ${left.padEnd(width)}${f.help}`;
  });
  return `Usage: npm run simulate -- [options]

Runs a federation experiment on this machine: a coordinator (embedded database, temp dir)
and one mutua-client process per participant, for each method in turn, on the same
seeded non-IID split. Writes results.json, rounds.csv, timeline.csv, records.csv,
summary.md and accuracy-vs-{round,mb,time}.svg into --out.

Methods: local-only (no federation), centralised (one model on the union of the private
shards: the upper bound), fedavg, fedavg-f16 and fedavg-u8 (weights sent as float32, float16
or 8 bits with a scale and offset per tensor; scored on the global model), mutual-sync and
mutual-async (mutual distillation of predictions on the public set).
Also writes summary.json (per method: accuracy, bytes, bytes to the target, ratios).

Options:
${lines.join('\n')}

Example (a quick run):
  npm run simulate -- --clients 3 --limit 300 --rounds 5 --model mlp --public-size 1000 --test-size 1000
`;
}

function num(
  flag: string,
  raw: string | undefined,
  fallback: number,
  check: (v: number) => boolean,
  what: string,
) {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) {
    throw new OptionError(`--${flag} must be ${what}, got "${raw}"`);
  }
  return v;
}
const int = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

function list<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new OptionError(`--${flag} needs at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new OptionError(`--${flag}: unknown "${item}"; expected ${allowed.join(', ')}`);
    }
  }
  return items as T[];
}

/** Parses argv (without node and the script); returns 'help' for --help. */
export function parseOptions(argv: readonly string[], now = new Date()): SimulateOptions | 'help' {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        FLAGS.map((f) => [
          f.name,
          { type: f.value ? ('string' as const) : ('boolean' as const), multiple: f.name === 'sweep' },
        ]),
      ),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    throw new OptionError(`${first} (see --help)`);
  }
  if (values.help) return 'help';
  const s = (k: string) => values[k] as string | undefined;

  const dataset = s('dataset') ?? 'mnist';
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist') {
    throw new OptionError(`--dataset must be mnist or fashion-mnist, got "${dataset}"`);
  }
  const clients = num('clients', s('clients'), 10, int(1), 'an integer >= 1');
  if (s('model') !== undefined && s('models') !== undefined) {
    throw new OptionError('give --model or --models, not both');
  }
  const models = list('models', s('models') ?? s('model') ?? 'cnn-small', MODELS);
  const methods = list('methods', s('methods') ?? METHODS.join(','), METHODS);
  if (new Set(methods).size !== methods.length) throw new OptionError('--methods lists a method twice');
  const stragglers = num('stragglers', s('stragglers'), 0, int(0), 'an integer >= 0');
  if (stragglers > clients)
    throw new OptionError(`--stragglers ${stragglers} is more than --clients ${clients}`);
  const attackers = num('attackers', s('attackers'), 0, int(0), 'an integer >= 0');
  if (attackers >= clients && attackers > 0)
    throw new OptionError(`--attackers ${attackers} leaves no honest participant among --clients ${clients}`);
  const attackRaw = s('attack');
  if (attackRaw !== undefined && !isAttackName(attackRaw))
    throw new OptionError(`--attack must be one of ${ATTACKS.join(', ')}, got "${attackRaw}"`);
  const attack = attackRaw as AttackName | undefined;
  if (attackers > 0 && attack === undefined) throw new OptionError(`--attackers ${attackers} needs --attack`);
  if (attack !== undefined && attackers === 0) throw new OptionError('--attack needs --attackers K (K >= 1)');
  let target = num(
    'target-accuracy',
    s('target-accuracy'),
    Number.NaN,
    (v) => v > 0 && v <= 100,
    'in (0, 1] or (1, 100]',
  );
  if (target > 1) target /= 100;
  const budgetRaw = s('async-budget');
  let asyncBudget: SimulateOptions['asyncBudget'];
  if (budgetRaw === 'sync') {
    const sync = methods.indexOf('mutual-sync');
    if (sync < 0 || sync > methods.indexOf('mutual-async')) {
      throw new OptionError('--async-budget sync needs mutual-sync to run before mutual-async in --methods');
    }
    asyncBudget = 'sync';
  } else if (budgetRaw !== undefined) {
    asyncBudget = num('async-budget', budgetRaw, 0, (v) => v > 0, 'a number of seconds > 0 or "sync"') * 1000;
  }
  if (s('seed') !== undefined && s('seeds') !== undefined)
    throw new OptionError('give --seed or --seeds, not both');
  const seedOk = (v: number) => int(0)(v) && v <= 0xffffffff;
  const seed = num('seed', s('seed'), 1, seedOk, 'an integer in [0, 2^32)');
  const seedsRaw = s('seeds');
  const seeds =
    seedsRaw === undefined
      ? [seed]
      : seedsRaw.split(',').map((v) => num('seeds', v, 0, seedOk, 'a list of integers in [0, 2^32)'));
  if (new Set(seeds).size !== seeds.length) throw new OptionError('--seeds lists a seed twice');
  const sweep = ((values.sweep as string[] | undefined) ?? []).map(parseSweep);
  if (new Set(sweep.map((a) => a.key)).size !== sweep.length)
    throw new OptionError('--sweep names a key twice');
  const limitRaw = s('limit');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const aggregation = s('aggregation') ?? 'mean';
  if (!isAggregationName(aggregation)) {
    throw new OptionError(
      `--aggregation must be one of ${AGGREGATION_NAMES.join(', ')}, got "${aggregation}"`,
    );
  }
  return {
    dataset,
    clients,
    alpha: num('alpha', s('alpha'), 0.5, (v) => v > 0, 'a number > 0'),
    seed: seeds[0]!,
    publicSize: num('public-size', s('public-size'), 5000, int(1), 'an integer >= 1'),
    testSize: num('test-size', s('test-size'), 10000, int(1), 'an integer >= 1'),
    limit: limitRaw === undefined ? undefined : num('limit', limitRaw, 0, int(1), 'an integer >= 1'),
    methods,
    rounds: num('rounds', s('rounds'), 20, int(1), 'an integer >= 1'),
    models,
    epochs: num('epochs', s('epochs'), 1, int(1), 'an integer >= 1'),
    batchSize: num('batch-size', s('batch-size'), 32, int(1), 'an integer >= 1'),
    publicBatch: num('public-batch', s('public-batch'), 1000, int(1), 'an integer >= 1'),
    temperature: num('temperature', s('temperature'), 3, (v) => v > 0, 'a number > 0'),
    lambda: num('lambda', s('lambda'), 1, (v) => v >= 0, 'a number >= 0'),
    aggregation,
    bufferK: num('buffer-k', s('buffer-k'), Math.max(1, Math.ceil(clients / 2)), int(1), 'an integer >= 1'),
    maxStaleness: num('max-staleness', s('max-staleness'), 4 * clients, int(0), 'an integer >= 0'),
    stalenessExponent: num(
      'staleness-exponent',
      s('staleness-exponent'),
      0.5,
      (v) => v >= 0,
      'a number >= 0',
    ),
    stragglers,
    attackers,
    ...(attack === undefined ? {} : { attack }),
    asyncBudget,
    slowdown: num('slowdown', s('slowdown'), 5, (v) => v >= 1, 'a number >= 1'),
    target: Number.isNaN(target) ? undefined : target,
    out: s('out') ?? `results/tmp/simulate-${dataset}-${stamp}`,
    timeoutMinutes: num('timeout-minutes', s('timeout-minutes'), 0, (v) => v >= 0, 'a number >= 0'),
    keepTemp: Boolean(values['keep-temp']),
    progress: !values['no-progress'],
    render: s('render'),
    table: s('table')
      ?.split(',')
      .map((d) => d.trim())
      .filter(Boolean),
    seeds,
    sweep,
  };
}
