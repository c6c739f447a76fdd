/** /v1/federations/:id/tokens: join tokens, issued once in clear, listed without the secret, revoked. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FederationParams, IssuedToken, IssueTokenBody, TokenParams, TokenView } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { admin, clientErrors, noContent, security } from '../common.ts';

const tags = ['tokens'];

const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { federations } = app;

  app.post(
    '/v1/federations/:id/tokens',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Issue a join token (returned once; only its hash is stored)',
        security,
        params: FederationParams,
        body: IssueTokenBody,
        response: { 201: IssuedToken, ...clientErrors },
      },
    },
    async (req, reply) => reply.code(201).send(await federations.issueToken(req.params.id, req.body ?? null)),
  );

  app.get(
    '/v1/federations/:id/tokens',
    {
      ...admin,
      schema: {
        tags,
        summary: 'List join tokens (without the tokens)',
        security,
        params: FederationParams,
        response: { 200: Type.Array(TokenView), ...clientErrors },
      },
    },
    (req) => federations.listTokens(req.params.id),
  );

  app.delete(
    '/v1/federations/:id/tokens/:tokenId',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'Revoke a join token: it admits nobody, and participants admitted with it are disconnected with TOKEN_REVOKED',
        security,
        params: TokenParams,
        response: { 204: noContent, ...clientErrors },
      },
    },
    async (req, reply) => {
      await federations.revokeToken(req.params.id, req.params.tokenId);
      return reply.code(204).send();
    },
  );
};

export default tokenRoutes;
