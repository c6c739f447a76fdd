/** `npm run demo` options: parsed and checked before anything starts (exit 2 on a bad one). */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface DemoOptions {
  /** 0 = any free port. */
  port: number;
  /** Kept after the demo when given; otherwise a temp dir removed at the end. */
  dataDir?: string;
  participants: number;
  dataset: 'mnist' | 'fashion-mnist';
  mode: 'sync' | 'async';
}

export const HELP = `Usage: npm run demo [-- options]

Starts a coordinator (embedded database), creates a federation with a public set from a
built-in data set, starts local participants (mutua-client, each with
its own shard), prints the dashboard URL, the admin token and a join link for a browser
tab, and shows each round as it closes, with the participants' mean test accuracy. Ctrl-C stops everything.

Options
  --port N            coordinator port (default 0: any free port)
  --data-dir DIR      keep the coordinator's data here (default: a temp dir removed at the end)
  --participants N    local participants, 1..8 (default 3)
  --dataset NAME      mnist | fashion-mnist (default mnist)
  --mode MODE         sync (rounds wait for every participant; default) | async (consensus
                      versions after every two contributions, nobody waits)
  -h, --help          this help
`;

export class DemoUsageError extends Error {}

export function parseDemoOptions(argv: readonly string[]): DemoOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        participants: { type: 'string' },
        dataset: { type: 'string' },
        mode: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DemoUsageError(`${(err as Error).message.split('\n')[0]!.replace(/\.$/, '')} (see --help)`);
  }
  if (values.help) return 'help';
  const int = (name: string, min: number, max: number, fallback: number) => {
    const v = values[name] as string | undefined;
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max)
      throw new DemoUsageError(`--${name} must be an integer in [${min}, ${max}], got "${v}" (see --help)`);
    return n;
  };
  const dataset = (values.dataset as string | undefined) ?? 'mnist';
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist')
    throw new DemoUsageError(`--dataset must be mnist or fashion-mnist, got "${dataset}" (see --help)`);
  const mode = (values.mode as string | undefined) ?? 'sync';
  if (mode !== 'sync' && mode !== 'async')
    throw new DemoUsageError(`--mode must be sync or async, got "${mode}" (see --help)`);
  const dataDir = values['data-dir'] as string | undefined;
  return {
    port: int('port', 0, 65535, 0),
    dataDir: dataDir === undefined ? undefined : resolve(dataDir),
    participants: int('participants', 1, 8, 3),
    dataset,
    mode,
  };
}
