// The `mutua` admin command as an operator runs it: server/bin/mutua.js spawned against a
// real coordinator (also spawned), asserting what it prints and its exit status, error
// paths included. Participants are protocol-level test clients, so rounds close on cue.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ChildServer, REPO_ROOT, runServer, spawnServer } from './child-server.ts';
import { ADMIN_TOKEN, auth } from './helper.ts';
import { TestClient } from './test-client.ts';

const MUTUA_BIN = fileURLToPath(new URL('../bin/mutua.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('mutua admin command', () => {
  let server: ChildServer;
  let dataDir: string;
  let workDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mutua-admin-cli-'));
    workDir = mkdtempSync(join(tmpdir(), 'mutua-admin-cli-files-'));
    server = await spawnServer(null, {
      args: ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--admin-token', ADMIN_TOKEN],
    });
  });
  after(async () => {
    await server?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  /** `mutua ...args` with the coordinator and token in the environment (overridable). */
  const mutua = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    runServer(
      {
        command: [process.execPath, MUTUA_BIN, ...args],
        env: { MUTUA_COORDINATOR: server.url, MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
      },
      // A command answers in a second or two; the margin is for a machine shared by many test runs.
      60_000,
    );

  const ok = async (args: string[], env?: Record<string, string>): Promise<string> => {
    const r = await mutua(args, env);
    assert.equal(r.code, 0, `mutua ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const okJson = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '--json'])) as T;

  /** Exit 2, one line on stderr starting with "mutua: " and matching `message`, nothing on stdout. */
  const fails = async (args: string[], message: RegExp, env?: Record<string, string>) => {
    const r = await mutua(args, env);
    assert.equal(r.code, 2, `mutua ${args.join(' ')} should fail\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /^mutua: /);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line, no stack: ${r.stderr}`);
    assert.equal(r.stdout, '');
  };

  const createFederation = (name: string, extra: string[] = []) =>
    okJson<{ id: string; name: string; status: string; settings: Record<string, unknown> }>([
      'federation',
      'create',
      name,
      '--public-set',
      'builtin:mnist',
      '--public-size',
      '64',
      '--batch-size',
      '16',
      ...extra,
    ]);

  it('--help: an overview, per group, and per command; a missing or unknown command is exit 2', async () => {
    const top = await ok(['--help']);
    for (const c of [
      'federation create',
      'federation list',
      'federation show',
      'federation pause',
      'federation resume',
      'federation delete',
      'federation distill',
      'token create',
      'token list',
      'token revoke',
      'public-set upload',
      'public-set list',
      'participants',
      'rounds',
    ])
      assert.match(top, new RegExp(`^  ${c}\\b`, 'm'), `${c} listed`);
    assert.match(top, /MUTUA_ADMIN_TOKEN/);
    assert.match(top, /--coordinator URL/);
    assert.match(await ok(['token', '--help']), /^Usage: mutua token <create\|list\|revoke>/);
    const create = await ok(['federation', 'create', '--help']);
    assert.match(create, /^Usage: mutua federation create NAME/);
    for (const o of ['--public-set', '--public-size', '--public-set-id', '--mode', '--set', '--json'])
      assert.ok(create.includes(o), `${o} explained`);
    assert.match(await ok(['rounds', '--help']), /--follow/);

    await fails([], /missing command \(see mutua --help\)/);
    await fails(['federations'], /unknown command "federations"/);
    await fails(['federation', 'make'], /unknown federation command "make": create, list, show/);
    await fails(['federation'], /missing federation command/);
    await fails(
      ['federation', 'list', '--bogus'],
      /Unknown option '--bogus'.*see mutua federation list --help/,
    );
    await fails(['federation', 'show'], /missing FEDERATION/);
  });

  it('federation create / list / show / pause / resume / delete', async () => {
    const human = await ok([
      'federation',
      'create',
      'cli-lifecycle',
      '--public-set',
      'builtin:mnist',
      '--public-size',
      '64',
      '--mode',
      'async',
      '--batch-size',
      '16',
      '--set',
      'async.bufferK=3',
      '--set',
      'encodings=["float16"]',
    ]);
    assert.match(human, /^name: +cli-lifecycle$/m);
    assert.match(human, /^public set: +mnist:test\[0:64\], 64 samples of 28x28x1 \([0-9a-f]{64}\)$/m);
    assert.match(human, /^settings\.mode: +async$/m);
    assert.match(human, /^settings\.async\.bufferK: +3$/m);
    assert.match(human, /^settings\.encodings: +float16$/m);
    const id = /^id: +(\S+)$/m.exec(human)![1]!;

    const other = await createFederation('cli-other');
    assert.equal(other.status, 'active');
    assert.equal(other.settings.batchSize, 16);

    const table = await ok(['federation', 'list']);
    assert.match(table, /^ID +NAME +STATUS +MODE +ROUND +ONLINE +PUBLIC SET +CREATED$/m);
    assert.match(
      table,
      new RegExp(`^${id} +cli-lifecycle +active +async +0 +0 +mnist:test\\[0:64\\] \\(64\\)`, 'm'),
    );
    const listed = await okJson<{ id: string; name: string }[]>(['federation', 'list']);
    assert.ok(listed.some((f) => f.id === other.id && f.name === 'cli-other'));

    // By name or by id.
    assert.equal((await okJson<{ id: string }>(['federation', 'show', 'cli-lifecycle'])).id, id);
    assert.match(await ok(['federation', 'show', id]), /^settings\.async\.bufferK: +3$/m);

    assert.equal(
      await ok(['federation', 'pause', 'cli-lifecycle']),
      `federation cli-lifecycle (${id}) is paused\n`,
    );
    assert.equal((await okJson<{ status: string }>(['federation', 'show', id])).status, 'paused');
    assert.equal((await okJson<{ status: string }>(['federation', 'resume', id])).status, 'active');

    assert.equal(await ok(['federation', 'delete', id]), `federation cli-lifecycle (${id}) deleted\n`);
    await fails(['federation', 'show', id], new RegExp(`federation "${id}" not found`));
    const after = await okJson<{ id: string }[]>(['federation', 'list']);
    assert.ok(!after.some((f) => f.id === id), 'a deleted federation is not listed');
  });

  it('federation create refuses what cannot work, naming the problem', async () => {
    await fails(
      ['federation', 'create', 'x'],
      /give exactly one of --public-set builtin:DATASET and --public-set-id ID/,
    );
    await fails(
      ['federation', 'create', 'x', '--public-set', 'builtin:mnist', '--public-set-id', 'a'.repeat(64)],
      /give exactly one of/,
    );
    await fails(
      ['federation', 'create', 'x', '--public-set', 'mnist'],
      /--public-set must be builtin:mnist or builtin:fashion-mnist/,
    );
    await fails(['federation', 'create', '--public-set', 'builtin:mnist'], /missing NAME/);
    await fails(
      ['federation', 'create', 'x', '--public-set', 'builtin:mnist', '--public-size', '0'],
      /--public-size must be an integer in \[1, 70000\], got "0"/,
    );
    await fails(
      ['federation', 'create', 'x', '--public-set', 'builtin:mnist', '--set', 'nonsense'],
      /--set takes PATH=VALUE/,
    );
    // Refused by the coordinator: its message and code come through.
    await fails(
      [
        'federation',
        'create',
        'x',
        '--public-set',
        'builtin:mnist:test',
        '--public-offset',
        '9990',
        '--public-size',
        '64',
      ],
      /mnist test has 10000 samples; offset\+count is 10054 \(MUTUA_ERR_BAD_REQUEST\)/,
    );
    await fails(
      ['federation', 'create', 'x', '--public-set', 'builtin:mnist', '--mode', 'sometimes'],
      /mode.*\(MUTUA_ERR_VALIDATION\)/,
    );
    // A name two federations share does not pick one at random.
    const twins = [await createFederation('twin'), await createFederation('twin')];
    await fails(
      ['token', 'create', 'twin'],
      new RegExp(`2 federations are named "twin" \\(${twins[0]!.id}, ${twins[1]!.id}\\): give the id`),
    );
    await fails(
      ['federation', 'create', 'x', '--public-set-id', 'f'.repeat(64)],
      /public set f{64} not found \(MUTUA_ERR_NOT_FOUND\)/,
    );
  });

  it('token create / list / revoke', async () => {
    const f = await createFederation('cli-tokens');
    const human = await ok(['token', 'create', 'cli-tokens', '--label', 'lab-3', '--expires-in', '2h']);
    assert.match(human, /^token: +mutua_\S+$/m);
    assert.match(human, /^label: +lab-3$/m);
    const token = /^token: +(\S+)$/m.exec(human)![1]!;
    assert.match(human, new RegExp(`^join link: +${server.url}/join/${token}$`, 'm'));
    const made = await okJson<{ id: string; token: string; joinLink: string; expiresAt: string }>([
      'token',
      'create',
      f.id,
    ]);
    assert.match(made.token, /^mutua_/);
    assert.equal(made.joinLink, `${server.url}/join/${made.token}`);
    assert.equal(made.expiresAt, null);

    const listed = await ok(['token', 'list', f.id]);
    assert.match(listed, /^ID +LABEL +STATE +CREATED +EXPIRES +LAST USED$/m);
    assert.match(listed, /lab-3 +active/);
    assert.ok(!listed.includes(token), 'the token itself is never listed');

    assert.equal(
      await ok(['token', 'revoke', 'cli-tokens', made.id]),
      `token ${made.id} of federation cli-tokens revoked\n`,
    );
    const after = await okJson<{ id: string; revokedAt: string | null }[]>(['token', 'list', f.id]);
    assert.ok(after.find((t) => t.id === made.id)!.revokedAt, 'revoked');
    assert.match(await ok(['token', 'list', f.id]), new RegExp(`^${made.id} +- +revoked`, 'm'));

    await fails(
      ['token', 'revoke', f.id, 'no-such-token'],
      /token no-such-token not found \(MUTUA_ERR_NOT_FOUND\)/,
    );
    await fails(
      ['token', 'create', f.id, '--expires-in', 'soon'],
      /--expires-in must be a duration like 3600, 90s, 15m, 2h or 7d, got "soon"/,
    );
    await fails(['token', 'revoke', f.id], /missing TOKEN_ID/);
  });

  it('public-set upload / list, and a federation on the uploaded set', async () => {
    // Four 2x2 samples: label, then four pixel values.
    const csv = join(workDir, 'tiny.csv');
    writeFileSync(csv, '0,0,0.5,1,0\n1,1,0,0.5,0\n0,0.25,0.25,0.25,0.25\n1,0,0,0,1\n');
    const human = await ok(['public-set', 'upload', csv, '--shape', '2x2x1']);
    assert.match(human, /^samples: +4$/m);
    assert.match(human, /^shape: +2x2x1$/m);
    assert.match(human, /^source: +upload:tiny\.csv$/m);
    const id = /^id: +([0-9a-f]{64})$/m.exec(human)![1]!;
    const again = await okJson<{ id: string }>([
      'public-set',
      'upload',
      csv,
      '--shape',
      '2x2x1',
      '--format',
      'csv',
    ]);
    assert.equal(again.id, id, 'the same content has the same id');

    const table = await ok(['public-set', 'list']);
    assert.match(table, /^ID +SAMPLES +SHAPE +SIZE +SOURCE +CREATED$/m);
    assert.match(table, new RegExp(`^${id} +4 +2x2x1 +\\d+ B +upload:tiny\\.csv`, 'm'));
    assert.ok((await okJson<{ id: string }[]>(['public-set', 'list'])).some((s) => s.id === id));

    const f = await okJson<{ publicSet: { id: string }; settings: { task: { inputShape: number[] } } }>([
      'federation',
      'create',
      'cli-uploaded',
      '--public-set-id',
      id,
      '--batch-size',
      '4',
      '--set',
      'task.inputShape=[2,2,1]',
      '--set',
      'task.numClasses=2',
    ]);
    assert.equal(f.publicSet.id, id);
    assert.deepEqual(f.settings.task.inputShape, [2, 2, 1]);

    const odd = join(workDir, 'samples.bin');
    writeFileSync(odd, 'x');
    await fails(
      ['public-set', 'upload', odd],
      /cannot tell the format of .*samples\.bin from its name: add --format idx\|csv\|mutua-public-v1/,
    );
    await fails(['public-set', 'upload', join(workDir, 'missing.csv')], /missing\.csv: no such file/);
    await fails(['public-set', 'upload', odd, '--format', 'idx'], /samples\.bin: .*\(DATA_IDX_TRUNCATED\)$/m);
  });

  it('participants and rounds (also --follow until Ctrl-C), with the accuracy participants reported', async (t) => {
    const f = await createFederation('cli-rounds');
    const tokens = await Promise.all(
      ['a', 'b'].map((label) => okJson<{ token: string }>(['token', 'create', f.id, '--label', label])),
    );
    const clients = await Promise.all(
      tokens.map((tk, i) => TestClient.join(server.wsUrl, { joinToken: tk.token, name: `peer-${i}` })),
    );
    t.after(() => {
      for (const c of clients) c.close();
    });
    await Promise.all(clients.map((c) => c.completeRound(1)));
    // Evaluation after round 1, as mutua-client reports it (a MetricsReport outside a submission).
    for (const [i, c] of clients.entries())
      c.send({ metrics: { round: 1, metrics: { valAccuracy: 0.5 + i * 0.25 } } });
    // Reports are stored asynchronously and answered with nothing: wait until the API shows both.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await server.fetch(`/v1/federations/${f.id}/metrics`, { headers: auth });
      const rows = (await res.json()) as { source: string; metrics: Record<string, number> }[];
      if (rows.filter((m) => m.metrics.valAccuracy !== undefined).length === 2) break;
      assert.ok(Date.now() < deadline, `the metrics reports never showed up: ${JSON.stringify(rows)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const people = await ok(['participants', 'cli-rounds']);
    assert.match(people, /^ID +NAME +KIND +MODEL +ONLINE +LAST SEEN +IN +OUT$/m);
    assert.match(people, /peer-0 +\w+ +\S+ +yes/);
    assert.match(people, /peer-1 +\w+ +\S+ +yes/);
    const peopleJson = await okJson<{ name: string; online: boolean; bytesIn: number }[]>([
      'participants',
      f.id,
    ]);
    assert.deepEqual(peopleJson.map((p) => [p.name, p.online]).sort(), [
      ['peer-0', true],
      ['peer-1', true],
    ]);

    // --follow: the closed round at once, the next one when it closes, a clean end on Ctrl-C.
    const follow = spawn(
      process.execPath,
      [MUTUA_BIN, 'rounds', 'cli-rounds', '--follow', '--interval', '200'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, MUTUA_COORDINATOR: server.url, MUTUA_ADMIN_TOKEN: ADMIN_TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => {
      if (follow.exitCode === null && follow.signalCode === null) follow.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    const waiters: [RegExp, () => void][] = [];
    follow.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const [re, resolve] of waiters) if (re.test(out)) resolve();
    });
    follow.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => follow.on('close', (code) => resolve(code)));
    const printed = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        waiters.push([re, resolve]);
        void exited.then(() =>
          reject(new Error(`mutua rounds --follow exited before printing ${re}\n${out}\n${err}`)),
        );
      });
    await printed(/^1 +closed +2 +16 +/m);
    assert.match(out, /^ROUND +STATUS +SUBMISSIONS +BATCH +AGG MS +CLOSED +REASON +VAL ACC +TEST ACC$/m);
    assert.match(out, /^1 +closed +2 +16 +\S+ +\S+ \S+ +\w+ +62\.5% +-$/m, 'mean of 50% and 75%');
    await Promise.all(clients.map((c) => c.completeRound(2)));
    await printed(/^2 +closed +2 +16 +/m);
    follow.kill('SIGINT');
    assert.equal(await exited, 0, `Ctrl-C ends --follow cleanly\n${err}`);
    assert.match(err, /following the rounds of federation cli-rounds/);

    const rounds = await ok(['rounds', f.id]);
    assert.match(rounds, /^1 +closed +2 +16 /m);
    assert.match(rounds, /^2 +closed +2 +16 /m);
    assert.match(rounds, /^3 +open +0 +16 /m);
    const json = await okJson<
      { number: number; status: string; submissions: number; valAccuracy: number | null }[]
    >(['rounds', 'cli-rounds', '--last', '2']);
    assert.deepEqual(
      json.map((r) => [r.number, r.status, r.submissions]),
      [
        [2, 'closed', 2],
        [3, 'open', 0],
      ],
    );
    const first = await okJson<{ number: number; valAccuracy: number | null }[]>([
      'rounds',
      f.id,
      '--last',
      '3',
    ]);
    assert.equal(first[0]!.number, 1);
    assert.equal(first[0]!.valAccuracy, 0.625);
  });

  it('errors are one line and exit 2: bad or missing token, unknown federation, unreachable coordinator', async () => {
    await fails(
      ['federation', 'list'],
      /the coordinator at .* refused the admin token: wrong admin token \(check MUTUA_ADMIN_TOKEN/,
      {
        MUTUA_ADMIN_TOKEN: 'not-the-admin-token',
      },
    );
    await fails(['federation', 'list', '--admin-token', 'also-wrong-token'], /refused the admin token/);
    await fails(['public-set', 'list'], /no admin token: set MUTUA_ADMIN_TOKEN or pass --admin-token/, {
      MUTUA_ADMIN_TOKEN: '',
    });
    const unknown = [
      ['federation', 'show', 'nope'],
      ['federation', 'pause', 'nope'],
      ['token', 'list', 'nope'],
      ['participants', 'nope'],
      ['rounds', 'nope', '--follow'],
    ];
    // One after the other: seven tsx start-ups at once can take more than a minute on a loaded machine.
    for (const args of unknown)
      await fails(
        args,
        /federation "nope" not found \(no federation has this id or name; see mutua federation list\)/,
      );

    // A port nobody listens on: bound, then released.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const down = `http://127.0.0.1:${port}`;
    await fails(
      ['federation', 'list', '--coordinator', down],
      new RegExp(
        `cannot reach the coordinator at ${down} \\(connection refused\\): is mutua-server running there\\?`,
      ),
    );
    await fails(['rounds', 'x'], /cannot reach the coordinator/, { MUTUA_COORDINATOR: down });
    await fails(
      ['federation', 'list', '--coordinator', 'ftp://example'],
      /--coordinator must be an http\(s\):\/\/ URL/,
    );
    // Something that is not a coordinator answers: the CLI says so rather than printing garbage.
    await fails(
      ['federation', 'list', '--coordinator', `${server.url}/nothing-here`],
      new RegExp(
        `${server.url}/nothing-here answered 404 to GET /v1/federations: is it a Mutua coordinator\\?`,
      ),
    );
  });
});
