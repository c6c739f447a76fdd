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
import { notFound } from '../errors.ts';
import { etagFor } from '../services/public-set-encodings.ts';
import { publicSetView as view } from '../services/views.ts';
import { admin, clientErrors, security } from './common.ts';

const publicSetRoutes: FastifyPluginAsyncTypebox<{ maxUploadBytes: number }> = async (app, opts) => {
  // Raw uploads arrive as bytes; only this route reads up to maxUploadBytes, and only after
  // the admin token was checked (onRequest runs before the body is read).
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
      const { publicSet, created } = await app.publicSets.createBuiltin(req.body as Slice);
      return reply.code(created ? 201 : 200).send(view(publicSet));
    },
  );

  app.put(
    '/v1/public-sets',
    {
      ...admin,
      bodyLimit: opts.maxUploadBytes,
      schema: {
        tags: ['public sets'],
        summary: 'Upload a public set file (IDX images, CSV, or mutua-public-v1) as application/octet-stream',
        security,
        querystring: UploadQuery,
        response: { 201: PublicSetView, 200: PublicSetView, ...clientErrors },
      },
    },
    async (req, reply) => {
      const { publicSet, created } = await app.publicSets.upload(
        new Uint8Array(req.body as Buffer),
        req.query,
      );
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
    async () => (await app.publicSets.list()).map(view),
  );

  app.get(
    '/v1/public-sets/:id',
    {
      schema: {
        tags: ['public sets'],
        summary: 'Download a public set (immutable, ETag = SHA-256; gzip or brotli by Accept-Encoding)',
        params: PublicSetParams,
        headers: Type.Object({
          'if-none-match': Type.Optional(Type.String({ description: 'ETag(s) already held' })),
          'accept-encoding': Type.Optional(
            Type.String({ description: 'br and gzip are served, precompressed once; identity otherwise' }),
          ),
        }),
        response: {
          200: Type.Unsafe<Buffer>({
            description:
              'The set as mutua-public-v1 bytes (application/octet-stream), Content-Encoding br or gzip when accepted',
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
      if (!(await app.publicSets.exists(id))) throw notFound(`public set ${id}`);
      reply.header('Cache-Control', 'public, max-age=31536000, immutable').header('Vary', 'Accept-Encoding');
      // Every representation holds the same set: a client holding any of them has it.
      const held = heldTag(req.headers['if-none-match'], id);
      if (held) {
        app.metrics.publicSetRequests.inc({ status: '304' });
        return reply.header('ETag', held).code(304).send();
      }
      const rep = await app.publicSets.representation(id, req.headers['accept-encoding']);
      app.metrics.publicSetRequests.inc({ status: '200' });
      app.metrics.publicSetBytes.inc({ coding: rep.coding }, rep.body.byteLength);
      if (rep.coding !== 'identity') reply.header('Content-Encoding', rep.coding);
      return reply
        .type('application/octet-stream')
        .header('ETag', rep.etag)
        .header('Content-Length', rep.body.byteLength)
        .send(Buffer.from(rep.body.buffer, rep.body.byteOffset, rep.body.byteLength));
    },
  );
};

export default publicSetRoutes;

/**
 * If-None-Match (RFC 9110 13.1.2): a list of entity tags, weak comparison, or `*`. Returns
 * the listed tag naming a representation of set `id` (`"<id>"`, `"<id>-gzip"`, `"<id>-br"`).
 */
function heldTag(header: string | undefined, id: string): string | null {
  if (!header) return null;
  const tags = [etagFor(id, 'identity'), etagFor(id, 'gzip'), etagFor(id, 'br')];
  for (const t of header.split(',')) {
    const tag = t.trim().replace(/^W\//, '');
    if (tag === '*') return tags[0]!;
    if (tags.includes(tag)) return tag;
  }
  return null;
}
