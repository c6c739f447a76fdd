// What a person sees when a run cannot succeed: exit status 2 and one line naming the
// problem, for each cause the issue lists. Real CLI processes; the ones needing a
// coordinator share one. (Option errors are covered in-process by options.test.ts.)
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFederation, startServer, type TestServer } from '../../server/test/helper.ts';
import { freePort, runClient, scratch } from './client-process.ts';

const COMMON = ['--model', 'mlp', '--backend', 'wasm', '--epochs', '1'];

/** The last non-empty stderr line: the one-line error. */
function lastLine(stderr: string): string {
  return stderr.trim().split('\n').at(-1) ?? '';
}

describe('mutua-client refuses what cannot work, with exit 2 and one line', { concurrency: true }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(null);
  });
  after(() => server.close());

  it('rejects a bad join token (BAD_TOKEN)', async (t) => {
    const dir = scratch(t);
    await createFederation(server.app, { mode: 'sync' });
    const r = await runClient(
      t,
      [
        ...COMMON,
        '--coordinator',
        server.url,
        '--token',
        'not-a-real-token',
        '--data',
        'builtin:mnist:test',
        '--limit',
        '64',
      ],
      { XDG_CACHE_HOME: dir },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(lastLine(r.stderr), /^mutua-client: BAD_TOKEN: .*--token/);
  });

  it('gives up on an unreachable coordinator: at once with --no-retry, after --connect-attempts otherwise', async (t) => {
    const dir = scratch(t);
    const port = await freePort();
    const args = [
      ...COMMON,
      '--token',
      'x',
      '--data',
      'builtin:mnist:test',
      '--limit',
      '64',
      '--checkpoint-dir',
      join(dir, 'ck'),
    ];
    const [once, retried] = await Promise.all([
      runClient(t, [...args, '--coordinator', `ws://127.0.0.1:${port}/v1/ws`, '--no-retry'], {
        XDG_CACHE_HOME: dir,
      }),
      runClient(t, [...args, '--coordinator', `http://127.0.0.1:${port}`, '--connect-attempts', '2'], {
        XDG_CACHE_HOME: dir,
      }),
    ]);
    assert.equal(once.code, 2, once.stderr);
    assert.match(
      lastLine(once.stderr),
      new RegExp(
        `^mutua-client: UNREACHABLE: cannot reach ws://127.0.0.1:${port}/v1/ws.*gave up after 1 attempt, --no-retry`,
      ),
    );
    assert.equal(retried.code, 2, retried.stderr);
    assert.match(retried.stderr, /reconnecting in \d+\.\ds \(attempt 1\)/);
    assert.match(lastLine(retried.stderr), /^mutua-client: UNREACHABLE: .*gave up after 2 attempts\)/);
  });

  it('names the file and line of a malformed CSV', async (t) => {
    const dir = scratch(t);
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'label,a,b,c,d\n1,0,255,0,255\n0,255,0\n');
    const r = await runClient(t, [
      ...COMMON,
      '--coordinator',
      server.url,
      '--token',
      'x',
      '--data',
      `csv:${csv}`,
      '--shape',
      '2x2x1',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      lastLine(r.stderr),
      `mutua-client: DATA_CSV_RAGGED_ROW: ${csv}:3: ${r.stderr.split(`${csv}:3: `)[1]!.trim()}`,
    );
    assert.match(lastLine(r.stderr), /bad\.csv:3:/);
  });

  it('refuses a model that does not fit the federation (3 classes vs MNIST 10)', async (t) => {
    const dir = scratch(t);
    const fed = await createFederation(server.app, { mode: 'sync', task: { numClasses: 3 } });
    const r = await runClient(
      t,
      [
        ...COMMON,
        '--coordinator',
        server.wsUrl,
        '--token',
        fed.token,
        '--data',
        'builtin:mnist:test',
        '--limit',
        '64',
        '--checkpoint-dir',
        join(dir, 'ck'),
      ],
      { XDG_CACHE_HOME: dir },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(lastLine(r.stderr), /^mutua-client: MODEL_MISMATCH: .*(\b3\b.*\b10\b|\b10\b.*\b3\b)/);
    assert.match(lastLine(r.stderr), /--num-classes/);
  });
});
