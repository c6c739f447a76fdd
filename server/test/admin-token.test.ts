// The admin token when none is configured: minted at the first start of a data directory,
// printed once, kept only as its SHA-256 in <data dir>/admin-token.sha256, the same after a
// restart (the dashboard stays signed in), and replaced by `mutua-server --rotate-admin-token`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ADMIN_TOKEN_FILE } from '../src/start/admin-token.ts';
import { type ChildServer, runServer, spawnServer } from './child-server.ts';

const tokenIn = (out: string): string | undefined => /^admin token: (\S+)$/m.exec(out)?.[1];

async function status(server: ChildServer, token: string): Promise<number> {
  const r = await server.fetch('/v1/federations', { headers: { authorization: `Bearer ${token}` } });
  return r.status;
}

describe('the stored admin token', () => {
  it('is minted and printed once, kept hashed, survives a restart, and rotates', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-admin-token-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const args = ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir];

    const first = await spawnServer(t, { args });
    const token = tokenIn(first.log);
    assert.ok(token && token.length >= 32, `printed at first start:\n${first.log}`);
    const file = join(dataDir, ADMIN_TOKEN_FILE);
    const stored = readFileSync(file, 'utf8');
    assert.equal(stored, `sha256:${createHash('sha256').update(token).digest('hex')}\n`);
    assert.ok(!stored.includes(token), 'only the hash is stored');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
    assert.equal(await status(first, token), 200);
    assert.equal(await status(first, `${token}x`), 401);
    assert.equal((await first.stop('SIGTERM')).code, 0);

    const second = await spawnServer(t, { args });
    assert.equal(tokenIn(second.log), undefined, `not printed again:\n${second.log}`);
    assert.equal(await status(second, token), 200, 'the same token after a restart');
    assert.equal((await second.stop('SIGTERM')).code, 0);

    const rotated = await runServer({ args: ['--data-dir', dataDir, '--rotate-admin-token'] });
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = tokenIn(rotated.stdout);
    assert.ok(fresh && fresh !== token, rotated.stdout);
    assert.match(rotated.stderr, /a new admin token is stored \(hashed\) in .*admin-token\.sha256/);

    const third = await spawnServer(t, { args });
    assert.equal(tokenIn(third.log), undefined);
    assert.equal(await status(third, fresh), 200, 'the rotated token works');
    assert.equal(await status(third, token), 401, 'the old one no longer does');
    assert.equal((await third.stop('SIGTERM')).code, 0);
  });

  it('a configured token wins and nothing is stored', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-admin-token-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const configured = 'configured-admin-token-0123456789';
    const s = await spawnServer(t, {
      args: ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
      env: { MUTUA_ADMIN_TOKEN: configured },
    });
    assert.equal(tokenIn(s.log), undefined);
    assert.equal(await status(s, configured), 200);
    assert.equal(statSync(join(dataDir, ADMIN_TOKEN_FILE), { throwIfNoEntry: false }), undefined);
    assert.equal((await s.stop('SIGTERM')).code, 0);
  });

  it('a damaged hash file is a start failure with the fix', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-admin-token-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'hello');
    const r = await runServer({ args: ['--port', '0', '--data-dir', dataDir] });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^mutua-server: .*admin-token\.sha256 is not an admin token hash.*--rotate-admin-token\n$/,
    );
  });
});
