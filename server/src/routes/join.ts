/**
 * What the browser join page asks before joining, authenticated by the join token in the
 * path (no admin token): the federation's task and settings, and a demo shard to try it
 * with. Only a usable token (known, not revoked, not expired, federation not deleted)
 * gets an answer; a paused federation still answers, with status "paused", so the page
 * can say so before trying to join.
 */
import { randomInt } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JoinInfo, JoinParams } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { type FederationRow, hashToken } from '../db/index.ts';
import {
  buildDemoShard,
  DEMO_SHARD_FORMAT,
  DEMO_SHARD_MAX,
  demoSourceOf,
  warmDemoSource,
} from '../demo-shard.ts';
import { resolveSettings, type SettingsInput } from '../engine/settings.ts';
import { HttpError, notFound } from '../errors.ts';
import { clientErrors } from './common.ts';

/** Samples in a demo shard when the page does not say. */
const DEMO_SHARD_DEFAULT = 600;

const joinRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app;

  /** The federation a usable join token admits to; coded 401/404 otherwise. */
  async function federationFor(token: string): Promise<FederationRow> {
    const t = await db.joinTokens.findByHash(hashToken(token));
    if (!t) {
      throw new HttpError(
        'MUTUA_ERR_BAD_TOKEN',
        'this join link is not valid: check that it was copied whole, or ask the operator for a new one',
      );
    }
    if (t.revokedAt) {
      throw new HttpError(
        'MUTUA_ERR_TOKEN_REVOKED',
        'this join link was revoked by the operator: ask for a new one',
      );
    }
    if (t.expiresAt && t.expiresAt.getTime() <= Date.now()) {
      throw new HttpError('MUTUA_ERR_TOKEN_EXPIRED', 'this join link has expired: ask for a new one');
    }
    const f = await db.federations.get(t.federationId);
    if (!f || f.status === 'deleted') throw notFound('the federation of this join link');
    return f;
  }

  async function demoSource(f: FederationRow) {
    const ps = f.publicSetId ? await db.publicSets.get(f.publicSetId) : null;
    return ps ? demoSourceOf(ps.source) : null;
  }

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
    async (req) => {
      const f = await federationFor(req.params.token);
      const s = resolveSettings(f.settings as SettingsInput);
      const rt = await app.coordinator.loadedRuntime(f.id)?.catch(() => undefined);
      const demo = await demoSource(f);
      // Whoever reads this is likely to ask for a demo shard next: have its data set ready.
      if (demo) warmDemoSource(demo);
      return {
        federation: {
          id: f.id,
          name: f.name,
          status: f.status === 'paused' ? ('paused' as const) : ('active' as const),
          strategy: s.strategy,
          mode: s.mode,
          task: s.task,
          modelArch: s.modelArch,
          localEpochs: s.localEpochs,
          currentRound: rt?.currentVersion ?? f.currentRound,
          consensusVersion: rt?.consensusVersion ?? f.consensusVersion,
          participantsOnline: rt?.onlineCount ?? 0,
        },
        demo: {
          available: demo !== null,
          dataset: demo?.dataset ?? null,
          maxSamples: DEMO_SHARD_MAX,
          url: demo ? `/v1/join/${encodeURIComponent(req.params.token)}/demo-shard` : null,
        },
      };
    },
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
      const f = await federationFor(req.params.token);
      const source = await demoSource(f);
      if (!source) {
        throw new HttpError(
          'MUTUA_ERR_NO_DEMO_DATA',
          'this federation has no demo data (its public set is not a built-in data set): use your own data',
        );
      }
      const seed = req.query.seed ?? randomInt(0, 2 ** 32 - 1);
      // Ajv has filled in the default; the fallback only satisfies the type.
      const shard = await buildDemoShard(source, req.query.n ?? DEMO_SHARD_DEFAULT, seed);
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
