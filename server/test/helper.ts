/**
 * Builds a coordinator for tests on a fresh database — an embedded SQLite file in a temp
 * data dir, or a throwaway PostgreSQL database — listening on port 0, and tears it down.
 *
 * Every coordinator suite runs once per database kind in the same `node --test` run:
 * wrap it in describeEachDatabase(). PostgreSQL unreachable fails the postgres half
 * (MUTUA_SKIP_POSTGRES=1 skips it on purpose).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from '../src/app.ts';
import { createPostgresDatabase } from './postgres.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export type DatabaseKind = 'sqlite' | 'postgres';

export const DATABASES: readonly { kind: DatabaseKind; skip: string | false }[] = [
  { kind: 'sqlite', skip: false },
  {
    kind: 'postgres',
    skip: process.env.MUTUA_SKIP_POSTGRES === '1' ? 'MUTUA_SKIP_POSTGRES=1' : false,
  },
];

/** describe(`${title} [sqlite]`) and describe(`${title} [postgres]`), each running `fn`. */
export function describeEachDatabase(title: string, fn: (database: DatabaseKind) => void): void {
  for (const { kind, skip } of DATABASES) describe(`${title} [${kind}]`, { skip }, () => fn(kind));
}

export interface TestServer {
  app: FastifyInstance;
  url: string;
  wsUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Closes the app, then removes the data dir / drops the database it created. Idempotent. */
  close(): Promise<void>;
}

export type TestServerOptions = Partial<AppOptions> & { database?: DatabaseKind };

/**
 * Starts a coordinator. With a TestContext it is closed after that test; with null the
 * caller closes it (a server shared by a describe block: `after(() => server.close())`).
 */
export async function startServer(
  t: TestContext | null,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const { database = 'sqlite', ...overrides } = options;
  const pgdb =
    database === 'postgres' && overrides.databaseUrl === undefined ? await createPostgresDatabase() : null;
  const ownDataDir = !overrides.dataDir;
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'mutua-test-'));
  const databaseUrl = overrides.databaseUrl ?? pgdb?.url;
  const cleanup = async () => {
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    await pgdb?.drop();
  };
  let app: FastifyInstance;
  try {
    app = await buildApp({
      dataDir,
      databaseUrl,
      adminToken: ADMIN_TOKEN,
      maxFrameBytes: 1 << 20,
      maxMessagesPerSecond: 200,
      heartbeatIntervalMs: 10_000,
      maxUploadBytes: 64 << 20,
      ...overrides,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= app.close().then(cleanup);
    return closing;
  };
  t?.after(close);
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    dataDir,
    databaseUrl,
    close,
  };
}

export interface FederationFixture {
  id: string;
  token: string;
  tokenId: string;
}

const publicSets = new WeakMap<FastifyInstance, Map<number, Promise<string>>>();

/** The id of the public set MNIST test[0:count] on this coordinator, created once. */
export function mnistPublicSet(app: FastifyInstance, count = 64): Promise<string> {
  const byCount = publicSets.get(app) ?? new Map<number, Promise<string>>();
  publicSets.set(app, byCount);
  let id = byCount.get(count);
  if (!id) {
    id = app
      .inject({
        method: 'POST',
        url: '/v1/public-sets',
        headers: auth,
        payload: { dataset: 'mnist', split: 'test', offset: 0, count },
      })
      .then((res) => {
        if (res.statusCode !== 201 && res.statusCode !== 200)
          throw new Error(`create public set: ${res.statusCode} ${res.body}`);
        return res.json().id as string;
      });
    byCount.set(count, id);
  }
  return id;
}

/**
 * Creates a federation over MNIST test[0:count] and issues a join token. The public set is
 * made once per coordinator and referred to by id (loading MNIST for every federation
 * would dominate a suite's time).
 */
export async function createFederation(
  app: FastifyInstance,
  settings: Record<string, unknown> = {},
  count = 64,
): Promise<FederationFixture> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/federations',
    headers: auth,
    payload: {
      name: 'test',
      publicSetId: await mnistPublicSet(app, count),
      // Most protocol tests drive one participant at a time: minParticipants 1 unless a
      // test asks otherwise (min-participants.test.ts tests the default of 2).
      settings: { batchSize: 16, minParticipants: 1, ...settings },
    },
  });
  if (res.statusCode !== 201) throw new Error(`create federation: ${res.statusCode} ${res.body}`);
  const id = res.json().id as string;
  const tok = await issueToken(app, id);
  return { id, token: tok.token, tokenId: tok.id };
}

/** Issues another join token for a federation. */
export async function issueToken(
  app: FastifyInstance,
  federationId: string,
): Promise<{ id: string; token: string }> {
  const tok = await app.inject({
    method: 'POST',
    url: `/v1/federations/${federationId}/tokens`,
    headers: auth,
    payload: { label: 't' },
  });
  if (tok.statusCode !== 201) throw new Error(`create token: ${tok.statusCode} ${tok.body}`);
  return { id: tok.json().id, token: tok.json().token };
}

/** GET an admin route and return its JSON (asserting 200). */
export async function getJson<T = unknown>(app: FastifyInstance, url: string): Promise<T> {
  const res = await app.inject({ method: 'GET', url, headers: auth });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

/** Polls `check` until it holds (every 20 ms), failing after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
