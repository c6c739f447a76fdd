/** /v1/federations/:id/rounds and /metrics: the rounds (or consensus versions) and what participants reported. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FederationParams, MetricsQuery, MetricView, RoundsQuery, RoundView } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { admin, clientErrors, security } from '../common.ts';

const tags = ['rounds'];

const roundRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { federations } = app;

  app.get(
    '/v1/federations/:id/rounds',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Rounds (sync) or consensus versions (async): timing, submission counts, aggregation time',
        security,
        params: FederationParams,
        querystring: RoundsQuery,
        response: { 200: Type.Array(RoundView), ...clientErrors },
      },
    },
    (req) => federations.listRounds(req.params.id, req.query.from, req.query.limit),
  );

  app.get(
    '/v1/federations/:id/metrics',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Metrics participants reported, per round (with submissions and in MetricsReport messages)',
        security,
        params: FederationParams,
        querystring: MetricsQuery,
        response: { 200: Type.Array(MetricView), ...clientErrors },
      },
    },
    (req) => federations.listMetrics(req.params.id, req.query.from),
  );
};

export default roundRoutes;
