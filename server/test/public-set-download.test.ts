// The public-set download over real HTTP: Content-Encoding negotiated from Accept-Encoding
// (brotli and gzip, precompressed once per process), identity for clients that ask for it
// or say nothing, a strong ETag per representation and 304 for any of them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { acceptedCodings } from '../src/services/public-set-encodings.ts';
import { mnistPublicSet, startServer, type TestServer } from './helper.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with exactly these headers (fetch would add and decode Accept-Encoding itself). */
function get(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('public-set download', () => {
  let server: TestServer;
  let id: string;
  let url: string;
  before(async () => {
    server = await startServer(null);
    id = await mnistPublicSet(server.app, 200);
    url = `${server.wsUrl.replace(/^ws:/, 'http:').replace(/\/v1\/ws$/, '')}/v1/public-sets/${id}`;
  });
  after(() => server.close());

  it('negotiates br, gzip or identity; every body decodes to the set; ETags differ per coding; 304 for any', async () => {
    const identity = await get(url, {});
    assert.equal(identity.status, 200);
    assert.equal(identity.headers['content-encoding'], undefined, 'no Accept-Encoding: identity');
    assert.equal(identity.headers.etag, `"${id}"`);
    assert.equal(identity.headers.vary, 'Accept-Encoding');
    assert.equal(sha256(identity.body), id);

    const gz = await get(url, { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.etag, `"${id}-gzip"`);
    assert.equal(Number(gz.headers['content-length']), gz.body.byteLength);
    assert.ok(gz.body.byteLength < identity.body.byteLength / 2, `gzip ${gz.body.byteLength} bytes`);
    assert.equal(sha256(gunzipSync(gz.body)), id);

    await server.app.publicSets.compressed(id); // brotli runs in the background; wait for it here
    const br = await get(url, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br', 'the smaller of the accepted codings');
    assert.equal(br.headers.etag, `"${id}-br"`);
    assert.ok(
      br.body.byteLength < gz.body.byteLength,
      `br ${br.body.byteLength} < gzip ${gz.body.byteLength}`,
    );
    assert.equal(sha256(brotliDecompressSync(br.body)), id);

    const preferGzip = await get(url, { 'accept-encoding': 'br;q=0.5, gzip' });
    assert.equal(preferGzip.headers['content-encoding'], 'gzip', 'q-values are honoured');
    const onlyIdentity = await get(url, { 'accept-encoding': 'identity' });
    assert.equal(onlyIdentity.headers['content-encoding'], undefined);
    assert.equal(sha256(onlyIdentity.body), id);
    const unknown = await get(url, { 'accept-encoding': 'zstd' });
    assert.equal(unknown.headers['content-encoding'], undefined, 'an unknown coding falls back to identity');
    assert.equal(sha256(unknown.body), id);

    for (const tag of [`"${id}"`, `"${id}-gzip"`, `W/"${id}-br"`, '*']) {
      const cached = await get(url, { 'if-none-match': tag, 'accept-encoding': 'br' });
      assert.equal(cached.status, 304, tag);
      assert.equal(cached.body.byteLength, 0);
    }
    const other = await get(url, {
      'if-none-match': `"${id.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))}"`,
    });
    assert.equal(other.status, 200, "another set's ETag is not this one");

    const metrics = (await server.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /mutua_public_set_bytes_sent_total\{coding="br"\} \d+/);
    assert.match(metrics, /mutua_public_set_requests_total\{status="304"\} 4/);
  });

  it('Accept-Encoding parsing: q=0 refuses, * stands for the rest, identity is the last resort', () => {
    assert.deepEqual(acceptedCodings(undefined), ['identity']);
    assert.deepEqual(acceptedCodings('gzip, br'), ['br', 'gzip', 'identity']);
    assert.deepEqual(acceptedCodings('br;q=0, gzip;q=0.8'), ['gzip', 'identity']);
    assert.deepEqual(acceptedCodings('*'), ['br', 'gzip', 'identity']);
    assert.deepEqual(acceptedCodings('identity;q=0, *;q=0'), []);
    assert.deepEqual(acceptedCodings('GZIP ; Q=0.5'), ['gzip', 'identity']);
  });
});
