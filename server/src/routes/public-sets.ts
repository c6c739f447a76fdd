/**
 * Public sets: created from a built-in data set slice or an uploaded file (admin), then
 * downloaded by participants once, content-addressed. The download needs no token: the
 * set is by definition shared unlabeled data, and its URL is its SHA-256.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BuiltinSlice,
  PublicSetParams,
  PublicSetView,
  type BuiltinSlice as Slice,
  UploadQuery,
} from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import type { PublicSetRow } from '../db/index.ts';
import { notFound } from '../errors.ts';
import { buildBuiltin, buildUpload } from '../public-set-builder.ts';
import { admin, clientErrors, security } from './common.ts';

const view = (r: PublicSetRow): PublicSetView => ({
  ...r,
  url: `/v1/public-sets/${r.id}`,
  createdAt: r.createdAt.toISOString(),
});

const publicSetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Raw uploads arrive as bytes; the body limit is the configured maxUploadBytes.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/v1/public-sets',
    {
      ...admin,
      schema: {
        tags: ['public sets'],
        summary: 'Create a public set from a slice of a built-in data set',
        security,
        body: BuiltinSlice,
        response: { 201: PublicSetView, 200: PublicSetView, ...clientErrors },
      },
    },
    async (req, reply) => {
      // Ajv has filled in the slice's defaults.
      const built = await buildBuiltin(req.body as Slice);
      const { publicSet, created } = await app.db.publicSets.put({ ...built, format: 'mutua-public-v1' });
      return reply.code(created ? 201 : 200).send(view(publicSet));
    },
  );

  app.put(
    '/v1/public-sets',
    {
      ...admin,
      schema: {
        tags: ['public sets'],
        summary: 'Upload a public set file (IDX images, CSV, or mutua-public-v1) as application/octet-stream',
        security,
        querystring: UploadQuery,
        response: { 201: PublicSetView, 200: PublicSetView, ...clientErrors },
      },
    },
    async (req, reply) => {
      const shape = req.query.shape?.split('x').map(Number);
      const built = buildUpload(
        new Uint8Array(req.body as Buffer),
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
      ...admin,
      schema: {
        tags: ['public sets'],
        summary: 'List public sets',
        security,
        response: { 200: Type.Array(PublicSetView), ...clientErrors },
      },
    },
    async () => (await app.db.publicSets.list()).map(view),
  );

  const cache = new Map<string, Uint8Array>();
  app.get(
    '/v1/public-sets/:id',
    {
      schema: {
        tags: ['public sets'],
        summary: 'Download a public set (immutable, ETag = SHA-256)',
        params: PublicSetParams,
        headers: Type.Object({
          'if-none-match': Type.Optional(Type.String({ description: 'ETag(s) already held' })),
        }),
        response: {
          200: Type.Unsafe<Buffer>({
            description: 'The set as mutua-public-v1 bytes (application/octet-stream)',
            type: 'string',
            format: 'binary',
          }),
          304: Type.Unsafe<void>({ type: 'null', description: 'Not modified: If-None-Match names this set' }),
          ...clientErrors,
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
};

export default publicSetRoutes;

/** If-None-Match (RFC 9110 13.1.2): a list of entity tags, weak comparison, or `*`. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
