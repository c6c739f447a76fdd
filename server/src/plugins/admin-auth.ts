/**
 * Admin authentication: `Authorization: Bearer <admin token>` on every route that
 * declares `config: { admin: true }`. The coordinator knows only the token's SHA-256
 * (start/admin-token.ts stores nothing else); digests are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    admin?: boolean;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export default fp(
  async (
    app: FastifyInstance,
    opts: { adminToken?: string | undefined; adminTokenHash?: string | undefined },
  ) => {
    if (opts.adminTokenHash === undefined && opts.adminToken === undefined)
      throw new Error('admin auth needs adminToken or adminTokenHash');
    const expected =
      opts.adminTokenHash !== undefined ? Buffer.from(opts.adminTokenHash, 'hex') : digest(opts.adminToken!);
    app.addHook('onRequest', async (req) => {
      if (!req.routeOptions.config?.admin) return;
      const header = req.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (!token)
        throw new HttpError(
          'MUTUA_ERR_UNAUTHORIZED',
          'admin token required: send Authorization: Bearer <token>',
        );
      if (!timingSafeEqual(digest(token), expected))
        throw new HttpError('MUTUA_ERR_UNAUTHORIZED', 'wrong admin token');
    });
  },
  { name: 'mutua-admin-auth' },
);
