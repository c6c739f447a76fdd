/**
 * Coordinator configuration from flags and environment variables (flags win),
 * validated at start so a typo fails loudly instead of at the first request.
 */
import { resolve } from 'node:path';
import { DEFAULT_PAYLOAD_RETENTION_VERSIONS } from './engine/payload-retention.ts';
import { DEFAULT_CONNECTION_CAPS } from './ws/connection-caps.ts';
import { parseOrigins } from './ws/origin-policy.ts';
import { DEFAULT_HELLO_TIMEOUT_MS } from './ws/pre-auth-guard.ts';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Unset: embedded SQLite file `<dataDir>/mutua.db`. */
  databaseUrl: string | undefined;
  /** Unset: the one stored (hashed) in the data directory, minted at first start (start/admin-token.ts). */
  adminToken: string | undefined;
  /** --rotate-admin-token: mint a new stored admin token, print it, and exit. */
  rotateAdminToken: boolean;
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  heartbeatIntervalMs: number;
  maxUploadBytes: number;
  /** A socket that has not been admitted by then is closed (pre-auth-guard.ts). */
  helloTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxUnauthenticated: number;
  maxUnauthenticatedPerAddress: number;
  /** Browser Origins allowed on the WebSocket; undefined = any (origin-policy.ts). */
  allowedOrigins: string[] | undefined;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  /** Demo shards served per client address per minute (they cost CPU and megabytes each). */
  demoShardsPerMinute: number;
  /** Upload payloads kept beyond what restart recovery needs, in versions (engine/payload-retention.ts). */
  payloadRetentionVersions: number;
  logLevel: string;
  /** Set: this process is one replica of a cluster (needs PostgreSQL); docs/scaling.md. */
  natsUrl: string | undefined;
  /** This replica's name on the bus and in /metrics (default host-pid-random). */
  replicaId: string | undefined;
  /** How long a federation's lease outlives its owner's last renewal. */
  leaseMs: number;
  /** Subject prefix and bucket name: clusters sharing one NATS server stay apart. */
  clusterName: string;
}

interface Option {
  flag: string;
  env: string;
  key: keyof ServerConfig;
  help: string;
  parse: (v: string) => unknown;
  default?: unknown;
}

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${v}"`);
  return n;
};
const str = (v: string) => v;

export const OPTIONS: Option[] = [
  {
    flag: '--port',
    env: 'PORT',
    key: 'port',
    help: 'TCP port to listen on (0 = any free port)',
    parse: int('port', 0, 65535),
    default: 8080,
  },
  { flag: '--host', env: 'HOST', key: 'host', help: 'interface to bind', parse: str, default: '127.0.0.1' },
  {
    flag: '--data-dir',
    env: 'MUTUA_DATA_DIR',
    key: 'dataDir',
    help: 'directory for the embedded database and public sets',
    parse: (v) => resolve(v),
    default: resolve('.data'),
  },
  {
    flag: '--database-url',
    env: 'DATABASE_URL',
    key: 'databaseUrl',
    help: 'postgresql://… to use PostgreSQL instead of the embedded SQLite file',
    parse: (v) => {
      if (!/^postgres(ql)?:\/\//.test(v) && !v.startsWith('file:'))
        throw new ConfigError(`DATABASE_URL must start with postgresql:// or file:, got "${v}"`);
      return v;
    },
  },
  {
    flag: '--admin-token',
    env: 'MUTUA_ADMIN_TOKEN',
    key: 'adminToken',
    help: 'bearer token for the admin API (unset: minted at first start, printed once, kept hashed in the data directory)',
    parse: (v) => {
      if (v.length < 16) throw new ConfigError('the admin token must be at least 16 characters');
      return v;
    },
  },
  {
    flag: '--max-frame-bytes',
    env: 'MUTUA_MAX_FRAME_BYTES',
    key: 'maxFrameBytes',
    help: 'largest WebSocket frame accepted',
    parse: int('max frame bytes', 1024, 1 << 30),
    default: 16 << 20,
  },
  {
    flag: '--max-messages-per-second',
    env: 'MUTUA_MAX_MESSAGES_PER_SECOND',
    key: 'maxMessagesPerSecond',
    help: 'per-connection message rate limit',
    parse: int('max messages per second', 1, 1_000_000),
    default: 50,
  },
  {
    flag: '--heartbeat-ms',
    env: 'MUTUA_HEARTBEAT_MS',
    key: 'heartbeatIntervalMs',
    help: 'WebSocket ping interval; peers missing two pings are dropped',
    parse: int('heartbeat ms', 100, 3_600_000),
    default: 15_000,
  },
  {
    flag: '--max-upload-bytes',
    env: 'MUTUA_MAX_UPLOAD_BYTES',
    key: 'maxUploadBytes',
    help: 'largest public-set upload over HTTP',
    parse: int('max upload bytes', 1024, 1 << 31),
    default: 256 << 20,
  },
  {
    flag: '--hello-timeout-ms',
    env: 'MUTUA_HELLO_TIMEOUT_MS',
    key: 'helloTimeoutMs',
    help: 'close a WebSocket that has not been admitted (Hello/Welcome) within this time',
    parse: int('hello timeout ms', 100, 600_000),
    default: DEFAULT_HELLO_TIMEOUT_MS,
  },
  {
    flag: '--max-connections',
    env: 'MUTUA_MAX_CONNECTIONS',
    key: 'maxConnections',
    help: 'most open participant WebSockets (more get HTTP 503)',
    parse: int('max connections', 1, 10_000_000),
    default: DEFAULT_CONNECTION_CAPS.maxConnections,
  },
  {
    flag: '--max-connections-per-address',
    env: 'MUTUA_MAX_CONNECTIONS_PER_ADDRESS',
    key: 'maxConnectionsPerAddress',
    help: 'most open WebSockets from one client address',
    parse: int('max connections per address', 1, 10_000_000),
    default: DEFAULT_CONNECTION_CAPS.maxConnectionsPerAddress,
  },
  {
    flag: '--max-unauthenticated',
    env: 'MUTUA_MAX_UNAUTHENTICATED',
    key: 'maxUnauthenticated',
    help: 'most WebSockets not yet admitted (Hello pending)',
    parse: int('max unauthenticated', 1, 10_000_000),
    default: DEFAULT_CONNECTION_CAPS.maxUnauthenticated,
  },
  {
    flag: '--max-unauthenticated-per-address',
    env: 'MUTUA_MAX_UNAUTHENTICATED_PER_ADDRESS',
    key: 'maxUnauthenticatedPerAddress',
    help: 'most WebSockets not yet admitted from one client address',
    parse: int('max unauthenticated per address', 1, 10_000_000),
    default: DEFAULT_CONNECTION_CAPS.maxUnauthenticatedPerAddress,
  },
  {
    flag: '--allowed-origins',
    env: 'MUTUA_ALLOWED_ORIGINS',
    key: 'allowedOrigins',
    help: "comma-separated browser Origins allowed on the WebSocket (default any; the coordinator's own pages always)",
    parse: (v) => {
      const list = parseOrigins(v);
      for (const o of list) {
        if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o))
          throw new ConfigError(`an allowed origin is scheme://host[:port], got "${o}"`);
      }
      return list;
    },
  },
  {
    flag: '--metrics-token',
    env: 'MUTUA_METRICS_TOKEN',
    key: 'metricsToken',
    help: 'protect /metrics with Authorization: Bearer <token> (default public)',
    parse: (v) => {
      if (v.length < 16) throw new ConfigError('the metrics token must be at least 16 characters');
      return v;
    },
  },
  {
    flag: '--demo-shards-per-minute',
    env: 'MUTUA_DEMO_SHARDS_PER_MINUTE',
    key: 'demoShardsPerMinute',
    help: 'demo data shards served per client address per minute (more get 429)',
    parse: int('demo shards per minute', 1, 1_000_000),
    default: 60,
  },
  {
    flag: '--payload-retention-versions',
    env: 'MUTUA_PAYLOAD_RETENTION_VERSIONS',
    key: 'payloadRetentionVersions',
    help: 'stored upload payloads are dropped once this many newer versions were published (recovery keeps what it needs)',
    parse: int('payload retention versions', 1, 1_000_000),
    default: DEFAULT_PAYLOAD_RETENTION_VERSIONS,
  },
  {
    flag: '--nats-url',
    env: 'NATS_URL',
    key: 'natsUrl',
    help: 'nats://host:4222 (comma-separated for several): run as one replica of a cluster (needs DATABASE_URL=postgresql://…)',
    parse: (v) => {
      for (const s of v.split(','))
        if (!/^(nats:\/\/)?[^\s/,]+:\d+$/.test(s.trim()))
          throw new ConfigError(`NATS_URL must be nats://host:port[,nats://host:port…], got "${v}"`);
      return v;
    },
  },
  {
    flag: '--replica-id',
    env: 'MUTUA_REPLICA_ID',
    key: 'replicaId',
    help: "this replica's name in a cluster (default host-pid-random)",
    parse: (v) => {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v))
        throw new ConfigError(`the replica id must match [A-Za-z0-9_-]{1,64}, got "${v}"`);
      return v;
    },
  },
  {
    flag: '--lease-ms',
    env: 'MUTUA_LEASE_MS',
    key: 'leaseMs',
    help: "a federation's owner lease: another replica takes over this long after the owner's last renewal",
    parse: int('lease ms', 300, 600_000),
    default: 3000,
  },
  {
    flag: '--cluster-name',
    env: 'MUTUA_CLUSTER_NAME',
    key: 'clusterName',
    help: 'name of the cluster on NATS (subject prefix); clusters sharing a NATS server need distinct names',
    parse: (v) => {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(v))
        throw new ConfigError(`the cluster name must match [A-Za-z0-9_-]{1,32}, got "${v}"`);
      return v;
    },
    default: 'mutua',
  },
  {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    key: 'logLevel',
    help: 'pino log level (fatal…trace, silent)',
    parse: (v) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v))
        throw new ConfigError(`unknown log level "${v}"`);
      return v;
    },
    default: 'info',
  },
];

export class ConfigError extends Error {
  readonly code = 'MUTUA_ERR_CONFIG';
}

export function helpText(): string {
  const rows = OPTIONS.map(
    (o) =>
      `  ${`${o.flag} <value>`.padEnd(32)} ${o.help}\n  ${''.padEnd(32)} env ${o.env}${o.default !== undefined ? `, default ${o.default}` : ''}`,
  );
  return `mutua-server — the Mutua federated mutual-distillation coordinator

Usage: mutua-server [options]

Options:
${rows.join('\n')}
  --rotate-admin-token             mint a new admin token for this data directory, print it once, and exit
  --help                           show this help

REST admin API under /v1/ (Authorization: Bearer <admin token>), WebSocket at /v1/ws,
OpenAPI at /docs (JSON at /docs/json), health at /healthz, Prometheus metrics at /metrics.
`;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const raw = new Map<keyof ServerConfig, string>();
  let rotate = false;
  for (const o of OPTIONS) if (env[o.env] !== undefined && env[o.env] !== '') raw.set(o.key, env[o.env]!);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--rotate-admin-token') {
      rotate = true;
      continue;
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const o = OPTIONS.find((x) => x.flag === flag);
    if (!o) throw new ConfigError(`unknown option "${arg}" (see --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    raw.set(o.key, value);
  }
  const cfg: Record<string, unknown> = {};
  for (const o of OPTIONS) cfg[o.key] = raw.has(o.key) ? o.parse(raw.get(o.key)!) : o.default;
  cfg.rotateAdminToken = rotate;
  if (cfg.natsUrl && !/^postgres(ql)?:\/\//.test(String(cfg.databaseUrl ?? '')))
    throw new ConfigError(
      'a cluster replica (NATS_URL) needs DATABASE_URL=postgresql://… shared by every replica',
    );
  // A minted token would be this replica's alone (kept in its own data directory).
  if (cfg.natsUrl && cfg.adminToken === undefined)
    throw new ConfigError(
      'a cluster replica (NATS_URL) needs MUTUA_ADMIN_TOKEN: every replica must accept the same one',
    );
  return cfg as unknown as ServerConfig;
}
