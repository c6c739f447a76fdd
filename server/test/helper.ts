/**
 * Builds a coordinator for a test on a fresh embedded database (or PostgreSQL when
 * MUTUA_TEST_DATABASE=postgres), with a small built-in public set, and closes it after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from '../src/app.ts';
import { createTestDatabaseUrl } from './postgres.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface TestServer {
  app: FastifyInstance;
  url: string;
  wsUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
}

export async function startServer(
  t: TestContext | null,
  overrides: Partial<AppOptions> = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'mutua-test-'));
  const databaseUrl = overrides.databaseUrl ?? (await createTestDatabaseUrl(t));
  const app = await buildApp({
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
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  t?.after(async () => {
    await app.close();
    if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    dataDir,
    databaseUrl,
  };
}

export interface FederationFixture {
  id: string;
  token: string;
  tokenId: string;
}

/** Creates a federation over MNIST test[0:count] and issues a join token. */
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
      publicSet: { dataset: 'mnist', split: 'test', offset: 0, count },
      settings: { batchSize: 16, ...settings },
    },
  });
  if (res.statusCode !== 201) throw new Error(`create federation: ${res.statusCode} ${res.body}`);
  const id = res.json().id as string;
  const tok = await app.inject({
    method: 'POST',
    url: `/v1/federations/${id}/tokens`,
    headers: auth,
    payload: { label: 't' },
  });
  if (tok.statusCode !== 201) throw new Error(`create token: ${tok.statusCode} ${tok.body}`);
  return { id, token: tok.json().token, tokenId: tok.json().id };
}
