// The coordinator restarts under a running client: the client prints that it reconnects,
// resumes as the same participant (one participant in the coordinator's REST API) and its
// rounds carry on where they were, then it leaves after --max-rounds as usual.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.ts';
import { ADMIN_TOKEN, createFederation, getJson } from '../../server/test/helper.ts';
import type { MetricsLine } from '../src/metrics-log.ts';
import { readJsonLines, scratch, startClient } from './client-process.ts';

/** A coordinator on `dataDir` (embedded SQLite), listening on `port` (0 = any). */
async function coordinator(dataDir: string, port: number): Promise<{ app: FastifyInstance; port: number }> {
  const app = await buildApp({
    dataDir,
    databaseUrl: undefined,
    adminToken: ADMIN_TOKEN,
    maxFrameBytes: 1 << 20,
    maxMessagesPerSecond: 200,
    heartbeatIntervalMs: 10_000,
    maxUploadBytes: 64 << 20,
  });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : port };
}

it('a client carries on as the same participant after the coordinator restarts', async (t) => {
  const dir = scratch(t);
  const dataDir = mkdtempSync(join(tmpdir(), 'mutua-client-coordinator-'));
  let current: FastifyInstance | null = null;
  t.after(async () => {
    await current?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const first = await coordinator(dataDir, 0);
  current = first.app;
  const fed = await createFederation(first.app, { mode: 'sync', batchSize: 32 }, 64);
  const metricsOut = join(dir, 'metrics.jsonl');
  const p = startClient(
    t,
    [
      '--coordinator',
      `http://127.0.0.1:${first.port}`,
      '--token',
      fed.token,
      '--name',
      'survivor',
      '--data',
      'builtin:mnist:test',
      '--limit',
      '300',
      '--model',
      'mlp',
      '--backend',
      'wasm',
      // Slow rounds, so that the restart lands mid-run.
      '--slowdown',
      '3',
      '--max-rounds',
      '3',
      '--checkpoint-dir',
      join(dir, 'ck'),
      '--metrics-out',
      metricsOut,
    ],
    { XDG_CACHE_HOME: join(dir, 'cache') },
  );
  await p.waitFor(/^round 1\b.*: loss/);
  const reconnecting = p.waitFor(/reconnecting in \d+\.\ds/);
  await first.app.close();
  current = null;
  await reconnecting;
  const second = await coordinator(dataDir, first.port);
  current = second.app;
  await p.waitFor(/^reconnected to .* as participant/);
  const r = await p.exited;
  assert.equal(r.code, 0, p.output);

  const participants = await getJson<{ name: string }[]>(
    second.app,
    `/v1/federations/${fed.id}/participants`,
  );
  assert.deepEqual(
    participants.map((x) => x.name),
    ['survivor'],
    'the restarted coordinator knows one participant: the client resumed, it did not join again',
  );
  const lines = readJsonLines<MetricsLine>(metricsOut);
  assert.equal(lines.length, 3, p.output);
  assert.equal(new Set(lines.map((l) => l.participant)).size, 1);
  const rounds = lines.map((l) => l.round);
  assert.deepEqual(
    [...rounds].sort((a, b) => a - b),
    rounds,
    'rounds only move forward',
  );
  assert.equal(new Set(rounds).size, 3);
  const after = await getJson<{ number: number; submissions: number }[]>(
    second.app,
    `/v1/federations/${fed.id}/rounds`,
  );
  assert.ok(
    after.some((round) => round.number === rounds[2] && round.submissions === 1),
    `the last round was accepted by the restarted coordinator: ${JSON.stringify(after)}`,
  );
});
