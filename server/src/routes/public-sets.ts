/**
 * Public sets: created from a built-in data set slice or an uploaded file (admin), then
 * downloaded by participants once, content-addressed. The download needs no token: the
 * set is by definition shared unlabeled data, and its URL is its SHA-256.
 */
import type { FastifyInstance } from 'fastify';
import type { PublicSetRow } from '../db/index.ts';
import { notFound } from '../errors.ts';
import { buildBuiltin, buildUpload } from '../public-set-builder.ts';

const publicSetSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'lowercase hex SHA-256 of the file' },
    byteLength: { type: 'integer' },
    sampleCount: { type: 'integer' },
    shape: { type: 'array', items: { type: 'integer' } },
    format: { type: 'string' },
    source: { type: 'string' },
    url: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const builtinSliceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dataset'],
  properties: {
    dataset: { type: 'string', enum: ['mnist', 'fashion-mnist'] },
    split: { type: 'string', enum: ['train', 'test'], default: 'test' },
    offset: { type: 'integer', minimum: 0, default: 0 },
    count: { type: 'integer', minimum: 1, maximum: 70000, default: 1000 },
  },
} as const;

const view = (r: PublicSetRow) => ({
  ...r,
  url: `/v1/public-sets/${r.id}`,
  createdAt: r.createdAt.toISOString(),
});

export default async function publicSetRoutes(app: FastifyInstance): Promise<void> {
  // Raw uploads arrive as bytes; the body limit is the configured maxUploadBytes.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  app.post<{
    Body: { dataset: 'mnist' | 'fashion-mnist'; split: 'train' | 'test'; offset: number; count: number };
  }>(
    '/v1/public-sets',
    {
      config: { admin: true },
      schema: {
        tags: ['public sets'],
        summary: 'Create a public set from a slice of a built-in data set',
        security: [{ adminToken: [] }],
        body: builtinSliceSchema,
        response: { 201: publicSetSchema, 200: publicSetSchema, '4xx': { $ref: 'Error#' } },
      },
    },
    async (req, reply) => {
      const built = await buildBuiltin(req.body);
      const { publicSet, created } = await app.db.publicSets.put({ ...built, format: 'mutua-public-v1' });
      return reply.code(created ? 201 : 200).send(view(publicSet));
    },
  );

  app.put<{ Querystring: { format: string; name?: string; shape?: string }; Body: Buffer }>(
    '/v1/public-sets',
    {
      config: { admin: true },
      schema: {
        tags: ['public sets'],
        summary: 'Upload a public set file (IDX images, CSV, or mutua-public-v1) as application/octet-stream',
        security: [{ adminToken: [] }],
        querystring: {
          type: 'object',
          required: ['format'],
          properties: {
            format: { type: 'string', enum: ['idx', 'csv', 'mutua-public-v1'] },
            name: { type: 'string', maxLength: 200 },
            shape: {
              type: 'string',
              pattern: '^[0-9]+(x[0-9]+)*$',
              description: 'CSV sample shape, e.g. 28x28x1',
            },
          },
        },
        response: { 201: publicSetSchema, 200: publicSetSchema, '4xx': { $ref: 'Error#' } },
      },
    },
    async (req, reply) => {
      const shape = req.query.shape?.split('x').map(Number);
      const built = buildUpload(
        new Uint8Array(req.body),
        req.query.format,
        shape,
        req.query.name ?? 'upload',
      );
      const { publicSet, created } = await app.db.publicSets.put({ ...built, format: 'mutua-public-v1' });
      return reply.code(created ? 201 : 200).send(view(publicSet));
    },
  );

  app.get(
    '/v1/public-sets',
    {
      config: { admin: true },
      schema: {
        tags: ['public sets'],
        summary: 'List public sets',
        security: [{ adminToken: [] }],
        response: { 200: { type: 'array', items: publicSetSchema } },
      },
    },
    async () => (await app.db.publicSets.list()).map(view),
  );

  const cache = new Map<string, Uint8Array>();
  app.get<{ Params: { id: string } }>(
    '/v1/public-sets/:id',
    {
      schema: {
        tags: ['public sets'],
        summary: 'Download a public set (immutable, ETag = SHA-256)',
        params: {
          type: 'object',
          properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
          required: ['id'],
        },
        headers: {
          type: 'object',
          properties: { 'if-none-match': { type: 'string', description: 'ETag(s) already held' } },
        },
        response: {
          200: {
            description: 'The set as mutua-public-v1 bytes (application/octet-stream)',
            type: 'string',
            format: 'binary',
          },
          304: { description: 'Not modified: If-None-Match names this set', type: 'null' },
          '4xx': { $ref: 'Error#' },
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      // Existence first: a 404 must not carry the immutable caching headers, nor a 304 answer for a set that is not there.
      if (!cache.has(id) && !(await app.db.publicSets.get(id))) throw notFound(`public set ${id}`);
      const etag = `"${id}"`;
      reply.header('ETag', etag).header('Cache-Control', 'public, max-age=31536000, immutable');
      if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
      let data = cache.get(id);
      if (!data) {
        const stored = await app.db.publicSets.getData(id);
        if (!stored) throw notFound(`public set ${id}`);
        data = stored;
        cache.set(id, data);
      }
      return reply
        .type('application/octet-stream')
        .header('Content-Length', data.byteLength)
        .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    },
  );
}

/** If-None-Match (RFC 9110 13.1.2): a list of entity tags, weak comparison, or `*`. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
