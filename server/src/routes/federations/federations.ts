/** /v1/federations and /v1/federations/:id: create, list, get, pause, resume, delete. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateFederationBody, FederationParams, FederationView } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { admin, clientErrors, noContent, security } from '../common.ts';

const tags = ['federations'];

const federationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { federations } = app;

  app.post(
    '/v1/federations',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Create a federation',
        description:
          'The public set is an existing one (publicSetId, from POST/PUT /v1/public-sets) or a built-in data set slice (publicSet). Unset settings take their defaults.',
        security,
        body: CreateFederationBody,
        response: { 201: FederationView, ...clientErrors },
      },
    },
    async (req, reply) => reply.code(201).send(await federations.create(req.body)),
  );

  app.get(
    '/v1/federations',
    {
      ...admin,
      schema: {
        tags,
        summary: 'List federations',
        security,
        response: { 200: Type.Array(FederationView), ...clientErrors },
      },
    },
    () => federations.list(),
  );

  app.get(
    '/v1/federations/:id',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Get a federation',
        security,
        params: FederationParams,
        response: { 200: FederationView, ...clientErrors },
      },
    },
    (req) => federations.get(req.params.id),
  );

  for (const [action, paused, summary] of [
    ['pause', true, 'Pause: participants are disconnected with FEDERATION_PAUSED'],
    ['resume', false, 'Resume a paused federation'],
  ] as const) {
    app.post(
      `/v1/federations/:id/${action}`,
      {
        ...admin,
        schema: {
          tags,
          summary,
          security,
          params: FederationParams,
          response: { 200: FederationView, ...clientErrors },
        },
      },
      (req) => federations.setPaused(req.params.id, paused),
    );
  }

  app.delete(
    '/v1/federations/:id',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Delete a federation (soft: history is kept, participants are disconnected)',
        security,
        params: FederationParams,
        response: { 204: noContent, ...clientErrors },
      },
    },
    async (req, reply) => {
      await federations.delete(req.params.id);
      return reply.code(204).send();
    },
  );
};

export default federationRoutes;
