/** /v1/federations/:id/participants and /traffic: who takes part, and the bytes each one moved. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FederationParams, ParticipantParams, ParticipantView, TrafficView } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { admin, clientErrors, noContent, security } from '../common.ts';

const tags = ['participants'];

const participantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { federations } = app;

  app.get(
    '/v1/federations/:id/participants',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Participants: online now, kind, architecture, first/last seen, bytes in/out',
        security,
        params: FederationParams,
        response: { 200: Type.Array(ParticipantView), ...clientErrors },
      },
    },
    (req) => federations.listParticipants(req.params.id),
  );

  app.delete(
    '/v1/federations/:id/participants/:participantId',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'Remove a participant: its resume token stops working, it is disconnected; its history stays',
        security,
        params: ParticipantParams,
        response: { 204: noContent, ...clientErrors },
      },
    },
    async (req, reply) => {
      await federations.removeParticipant(req.params.id, req.params.participantId);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/federations/:id/traffic',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Bytes received from and sent to each participant, and in total (WebSocket frames)',
        security,
        params: FederationParams,
        response: { 200: TrafficView, ...clientErrors },
      },
    },
    (req) => federations.traffic(req.params.id),
  );
};

export default participantRoutes;
