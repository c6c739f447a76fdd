// Start failures an operator meets, as real processes of the built command: each ends with
// one line `mutua-server: …` naming the problem and the fix, exit code 2, no stack trace,
// and none hangs (a recursive mkdir of /proc/nope used to spin for minutes).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runServer, SERVER_BIN, type SpawnOptions } from './child-server.ts';
import { ADMIN_TOKEN } from './helper.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mutua-start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

async function refused(o: SpawnOptions, message: RegExp): Promise<void> {
  const r = await runServer(
    { ...o, args: ['--admin-token', ADMIN_TOKEN, '--port', '0', ...(o.args ?? [])] },
    60_000,
  );
  assert.equal(r.code, 2, `exit code\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace: ${r.stderr}`);
  assert.match(lines[0]!, /^mutua-server: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack frames');
  assert.doesNotMatch(r.stdout, /listening on/);
}

describe('mutua-server start failures: one line, exit 2', () => {
  it('the port is in use (EADDRINUSE)', async (t) => {
    const other = createServer();
    const port = await listen(other);
    t.after(() => other.close());
    await refused(
      { args: ['--data-dir', tempDir(t), '--port', String(port), '--host', '127.0.0.1'] },
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use \\(EADDRINUSE\\): .*--port`),
    );
  });

  it('--data-dir is a file', async (t) => {
    const file = join(tempDir(t), 'not-a-dir');
    writeFileSync(file, 'x');
    await refused({ args: ['--data-dir', file] }, /--data-dir .*not-a-dir is a file, not a directory/);
  });

  it('--data-dir /proc/nope fails at once instead of hanging', async () => {
    await refused(
      { args: ['--data-dir', '/proc/nope/deeper'] },
      /cannot create the data directory \/proc\/nope\/deeper/,
    );
  });

  it('PostgreSQL is unreachable (ECONNREFUSED): says where and what to check', async (t) => {
    const port = await closedPort();
    await refused(
      { args: ['--data-dir', tempDir(t), '--database-url', `postgresql://postgres@127.0.0.1:${port}/mutua`] },
      new RegExp(
        `cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): is PostgreSQL running .*DATABASE_URL`,
      ),
    );
  });

  it('a root-owned data directory (a bind-mounted /data) for an unprivileged user (EACCES)', async (t) => {
    const root = tempDir(t);
    const data = join(root, 'data');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(root, 0o755);
    const asRoot = process.getuid?.() === 0;
    // As root, run the coordinator as nobody (root writes anywhere); otherwise take the write bit away.
    // nobody must be able to reach the checkout (a clone under a 0700 mktemp directory is not).
    if (asRoot && !othersCanRead(SERVER_BIN)) {
      t.skip(`${SERVER_BIN} is not readable by other users, so the coordinator cannot run as nobody`);
      return;
    }
    if (!asRoot) {
      chmodSync(data, 0o555);
      t.after(() => chmodSync(data, 0o755));
    }
    await refused(
      { args: ['--data-dir', data], ...(asRoot ? { uid: 65534, gid: 65534 } : {}) },
      /the data directory .*\/data is not writable by this user \(uid \d+, EACCES\): chown it/,
    );
  });
});

/** Whether a user who is neither owner nor group can read `file`: o+r on it, o+x on every directory above. */
function othersCanRead(file: string): boolean {
  if (!(statSync(file).mode & 0o004)) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (!(statSync(dir).mode & 0o001)) return false;
    if (dirname(dir) === dir) return true;
  }
}
