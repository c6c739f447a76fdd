// The HTTP edge against unauthenticated load (issue 10 items 6 and 11): bodies are read only
// as far as a route needs (the big limit only on the authenticated upload), security
// headers on every response, /metrics behind an optional token, demo shards rate limited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auth, createFederation, startServer } from './helper.ts';

const big = (bytes: number) => `{"x":"${'a'.repeat(bytes)}`; // also not valid JSON: parsing it would be a 400

describe('HTTP body limits', () => {
  it('a request without a route is a 404 before its body is read (never parsed, never a 400 or 413)', async (t) => {
    const { app } = await startServer(t);
    for (const url of ['/healthz', '/nope', '/v1/federations/x/unknown']) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: big(2 << 20),
      });
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      assert.equal(res.json().code, 'MUTUA_ERR_NOT_FOUND');
    }
  });

  it('JSON routes take at most 1 MiB, even with the admin token; uploads take maxUploadBytes after authentication', async (t) => {
    const { app } = await startServer(t, { maxUploadBytes: 4 << 20 });
    const json = await app.inject({
      method: 'POST',
      url: '/v1/federations',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: big(2 << 20),
    });
    assert.equal(json.statusCode, 413);
    const anonymous = await app.inject({
      method: 'PUT',
      url: '/v1/public-sets',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(3 << 20),
    });
    assert.equal(anonymous.statusCode, 401, 'refused on the token, before the body');
    // 3 MiB (above the JSON limit, below the upload limit) reaches the data parser: a coded 400, not a 413.
    const upload = await app.inject({
      method: 'PUT',
      url: '/v1/public-sets?format=idx',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(3 << 20),
    });
    assert.equal(upload.statusCode, 400, upload.body);
    const tooBig = await app.inject({
      method: 'PUT',
      url: '/v1/public-sets?format=idx',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(5 << 20),
    });
    assert.equal(tooBig.statusCode, 413);
  });
});

describe('HTTP security headers and protected endpoints', () => {
  it('every response carries a CSP with frame-ancestors none, X-Frame-Options DENY and nosniff', async (t) => {
    const { app } = await startServer(t);
    for (const url of ['/healthz', '/', '/nope']) {
      const res = await app.inject(url);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.match(csp, /default-src 'self'/, url);
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/, url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    }
  });

  it('/metrics needs the metrics token when one is configured', async (t) => {
    const token = 'metrics-token-0123456789';
    const { app } = await startServer(t, { metricsToken: token });
    const anonymous = await app.inject('/metrics');
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().code, 'MUTUA_ERR_METRICS_TOKEN');
    const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    const ok = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /mutua_/);
    assert.equal((await app.inject('/healthz')).statusCode, 200, '/healthz stays public');
  });

  it('demo shards are rate limited per address with 429 and Retry-After', async (t) => {
    const { app } = await startServer(t, { demoShardsPerMinute: 2 });
    const fed = await createFederation(app);
    const get = () => app.inject(`/v1/join/${fed.token}/demo-shard?n=5&seed=1`);
    assert.equal((await get()).statusCode, 200);
    assert.equal((await get()).statusCode, 200);
    const limited = await get();
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'MUTUA_ERR_RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });
});
