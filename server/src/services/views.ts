/**
 * Rows as the REST API shows them (the types come from the schemas in @mutua/proto/rest).
 * Pure functions: what is live (round, online count) is passed in by the caller.
 */

import type {
  FederationView,
  IssuedToken,
  MetricView,
  ParticipantView,
  PublicSetRef,
  PublicSetView,
  RoundView,
  SettingsView,
  TokenView,
} from '@mutua/proto/rest';
import type {
  FederationRow,
  JoinTokenRow,
  ParticipantRow,
  PublicSetRow,
  ReportedMetrics,
  RoundRow,
} from '../db/index.ts';
import { type FederationSettings, requiredParticipants } from '../engine/settings.ts';
import { type FlagReason, isFlagged } from '../engine/trust-ledger.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The live side of a federation, when its runtime is loaded. */
export interface LiveCounters {
  currentVersion: number;
  consensusVersion: number;
  onlineCount: number;
}

export function publicSetView(r: PublicSetRow): PublicSetView {
  return { ...r, url: `/v1/public-sets/${r.id}`, createdAt: r.createdAt.toISOString() };
}

export function publicSetRef(ps: PublicSetRow): PublicSetRef {
  return {
    id: ps.id,
    sampleCount: ps.sampleCount,
    shape: ps.shape,
    source: ps.source,
    url: `/v1/public-sets/${ps.id}`,
  };
}

export function federationView(
  f: FederationRow,
  ps: PublicSetRow | null,
  live: LiveCounters | undefined,
): FederationView {
  const required = requiredParticipants(f.settings as unknown as FederationSettings);
  return {
    id: f.id,
    name: f.name,
    status: f.status,
    settings: f.settings as SettingsView,
    publicSet: ps ? publicSetRef(ps) : null,
    currentRound: live?.currentVersion ?? f.currentRound,
    consensusVersion: live?.consensusVersion ?? f.consensusVersion,
    participantsOnline: live?.onlineCount ?? 0,
    minParticipants: required,
    waitingForParticipants: f.status === 'active' && (live?.onlineCount ?? 0) < required,
    createdAt: f.createdAt.toISOString(),
  };
}

export function tokenView(t: JoinTokenRow): TokenView {
  return {
    id: t.id,
    label: t.label,
    createdAt: t.createdAt.toISOString(),
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
    lastUsedAt: iso(t.lastUsedAt),
    maxUses: t.maxUses,
  };
}

export function issuedTokenView(t: JoinTokenRow, token: string): IssuedToken {
  return { ...tokenView(t), token, joinUrl: `/join/${encodeURIComponent(token)}` };
}

export function participantView(
  p: ParticipantRow,
  online: boolean,
  trust: number | null = null,
  reason: FlagReason | null = null,
): ParticipantView {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    modelArch: p.modelArch,
    online,
    firstSeenAt: p.firstSeenAt.toISOString(),
    lastSeenAt: p.lastSeenAt.toISOString(),
    bytesIn: p.bytesIn,
    bytesOut: p.bytesOut,
    trust,
    flagged: isFlagged(trust),
    flagReason: isFlagged(trust) ? reason : null,
  };
}

/** `bytesReceived`: the frames of its accepted submissions (SubmissionsRepository.bytesPerRound). */
export function roundView(r: RoundRow, bytesReceived: number): RoundView {
  return {
    number: r.number,
    status: r.status,
    closeReason: r.closeReason,
    batchSize: r.batchIndices.length,
    openedAt: r.openedAt.toISOString(),
    closedAt: iso(r.closedAt),
    submissions: r.submissionCount,
    aggregationMs: r.aggregationMs,
    bytesReceived,
  };
}

/** LocalMetrics' booleans are stored as 1/0 with the numbers; the API gives them back as booleans. */
const BOOLEAN_METRICS = new Set(['hasTestAccuracy']);

function metricValues(stored: Record<string, number>): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(stored)) out[k] = BOOLEAN_METRICS.has(k) ? v !== 0 : v;
  return out;
}

export function metricView(m: ReportedMetrics): MetricView {
  return {
    round: m.roundNumber,
    participantId: m.participantId,
    source: m.source,
    metrics: metricValues(m.metrics),
    at: m.at.toISOString(),
  };
}
