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

const Ready = Type.Object({
  status: Type.String({ description: "'ready' or 'not-ready'" }),
  database: Type.String({ description: "'up' or 'down'" }),
  nats: Type.String({ description: "'up', 'down', or 'unused' (single process)" }),
  replica: Type.String({ description: "this replica's id ('' single process)" }),
  owns: Type.Array(Type.String(), { description: 'federations whose rounds this replica decides now' }),
});

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
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary:
          'Readiness: the database answers and, on a cluster replica, NATS is connected (load balancers route only to ready replicas)',
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_req, reply) => {
      const db = await app.db.ping().then(
        () => true,
        () => false,
      );
      const bus = app.cluster ? app.cluster.ready : null;
      const ok = db && bus !== false;
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ready' : 'not-ready',
        database: db ? 'up' : 'down',
        nats: bus === null ? 'unused' : bus ? 'up' : 'down',
        replica: app.cluster?.replicaId ?? '',
        owns: app.cluster?.owned() ?? [],
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
