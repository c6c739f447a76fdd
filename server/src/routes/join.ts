/**
 * What the browser join page asks before joining, authenticated by the join token in the
 * path (no admin token): the federation's task and settings, and a demo shard to try it
 * with. The work is done by the join service (services/join-service.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JoinInfo, JoinParams } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { AddressRateLimit } from '../address-rate-limit.ts';
import { DEMO_SHARD_FORMAT, DEMO_SHARD_MAX } from '../demo-shard.ts';
import { HttpError } from '../errors.ts';
import { clientErrors } from './common.ts';

/** Samples in a demo shard when the page does not say. */
const DEMO_SHARD_DEFAULT = 600;

const joinRoutes: FastifyPluginAsyncTypebox<{ demoShardsPerMinute: number }> = async (app, opts) => {
  const shardLimit = new AddressRateLimit(opts.demoShardsPerMinute);
  app.get(
    '/v1/join/:token/info',
    {
      schema: {
        tags: ['join'],
        summary: "A join link's federation: its task and settings (the join token is the credential)",
        params: JoinParams,
        response: { 200: JoinInfo, ...clientErrors },
      },
    },
    (req) => app.join.info(req.params.token),
  );

  app.get(
    '/v1/join/:token/demo-shard',
    {
      schema: {
        tags: ['join'],
        summary: `A labeled demo shard outside the public set, as ${DEMO_SHARD_FORMAT} bytes (server/src/demo-shard.ts)`,
        description:
          'For trying a federation without data of your own: n samples drawn (with `seed`, reproducibly) from the training split of the built-in data set the public set came from. The seed used is in the x-mutua-shard-seed header.',
        params: JoinParams,
        querystring: Type.Object({
          n: Type.Optional(
            Type.Integer({ minimum: 1, maximum: DEMO_SHARD_MAX, default: DEMO_SHARD_DEFAULT }),
          ),
          seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
        }),
        response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...clientErrors },
      },
    },
    async (req, reply) => {
      const wait = shardLimit.take(req.ip);
      if (wait > 0) {
        reply.header('Retry-After', String(Math.ceil(wait / 1000)));
        throw new HttpError(
          'MUTUA_ERR_RATE_LIMITED',
          `at most ${opts.demoShardsPerMinute} demo shards per minute from one address`,
        );
      }
      // Ajv has filled in the default; the fallback only satisfies the type.
      const shard = await app.join.demoShard(
        req.params.token,
        req.query.n ?? DEMO_SHARD_DEFAULT,
        req.query.seed,
      );
      return reply
        .headers({
          'content-type': 'application/octet-stream',
          'cache-control': 'no-store',
          'x-mutua-shard-format': DEMO_SHARD_FORMAT,
          'x-mutua-shard-seed': String(shard.seed),
          'x-mutua-shard-source': shard.source,
        })
        .send(Buffer.from(shard.bytes.buffer, shard.bytes.byteOffset, shard.bytes.byteLength));
    },
  );
};

export default joinRoutes;
