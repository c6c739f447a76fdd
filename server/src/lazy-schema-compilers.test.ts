import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { startServer } from '../test/helper.ts';
import { lazySchemaCompilers } from './lazy-schema-compilers.ts';

function appWith(compilers = lazySchemaCompilers()): FastifyInstance {
  return Fastify({ schemaController: { compilersFactory: compilers.compilersFactory } });
}

describe('lazySchemaCompilers', () => {
  it('validates and serializes as fastify does: errors on the function, defaults, response schemas', async (t) => {
    const app = appWith();
    t.after(() => app.close());
    app.post(
      '/echo',
      {
        schema: {
          body: {
            type: 'object',
            properties: { n: { type: 'integer', minimum: 1 }, tag: { type: 'string', default: 'none' } },
            required: ['n'],
            additionalProperties: false,
          },
          response: {
            200: { type: 'object', properties: { n: { type: 'integer' }, tag: { type: 'string' } } },
          },
        },
      },
      async (req) => ({ ...(req.body as object), secret: 'not in the response schema' }),
    );
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { n: 2 } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { n: 2, tag: 'none' }, 'defaults applied, unknown fields not serialized');
    const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 0 } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /body\/n must be >= 1/);
    const missing = await app.inject({ method: 'POST', url: '/echo', payload: {} });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().message, /must have required property 'n'/);
  });

  it('matches header names whatever their case in the schema, as fastify does', async (t) => {
    const app = appWith();
    t.after(() => app.close());
    app.get(
      '/h',
      {
        schema: {
          headers: {
            type: 'object',
            properties: { 'X-Token': { type: 'string', minLength: 3 } },
            required: ['X-Token'],
          },
        },
      },
      async () => 'ok',
    );
    assert.equal((await app.inject({ url: '/h', headers: { 'x-token': 'abc' } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/h', headers: { 'X-TOKEN': 'abc' } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/h', headers: { 'x-token': 'a' } })).statusCode, 400);
    assert.equal((await app.inject({ url: '/h' })).statusCode, 400);
  });

  it('compiles nothing at start; compileAll() compiles, and fails, as registration used to', async (t) => {
    const compilers = lazySchemaCompilers();
    const app = appWith(compilers);
    t.after(() => app.close());
    app.get('/broken', { schema: { querystring: { type: 'no-such-type' } } }, async () => 'never');
    await app.ready();
    assert.throws(() => compilers.compileAll(), /no-such-type|type must be/);
  });

  it("compiles every schema of the coordinator's routes", async (t) => {
    const compilers = lazySchemaCompilers();
    await startServer(t, { schemaCompilers: compilers });
    compilers.compileAll();
    compilers.compileAll(); // idempotent: nothing is left pending
  });
});
