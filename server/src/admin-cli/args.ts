/**
 * Command-line parsing on node's util.parseArgs: the global options every command takes,
 * plus the command's own. Anything unknown or malformed is a CliError naming it.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usage } from './errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_OPTIONS = {
  coordinator: { type: 'string' },
  'admin-token': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** Global options that take a value: skipped with their value when looking for the command words. */
const VALUED_GLOBALS = new Set(['--coordinator', '--admin-token']);

export const GLOBAL_HELP = `Global options
  --coordinator URL     the coordinator (env MUTUA_COORDINATOR, default http://127.0.0.1:8080)
  --admin-token TOKEN   admin token (env MUTUA_ADMIN_TOKEN; mutua-server prints it at start)
  --json                machine-readable output (JSON; --follow prints one JSON object a line)
  -h, --help            help for the command`;

/**
 * Takes the first `count` command words (e.g. "federation", "create") out of argv, skipping
 * the global options that may precede them; returns the words and the remaining arguments.
 */
export function splitCommandWords(
  argv: readonly string[],
  count: number,
): { words: string[]; rest: string[] } {
  const rest = [...argv];
  const words: string[] = [];
  let i = 0;
  while (words.length < count && i < rest.length) {
    const a = rest[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      i += VALUED_GLOBALS.has(a) ? 2 : 1;
      continue;
    }
    words.push(a);
    rest.splice(i, 1);
  }
  return { words, rest };
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** parseArgs with the global options added and its TypeError turned into a one-line usage error. */
export function parse(argv: readonly string[], options: OptionSpec, helpRef: string): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...options },
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // parseArgs messages are one sentence, sometimes followed by a hint line; keep the sentence.
    const message = (err as Error).message.split('\n')[0]!.replace(/^TypeError \[\w+\]: /, '');
    throw usage(message.replace(/\.$/, ''), helpRef);
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** An integer option within [min, max], or undefined when absent. */
export function int(p: Parsed, name: string, min: number, max: number, helpRef: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
    throw usage(`--${name} must be an integer in [${min}, ${max}], got "${v}"`, helpRef);
  return n;
}

/** A positive duration: plain seconds ("90") or with a unit ("90s", "15m", "2h", "7d"). */
export function durationSeconds(p: Parsed, name: string, helpRef: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const m = /^(\d+)([smhd]?)$/.exec(v.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m?.[2] ?? ''];
  const n = m && unit ? Number(m[1]) * unit : 0;
  if (!m || n < 1 || !Number.isSafeInteger(n))
    throw usage(`--${name} must be a duration like 3600, 90s, 15m, 2h or 7d, got "${v}"`, helpRef);
  return n;
}

/** Exactly `names.length` positional arguments, by name, for messages like "missing FEDERATION". */
export function positionals(p: Parsed, names: readonly string[], helpRef: string): string[] {
  if (p.positionals.length < names.length)
    throw usage(`missing ${names.slice(p.positionals.length).join(' and ')}`, helpRef);
  if (p.positionals.length > names.length)
    throw usage(`unexpected argument "${p.positionals[names.length]}"`, helpRef);
  return p.positionals;
}
