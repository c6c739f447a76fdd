// The payload flags through real `mutua-client` processes and a real coordinator: one
// participant offers hard labels, deflate and deltas (--encodings hard --compression
// deflate-raw, deltas on by default), the other only uint8, uncompressed, no deltas
// (--encodings uint8 --compression none --no-delta). Each is given what it offered, both
// leave after three rounds, and the delta participant's uploads after the first carry only
// the rows whose argmax changed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFederation, getJson, startServer, type TestServer } from '../../server/test/helper.ts';
import type { MetricsLine } from '../src/metrics-log.ts';
import { readJsonLines, runClient, scratch } from './client-process.ts';

const SHARD = [
  '--limit',
  '1200',
  '--alpha',
  '1',
  '--seed',
  '7',
  '--public-size',
  '100',
  '--test-size',
  '200',
];
const COMMON = [
  '--model',
  'mlp',
  '--backend',
  'wasm',
  '--epochs',
  '2',
  '--batch-size',
  '32',
  '--lr',
  '0.005',
];
const PUBLIC = 256;

describe('mutua-client payload flags', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(null);
  });
  after(() => server.close());

  it('--encodings, --compression and --no-delta choose what each participant is given', async (t) => {
    const dir = scratch(t);
    const fed = await createFederation(
      server.app,
      {
        mode: 'sync',
        batchSize: PUBLIC, // every round the whole public set: rows recur
        encodings: ['hard', 'uint8', 'float32'],
        compressions: ['deflate-raw'],
        delta: true,
      },
      PUBLIC,
    );
    const run = (k: number, flags: string[]) =>
      runClient(
        t,
        [
          ...COMMON,
          ...flags,
          '--coordinator',
          server.wsUrl,
          '--token',
          fed.token,
          '--name',
          `p${k}`,
          '--data',
          'builtin:mnist:test',
          '--shard',
          `${k}/2`,
          ...SHARD,
          '--max-rounds',
          '3',
          '--checkpoint-dir',
          join(dir, `ck${k}`),
          '--metrics-out',
          join(dir, `p${k}.jsonl`),
        ],
        { XDG_CACHE_HOME: join(dir, 'cache') },
      );
    const [small, old] = await Promise.all([
      run(0, ['--encodings', 'hard', '--compression', 'deflate-raw']),
      run(1, ['--encodings', 'uint8', '--compression', 'none', '--no-delta']),
    ]);
    assert.equal(small.code, 0, `${small.stdout}\n${small.stderr}`);
    assert.equal(old.code, 0, `${old.stdout}\n${old.stderr}`);
    assert.match(small.stdout, /uploads hard\+deflate-raw\+delta predictions on 256 public samples/);
    assert.match(old.stdout, /uploads uint8 predictions on 256 public samples/);
    for (const r of [small, old]) assert.match(r.stdout, /completed 3 rounds; leaving/);

    const a = readJsonLines<MetricsLine>(join(dir, 'p0.jsonl'));
    const b = readJsonLines<MetricsLine>(join(dir, 'p1.jsonl'));
    assert.equal(a.length, 3);
    assert.equal(b.length, 3);
    const up = (lines: MetricsLine[]) => lines.map((l) => l.uploadBytes ?? 0);
    t.diagnostic(`upload frames: hard+deflate+delta ${up(a)}, uint8 ${up(b)}`);
    // uint8 of 256 x 10 is 2,560 bytes a round; hard labels are 128 before deflate.
    for (const bytes of up(b)) assert.ok(bytes > 2560, `uint8 frame ${bytes}`);
    assert.ok(up(a)[0]! < 300, `hard frame ${up(a)[0]}`);
    // Rounds 2 and 3 carry a 32-byte row mask and only the rows whose argmax changed.
    const rows = (lines: MetricsLine[]) => lines.map((l) => l.uploadRows);
    t.diagnostic(`rows sent: hard+deflate+delta ${rows(a)}, uint8 ${rows(b)}`);
    assert.deepEqual(rows(b), [PUBLIC, PUBLIC, PUBLIC]);
    assert.equal(a[0]!.uploadRows, PUBLIC);
    // A model trained a little (2 epochs at lr 0.005) keeps most argmaxes from round to round:
    // measured 64 and 57 of 256 rows.
    for (const l of a.slice(1)) assert.ok(l.uploadRows! < PUBLIC / 2, `rows sent ${rows(a)}`);
    for (const bytes of up(a).slice(1)) assert.ok(bytes < up(a)[0]!, `frames ${up(a)}`);

    // Both uploaded every round, and the coordinator accepted them all.
    const rounds = await getJson<{ submissions: number }[]>(server.app, `/v1/federations/${fed.id}/rounds`);
    assert.equal(
      rounds.reduce((n, r) => n + r.submissions, 0),
      6,
    );
  });
});
