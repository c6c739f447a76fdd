/**
 * Liveness/readiness and Prometheus metrics. /healthz is public (probes); /metrics is public
 * unless a metrics token is configured (it lists federation ids), then it needs
 * `Authorization: Bearer <metrics token>`, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

const Health = Type.Object({
  status: Type.String({ description: "'ok', or 'degraded' when the database does not answer" }),
  database: Type.String({ description: "'up' or 'down'" }),
  uptimeSeconds: Type.Number(),
});

import { HttpError } from '../errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

const healthRoutes: FastifyPluginAsyncTypebox<{ metricsToken?: string }> = async (app, opts) => {
  const expected = opts.metricsToken === undefined ? null : digest(opts.metricsToken);
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Health: the process is up and the database answers',
        response: { 200: Health, 503: Health },
      },
    },
    async (_req, reply) => {
      const ok = await app.db.ping().then(
        () => true,
        () => false,
      );
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'degraded',
        database: ok ? 'up' : 'down',
        uptimeSeconds: process.uptime(),
      });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (Bearer <metrics token> when one is set)',
        hide: false,
      },
      onRequest: async (req) => {
        if (!expected) return;
        const header = req.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
        if (!timingSafeEqual(digest(token), expected))
          throw new HttpError('MUTUA_ERR_METRICS_TOKEN', 'send Authorization: Bearer <metrics token>');
      },
    },
    async (_req, reply) => {
      return reply.type('text/plain; version=0.0.4').send(app.metrics.render());
    },
  );
};

export default healthRoutes;
