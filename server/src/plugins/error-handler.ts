/**
 * One error handler for the whole HTTP API: every error response is
 * `{ statusCode, code, error, message }` with a code from the registry in @mutua/proto/rest
 * (errors.ts maps what lower layers throw), Ajv's failures as MUTUA_ERR_VALIDATION with the
 * wording of schema-validation.ts, fastify's own client errors with their FST_ERR_* code,
 * and anything else as a logged 500 that shows no internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError, reasonPhrase, toHttpError } from '../errors.ts';

export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      const known = toHttpError(err);
      if (known) {
        // A refusal a client can cause (connection caps, a missing build) is not the coordinator's fault.
        if (known.code === 'MUTUA_ERR_INTERNAL' || known.code === 'MUTUA_ERR_UNAVAILABLE')
          req.log.error({ err }, 'request failed');
        return reply.code(known.statusCode).send(known.body());
      }
      if (err.validation)
        return reply.code(400).send(new HttpError('MUTUA_ERR_VALIDATION', err.message).body());
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) {
        req.log.error({ err }, 'request failed');
        return reply.code(500).send(new HttpError('MUTUA_ERR_INTERNAL', 'internal error').body());
      }
      return reply.code(status).send({
        statusCode: status,
        code: err.code ?? 'MUTUA_ERR_BAD_REQUEST',
        error: reasonPhrase(status),
        message: err.message,
      });
    });
  },
  { name: 'mutua-error-handler' },
);
