/**
 * The command line: parsing, validation and the --help text. Every check happens here,
 * before any data is read or connection opened, so a typo fails in milliseconds with a
 * message naming the option (exit 2).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_PREFERENCES, type BackendPreference, isBackendPreference } from '@mutua/core/backend-names';
import { isModelArch, MODEL_ARCHS, type ModelArch } from '@mutua/core/model-archs';
import { type CompressionName, PREDICTION_ENCODINGS, type PredictionEncoding } from '@mutua/core/session';
import { ATTACKS, type AttackName, isAttackName } from './attack.ts';
import { CliError } from './cli-error.ts';
import { coordinatorWsUrl } from './coordinator-url.ts';

export interface ShardOptions {
  /** 0-based client index k (0 with `all`). */
  index: number;
  /**
   * --shard all/N: the union of the N clients' private shards (the centralised baseline: all
   * private data in one place; the public and test sets stay held out). --local-only only.
   */
  all?: boolean;
  /** Number of clients N. */
  count: number;
  alpha: number;
  seed: number;
  publicSize: number;
  testSize: number;
}

export interface ClientOptions {
  /** The coordinator's WebSocket endpoint (normalised), absent with --local-only. */
  coordinator?: string;
  /** Every --coordinator URL (comma-separated: replicas of a cluster), normalised; tried in turn. */
  coordinators?: string[];
  token?: string;
  /** The --data spec as given. */
  data: string;
  limit?: number;
  /** --shape HxWxC (CSV, image folders). */
  shape?: number[];
  /** --num-classes: the model's class count when the data does not show every class. */
  numClasses?: number;
  shard?: ShardOptions;
  evalTest: boolean;
  model: ModelArch;
  /** Local epochs per task; undefined = the task's, else the federation's (local-only: 1). */
  epochs?: number;
  batchSize: number;
  learningRate: number;
  backend: BackendPreference;
  /** Base seed for the model initialisation, shuffles and the validation slice; undefined = random. */
  seed?: number;
  checkpointDir: string;
  name?: string;
  cacheDir: string;
  /** --public-set-file: public sets shipped with the application (used when one has the announced sha256). */
  publicSetFiles: string[];
  exportDir?: string;
  valFraction: number;
  maxRounds?: number;
  slowdown: number;
  metricsOut?: string;
  quiet: boolean;
  /** Give up at the first failed connection instead of retrying. */
  noRetry: boolean;
  /** Connection attempts before the first Welcome (later drops retry without limit). */
  connectAttempts: number;
  localOnly: boolean;
  /** --local-only: rounds to run. */
  rounds: number;
  /** --prune S: magnitude-prune the kernels to sparsity S over the first pruneSteps steps. */
  prune?: number;
  pruneSteps: number;
  /** --attack: upload poisoned predictions instead of honest ones (attack.ts). */
  attack?: AttackName;
  /** --encodings: prediction encodings offered (undefined: every one; float32 is always added). */
  encodings?: PredictionEncoding[];
  /** --compression: payload compressions offered besides none. */
  compressions: CompressionName[];
  /** --no-delta: do not offer delta payloads. */
  delta: boolean;
}

export const HELP = `Usage: mutua-client --coordinator URL --token TOKEN --data SPEC [options]
       mutua-client --local-only --rounds R --data SPEC [options]

Takes part in a Mutua federation: trains a model on local data, uploads only its
predictions on the federation's public batch, and distills toward its peers' consensus.

Connection
  --coordinator URL     ws(s)://host:port/v1/ws, or http(s)://host:port (/v1/ws is added);
                        several, comma-separated (replicas of a cluster): each connection
                        attempt tries the next when one cannot be reached
  --token TOKEN         join token from the federation's operator (later runs resume
                        with the resume token kept in the checkpoint directory)
  --name NAME           participant name shown to the operator
  --no-retry            exit at the first failed connection instead of retrying
  --connect-attempts N  attempts to reach the coordinator before giving up (default 5);
                        once joined, dropped connections are retried without limit

Payloads (what this client offers; the federation's preference picks among them)
  --encodings LIST      prediction encodings, comma-separated, of ${PREDICTION_ENCODINGS.join(', ')}
                        (default all; float32 is always offered)
  --compression C       deflate-raw | none: payload compression offered (default deflate-raw)
  --no-delta            never send or receive delta payloads (only changed rows)

Data (private, never uploaded)
  --data SPEC           builtin:mnist | builtin:fashion-mnist [:train|:test]  (default :train)
                        idx:IMAGES,LABELS        IDX files, plain or .gz
                        csv:FILE                 label column then features (needs --shape)
                        images:FOLDER            one subfolder per label, PNG/JPEG (--shape HxWxC)
  --limit N             keep the first N samples of the source
  --shape HxWxC         sample shape for csv: and images:, e.g. 28x28x1
  --num-classes N       classes of the model when the data does not show them all
  --val-fraction F      held-out slice of the data for local accuracy (default 0.1)

Simulation (a shard of a built-in set, as the experiment harness splits it)
  --shard k/N           use client k's shard (k = 0..N-1) of federatedSplit(TRAIN+TEST);
                        all/N: every client's shard at once (with --local-only: the
                        centralised upper bound)
  --alpha A             Dirichlet concentration (default 0.5)
  --seed S              split seed; also seeds the model and shuffles (default: random init)
  --public-size P       samples held out as the public set (default 1000)
  --test-size T         samples held out as the test set (default 1000)
  --eval-test           report accuracy on the split's test set each round (needs --shard);
                        fedavg: also the global model's, as it is loaded before training,
                        and with --max-rounds the last round's before leaving

Model and training
  --model ARCH          ${MODEL_ARCHS.join(' | ')} (default mlp)
  --epochs N            local epochs per round (default: the federation's)
  --batch-size N        private minibatch size (default 32)
  --lr X                Adam learning rate (default 0.001)
  --backend B           ${BACKEND_PREFERENCES.join(' | ')} (default auto: tfjs-node if installed, else wasm)
  --prune S             prune the kernels by magnitude to sparsity S in (0, 1), ramping up on a
                        polynomial-decay schedule (TFMOT) over the first --prune-steps
                        optimizer steps (default 1000), masks re-applied after every step;
                        the KL term toward the peers then recovers the accuracy

Run
  --max-rounds R        leave cleanly after R acknowledged rounds
  --slowdown S          straggler simulation: after training, wait (S-1) x the training time
  --local-only          train without a coordinator (the local-only baseline; needs --rounds)
  --rounds R            rounds for --local-only
  --checkpoint-dir DIR  model after each round and resume token, so a restarted client
                        carries on as the same participant (default ./.mutua-client)
  --export-dir DIR      export the final model (TF.js layers format) here
  --cache-dir DIR       public-set cache, content-addressed by sha256 and checked on
                        every read (default $XDG_CACHE_HOME/mutua or ~/.cache/mutua)
  --public-set-file F   a public set shipped with the application (mutua-public-v1);
                        used instead of a download when its sha256 is the federation's
                        (repeatable)
  --metrics-out FILE    append one JSON line per acknowledged round
  --attack KIND         poisoning experiments: train as usual but upload, instead of the
                        honest predictions (mutual distillation federations only):
                          wrong  all mass on (argmax + 1) mod C, a confident wrong label
                          noise  random confident distributions (softmax of Gaussian
                                 logits, std 4), unrelated to the input
                          copy   the targets the coordinator sent back (free-riding), for
                                 the rows it has them; its own predictions elsewhere
  --quiet               no progress bars or status lines (errors still go to stderr)
  --help                show this help

Exit status: 0 after leaving cleanly (also on Ctrl-C or SIGTERM), 2 when the run cannot
succeed as configured (bad option, unreachable coordinator, bad token, malformed data,
model/federation mismatch), 1 on an unexpected error.
`;

const SPEC = {
  coordinator: { type: 'string' },
  token: { type: 'string' },
  name: { type: 'string' },
  'no-retry': { type: 'boolean' },
  'connect-attempts': { type: 'string' },
  encodings: { type: 'string' },
  compression: { type: 'string' },
  'no-delta': { type: 'boolean' },
  data: { type: 'string' },
  limit: { type: 'string' },
  shape: { type: 'string' },
  'num-classes': { type: 'string' },
  'val-fraction': { type: 'string' },
  shard: { type: 'string' },
  alpha: { type: 'string' },
  seed: { type: 'string' },
  'public-size': { type: 'string' },
  'test-size': { type: 'string' },
  'eval-test': { type: 'boolean' },
  model: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  backend: { type: 'string' },
  'max-rounds': { type: 'string' },
  slowdown: { type: 'string' },
  'local-only': { type: 'boolean' },
  rounds: { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  'export-dir': { type: 'string' },
  'cache-dir': { type: 'string' },
  'public-set-file': { type: 'string', multiple: true },
  'metrics-out': { type: 'string' },
  attack: { type: 'string' },
  prune: { type: 'string' },
  'prune-steps': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(message: string): CliError {
  return new CliError('USAGE', `${message} (see --help)`);
}

function int(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw usage(`--${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

function num(
  flag: string,
  value: string | undefined,
  ok: (n: number) => boolean,
  rule: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !ok(n))
    throw usage(`--${flag} must be ${rule}, got "${value}"`);
  return n;
}

/** "28x28x1" -> [28, 28, 1]. */
export function parseShape(value: string): number[] {
  const parts = value.toLowerCase().split('x');
  const dims = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || dims.some((d) => d < 1)) {
    throw usage(`--shape must look like 28x28x1 (positive integers joined by x), got "${value}"`);
  }
  return dims;
}

/** The default public-set cache: $XDG_CACHE_HOME/mutua, else ~/.cache/mutua. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg ? join(xdg, 'mutua') : join(homedir(), '.cache', 'mutua');
}

/** Parsed options, or null when --help was asked for. Throws CliError (USAGE) on anything invalid. */
export function parseOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ClientOptions | null {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: SPEC, strict: true, allowPositionals: false }));
  } catch (err) {
    throw usage((err as Error).message.split('\n')[0]!.replace(/^TypeError \[\w+\]: /, ''));
  }
  const s = (k: keyof typeof SPEC) => values[k] as string | undefined;
  const b = (k: keyof typeof SPEC) => values[k] === true;
  const list = (k: keyof typeof SPEC) => (values[k] as string[] | undefined) ?? [];
  if (b('help')) return null;

  const localOnly = b('local-only');
  const data = s('data');
  if (!data) throw usage('--data is required');
  let coordinator: string | undefined;
  let coordinators: string[] | undefined;
  const token = s('token');
  if (localOnly) {
    if (s('coordinator') || token)
      throw usage('--local-only runs without a coordinator: drop --coordinator and --token');
    if (s('rounds') === undefined) throw usage('--local-only needs --rounds R');
  } else {
    const given = s('coordinator');
    if (!given) throw usage('--coordinator is required (or --local-only for the local baseline)');
    coordinators = given
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '')
      .map(coordinatorWsUrl);
    coordinator = coordinators[0];
    if (!coordinator) throw usage('--coordinator needs at least one URL');
    if (!token) throw usage('--token is required to join a federation');
    if (s('rounds') !== undefined)
      throw usage('--rounds is for --local-only; use --max-rounds to leave after R rounds');
  }

  const model = s('model') ?? 'mlp';
  if (!isModelArch(model)) throw usage(`--model must be one of ${MODEL_ARCHS.join(', ')}, got "${model}"`);
  const backend = s('backend') ?? 'auto';
  if (!isBackendPreference(backend)) {
    throw usage(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}, got "${backend}"`);
  }

  let shard: ShardOptions | undefined;
  const shardSpec = s('shard');
  const shardOnly = ['alpha', 'public-size', 'test-size'] as const;
  if (shardSpec !== undefined) {
    const m = /^(\d+|all)\/(\d+)$/.exec(shardSpec.trim());
    if (!m) throw usage(`--shard must be k/N (client k of N, k from 0) or all/N, got "${shardSpec}"`);
    const all = m[1] === 'all';
    const index = all ? 0 : Number(m[1]);
    const count = Number(m[2]);
    if (count < 1 || index >= count) throw usage(`--shard k/N needs 0 <= k < N, got "${shardSpec}"`);
    if (all && !b('local-only'))
      throw usage('--shard all/N (every private shard at once) is a --local-only baseline');
    if (!data.startsWith('builtin:'))
      throw usage('--shard splits a built-in data set: use --data builtin:mnist or builtin:fashion-mnist');
    shard = {
      index,
      ...(all ? { all } : {}),
      count,
      alpha: num('alpha', s('alpha'), (n) => n > 0, 'a number > 0') ?? 0.5,
      seed: int('seed', s('seed'), 0) ?? 0,
      publicSize: int('public-size', s('public-size'), 0) ?? 1000,
      testSize: int('test-size', s('test-size'), 0) ?? 1000,
    };
  } else {
    for (const k of shardOnly) if (s(k) !== undefined) throw usage(`--${k} only applies with --shard`);
  }
  const evalTest = b('eval-test');
  if (evalTest && !shard)
    throw usage('--eval-test evaluates the held-out test set of a --shard split; add --shard k/N');

  const attack = s('attack');
  if (attack !== undefined) {
    if (!isAttackName(attack)) throw usage(`--attack must be one of ${ATTACKS.join(', ')}, got "${attack}"`);
    if (localOnly) throw usage('--attack poisons uploads to a coordinator; --local-only uploads nothing');
  }
  if (s('prune-steps') !== undefined && s('prune') === undefined)
    throw usage('--prune-steps only applies with --prune S');
  const encodings = s('encodings')
    ?.split(',')
    .map((e) => e.trim());
  const unknown = encodings?.find((e) => !(PREDICTION_ENCODINGS as readonly string[]).includes(e));
  if (encodings?.length === 0 || unknown !== undefined)
    throw usage(`--encodings takes a list of ${PREDICTION_ENCODINGS.join(', ')}, got "${unknown ?? ''}"`);
  const compression = s('compression') ?? 'deflate-raw';
  if (compression !== 'deflate-raw' && compression !== 'none')
    throw usage(`--compression must be deflate-raw or none, got "${compression}"`);
  if (localOnly && (encodings || s('compression') !== undefined || b('no-delta')))
    throw usage(
      '--encodings, --compression and --no-delta choose upload payloads; --local-only uploads nothing',
    );
  const slowdown = num('slowdown', s('slowdown'), (n) => n >= 1, 'a number >= 1') ?? 1;
  const shape = s('shape') === undefined ? undefined : parseShape(s('shape')!);
  return {
    coordinator,
    coordinators,
    token,
    data,
    limit: int('limit', s('limit'), 1),
    shape,
    numClasses: int('num-classes', s('num-classes'), 2),
    shard,
    evalTest,
    model,
    epochs: int('epochs', s('epochs'), 1),
    batchSize: int('batch-size', s('batch-size'), 1) ?? 32,
    learningRate: num('lr', s('lr'), (n) => n > 0, 'a number > 0') ?? 1e-3,
    backend,
    seed: int('seed', s('seed'), 0),
    checkpointDir: resolve(s('checkpoint-dir') ?? '.mutua-client'),
    name: s('name'),
    cacheDir: resolve(s('cache-dir') ?? defaultCacheDir(env)),
    publicSetFiles: list('public-set-file').map((f) => resolve(f)),
    exportDir: s('export-dir') === undefined ? undefined : resolve(s('export-dir')!),
    valFraction: num('val-fraction', s('val-fraction'), (n) => n >= 0 && n < 1, 'a number in [0, 1)') ?? 0.1,
    maxRounds: int('max-rounds', s('max-rounds'), 1),
    slowdown,
    metricsOut: s('metrics-out') === undefined ? undefined : resolve(s('metrics-out')!),
    quiet: b('quiet'),
    noRetry: b('no-retry'),
    connectAttempts: int('connect-attempts', s('connect-attempts'), 1) ?? 5,
    localOnly,
    rounds: int('rounds', s('rounds'), 1) ?? 0,
    ...(attack === undefined ? {} : { attack }),
    ...(s('prune') === undefined
      ? {}
      : { prune: num('prune', s('prune'), (n) => n > 0 && n < 1, 'in (0, 1)')! }),
    pruneSteps: int('prune-steps', s('prune-steps'), 2) ?? 1000,
    ...(encodings ? { encodings: encodings as PredictionEncoding[] } : {}),
    compressions: compression === 'none' ? [] : [compression],
    delta: !b('no-delta'),
  };
}
