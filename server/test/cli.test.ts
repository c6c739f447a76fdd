// The entry points operators and scripts rely on: `mutua-server` (bin) and the root
// `npm start`, run as real processes: --help, refused configurations (exit 2 with a
// message), a start on port 0, /healthz, graceful shutdown, and data kept across restarts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, OPTIONS } from '../src/config.ts';
import { REPO_ROOT, runServer, spawnServer } from './child-server.ts';
import { ADMIN_TOKEN, startServer } from './helper.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('mutua-server command line', () => {
  it('--help lists every flag and environment variable and exits 0', async () => {
    const r = await runServer({ args: ['--help'] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const flag of ['--port', '--host', '--data-dir', '--admin-token', '--database-url', '--help'])
      assert.match(r.stdout, new RegExp(`^\\s+${flag}\\b`, 'm'), `${flag} listed`);
    for (const o of OPTIONS) {
      assert.ok(r.stdout.includes(o.flag), `${o.flag} listed`);
      assert.ok(r.stdout.includes(`env ${o.env}`), `${o.env} listed`);
    }
    assert.match(r.stdout, /--max-frame-bytes/, 'limits are listed');
  });

  it('root `npm start` runs the same command (arguments pass through)', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.ok(pkg.scripts.start, 'the root package.json has a start script');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = await runServer({ command: [npm, 'start', '--silent', '--', '--help'] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: mutua-server \[options\]/m);
  });

  // Three refusals as real processes (what an operator sees); the rest of the rules in-process.
  const refused: [string, string[], Record<string, string>, RegExp][] = [
    ['an unknown flag', ['--bogus'], {}, /unknown option "--bogus" \(see --help\)/],
    ['a port out of range', ['--port', '70000'], {}, /port must be an integer in \[0, 65535\], got "70000"/],
    ['a short admin token', [], { MUTUA_ADMIN_TOKEN: 'short' }, /admin token must be at least 16 characters/],
  ];
  for (const [what, args, env, message] of refused) {
    it(`refuses ${what}: exit 2, one clear line on stderr`, async () => {
      const r = await runServer({ args, env });
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /^mutua-server: /);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `no stack trace: ${r.stderr}`);
      assert.equal(r.stdout, '');
    });
  }

  it('validates every option at start (flags win over the environment)', () => {
    const refuse = (argv: string[], env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadConfig(argv, env),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    refuse(['--port'], {}, /--port needs a value/);
    refuse([], { PORT: 'http' }, /port must be an integer/);
    refuse(['--port', '-1'], {}, /port must be an integer/);
    refuse(
      [],
      { DATABASE_URL: 'mysql://x@localhost/db' },
      /DATABASE_URL must start with postgresql:\/\/ or file:/,
    );
    refuse(['--log-level=loud'], {}, /unknown log level "loud"/);
    // docker-compose.yml's replicas pass MUTUA_ADMIN_TOKEN through, empty when unset.
    refuse(
      [],
      { NATS_URL: 'nats://nats:4222', DATABASE_URL: 'postgresql://m@db/m', MUTUA_ADMIN_TOKEN: '' },
      /cluster replica \(NATS_URL\) needs MUTUA_ADMIN_TOKEN/,
    );
    refuse(['--max-frame-bytes', '10'], {}, /max frame bytes must be an integer/);
    refuse(['--max-messages-per-second', '0'], {}, /max messages per second/);
    refuse(['--heartbeat-ms', '1.5'], {}, /heartbeat ms/);

    const c = loadConfig(['--port=0', '--admin-token', ADMIN_TOKEN], { PORT: '9000', HOST: '0.0.0.0' });
    assert.ok(c !== 'help');
    assert.equal(c.port, 0, 'the flag wins over PORT');
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.adminToken, ADMIN_TOKEN);
    assert.equal(c.rotateAdminToken, false);
    const d = loadConfig(['--rotate-admin-token'], {});
    assert.ok(d !== 'help');
    assert.deepEqual(
      [d.port, d.host, d.databaseUrl, d.adminToken, d.rotateAdminToken],
      [8080, '127.0.0.1', undefined, undefined, true],
      'no token configured: the data directory keeps one (start/admin-token.ts)',
    );
    assert.equal(loadConfig(['--port', 'x', '--help'], {}), 'help', '--help wins over a later bad value');
  });

  it('reads the exposure limits (issue 10): caps, Hello deadline, origins, metrics token, demo shards', () => {
    const c = loadConfig(
      [
        '--allowed-origins',
        'https://a.example, http://b.example:8080/',
        '--max-unauthenticated-per-address=3',
      ],
      {
        MUTUA_HELLO_TIMEOUT_MS: '2500',
        MUTUA_METRICS_TOKEN: 'metrics-token-0123456789',
        MUTUA_MAX_CONNECTIONS: '9',
      },
    );
    assert.ok(c !== 'help');
    assert.deepEqual(c.allowedOrigins, ['https://a.example', 'http://b.example:8080']);
    assert.equal(c.maxUnauthenticatedPerAddress, 3);
    assert.equal(c.helloTimeoutMs, 2500);
    assert.equal(c.maxConnections, 9);
    assert.equal(c.metricsToken, 'metrics-token-0123456789');
    const d = loadConfig([], {});
    assert.ok(d !== 'help');
    assert.deepEqual(
      [d.helloTimeoutMs, d.allowedOrigins, d.metricsToken, d.demoShardsPerMinute],
      [10_000, undefined, undefined, 60],
    );
    assert.throws(() => loadConfig(['--allowed-origins', 'evil.example/path'], {}), /scheme:\/\/host/);
    assert.throws(() => loadConfig(['--metrics-token', 'short'], {}), /at least 16/);
    assert.throws(() => loadConfig(['--max-connections', '0'], {}), /max connections/);
  });

  it('starts on port 0, answers /healthz, stops on SIGTERM, and a restart keeps the federations', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-cli-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));

    const first = await spawnServer(t, {
      args: ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--admin-token', ADMIN_TOKEN],
    });
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(first.port > 0);
    const health = await first.fetch('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(
      { ...(await health.json()), uptimeSeconds: 0 },
      { status: 'ok', database: 'up', uptimeSeconds: 0 },
    );
    assert.equal((await first.fetch('/v1/federations')).status, 401, 'the admin API needs the token');
    const created = await first.fetch('/v1/federations', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'kept across restarts',
        publicSet: { dataset: 'mnist', split: 'test', offset: 0, count: 32 },
        settings: { batchSize: 8 },
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };

    const stopped = await first.stop('SIGTERM', 10_000);
    assert.deepEqual({ code: stopped.code, signal: stopped.signal }, { code: 0, signal: null }, first.log);
    assert.ok(stopped.ms < 5_000, `SIGTERM to exit took ${stopped.ms} ms`);
    assert.doesNotMatch(first.log, /"level":(50|60)/, 'no error logged while shutting down');

    // Second start: the same data directory, configuration from the environment this time.
    const second = await spawnServer(t, {
      args: ['--port', '0'],
      env: { MUTUA_DATA_DIR: dataDir, MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, HOST: '127.0.0.1' },
    });
    assert.match(second.log, new RegExp(`data: ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const list = await second.fetch('/v1/federations', { headers: auth });
    assert.equal(list.status, 200);
    const feds = (await list.json()) as { id: string; name: string }[];
    assert.deepEqual(
      feds.map((f) => [f.id, f.name]),
      [[id, 'kept across restarts']],
    );
    const again = await second.stop('SIGINT', 10_000);
    assert.equal(again.code, 0, second.log);
  });

  // The command runs server/dist, bundled by scripts/build.mjs with its npm dependencies;
  // the tests in-process run the sources. Both must be the same coordinator.
  it('the built command answers as the app built from the sources: the same OpenAPI document and 400s', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-cli-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const built = await spawnServer(t, {
      args: ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--admin-token', ADMIN_TOKEN],
    });
    t.after(() => built.stop('SIGTERM'));
    const source = await startServer(t);

    const doc = await built.fetch('/docs/json');
    assert.equal(doc.status, 200);
    assert.deepEqual(await doc.json(), (await source.app.inject({ url: '/docs/json' })).json());

    const invalid = { name: 'x', publicSet: { dataset: 'no-such-set', split: 'test', offset: 0, count: 8 } };
    const refused = await built.fetch('/v1/federations', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(invalid),
    });
    const expected = await source.app.inject({
      method: 'POST',
      url: '/v1/federations',
      headers: auth,
      payload: invalid,
    });
    assert.equal(expected.statusCode, 400);
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), expected.json());
  });
});
