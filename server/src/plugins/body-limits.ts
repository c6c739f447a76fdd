/**
 * Request bodies cost what they weigh before any handler runs, so each route reads only
 * what it needs: the app-wide limit is small (JSON of admin requests), the large limit is
 * set on the one authenticated upload route (checked after its onRequest authentication),
 * and a request that matches no route is answered 404 before its body is read at all.
 *
 * Why: with one global limit at the upload size, every 404 and every unauthenticated
 * POST buffered and parsed up to 256 MiB (100 MiB cost 7-10 s of CPU and 1.6 GB).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { notFound } from '../errors.ts';

/** The app-wide body limit: admin JSON (settings, token requests) is a few KiB. */
export const JSON_BODY_LIMIT = 1 << 20;

export default fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req) => {
      // No route: answer before the body is read (it is discarded with the connection's
      // next read; a keep-alive client sending a huge body gets its socket closed by Node).
      if (req.is404) throw notFound(`route ${req.method} ${req.url.split('?')[0]}`);
    });
  },
  { name: 'mutua-body-limits' },
);
