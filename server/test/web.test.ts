/**
 * The static handler of the built browser client (routes/web.ts): pages, assets, content
 * types, cross-origin isolation, the 503 before a build, and no way out of the folder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { HttpError } from '../src/errors.ts';
import webRoutes from '../src/routes/web.ts';
import { startServer } from './helper.ts';

async function webApp(distDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    if (!(err instanceof HttpError)) throw err;
    return reply
      .code(err.statusCode)
      .send({ statusCode: err.statusCode, code: err.code, message: err.message });
  });
  await app.register(webRoutes, { distDir });
  return app;
}

describe('web client routes', () => {
  let parent: string;
  let dist: string;
  let app: FastifyInstance;

  before(async () => {
    parent = mkdtempSync(join(tmpdir(), 'mutua-web-'));
    dist = join(parent, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    mkdirSync(join(dist, 'tfjs-wasm'));
    mkdirSync(join(dist, 'assets', '.hidden'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>dashboard</title>');
    writeFileSync(join(dist, 'join.html'), '<!doctype html><title>join</title>');
    writeFileSync(join(dist, 'assets', 'main-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'style-abc123.css'), 'body{}');
    writeFileSync(join(dist, 'assets', '.hidden', 'x.js'), 'HIDDEN_CONTENT');
    writeFileSync(join(dist, 'tfjs-wasm', 'tfjs-backend-wasm.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    // Files next to dist that a traversal would reach.
    writeFileSync(join(parent, 'secret.txt'), 'do not serve');
    writeFileSync(join(dist, '.env'), 'ADMIN=1');
    app = await webApp(dist);
  });
  after(async () => {
    await app.close();
    rmSync(parent, { recursive: true, force: true });
  });

  test('the dashboard at / and the join page at /join/<token>, as HTML, cross-origin isolated', async () => {
    const home = await app.inject('/');
    assert.equal(home.statusCode, 200);
    assert.match(home.headers['content-type'] as string, /^text\/html/);
    assert.match(home.body, /dashboard/);
    assert.equal(home.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(home.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(home.headers['cache-control'], 'no-cache');
    for (const url of ['/join/mutua_abc-DEF_123', '/join', '/join/a/b?x=1']) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<title>join/, url);
    }
  });

  test('assets and wasm binaries with their content types and caching', async () => {
    const js = await app.inject('/assets/main-abc123.js');
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    assert.equal(js.body, 'console.log(1)');
    const css = await app.inject('/assets/style-abc123.css');
    assert.match(css.headers['content-type'] as string, /^text\/css/);
    const wasm = await app.inject('/tfjs-wasm/tfjs-backend-wasm.wasm');
    assert.equal(wasm.statusCode, 200);
    // WebAssembly.instantiateStreaming refuses any other type.
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.equal(wasm.rawPayload.length, 4);
    assert.equal((await app.inject('/assets/missing.js')).statusCode, 404);
    assert.equal((await app.inject('/assets/')).statusCode, 404);
  });

  test('no path leaves the dist folder or reaches a dotfile', async () => {
    for (const url of [
      '/assets/../../secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/assets/....//....//secret.txt',
      '/tfjs-wasm/../../secret.txt',
      '/tfjs-wasm/..%2F..%2Fsecret.txt',
      '/assets/%2fetc%2fpasswd',
      '/assets//etc/passwd',
      '/assets/..%2f.env',
      '/assets/.hidden/x.js',
      '/assets/main-abc123.js%00.png',
      '/join/..%2f..%2fsecret.txt',
    ]) {
      const res = await app.inject(url);
      assert.ok(!res.body.includes('do not serve'), `${url} served a file outside dist`);
      assert.ok(!res.body.includes('ADMIN=1'), `${url} served a dotfile`);
      assert.ok(!res.body.includes('HIDDEN_CONTENT'), `${url} served a hidden folder`);
      if (!url.startsWith('/join/'))
        assert.ok(res.statusCode === 404 || res.statusCode === 400, `${url}: ${res.statusCode}`);
    }
  });

  test('without a build the pages answer 503 and say how to build', async () => {
    const missing = await webApp(join(parent, 'not-built'));
    try {
      for (const url of ['/', '/join/x', '/assets/main-abc123.js']) {
        const res = await missing.inject(url);
        assert.equal(res.statusCode, 503, url);
        assert.equal(res.json().code, 'MUTUA_ERR_WEB_NOT_BUILT');
        assert.match(res.json().message, /npm run build -w @mutua\/client-web/);
      }
    } finally {
      await missing.close();
    }
  });

  test('buildApp serves the client next to the API', async (t) => {
    const server = await startServer(t, { webDir: dist });
    const res = await fetch(`${server.url}/join/some-token`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<title>join/);
    assert.equal((await fetch(`${server.url}/v1/federations`)).status, 401);
  });
});
