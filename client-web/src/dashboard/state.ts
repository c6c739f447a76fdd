/**
 * The dashboard's state and its reducer: everything the dashboard shows, changed only by
 * `reduceDashboard(state, action)`, a pure function (no DOM, no fetch, no timers, no
 * charts), so it is tested under node. The controller (controller.ts) turns API answers
 * and clicks into actions; the view (view.ts) draws the state. The state is also readable
 * as `window.mutuaDashboard`.
 */
import type { Federation, JoinLinkRow, MetricRow, Participant, Round, Student, Traffic } from './api.ts';

export interface AccuracyPoint {
  participantId: string;
  round: number;
  accuracy: number;
  /** One point per (participant, round, source, time): polls overlap, points do not repeat. */
  key: string;
}

export interface TrafficSample {
  /** ms since the epoch, when the poll answered. */
  at: number;
  bytesIn: number;
  bytesOut: number;
}

export interface DashboardState {
  signedIn: boolean;
  /** +1 at each sign-in and sign-out: answers to requests of an earlier session are dropped. */
  session: number;
  alert: { kind: 'error' | 'warn' | 'info'; text: string } | null;
  federations: Federation[];
  federationId: string;
  participants: Participant[];
  rounds: Round[];
  accuracy: AccuracyPoint[];
  /** Each participant's latest reported accuracy, for the participants table. */
  latestAccuracy: Record<string, number>;
  /** Metrics are fetched from this round on (the newest seen: it may still get rows). */
  metricsFrom: number;
  traffic: TrafficSample[];
  /** When the first traffic sample since the selection was taken (the chart's x origin), 0 before. */
  trafficSince: number;
  accuracyPoints: number;
  /** Traffic samples taken since the federation was selected (the chart keeps the last MAX_TRAFFIC). */
  trafficPoints: number;
  polls: number;
  /** Updates are pushed (the coordinator's event stream is open); else only polled. */
  live: boolean;
  /** The last failed poll's message, '' when the last poll worked. */
  lastError: string;
  joinUrl: string;
  /** The selected federation's join links (without their secrets), newest first. */
  joinLinks: JoinLinkRow[];
  /** The selected federation's published global student; null: none (or not fetched yet). */
  student: Student | null;
  /** The page of the rounds/versions table shown: 0 = the newest TIMELINE_PAGE rows. */
  timelinePage: number;
}

export type DashboardAction =
  | { type: 'signed-in'; federations: Federation[]; wanted: string | null }
  | { type: 'signed-out'; message?: string }
  /** A request of session `session` was refused with 401. */
  | { type: 'unauthorized'; session: number }
  | { type: 'select'; id: string }
  | { type: 'federations'; session: number; federations: Federation[] }
  | {
      type: 'refreshed';
      session: number;
      federationId: string;
      participants: Participant[];
      rounds: Round[];
      metrics: MetricRow[];
      traffic: Traffic;
      at: number;
    }
  | { type: 'poll-ok'; session: number }
  /** The event stream of session `session` opened (true) or ended (false). */
  | { type: 'live'; session: number; live: boolean }
  | { type: 'poll-failed'; session: number; message: string }
  | { type: 'join-link'; url: string }
  | { type: 'join-links'; session: number; federationId: string; links: JoinLinkRow[] }
  | { type: 'student'; session: number; federationId: string; student: Student | null }
  /** The operator deleted federation `id`; `federations` is the list without it. */
  | { type: 'deleted'; session: number; id: string; name: string; federations: Federation[] }
  | { type: 'timeline-page'; page: number }
  | { type: 'failed'; message: string }
  /** An operator command worked: says so, replacing an earlier command's error. */
  | { type: 'notice'; text: string };

/** ~15 minutes of traffic at a 1.5 s poll. */
export const MAX_TRAFFIC = 600;
/** Rows per page of the rounds/versions table: the page stays the same height however long it runs. */
export const TIMELINE_PAGE = 20;

const SELECTION_RESET = {
  participants: [],
  rounds: [],
  accuracy: [],
  latestAccuracy: {},
  metricsFrom: 0,
  traffic: [],
  trafficSince: 0,
  accuracyPoints: 0,
  trafficPoints: 0,
  joinUrl: '',
  joinLinks: [],
  student: null,
  timelinePage: 0,
} satisfies Partial<DashboardState>;

export function initialDashboardState(): DashboardState {
  return {
    ...SELECTION_RESET,
    signedIn: false,
    session: 0,
    alert: null,
    federations: [],
    federationId: '',
    polls: 0,
    live: false,
    lastError: '',
  };
}

export function reduceDashboard(s: DashboardState, a: DashboardAction): DashboardState {
  switch (a.type) {
    case 'signed-in': {
      const first = a.federations.find((f) => f.id === a.wanted) ?? a.federations[0];
      return {
        ...initialDashboardState(),
        signedIn: true,
        session: s.session + 1,
        federations: a.federations,
        federationId: first?.id ?? '',
      };
    }
    case 'signed-out':
      return {
        ...initialDashboardState(),
        session: s.session + 1,
        alert: a.message ? { kind: 'error', text: a.message } : null,
      };
    case 'unauthorized':
      // A request from before a sign-out or a new sign-in says nothing about this session.
      if (a.session !== s.session || !s.signedIn) return s;
      return reduceDashboard(s, {
        type: 'signed-out',
        message: 'The admin token is no longer accepted: sign in again.',
      });
    case 'select':
      if (a.id === s.federationId) return s;
      return { ...s, ...SELECTION_RESET, federationId: a.id };
    case 'federations':
      return a.session === s.session && s.signedIn ? { ...s, federations: a.federations } : s;
    case 'refreshed':
      if (a.session !== s.session || a.federationId !== s.federationId) return s;
      return withTraffic(
        withMetrics(
          { ...s, participants: a.participants, rounds: mergeRounds(s.rounds, a.rounds) },
          a.metrics,
        ),
        {
          at: a.at,
          bytesIn: a.traffic.bytesIn,
          bytesOut: a.traffic.bytesOut,
        },
      );
    case 'poll-ok':
      if (a.session !== s.session) return s;
      // Recovering from a failed poll clears its warning; other alerts stay until replaced.
      return { ...s, polls: s.polls + 1, lastError: '', alert: s.lastError ? null : s.alert };
    case 'live':
      return a.session === s.session && a.live !== s.live ? { ...s, live: a.live } : s;
    case 'poll-failed':
      if (a.session !== s.session) return s;
      return {
        ...s,
        lastError: a.message,
        alert: { kind: 'warn', text: `Live updates paused: ${a.message}. Retrying.` },
      };
    case 'join-link':
      return { ...s, joinUrl: a.url };
    case 'join-links':
      if (a.session !== s.session || a.federationId !== s.federationId) return s;
      return { ...s, joinLinks: [...a.links].sort((x, y) => y.createdAt.localeCompare(x.createdAt)) };
    case 'student':
      if (a.session !== s.session || a.federationId !== s.federationId) return s;
      // The same upload again: keep the object, so the view is not redrawn at every poll.
      if (a.student?.sha256 === s.student?.sha256 && a.student?.uploadedAt === s.student?.uploadedAt)
        return s;
      return { ...s, student: a.student };
    case 'deleted': {
      if (a.session !== s.session) return s;
      const federations = a.federations.filter((f) => f.id !== a.id);
      const alert = { kind: 'info' as const, text: `Deleted the federation "${a.name}".` };
      if (s.federationId !== a.id) return { ...s, federations, alert };
      return { ...s, ...SELECTION_RESET, federations, federationId: federations[0]?.id ?? '', alert };
    }
    case 'timeline-page': {
      const page = Math.min(Math.max(0, Math.floor(a.page)), timelinePages(s) - 1);
      return page === s.timelinePage ? s : { ...s, timelinePage: page };
    }
    case 'failed':
      return { ...s, alert: { kind: 'error', text: a.message } };
    case 'notice':
      return { ...s, alert: { kind: 'info', text: a.text } };
  }
}

/** Pages of the rounds/versions table (at least 1, even with no rows). */
export function timelinePages(s: Pick<DashboardState, 'rounds'>): number {
  return Math.max(1, Math.ceil(s.rounds.length / TIMELINE_PAGE));
}

/** The rows of the shown page, newest first: page p holds the (p+1)-th newest TIMELINE_PAGE rows. */
export function timelineRows(s: Pick<DashboardState, 'rounds' | 'timelinePage'>): Round[] {
  const page = Math.min(s.timelinePage, timelinePages(s) - 1);
  const end = s.rounds.length - page * TIMELINE_PAGE;
  return s.rounds.slice(Math.max(0, end - TIMELINE_PAGE), end).reverse();
}
/** Rounds by number, the fresh answer winning (an open round's row changes when it closes). */
function mergeRounds(known: Round[], fresh: Round[]): Round[] {
  if (fresh.length === 0) return known;
  const byNumber = new Map(known.map((r) => [r.number, r]));
  for (const r of fresh) byNumber.set(r.number, r);
  return [...byNumber.values()].sort((a, b) => a.number - b.number);
}

/** The accuracy a participant reported: the shared test set's if any, else its held-out data's, else training. */
export function reportedAccuracy(m: Record<string, number | boolean>): number | null {
  if (m.hasTestAccuracy && typeof m.testAccuracy === 'number') return m.testAccuracy;
  if (typeof m.valAccuracy === 'number' && m.valAccuracy > 0) return m.valAccuracy;
  if (typeof m.trainAccuracy === 'number') return m.trainAccuracy;
  return null;
}

function withMetrics(s: DashboardState, rows: MetricRow[]): DashboardState {
  if (rows.length === 0) return s;
  const seen = new Set(s.accuracy.map((p) => p.key));
  const added: AccuracyPoint[] = [];
  const latest = { ...s.latestAccuracy };
  let metricsFrom = s.metricsFrom;
  for (const r of rows) {
    metricsFrom = Math.max(metricsFrom, r.round);
    const accuracy = reportedAccuracy(r.metrics);
    const key = `${r.participantId}|${r.round}|${r.source}|${r.at}`;
    if (accuracy === null || seen.has(key)) continue;
    seen.add(key);
    added.push({ participantId: r.participantId, round: r.round, accuracy, key });
    latest[r.participantId] = accuracy;
  }
  if (added.length === 0) return metricsFrom === s.metricsFrom ? s : { ...s, metricsFrom };
  const accuracy = [...s.accuracy, ...added];
  return { ...s, accuracy, latestAccuracy: latest, metricsFrom, accuracyPoints: accuracy.length };
}

function withTraffic(s: DashboardState, sample: TrafficSample): DashboardState {
  return {
    ...s,
    traffic: [...s.traffic.slice(-(MAX_TRAFFIC - 1)), sample],
    trafficSince: s.trafficSince || sample.at,
    trafficPoints: s.trafficPoints + 1,
  };
}

/** Where the next rounds request starts: the oldest open round (it can still change), else the newest known. */
export function roundsFrom(s: DashboardState): number {
  const open = s.rounds.filter((r) => r.status === 'open').map((r) => r.number);
  return open.length > 0 ? Math.min(...open) : (s.rounds.at(-1)?.number ?? 0);
}

export function selectedFederation(s: DashboardState): Federation | undefined {
  return s.federations.find((f) => f.id === s.federationId);
}
