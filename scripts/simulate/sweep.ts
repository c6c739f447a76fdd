/** --sweep: a grid of federation settings, every method run at each point. */
import { OptionError } from './option-error.ts';
import type { SimulateOptions } from './options.ts';

export interface SweepAxis {
  /** A federation setting, e.g. lambda, temperature, batchSize, localEpochs, async.bufferK. */
  key: string;
  values: (string | number)[];
}

/**
 * Sweep keys that are also harness flags: setting the flag keeps the participants' command
 * lines and the summary consistent with the federation (e.g. localEpochs is also --epochs,
 * which a participant would otherwise let override the federation's value).
 */
export const SWEEP_FLAGS: Record<string, keyof SimulateOptions> = {
  lambda: 'lambda',
  temperature: 'temperature',
  aggregation: 'aggregation',
  batchSize: 'publicBatch',
  localEpochs: 'epochs',
  'async.bufferK': 'bufferK',
  'async.maxStaleness': 'maxStaleness',
  'async.stalenessExponent': 'stalenessExponent',
};

/**
 * Settings that are lists: a sweep value names one list with its items joined by '+', e.g.
 * `--sweep encodings=uint8,soft2+uint8,hard+uint8 --sweep compressions=none,deflate-raw`
 * (payload codecs, PROTOCOL.md).
 */
export const LIST_SETTINGS: readonly string[] = ['encodings', 'targetEncodings', 'compressions'];

/** Settings that are booleans: `--sweep delta=false,true` (delta payloads, PROTOCOL.md). */
export const BOOLEAN_SETTINGS: readonly string[] = ['delta'];

const SWEEP_KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/;

/** `key=v1,v2,...`; numbers where they parse as numbers. */
export function parseSweep(raw: string): SweepAxis {
  const eq = raw.indexOf('=');
  const key = eq < 0 ? '' : raw.slice(0, eq).trim();
  if (!SWEEP_KEY.test(key)) {
    throw new OptionError(
      `--sweep takes key=v1,v2 with a federation setting as key (e.g. lambda=0.5,1,2), got "${raw}"`,
    );
  }
  if (key === 'strategy' || key === 'mode' || key === 'task' || key.startsWith('task.') || key === 'seed') {
    throw new OptionError(`--sweep ${key}: choose this with --methods, --dataset or --seeds instead`);
  }
  const values = raw
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => (v !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
  if (values.length === 0) throw new OptionError(`--sweep ${key}= needs at least one value`);
  if (new Set(values).size !== values.length) throw new OptionError(`--sweep ${key} lists a value twice`);
  return { key, values };
}

/** Every combination of the axes' values (the first axis varies slowest); [{}] without axes. */
export function sweepGrid(axes: readonly SweepAxis[]): Record<string, string | number>[] {
  let grid: Record<string, string | number>[] = [{}];
  for (const axis of axes)
    grid = grid.flatMap((point) => axis.values.map((v) => ({ ...point, [axis.key]: v })));
  return grid;
}

/** The options of one grid point: flags for the keys that have one, raw settings for the rest. */
export function applySweepPoint(o: SimulateOptions, point: Record<string, string | number>): SimulateOptions {
  const out: SimulateOptions = { ...o, settings: { ...o.settings } };
  for (const [key, value] of Object.entries(point)) {
    const flag = SWEEP_FLAGS[key];
    if (flag) (out as unknown as Record<string, unknown>)[flag] = value;
    else if (LIST_SETTINGS.includes(key)) out.settings![key] = String(value).split('+').filter(Boolean);
    else if (BOOLEAN_SETTINGS.includes(key)) {
      if (value !== 'true' && value !== 'false') throw new OptionError(`--sweep ${key} takes true or false`);
      out.settings![key] = value === 'true';
    } else out.settings![key] = value;
  }
  return out;
}

/**
 * Whether a sweep over `keys` can change what `method` does. FedAvg and the local baselines
 * ignore the distillation settings, so the harness runs them once per seed and reuses the
 * result at the other grid points instead of training the same thing again.
 */
export function sweepAffects(method: string, keys: readonly string[]): boolean {
  if (method.startsWith('mutual')) return true;
  const relevant = method.startsWith('fedavg')
    ? ['localEpochs', 'weightEncoding', 'sync.quorum', 'sync.deadlineMs', 'participantLimit']
    : ['localEpochs'];
  return keys.some((k) => relevant.includes(k) || k === 'sync');
}

/** "lambda=0.5 temperature=3" */
export const variantLabel = (point: Record<string, string | number>): string =>
  Object.entries(point)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
