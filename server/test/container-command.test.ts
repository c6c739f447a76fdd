// No Docker engine runs here, so the container is tested through what it consists of:
// the Dockerfile's CMD, run exactly as written (parsed from the Dockerfile, so the two
// cannot drift) with the Dockerfile's ENV and docker-compose.yml's environment, against
// an empty PostgreSQL database on 127.0.0.1 standing in for the `postgres` service; and
// the Dockerfile and docker-compose.yml themselves, checked for the conventions
// operators rely on. The image's WORKDIR /app is this repository's root.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import { defaultHeapMb } from '../../scripts/heap-default.ts';
import { OPTIONS } from '../src/config.ts';
import { REPO_ROOT, runServer, spawnServer } from './child-server.ts';
import { ADMIN_TOKEN } from './helper.ts';
import { createPostgresDatabase } from './postgres.ts';

const SKIP_POSTGRES = process.env.MUTUA_SKIP_POSTGRES === '1' ? 'MUTUA_SKIP_POSTGRES=1' : false;
/** The environment variables the coordinator reads (config.ts). */
const SERVER_ENV = new Set(OPTIONS.map((o) => o.env));
/** The heap limit `npm start` sets; the image sets the same. */
const DEFAULT_HEAP_MB = defaultHeapMb();

// ------------------------------------------------------------------ Dockerfile

interface Instruction {
  op: string;
  args: string;
  line: number;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions (continuations joined, comments dropped), grouped by stage. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#.*)?$/.test(line)) continue;
    while (line.endsWith('\\')) {
      line = line.slice(0, -1);
      i++;
      while (i < lines.length && /^\s*#/.test(lines[i]!)) i++;
      line += ` ${(lines[i] ?? '').trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `Dockerfile line ${start + 1}: not an instruction: ${line}`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (op === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      const from = image!.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=', 2);
      args.set(k!, v ?? '');
    } else {
      assert.ok(stages.length > 0, `Dockerfile line ${start + 1}: ${op} before FROM`);
      stages.at(-1)!.instructions.push({ op, args: rest, line: start + 1 });
    }
  }
  return { args, stages };
}

/** ENV KEY=value KEY2="value 2" ... */
function parseEnv(args: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g;
  for (let m = re.exec(args); m; m = re.exec(args))
    out.push([m[1]!, m[2]!.startsWith('"') ? JSON.parse(m[2]!) : m[2]!]);
  assert.ok(out.length > 0, `ENV ${args}: use KEY=value pairs`);
  return out;
}

/** Exec form only: a JSON array of strings. */
function execForm(args: string, what: string): string[] {
  let cmd: unknown;
  try {
    cmd = JSON.parse(args);
  } catch {
    assert.fail(`${what} must be in exec form (a JSON array), got: ${args}`);
  }
  assert.ok(Array.isArray(cmd) && cmd.every((x) => typeof x === 'string'), `${what}: ${args}`);
  return cmd as string[];
}

const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));

function finalStage() {
  const stage = dockerfile.stages.at(-1)!;
  const all = (op: string) => stage.instructions.filter((i) => i.op === op);
  const last = (op: string) => {
    const found = all(op).at(-1);
    assert.ok(found, `the final stage has ${op}`);
    return found.args;
  };
  const healthcheck = last('HEALTHCHECK');
  const hc = /^((?:--\S+\s+)*)CMD\s+(.*)$/.exec(healthcheck);
  assert.ok(hc, `HEALTHCHECK [options] CMD [...]: ${healthcheck}`);
  return {
    stage,
    env: Object.fromEntries(all('ENV').flatMap((i) => parseEnv(i.args))),
    cmd: execForm(last('CMD'), 'CMD'),
    workdir: last('WORKDIR'),
    user: last('USER'),
    volumes: all('VOLUME').map((i) => i.args),
    exposed: all('EXPOSE').map((i) => i.args),
    healthcheck: { options: hc[1]!.trim(), cmd: execForm(hc[2]!, 'HEALTHCHECK CMD') },
  };
}

/** .dockerignore patterns as regular expressions (the subset used: literal paths, *, **). */
function dockerignore(): RegExp[] {
  return readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => {
      assert.ok(!p.startsWith('!'), 'no exceptions in .dockerignore (keep it simple)');
      const body = p
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((seg) =>
          seg === '**' ? '(?:.*/)?' : `${seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}/`,
        )
        .join('');
      return new RegExp(`^${body.replace(/\/$/, '')}$`);
    });
}

function ignored(path: string, patterns: RegExp[]): boolean {
  const parts = path.replace(/\/+$/, '').split('/');
  for (let n = 1; n <= parts.length; n++) {
    const prefix = parts.slice(0, n).join('/');
    if (patterns.some((re) => re.test(prefix))) return true;
  }
  return false;
}

// ------------------------------------------------------------------ docker-compose.yml

type Yaml = string | Yaml[] | { [key: string]: Yaml };

/**
 * The YAML subset docker-compose.yml keeps to: block mappings, block sequences of
 * scalars, quoted or plain scalars, flow sequences written as JSON, full-line comments.
 * Anything else is an error (so the file stays that simple, and this check stays honest).
 */
function parseYaml(text: string): Yaml {
  const lines = text
    .split('\n')
    .map((raw, i) => ({ raw, no: i + 1 }))
    .filter((l) => !/^\s*(#.*)?$/.test(l.raw))
    .map((l) => {
      assert.ok(!l.raw.includes('\t'), `docker-compose.yml line ${l.no}: tab`);
      return { no: l.no, indent: l.raw.search(/\S/), text: l.raw.trim() };
    });
  let i = 0;
  const scalar = (s: string, no: number): Yaml => {
    if (s.startsWith('"')) return JSON.parse(s) as string;
    if (s.startsWith("'")) {
      assert.ok(s.endsWith("'"), `line ${no}: unterminated string`);
      return s.slice(1, -1).replace(/''/g, "'");
    }
    if (s.startsWith('[')) return JSON.parse(s) as Yaml;
    assert.ok(!/^[{&*!|>]/.test(s) && !/\s#/.test(s), `line ${no}: unsupported YAML: ${s}`);
    return s;
  };
  const block = (indent: number): Yaml => {
    if (lines[i]!.text.startsWith('- ')) {
      const seq: Yaml[] = [];
      while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('- ')) {
        const item = lines[i]!.text.slice(2).trim();
        assert.ok(!/^[\w.-]+:(\s|$)/.test(item), `line ${lines[i]!.no}: mappings in sequences are not used`);
        seq.push(scalar(item, lines[i]!.no));
        i++;
      }
      return seq;
    }
    const map: { [key: string]: Yaml } = {};
    while (i < lines.length && lines[i]!.indent === indent) {
      const { text: t, no } = lines[i]!;
      const m = /^([\w.-]+):(?:\s+(.*))?$/.exec(t);
      assert.ok(m, `docker-compose.yml line ${no}: expected "key:" or "key: value", got ${t}`);
      assert.ok(!(m[1]! in map), `line ${no}: duplicate key ${m[1]}`);
      i++;
      if (m[2] !== undefined) map[m[1]!] = scalar(m[2], no);
      else if (i < lines.length && lines[i]!.indent > indent) map[m[1]!] = block(lines[i]!.indent);
      else map[m[1]!] = '';
    }
    assert.ok(
      i >= lines.length || lines[i]!.indent < indent,
      `docker-compose.yml line ${lines[i]?.no}: unexpected indentation`,
    );
    return map;
  };
  const doc = block(0);
  assert.equal(i, lines.length, `docker-compose.yml line ${lines[i]?.no}: not parsed`);
  return doc;
}

function obj(y: Yaml | undefined, what: string): { [key: string]: Yaml } {
  assert.ok(y && typeof y === 'object' && !Array.isArray(y), `${what} is a mapping`);
  return y;
}

const compose = obj(parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')), 'the file');
const services = obj(compose.services, 'services');
const coordinator = obj(services.coordinator, 'services.coordinator');
const postgres = obj(services.postgres, 'services.postgres');
const coordinatorEnv = obj(coordinator.environment, 'coordinator.environment') as Record<string, string>;
const postgresEnv = obj(postgres.environment, 'postgres.environment') as Record<string, string>;

/** Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} against `vars`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, kind?: string, arg?: string) => {
    if (vars[name]) return vars[name]!;
    if (kind === '?') throw new Error(`${name}: ${arg}`);
    return kind === '-' ? (arg ?? '') : '';
  });
}

// ------------------------------------------------------------------ running the container's command

/** The container's environment: the Dockerfile's ENV, then compose's, then the test's. */
function containerEnv(overrides: Record<string, string>, withCompose: boolean): Record<string, string> {
  const { env } = finalStage();
  const fromCompose = withCompose
    ? Object.fromEntries(
        Object.entries(coordinatorEnv).map(([k, v]) => [
          k,
          interpolate(String(v), { MUTUA_ADMIN_TOKEN: ADMIN_TOKEN }),
        ]),
      )
    : {};
  return { ...env, ...fromCompose, ...overrides };
}

async function healthcheck(port: number): Promise<number | null> {
  const { cmd } = finalStage().healthcheck;
  const r = await runServer({ command: cmd, env: { PORT: String(port) } });
  return r.code;
}

async function publicTables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    return r.rows.map((x) => x.table_name);
  } finally {
    await c.end();
  }
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mutua-container-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the container', () => {
  it('Dockerfile: node:20-bookworm-slim, build tools only in build stages, non-root, /data, port, health check', () => {
    const { stages, args } = dockerfile;
    const { stage, env, cmd, workdir, user, volumes, exposed, healthcheck: hc } = finalStage();
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    assert.equal(stage.from, 'node:20-bookworm-slim');
    assert.equal(args.get('NODE_IMAGE'), 'node:20-bookworm-slim');
    const finalRuns = stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    assert.ok(
      finalRuns.every((r) => !/apt-get|npm (ci|install)/.test(r)),
      'no compilers or installs in the final stage',
    );
    const buildsSqlite = stages.some((s) =>
      s.instructions.some((i) => i.op === 'RUN' && /python3/.test(i.args) && /g\+\+/.test(i.args)),
    );
    assert.ok(buildsSqlite, 'a build stage has python3, make and g++ for better-sqlite3');
    assert.ok(
      stages.some((s) => s.instructions.some((i) => /npm ci\b.*--workspace=@mutua\/server/.test(i.args))),
      'npm ci for the server workspace',
    );
    assert.equal(user, 'node', 'runs as the image’s unprivileged node user');
    assert.equal(workdir, '/app');
    assert.deepEqual(env, {
      NODE_ENV: 'production',
      NODE_OPTIONS: `--max-old-space-size=${DEFAULT_HEAP_MB}`,
      MUTUA_DATA_DIR: '/data',
      HOST: '0.0.0.0',
      PORT: '8080',
    });
    for (const k of Object.keys(env))
      assert.ok(
        k === 'NODE_ENV' || k === 'NODE_OPTIONS' || SERVER_ENV.has(k),
        `ENV ${k} is read by the server`,
      );
    assert.deepEqual(volumes, ['/data']);
    assert.deepEqual(exposed, [env.PORT]);
    assert.deepEqual(cmd, ['node', 'server/bin/mutua-server.js']);
    assert.ok(existsSync(join(REPO_ROOT, cmd[1]!)), 'CMD runs the bin of this repository');
    assert.match(hc.options, /--start-period=\d+s/);
    assert.equal(hc.cmd[0], 'node');
    assert.match(hc.cmd.join(' '), /\/healthz/);
  });

  it('Dockerfile: every COPY source exists and is not excluded by .dockerignore; the runtime gets what the server loads', () => {
    const patterns = dockerignore();
    const copied: string[] = [];
    /** COPY --from=<stage> <src> <dest> of the final stage, as "<stage>:<src> <dest>". */
    const fromStages: string[] = [];
    for (const s of dockerfile.stages) {
      for (const i of s.instructions.filter((x) => x.op === 'COPY')) {
        const from = /^--from=(\S+)/.exec(i.args)?.[1];
        const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        if (from) {
          if (s === dockerfile.stages.at(-1)) fromStages.push(`${from}:${parts.join(' ')}`);
          continue;
        }
        for (const src of parts.slice(0, -1)) {
          assert.ok(existsSync(join(REPO_ROOT, src)), `line ${i.line}: COPY ${src} exists`);
          assert.ok(!ignored(src, patterns), `line ${i.line}: COPY ${src} is not in .dockerignore`);
          if (s === dockerfile.stages.at(-1)) copied.push(src.replace(/\/$/, ''));
        }
      }
    }
    // The image runs the built JavaScript: the bin, and server/dist from a stage that builds it.
    assert.ok(copied.includes('server/bin'), 'the final stage copies server/bin');
    const dist = fromStages.find((c) => / server\/dist\/?$/.test(c));
    assert.ok(dist, `the final stage copies server/dist from a build stage (${fromStages.join('; ')})`);
    const builder = dockerfile.stages.find((s) => s.name === dist.split(':')[0]);
    assert.ok(
      builder?.instructions.some((i) => i.op === 'RUN' && /node scripts\/build\.mjs/.test(i.args)),
      `stage ${dist.split(':')[0]} runs scripts/build.mjs`,
    );
    assert.ok(
      copied.every((c) => !/(^|\/)src$/.test(c)),
      `no TypeScript sources in the image, so nothing transpiles at run time (copied: ${copied.join(', ')})`,
    );
    for (const unwanted of ['node_modules', '.git', '.data', 'server/src/db/generated'])
      assert.ok(ignored(unwanted, patterns), `.dockerignore keeps ${unwanted} out of the context`);
    // The migrations (read at start) are in the image.
    for (const provider of ['sqlite', 'postgres'])
      assert.ok(
        copied.includes(`prisma/${provider}/migrations`),
        `the final stage copies the ${provider} migrations`,
      );
    // Issue 13: prisma/ sat before the npm ci steps, so a change there (its README) re-ran
    // them all. Only the manifests and the lockfile may come before an npm ci.
    for (const s of dockerfile.stages) {
      const ciAt = s.instructions.map((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
      const lastCi = ciAt.lastIndexOf(true);
      for (const i of s.instructions.slice(0, Math.max(lastCi, 0)).filter((x) => x.op === 'COPY'))
        assert.match(
          i.args,
          /^(\S*package(-lock)?\.json\s+)+\S+$/,
          `line ${i.line}: only manifests before npm ci`,
        );
    }
    // The base of every npm ci stage too (it runs first).
    const base = dockerfile.stages[0]!;
    for (const i of base.instructions.filter((x) => x.op === 'COPY'))
      assert.match(
        i.args,
        /^(\S*package(-lock)?\.json\s+)+\S+$/,
        `line ${i.line}: the base stage copies manifests only`,
      );
    // The runtime's node_modules is the pruned set (scripts/runtime-modules.mjs), not the install.
    assert.ok(
      fromStages.some((c) => /^runtime-modules:\/runtime\/node_modules node_modules\/?$/.test(c)),
      `the final stage takes node_modules from the runtime-modules stage (${fromStages.join('; ')})`,
    );
  });

  it('Dockerfile: no `# syntax=` line (BuildKit would fetch that frontend from a registry: no offline build)', () => {
    const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    assert.doesNotMatch(text, /^#\s*syntax\s*=/im);
  });

  it("its CMD with its ENV and compose's environment migrates an empty PostgreSQL, is healthy, and stops on SIGTERM", {
    skip: SKIP_POSTGRES,
  }, async (t) => {
    const db = await createPostgresDatabase();
    t.after(() => db.drop());
    assert.deepEqual(await publicTables(db.url), [], 'the database starts empty');
    const dataDir = tempDir(t);
    const { cmd } = finalStage();
    const server = await spawnServer(t, {
      command: cmd,
      env: containerEnv(
        { MUTUA_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', DATABASE_URL: db.url },
        true,
      ),
    });
    assert.match(server.log, /data: PostgreSQL/);

    const migrations = readdirSync(join(REPO_ROOT, 'prisma/postgres/migrations'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const applied = await c.query<{ migration_name: string; finished_at: Date | null }>(
        'SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name',
      );
      assert.deepEqual(
        applied.rows.map((r) => r.migration_name),
        migrations,
      );
      assert.ok(applied.rows.every((r) => r.finished_at !== null));
    } finally {
      await c.end();
    }
    assert.ok((await publicTables(db.url)).length > migrations.length, 'the schema was created');

    const health = await server.fetch('/healthz');
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { database: string }).database, 'up');
    assert.equal(await healthcheck(server.port), 0, "the Dockerfile's HEALTHCHECK passes");
    const feds = await server.fetch('/v1/federations', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(feds.status, 200, "compose's MUTUA_ADMIN_TOKEN is the admin token");

    const stopped = await server.stop('SIGTERM', 15_000);
    assert.deepEqual([stopped.code, stopped.signal], [0, null], server.log);
    const grace = Number(/^(\d+)s$/.exec(String(coordinator.stop_grace_period))?.[1] ?? 10);
    assert.ok(stopped.ms < grace * 1000, `stopped in ${stopped.ms} ms, within compose's grace period`);
    assert.doesNotMatch(server.log, /"level":(50|60)/, 'nothing logged as an error');
    assert.equal(await healthcheck(server.port), 1, 'the HEALTHCHECK fails once it is down');
  });

  it('its CMD with only its ENV (docker run, no DATABASE_URL) keeps an SQLite file in MUTUA_DATA_DIR', async (t) => {
    const dataDir = tempDir(t);
    const server = await spawnServer(t, {
      command: finalStage().cmd,
      env: containerEnv({ MUTUA_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' }, false),
    });
    assert.match(server.log, /^admin token: \S{16,}$/m, 'no token configured: one is generated and printed');
    assert.equal((await server.fetch('/healthz')).status, 200);
    assert.ok(existsSync(join(dataDir, 'mutua.db')), 'the database file is in the data volume');
    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0, server.log);
  });

  it('docker-compose.yml: postgres 16 with a volume and pg_isready; the coordinator environment is what the server reads', () => {
    assert.equal(postgres.image, 'postgres:16');
    const pgHealth = obj(postgres.healthcheck, 'postgres.healthcheck');
    assert.match(JSON.stringify(pgHealth.test), /pg_isready/);
    assert.ok(
      (postgres.volumes as string[]).some((v) => v.endsWith(':/var/lib/postgresql/data')),
      'PostgreSQL keeps its files in a volume',
    );

    assert.equal(coordinator.build, '.');
    for (const key of Object.keys(coordinatorEnv))
      assert.ok(SERVER_ENV.has(key), `coordinator.environment.${key} is read by the server (config.ts)`);
    const url = new URL(coordinatorEnv.DATABASE_URL!);
    assert.equal(url.protocol, 'postgresql:');
    assert.equal(url.hostname, 'postgres', 'the database host is the postgres service');
    assert.equal(url.port, '5432');
    assert.deepEqual(
      [url.username, url.password, url.pathname.slice(1)],
      [postgresEnv.POSTGRES_USER, postgresEnv.POSTGRES_PASSWORD, postgresEnv.POSTGRES_DB],
      "the URL's credentials and database are the ones postgres is created with",
    );
    // No default admin token: unset, it is empty and the coordinator mints one and keeps
    // its hash in the data volume. Not `${VAR:?}` (issue 13): with it every compose command
    // fails without the variable, `ps` and `down -v` included.
    assert.match(coordinatorEnv.MUTUA_ADMIN_TOKEN!, /^\$\{MUTUA_ADMIN_TOKEN:-\}$/, 'no default admin token');
    assert.equal(interpolate(coordinatorEnv.MUTUA_ADMIN_TOKEN!, {}), '');
    const composeText = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    assert.doesNotMatch(composeText.replace(/^\s*#.*$/gm, ''), /\$\{\w+:\?/, 'no $' + '{VAR:?} anywhere');
    // Compose v1 (Debian's docker-compose 1.29) rejects a top-level `name:`.
    assert.ok(!('name' in compose), 'no top-level name: (Compose v1 rejects it)');

    const depends = obj(obj(coordinator.depends_on, 'depends_on').postgres, 'depends_on.postgres');
    assert.equal(depends.condition, 'service_healthy');
    const { env, volumes } = finalStage();
    const port = coordinatorEnv.PORT ?? env.PORT;
    // The host side may be moved with MUTUA_HOST_PORT; the container side is the server's port.
    assert.deepEqual(coordinator.ports, [`\${MUTUA_HOST_PORT:-${port}}:${port}`]);
    const dataDir = coordinatorEnv.MUTUA_DATA_DIR ?? env.MUTUA_DATA_DIR;
    assert.ok(volumes.includes(dataDir!), 'the data dir is the image’s VOLUME');
    assert.ok(
      (coordinator.volumes as string[]).some((v) => v.endsWith(`:${dataDir}`)),
      'a named volume holds the data dir',
    );
    const health = obj(coordinator.healthcheck, 'coordinator.healthcheck');
    assert.match(JSON.stringify(health.test), new RegExp(`127\\.0\\.0\\.1:${port}/healthz`));
    const named = Object.keys(obj(compose.volumes, 'volumes'));
    for (const v of [...(postgres.volumes as string[]), ...(coordinator.volumes as string[])])
      assert.ok(named.includes(v.split(':')[0]!), `volume ${v} is declared`);
  });
});
