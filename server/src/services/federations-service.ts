/**
 * What the admin API does with federations, their join tokens, participants, rounds and
 * metrics: the routes validate and translate HTTP, this service orchestrates the database
 * and the live coordinator. Errors are coded (errors.ts): a federation that is missing or
 * deleted, also when that happens while a request runs, is MUTUA_ERR_NOT_FOUND.
 */
import { ProtocolError } from '@mutua/proto';
import type {
  BuiltinSlice,
  CreateFederationBody,
  FederationView,
  IssuedToken,
  IssueTokenBody,
  MetricView,
  ParticipantView,
  RoundView,
  TokenView,
  TrafficView,
} from '@mutua/proto/rest';
import type { Coordinator } from '../coordinator.ts';
import { createToken, type Db, type FederationRow, type PublicSetRow } from '../db/index.ts';
import { resolveSettings, type SettingsInput } from '../engine/settings.ts';
import { badRequest, notFound } from '../errors.ts';
import type { PublicSetsService } from './public-sets-service.ts';
import {
  federationView,
  issuedTokenView,
  type LiveCounters,
  metricView,
  participantView,
  roundView,
  tokenView,
} from './views.ts';

/** How many rounds a listing returns when the client does not say. */
export const DEFAULT_ROUNDS_LIMIT = 1000;

export class FederationsService {
  constructor(
    private readonly db: Db,
    private readonly coordinator: Coordinator,
    private readonly publicSets: PublicSetsService,
  ) {}

  // ------------------------------------------------------------------ federations

  async create(body: CreateFederationBody): Promise<FederationView> {
    const { name, publicSetId, publicSet, settings } = body;
    if (!publicSetId === !publicSet) throw badRequest('give exactly one of publicSetId and publicSet');
    const ps = publicSetId
      ? await this.publicSets.get(publicSetId)
      : // Ajv has filled in the slice's defaults.
        (await this.publicSets.createBuiltin(publicSet as BuiltinSlice)).publicSet;
    if (!ps) throw notFound(`public set ${publicSetId}`);
    // SettingsError (cross-field rules) becomes MUTUA_ERR_BAD_SETTINGS in errors.ts.
    const resolved = resolveSettings((settings ?? {}) as SettingsInput, ps.shape);
    const f = await this.db.federations.create({ name, settings: resolved, publicSetId: ps.id });
    this.coordinator.events.emit({
      type: 'federation-created',
      federationId: f.id,
      name: f.name,
      mode: resolved.mode,
      minParticipants: resolved.minParticipants,
    });
    return this.view(f, ps);
  }

  /** Every federation not deleted, oldest first: two queries, however many there are. */
  async list(): Promise<FederationView[]> {
    const rows = await this.db.federations.list();
    const ids = rows.flatMap((f) => (f.publicSetId ? [f.publicSetId] : []));
    const sets = new Map((await this.db.publicSets.getMany(ids)).map((ps) => [ps.id, ps]));
    return Promise.all(
      rows.map(async (f) => federationView(f, sets.get(f.publicSetId ?? '') ?? null, await this.live(f.id))),
    );
  }

  async get(id: string): Promise<FederationView> {
    return this.view(await this.federation(id));
  }

  /** Pause or resume; participants of a paused federation are disconnected with FEDERATION_PAUSED. */
  async setPaused(id: string, paused: boolean): Promise<FederationView> {
    // Conditional in the database: a federation deleted meanwhile stays deleted (404).
    const f = await this.db.federations.setStatus(id, paused ? 'paused' : 'active');
    await this.applyToRuntime(id);
    this.coordinator.events.emit({
      type: paused ? 'federation-paused' : 'federation-resumed',
      federationId: id,
    });
    return this.view(f);
  }

  /** Soft delete: history is kept, participants are disconnected with FEDERATION_NOT_FOUND. */
  async delete(id: string): Promise<void> {
    await this.db.federations.setStatus(id, 'deleted');
    await this.applyToRuntime(id);
    this.coordinator.events.emit({ type: 'federation-deleted', federationId: id });
  }

  // ------------------------------------------------------------------ join tokens

  async issueToken(federationId: string, body: IssueTokenBody): Promise<IssuedToken> {
    await this.federation(federationId);
    const { token, hash } = createToken('mutua_');
    const row = await this.db.joinTokens.create({
      federationId,
      tokenHash: hash,
      label: body?.label ?? '',
      expiresAt: body?.expiresInSeconds ? new Date(Date.now() + body.expiresInSeconds * 1000) : null,
      maxUses: body?.maxUses ?? null,
    });
    this.coordinator.events.emit({ type: 'token-issued', federationId, tokenId: row.id, label: row.label });
    return issuedTokenView(row, token);
  }

  async listTokens(federationId: string): Promise<TokenView[]> {
    await this.federation(federationId);
    return (await this.db.joinTokens.listForFederation(federationId)).map(tokenView);
  }

  /** The token admits nobody any more, and participants admitted with it are disconnected. */
  async revokeToken(federationId: string, tokenId: string): Promise<void> {
    await this.federation(federationId);
    const t = await this.db.joinTokens.get(tokenId);
    if (!t || t.federationId !== federationId) throw notFound(`token ${tokenId}`);
    await this.db.joinTokens.revoke(t.id);
    const admitted = (await this.db.participants.listForFederation(federationId)).filter(
      (p) => p.joinTokenId === t.id,
    );
    this.coordinator.disconnect(
      admitted.map((p) => p.id),
      new ProtocolError('TOKEN_REVOKED', 'the join token of this participant was revoked'),
    );
    this.coordinator.events.emit({
      type: 'token-revoked',
      federationId,
      tokenId: t.id,
      disconnected: admitted.filter((p) => this.coordinator.isOnline(p.id)).length,
    });
  }

  // ------------------------------------------------------------------ participants and traffic

  async listParticipants(federationId: string): Promise<ParticipantView[]> {
    await this.federation(federationId);
    // Traffic is counted in memory and written periodically: write it now so the figures are current.
    await this.coordinator.flushTraffic();
    const runtime = await this.coordinator.liveRuntime(federationId).catch(() => undefined);
    const rows = await this.db.participants.listForFederation(federationId);
    // Online, trust and flag reason as the deciding replica holds them (in a cluster, the owner's).
    const view = await runtime?.participantsView(rows.map((p) => p.id));
    return rows.map((p, i) =>
      participantView(
        p,
        view?.online[i] ?? this.coordinator.isOnline(p.id),
        view?.trust[i] ?? null,
        view?.reason[i] ?? null,
      ),
    );
  }

  /** Its resume token stops working and it is disconnected; its history stays. */
  async removeParticipant(federationId: string, participantId: string): Promise<void> {
    const p = await this.db.participants.get(participantId);
    if (!p || p.federationId !== federationId) throw notFound(`participant ${participantId}`);
    await this.db.participants.remove(p.id);
    this.coordinator.disconnect(
      [p.id],
      new ProtocolError('TOKEN_REVOKED', 'the operator removed this participant'),
    );
  }

  async traffic(federationId: string): Promise<TrafficView> {
    await this.federation(federationId);
    await this.coordinator.flushTraffic();
    const [totals, list] = await Promise.all([
      this.db.participants.trafficTotals(federationId),
      this.db.participants.listForFederation(federationId, { includeRemoved: true }),
    ]);
    return {
      bytesIn: totals.bytesIn,
      bytesOut: totals.bytesOut,
      participants: list.map((p) => ({ id: p.id, name: p.name, bytesIn: p.bytesIn, bytesOut: p.bytesOut })),
    };
  }

  // ------------------------------------------------------------------ rounds and metrics

  async listRounds(federationId: string, from?: number, limit = DEFAULT_ROUNDS_LIMIT): Promise<RoundView[]> {
    await this.federation(federationId);
    const rounds = await this.db.rounds.list(federationId, { fromNumber: from, limit });
    if (rounds.length === 0) return [];
    const bytes = await this.db.submissions.bytesPerRound(
      federationId,
      rounds[0]!.number,
      rounds.at(-1)!.number,
    );
    return rounds.map((r) => roundView(r, bytes.get(r.number) ?? 0));
  }

  async listMetrics(federationId: string, from?: number): Promise<MetricView[]> {
    await this.federation(federationId);
    return (await this.db.metrics.list(federationId, { fromRound: from })).map(metricView);
  }

  // ------------------------------------------------------------------ helpers

  /** The federation, unless it is missing or deleted (404). */
  private async federation(id: string): Promise<FederationRow> {
    const f = await this.db.federations.get(id);
    if (!f || f.status === 'deleted') throw notFound(`federation ${id}`);
    return f;
  }

  private async view(f: FederationRow, known?: PublicSetRow | null): Promise<FederationView> {
    const ps = known ?? (f.publicSetId ? await this.db.publicSets.get(f.publicSetId) : null);
    return federationView(f, ps, await this.live(f.id));
  }

  /** The live counters when the federation's runtime is loaded (a runtime that failed to load has none). */
  private async live(id: string): Promise<LiveCounters | undefined> {
    return this.coordinator.liveRuntime(id).catch(() => undefined);
  }

  /** Tells the live side about a status change the database now holds. */
  private async applyToRuntime(id: string): Promise<void> {
    const record = await this.coordinator.federationRecord(id);
    if (record) await this.coordinator.federationChanged(record);
  }
}
