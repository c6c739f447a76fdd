/** `mutua federation create|list|show|pause|resume|delete`. */
import { int, list, type Parsed, positionals, str } from './args.ts';
import type { Federation } from './client.ts';
import { type Command, type Context, commandLine } from './command.ts';
import { usage } from './errors.ts';
import { json, keyValues, table, time } from './format.ts';

const BUILTIN = /^builtin:(mnist|fashion-mnist)(?::(train|test))?$/;

/** Flags for the settings people change most; anything else with --set path=value. */
const SETTING_FLAGS: Record<string, { path: string; kind: 'string' | 'int' | 'number' }> = {
  mode: { path: 'mode', kind: 'string' },
  strategy: { path: 'strategy', kind: 'string' },
  aggregation: { path: 'aggregation', kind: 'string' },
  'batch-size': { path: 'batchSize', kind: 'int' },
  'local-epochs': { path: 'localEpochs', kind: 'int' },
  temperature: { path: 'temperature', kind: 'number' },
  lambda: { path: 'lambda', kind: 'number' },
  'model-arch': { path: 'modelArch', kind: 'string' },
  quorum: { path: 'sync.quorum', kind: 'int' },
  'deadline-ms': { path: 'sync.deadlineMs', kind: 'int' },
  'buffer-k': { path: 'async.bufferK', kind: 'int' },
};

const create: Command = {
  words: ['federation', 'create'],
  args: 'NAME (--public-set builtin:DATASET | --public-set-id ID) [options]',
  summary: 'Create a federation with a public set and settings; prints it (next: mutua token create).',
  details: `Public set (the shared unlabeled samples predictions are exchanged on), one of
  --public-set SPEC     built from a built-in data set on the coordinator:
                        builtin:mnist | builtin:fashion-mnist [:test|:train]  (default :test)
  --public-size N       samples in it (default 1000; a split has 60000 train / 10000 test)
  --public-offset N     first sample of the slice (default 0)
  --public-set-id ID    an existing set (mutua public-set list / upload)

Settings (unset ones take the coordinator's defaults; mutua federation show lists them all)
  --mode sync|async     rounds with a barrier, or buffered asynchronous versions
  --strategy S          mutual (distillation, default) | fedavg (needs --model-arch)
  --aggregation A       mean | entropy | era | median | trimmed-mean | agreement
  --batch-size N        public samples per task (at most the public set's size)
  --local-epochs N      local epochs per task
  --temperature T       distillation temperature
  --lambda L            weight of the mutual KL term
  --model-arch ARCH     architecture every participant must train (fedavg)
  --quorum N            sync: submissions that close a round (0 = every online participant)
  --deadline-ms MS      sync: close a round after MS (0 = no deadline)
  --buffer-k K          async: contributions per consensus version
  --set PATH=VALUE      any other setting, e.g. --set sync.minParticipants=2 --set encodings='["float16"]'
                        (VALUE is read as JSON when it parses, else as a string; repeatable)

Example
  mutua federation create digits --public-set builtin:mnist --public-size 2000 --mode async`,
  options: {
    'public-set': { type: 'string' },
    'public-size': { type: 'string' },
    'public-offset': { type: 'string' },
    'public-set-id': { type: 'string' },
    mode: { type: 'string' },
    strategy: { type: 'string' },
    aggregation: { type: 'string' },
    'batch-size': { type: 'string' },
    'local-epochs': { type: 'string' },
    temperature: { type: 'string' },
    lambda: { type: 'string' },
    'model-arch': { type: 'string' },
    quorum: { type: 'string' },
    'deadline-ms': { type: 'string' },
    'buffer-k': { type: 'string' },
    set: { type: 'string', multiple: true },
  },
  async run(ctx, p) {
    const help = `${commandLine(this)} --help`;
    const [name] = positionals(p, ['NAME'], help);
    const body: Record<string, unknown> = { name, ...publicSetOf(p, help) };
    const settings = settingsOf(p, help);
    if (Object.keys(settings).length > 0) body.settings = settings;
    const f = await ctx.client.createFederation(body);
    if (ctx.json) return ctx.out(json(f));
    ctx.out(showFederation(f));
    ctx.note(`next: mutua token create ${f.id} --label <who>   (one join token per participant)`);
  },
};

function publicSetOf(p: Parsed, help: string): Record<string, unknown> {
  const spec = str(p, 'public-set');
  const id = str(p, 'public-set-id');
  if (!spec === !id)
    throw usage('give exactly one of --public-set builtin:DATASET and --public-set-id ID', help);
  if (id !== undefined) {
    for (const k of ['public-size', 'public-offset'])
      if (str(p, k) !== undefined)
        throw usage(`--${k} applies to --public-set builtin:…, not to an existing set`, help);
    return { publicSetId: id };
  }
  const m = BUILTIN.exec(spec!);
  if (!m)
    throw usage(
      `--public-set must be builtin:mnist or builtin:fashion-mnist (optionally :test or :train), got "${spec}"; upload your own with mutua public-set upload and pass --public-set-id`,
      help,
    );
  return {
    publicSet: {
      dataset: m[1],
      split: m[2] ?? 'test',
      offset: int(p, 'public-offset', 0, 70_000, help) ?? 0,
      count: int(p, 'public-size', 1, 70_000, help) ?? 1000,
    },
  };
}

function settingsOf(p: Parsed, help: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flagName, { path, kind }] of Object.entries(SETTING_FLAGS)) {
    const raw = str(p, flagName);
    if (raw === undefined) continue;
    let value: string | number = raw;
    if (kind !== 'string') {
      value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value) || (kind === 'int' && !Number.isInteger(value)))
        throw usage(
          `--${flagName} must be ${kind === 'int' ? 'an integer' : 'a number'}, got "${raw}"`,
          help,
        );
    }
    setPath(out, path, value);
  }
  for (const assignment of list(p, 'set')) {
    const eq = assignment.indexOf('=');
    const path = assignment.slice(0, eq).trim();
    if (eq < 1 || !/^[A-Za-z]\w*(\.[A-Za-z]\w*)*$/.test(path))
      throw usage(`--set takes PATH=VALUE (e.g. sync.minParticipants=2), got "${assignment}"`, help);
    const raw = assignment.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: the plain string (e.g. --set modelArch=cnn).
    }
    setPath(out, path, value);
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** settings → [['mode', 'sync'], ['sync.quorum', 0], …] for the show view. */
function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value && typeof value === 'object' && !Array.isArray(value))
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  return [[prefix, Array.isArray(value) ? value.join(', ') : String(value)]];
}

function showFederation(f: Federation): string {
  const ps = f.publicSet;
  return keyValues([
    ['id', f.id],
    ['name', f.name],
    ['status', f.status],
    ['mode', f.settings.mode],
    ['strategy', f.settings.strategy],
    ['round', f.currentRound],
    ['consensus version', f.consensusVersion],
    ['participants online', f.participantsOnline],
    [
      'public set',
      ps ? `${ps.source}, ${ps.sampleCount} samples of ${ps.shape.join('x')} (${ps.id})` : undefined,
    ],
    ['created', time(f.createdAt)],
    ...flatten(f.settings).map(([k, v]): [string, string] => [`settings.${k}`, v]),
  ]);
}

const list_: Command = {
  words: ['federation', 'list'],
  args: '',
  summary: 'List federations (deleted ones are not shown).',
  options: {},
  async run(ctx, p) {
    positionals(p, [], `${commandLine(this)} --help`);
    const feds = await ctx.client.listFederations();
    if (ctx.json) return ctx.out(json(feds));
    if (feds.length === 0)
      return ctx.note('no federations yet: mutua federation create NAME --public-set builtin:mnist');
    ctx.out(
      table(
        ['id', 'name', 'status', 'mode', 'round', 'online', 'public set', 'created'],
        feds.map((f) => [
          f.id,
          f.name,
          f.status,
          f.settings.mode,
          f.currentRound,
          f.participantsOnline,
          f.publicSet ? `${f.publicSet.source} (${f.publicSet.sampleCount})` : undefined,
          time(f.createdAt),
        ]),
      ),
    );
  },
};

const show: Command = {
  words: ['federation', 'show'],
  args: 'FEDERATION',
  summary: 'Show a federation (by id or name): state, public set and every setting.',
  options: {},
  async run(ctx, p) {
    const [ref] = positionals(p, ['FEDERATION'], `${commandLine(this)} --help`);
    const f = await ctx.client.resolveFederation(ref!);
    ctx.out(ctx.json ? json(f) : showFederation(f));
  },
};

function stateChange(action: 'pause' | 'resume', summary: string): Command {
  return {
    words: ['federation', action],
    args: 'FEDERATION',
    summary,
    options: {},
    async run(ctx: Context, p: Parsed) {
      const [ref] = positionals(p, ['FEDERATION'], `${commandLine(this)} --help`);
      const { id } = await ctx.client.resolveFederation(ref!);
      const f = await ctx.client.setFederationState(id, action);
      ctx.out(ctx.json ? json(f) : `federation ${f.name} (${f.id}) is ${f.status}\n`);
    },
  };
}

const remove: Command = {
  words: ['federation', 'delete'],
  args: 'FEDERATION',
  summary:
    'Delete a federation: participants are disconnected and no one can join; its history stays in the database.',
  options: {},
  async run(ctx, p) {
    const [ref] = positionals(p, ['FEDERATION'], `${commandLine(this)} --help`);
    const f = await ctx.client.resolveFederation(ref!);
    await ctx.client.deleteFederation(f.id);
    ctx.out(
      ctx.json
        ? json({ id: f.id, name: f.name, status: 'deleted' })
        : `federation ${f.name} (${f.id}) deleted\n`,
    );
  },
};

export const federationCommands: readonly Command[] = [
  create,
  list_,
  show,
  stateChange('pause', 'Pause a federation: participants are disconnected (FEDERATION_PAUSED) until resume.'),
  stateChange('resume', 'Resume a paused federation: participants may reconnect and rounds carry on.'),
  remove,
];
