/**
 * Admin API for federations: create / list / get / pause / resume / delete, join tokens,
 * participants, rounds, reported metrics and traffic. Every route needs the admin token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ProtocolError } from '@mutua/proto';
import type { FastifyInstance } from 'fastify';
import type { FederationRow } from '../db/federations-repository.ts';
import { resolveSettings, SettingsError, type SettingsInput } from '../engine/settings.ts';
import { badRequest, notFound } from '../errors.ts';
import { buildBuiltin } from '../public-set-builder.ts';
import { settingsSchema } from '../settings-schema.ts';
import { builtinSliceSchema } from './public-sets.ts';

const admin = { config: { admin: true } } as const;
const security = [{ adminToken: [] }];
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const;
const errors = { '4xx': { $ref: 'Error#' } } as const;

const federationView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['active', 'paused', 'deleted'] },
    settings: { type: 'object', additionalProperties: true },
    publicSet: { type: 'object', additionalProperties: true },
    currentRound: { type: 'integer' },
    consensusVersion: { type: 'integer' },
    participantsOnline: { type: 'integer' },
    createdAt: { type: 'string' },
  },
} as const;

interface CreateBody {
  name: string;
  publicSetId?: string;
  publicSet?: { dataset: 'mnist' | 'fashion-mnist'; split: 'train' | 'test'; offset: number; count: number };
  settings?: SettingsInput;
}

export default async function federationRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app;

  async function federationOr404(id: string): Promise<FederationRow> {
    const f = await db.federations.get(id);
    if (!f || f.status === 'deleted') throw notFound(`federation ${id}`);
    return f;
  }

  async function view(f: FederationRow) {
    const ps = f.publicSetId ? await db.publicSets.get(f.publicSetId) : null;
    const rt = await app.coordinator.loadedRuntime(f.id)?.catch(() => undefined);
    return {
      id: f.id,
      name: f.name,
      status: f.status,
      settings: f.settings,
      publicSet: ps
        ? {
            id: ps.id,
            sampleCount: ps.sampleCount,
            shape: ps.shape,
            source: ps.source,
            url: `/v1/public-sets/${ps.id}`,
          }
        : null,
      currentRound: rt?.currentVersion ?? f.currentRound,
      consensusVersion: rt?.consensusVersion ?? f.consensusVersion,
      participantsOnline: rt?.onlineCount ?? 0,
      createdAt: f.createdAt.toISOString(),
    };
  }

  app.post<{ Body: CreateBody }>(
    '/v1/federations',
    {
      ...admin,
      schema: {
        tags: ['federations'],
        summary: 'Create a federation',
        description:
          'The public set is an existing one (publicSetId, from POST/PUT /v1/public-sets) or a built-in data set slice (publicSet). Unset settings take their defaults.',
        security,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            publicSetId: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            publicSet: builtinSliceSchema,
            settings: settingsSchema,
          },
        },
        response: { 201: federationView, ...errors },
      },
    },
    async (req, reply) => {
      const { name, publicSetId, publicSet, settings } = req.body;
      if (!publicSetId === !publicSet) throw badRequest('give exactly one of publicSetId and publicSet');
      let ps = publicSetId ? await db.publicSets.get(publicSetId) : null;
      if (publicSetId && !ps) throw notFound(`public set ${publicSetId}`);
      if (publicSet) {
        const built = await buildBuiltin(publicSet);
        ps = (await db.publicSets.put({ ...built, format: 'mutua-public-v1' })).publicSet;
      }
      let resolved: ReturnType<typeof resolveSettings>;
      try {
        resolved = resolveSettings(settings ?? {}, ps!.shape);
      } catch (err) {
        if (err instanceof SettingsError) throw badRequest(err.message, err.code);
        throw err;
      }
      const f = await db.federations.create({ name, settings: resolved, publicSetId: ps!.id });
      return reply.code(201).send(await view(f));
    },
  );

  app.get(
    '/v1/federations',
    {
      ...admin,
      schema: {
        tags: ['federations'],
        summary: 'List federations',
        security,
        response: { 200: { type: 'array', items: federationView } },
      },
    },
    async () => Promise.all((await db.federations.list()).map(view)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/federations/:id',
    {
      ...admin,
      schema: {
        tags: ['federations'],
        summary: 'Get a federation',
        security,
        params: idParams,
        response: { 200: federationView, ...errors },
      },
    },
    async (req) => view(await federationOr404(req.params.id)),
  );

  for (const [action, status] of [
    ['pause', 'paused'],
    ['resume', 'active'],
  ] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/federations/:id/${action}`,
      {
        ...admin,
        schema: {
          tags: ['federations'],
          summary:
            action === 'pause'
              ? 'Pause: participants are disconnected with FEDERATION_PAUSED'
              : 'Resume a paused federation',
          security,
          params: idParams,
          response: { 200: federationView, ...errors },
        },
      },
      async (req) => {
        await federationOr404(req.params.id);
        const f = await db.federations.setStatus(req.params.id, status);
        const record = await app.coordinator.federationRecord(f.id);
        if (record) await app.coordinator.federationChanged(record);
        return view(f);
      },
    );
  }

  app.delete<{ Params: { id: string } }>(
    '/v1/federations/:id',
    {
      ...admin,
      schema: {
        tags: ['federations'],
        summary: 'Delete a federation (soft: history is kept, participants are disconnected)',
        security,
        params: idParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      await federationOr404(req.params.id);
      await db.federations.setStatus(req.params.id, 'deleted');
      const record = await app.coordinator.federationRecord(req.params.id);
      if (record) await app.coordinator.federationChanged(record);
      return reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ join tokens

  const tokenView = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      token: { type: 'string', description: 'shown only in the response that creates it' },
      label: { type: 'string' },
      createdAt: { type: 'string' },
      expiresAt: { type: ['string', 'null'] },
      revokedAt: { type: ['string', 'null'] },
      lastUsedAt: { type: ['string', 'null'] },
      joinUrl: { type: 'string' },
    },
  } as const;
  const iso = (d: Date | null) => (d ? d.toISOString() : null);

  app.post<{ Params: { id: string }; Body: { label?: string; expiresInSeconds?: number } }>(
    '/v1/federations/:id/tokens',
    {
      ...admin,
      schema: {
        tags: ['tokens'],
        summary: 'Issue a join token (returned once; only its hash is stored)',
        security,
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            label: { type: 'string', maxLength: 200 },
            expiresInSeconds: { type: 'integer', minimum: 1 },
          },
        },
        response: { 201: tokenView, ...errors },
      },
    },
    async (req, reply) => {
      await federationOr404(req.params.id);
      const token = `mutua_${randomBytes(24).toString('base64url')}`;
      const body = req.body ?? {};
      const row = await db.joinTokens.create({
        federationId: req.params.id,
        tokenHash: createHash('sha256').update(token).digest('hex'),
        label: body.label ?? '',
        expiresAt: body.expiresInSeconds ? new Date(Date.now() + body.expiresInSeconds * 1000) : null,
      });
      return reply.code(201).send({
        id: row.id,
        token,
        label: row.label,
        createdAt: row.createdAt.toISOString(),
        expiresAt: iso(row.expiresAt),
        revokedAt: null,
        lastUsedAt: null,
        joinUrl: `/join/${encodeURIComponent(token)}`,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/federations/:id/tokens',
    {
      ...admin,
      schema: {
        tags: ['tokens'],
        summary: 'List join tokens (without the tokens)',
        security,
        params: idParams,
        response: { 200: { type: 'array', items: tokenView }, ...errors },
      },
    },
    async (req) => {
      await federationOr404(req.params.id);
      return (await db.joinTokens.listForFederation(req.params.id)).map((t) => ({
        id: t.id,
        label: t.label,
        createdAt: t.createdAt.toISOString(),
        expiresAt: iso(t.expiresAt),
        revokedAt: iso(t.revokedAt),
        lastUsedAt: iso(t.lastUsedAt),
      }));
    },
  );

  app.delete<{ Params: { id: string; tokenId: string } }>(
    '/v1/federations/:id/tokens/:tokenId',
    {
      ...admin,
      schema: {
        tags: ['tokens'],
        summary:
          'Revoke a join token: it admits nobody, and participants admitted with it are disconnected with TOKEN_REVOKED',
        security,
        params: {
          type: 'object',
          required: ['id', 'tokenId'],
          properties: { id: { type: 'string' }, tokenId: { type: 'string' } },
        },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      await federationOr404(req.params.id);
      const t = await db.joinTokens.get(req.params.tokenId);
      if (!t || t.federationId !== req.params.id) throw notFound(`token ${req.params.tokenId}`);
      await db.joinTokens.revoke(t.id);
      const admitted = (await db.participants.listForFederation(req.params.id)).filter(
        (p) => p.joinTokenId === t.id,
      );
      app.coordinator.disconnect(
        admitted.map((p) => p.id),
        new ProtocolError('TOKEN_REVOKED', 'the join token of this participant was revoked'),
      );
      return reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ participants, rounds, metrics, traffic

  app.get<{ Params: { id: string } }>(
    '/v1/federations/:id/participants',
    {
      ...admin,
      schema: {
        tags: ['participants'],
        summary: 'Participants: online now, kind, architecture, first/last seen, bytes in/out',
        security,
        params: idParams,
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                name: { type: 'string' },
                kind: { type: 'string' },
                modelArch: { type: 'string' },
                online: { type: 'boolean' },
                firstSeenAt: { type: 'string' },
                lastSeenAt: { type: 'string' },
                bytesIn: { type: 'integer' },
                bytesOut: { type: 'integer' },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      await federationOr404(req.params.id);
      await app.coordinator.flushTraffic();
      return (await db.participants.listForFederation(req.params.id)).map((p) => ({
        id: p.id,
        name: p.name,
        kind: p.kind,
        modelArch: p.modelArch,
        online: app.coordinator.isOnline(p.id),
        firstSeenAt: p.firstSeenAt.toISOString(),
        lastSeenAt: p.lastSeenAt.toISOString(),
        bytesIn: p.bytesIn,
        bytesOut: p.bytesOut,
      }));
    },
  );

  app.delete<{ Params: { id: string; participantId: string } }>(
    '/v1/federations/:id/participants/:participantId',
    {
      ...admin,
      schema: {
        tags: ['participants'],
        summary:
          'Remove a participant: its resume token stops working, it is disconnected; its history stays',
        security,
        params: {
          type: 'object',
          required: ['id', 'participantId'],
          properties: { id: { type: 'string' }, participantId: { type: 'string' } },
        },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const p = await db.participants.get(req.params.participantId);
      if (!p || p.federationId !== req.params.id) throw notFound(`participant ${req.params.participantId}`);
      await db.participants.remove(p.id);
      app.coordinator.disconnect(
        [p.id],
        new ProtocolError('TOKEN_REVOKED', 'the operator removed this participant'),
      );
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string }; Querystring: { from?: number; limit?: number } }>(
    '/v1/federations/:id/rounds',
    {
      ...admin,
      schema: {
        tags: ['rounds'],
        summary: 'Rounds (sync) or consensus versions (async): timing, submission counts, aggregation time',
        security,
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                number: { type: 'integer' },
                status: { type: 'string' },
                closeReason: { type: ['string', 'null'] },
                batchSize: { type: 'integer' },
                openedAt: { type: 'string' },
                closedAt: { type: ['string', 'null'] },
                submissions: { type: 'integer' },
                aggregationMs: { type: ['number', 'null'] },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      await federationOr404(req.params.id);
      const rows = await db.rounds.list(req.params.id, {
        fromNumber: req.query.from,
        limit: req.query.limit ?? 1000,
      });
      return rows.map((r) => ({
        number: r.number,
        status: r.status,
        closeReason: r.closeReason,
        batchSize: r.batchIndices.length,
        openedAt: r.openedAt.toISOString(),
        closedAt: iso(r.closedAt),
        submissions: r.submissionCount,
        aggregationMs: r.aggregationMs,
      }));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { from?: number } }>(
    '/v1/federations/:id/metrics',
    {
      ...admin,
      schema: {
        tags: ['rounds'],
        summary: 'Metrics participants reported, per round (with submissions and in MetricsReport messages)',
        security,
        params: idParams,
        querystring: { type: 'object', properties: { from: { type: 'integer', minimum: 0 } } },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                round: { type: 'integer' },
                participantId: { type: 'string' },
                source: { type: 'string' },
                metrics: { type: 'object', additionalProperties: { type: 'number' } },
                at: { type: 'string' },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      await federationOr404(req.params.id);
      const rows = await db.metrics.list(req.params.id, { fromRound: req.query.from });
      return rows.map((m) => ({
        round: m.roundNumber,
        participantId: m.participantId,
        source: m.source,
        metrics: m.metrics,
        at: m.at.toISOString(),
      }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/federations/:id/traffic',
    {
      ...admin,
      schema: {
        tags: ['participants'],
        summary: 'Bytes received from and sent to each participant, and in total (WebSocket frames)',
        security,
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              bytesIn: { type: 'integer' },
              bytesOut: { type: 'integer' },
              participants: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    bytesIn: { type: 'integer' },
                    bytesOut: { type: 'integer' },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      await federationOr404(req.params.id);
      await app.coordinator.flushTraffic();
      const totals = await db.participants.trafficTotals(req.params.id);
      const list = await db.participants.listForFederation(req.params.id, { includeRemoved: true });
      return {
        bytesIn: totals.bytesIn,
        bytesOut: totals.bytesOut,
        participants: list.map((p) => ({ id: p.id, name: p.name, bytesIn: p.bytesIn, bytesOut: p.bytesOut })),
      };
    },
  );
}
