/** Liveness/readiness and Prometheus metrics. Unauthenticated by design (scraped by infra). */
import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Health: the process is up and the database answers',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              database: { type: 'string' },
              uptimeSeconds: { type: 'number' },
            },
          },
          503: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              database: { type: 'string' },
              uptimeSeconds: { type: 'number' },
            },
          },
        },
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
}
