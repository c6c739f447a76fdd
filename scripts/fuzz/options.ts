/** Command-line options of `npm run fuzz`. */
import { MUTATIONS, type Mutation } from './frames.ts';

export const USAGE = `usage: npm run fuzz -- [options]

  --frames N              stop after N fuzz frames (default 20000)
  --seconds S             stop after S seconds at most (default 300)
  --seed N                seed of the frame generator (default 1)
  --legit N               legitimate participants running meanwhile (default 3)
  --pre-auth N            concurrent unauthenticated fuzzing sockets (default 6)
  --post-auth N           concurrent admitted fuzzing participants (default 4)
  --coordinator URL       fuzz a running coordinator instead of starting one (needs --admin-token)
  --admin-token T         its admin token
  --coordinator-pid PID   its process id, to read RSS (local only)
  --node-options "..."    NODE_OPTIONS of the coordinator started here, after the heap limit
                          npm start and the image set (--max-old-space-size=1536), so these
                          win (e.g. "--max-old-space-size=96", a small container's)
  --mutations a,b         only these mutations (default all: valid, bitflip, truncate, wrongOneof,
                          wrongDirection, wireType, badRound, nanPayload, shapeLie, hugeRepeated,
                          oversized, deflateBomb, badText, random, empty, text, seqReplay,
                          fragmented)
  --no-floods             no connection, Hello or message floods
  --quiet                 no progress lines
  -h, --help              this text

Exits 1 when a target is missed: a coordinator crash, any INTERNAL error, an error-level
coordinator log line (started here only), RSS more than
100 MiB above its start, no legitimate round closing, /healthz p99 >= 200 ms.`;

export interface FuzzOptions {
  frames: number;
  seconds: number;
  seed: number;
  legit: number;
  preAuth: number;
  postAuth: number;
  coordinator: string | null;
  adminToken: string | null;
  coordinatorPid: number | null;
  /** NODE_OPTIONS for the coordinator started here ('' = none; the caller's are never passed on). */
  nodeOptions: string;
  /** null: every mutation. */
  mutations: Mutation[] | null;
  floods: boolean;
  quiet: boolean;
  help: boolean;
}

export class OptionError extends Error {}

function int(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new OptionError(`${flag} needs an integer from ${min} to ${max}, got ${v ?? 'nothing'}`);
  return n;
}

export function parseOptions(argv: readonly string[]): FuzzOptions {
  const o: FuzzOptions = {
    frames: 20_000,
    seconds: 300,
    seed: 1,
    legit: 3,
    preAuth: 6,
    postAuth: 4,
    coordinator: null,
    adminToken: null,
    coordinatorPid: null,
    nodeOptions: '',
    mutations: null,
    floods: true,
    quiet: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--frames':
        o.frames = int(flag, value(), 1, 100_000_000);
        break;
      case '--seconds':
        o.seconds = int(flag, value(), 1, 86_400);
        break;
      case '--seed':
        o.seed = int(flag, value(), 0, 4294967295);
        break;
      case '--legit':
        o.legit = int(flag, value(), 1, 50);
        break;
      case '--pre-auth':
        o.preAuth = int(flag, value(), 0, 40);
        break;
      case '--post-auth':
        o.postAuth = int(flag, value(), 0, 100);
        break;
      case '--coordinator': {
        const v = value();
        if (!v || !/^https?:\/\//.test(v))
          throw new OptionError(`--coordinator needs an http(s) URL, got ${v}`);
        o.coordinator = v;
        break;
      }
      case '--admin-token':
        o.adminToken = value() ?? null;
        if (!o.adminToken) throw new OptionError('--admin-token needs a value');
        break;
      case '--coordinator-pid':
        o.coordinatorPid = int(flag, value(), 1, 2 ** 31);
        break;
      case '--node-options':
        o.nodeOptions = value() ?? '';
        if (!o.nodeOptions.startsWith('--'))
          throw new OptionError(
            `--node-options needs node flags such as "--max-old-space-size=96", got ${o.nodeOptions || 'nothing'}`,
          );
        break;
      case '--mutations': {
        const names = (value() ?? '').split(',').filter(Boolean);
        const bad = names.filter((n) => !(MUTATIONS as readonly string[]).includes(n));
        if (names.length === 0 || bad.length > 0)
          throw new OptionError(
            `--mutations takes a comma-separated list of ${MUTATIONS.join(', ')}; got ${bad.join(',') || 'nothing'}`,
          );
        o.mutations = names as Mutation[];
        break;
      }
      case '--no-floods':
        o.floods = false;
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new OptionError(`unknown option ${flag} (see --help)`);
    }
  }
  if (o.coordinator && !o.adminToken) throw new OptionError('--coordinator needs --admin-token');
  if (!o.coordinator && (o.adminToken || o.coordinatorPid))
    throw new OptionError('--admin-token and --coordinator-pid go with --coordinator');
  if (o.coordinator && o.nodeOptions)
    throw new OptionError('--node-options applies to the coordinator started here, not to --coordinator');
  if (o.preAuth + o.postAuth === 0)
    throw new OptionError('--pre-auth and --post-auth are both 0: nothing fuzzes');
  return o;
}
