// The public set is downloaded once, compressed, and never again: real `mutua-client`
// processes against a real coordinator, counting downloads on the coordinator's /metrics.
// A second client sharing the cache does not download; a corrupt cache file is reported
// and downloaded again; a public set shipped with the application (--public-set-file)
// is used without a download.
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createFederation, startServer, type TestServer } from '../../server/test/helper.ts';
import { scratch, startClient } from './client-process.ts';

const ARGS = ['--model', 'mlp', '--backend', 'wasm', '--data', 'builtin:mnist:test', '--limit', '200'];

/** The coordinator's public-set counters, read as an operator would (GET /metrics). */
async function downloads(server: TestServer): Promise<{ sent: number; notModified: number; bytes: number }> {
  const text = (await server.app.inject({ url: '/metrics' })).body;
  const value = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    sent: value(/^mutua_public_set_requests_total\{status="200"\} (\d+)$/gm),
    notModified: value(/^mutua_public_set_requests_total\{status="304"\} (\d+)$/gm),
    bytes: value(/^mutua_public_set_bytes_sent_total\{coding="[a-z]+"\} (\d+)$/gm),
  };
}

describe('mutua-client public-set cache', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(null);
  });
  after(() => server.close());

  /** Starts a client, waits for its public-set line, stops it; returns the line and stderr. */
  async function join_(
    t: TestContext,
    token: string,
    extra: string[],
  ): Promise<{ line: string; stderr: string }> {
    const p = startClient(t, [...ARGS, '--coordinator', server.wsUrl, '--token', token, ...extra]);
    const line = await p.waitFor(/public set: [\d.]+ /);
    p.kill();
    await p.exited;
    return { line, stderr: p.stderr };
  }

  it('downloads once (compressed), then uses the cache; a corrupt file is fetched again; a shipped file is used', async (t) => {
    const dir = scratch(t);
    const cache = join(dir, 'cache');
    const fed = await createFederation(server.app, { mode: 'sync', batchSize: 16 }, 300);
    const before = await downloads(server);

    const first = await join_(t, fed.token, ['--cache-dir', cache, '--name', 'a']);
    assert.match(first.line, /downloaded from http:\/\/.* on the wire, (br|gzip)\)/, first.line);
    const afterFirst = await downloads(server);
    assert.equal(afterFirst.sent - before.sent, 1, 'one download');
    const raw = 300 * 784; // at least: 300 MNIST images, one byte per pixel
    const wire = afterFirst.bytes - before.bytes;
    assert.ok(
      wire > 0 && wire < raw / 2,
      `the download was compressed: ${wire} bytes on the wire for ${raw}`,
    );

    const second = await join_(t, fed.token, ['--cache-dir', cache, '--name', 'b']);
    assert.match(second.line, /from the cache /, second.line);
    assert.equal((await downloads(server)).sent, afterFirst.sent, 'the second client did not download');

    const [file] = readdirSync(join(cache, 'public-sets'));
    assert.match(file!, /^[0-9a-f]{64}$/, 'the cache is content-addressed');
    const shipped = join(dir, 'shipped.mutua');
    copyFileSync(join(cache, 'public-sets', file!), shipped);
    writeFileSync(join(cache, 'public-sets', file!), 'not the public set');
    const third = await join_(t, fed.token, ['--cache-dir', cache, '--name', 'c']);
    assert.match(third.stderr, /cached file .* is corrupt .* downloading it again/, third.stderr);
    assert.match(third.line, /downloaded from /, third.line);
    assert.equal(
      (await downloads(server)).sent,
      afterFirst.sent + 1,
      'the corrupt file was downloaded again',
    );

    const fresh = join(dir, 'fresh-cache');
    const fourth = await join_(t, fed.token, ['--cache-dir', fresh, '--public-set-file', shipped]);
    assert.match(fourth.line, /from --public-set-file /, fourth.line);
    assert.equal(
      (await downloads(server)).sent,
      afterFirst.sent + 1,
      'the shipped file was used: no download',
    );
    assert.deepEqual(readdirSync(join(fresh, 'public-sets')), [file], 'and copied into the cache');
  });
});
