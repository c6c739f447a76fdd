/** Liveness/readiness and Prometheus metrics. Unauthenticated by design (scraped by infra). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

const Health = Type.Object({
  status: Type.String({ description: "'ok', or 'degraded' when the database does not answer" }),
  database: Type.String({ description: "'up' or 'down'" }),
  uptimeSeconds: Type.Number(),
});

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
    { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } },
    async (_req, reply) => {
      return reply.type('text/plain; version=0.0.4').send(app.metrics.render());
    },
  );
};

export default healthRoutes;
