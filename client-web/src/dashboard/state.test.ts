/** The dashboard's reducer and words, under node: no DOM, no charts, no coordinator. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Federation, JoinLinkRow, MetricRow, Participant, Round, Student } from './api.ts';
import {
  type DashboardAction,
  type DashboardState,
  initialDashboardState,
  MAX_TRAFFIC,
  reduceDashboard,
  reportedAccuracy,
  roundsFrom,
  TIMELINE_PAGE,
  timelinePages,
  timelineRows,
} from './state.ts';
import {
  joinLinkStatus,
  newFederationRequest,
  participantLabel,
  settingsRows,
  waitingText,
} from './words.ts';

function federation(id: string, settings: Partial<Federation['settings']> = {}): Federation {
  return {
    id,
    name: `fed ${id}`,
    status: 'active',
    settings: {
      mode: 'sync',
      strategy: 'mutual',
      aggregation: 'mean',
      temperature: 3,
      lambda: 1,
      batchSize: 64,
      encodings: ['uint8', 'float16'],
      localEpochs: 1,
      sync: { quorum: 0, deadlineMs: 30000, minParticipants: 2 },
      async: { bufferK: 3, stalenessExponent: 0.5, maxStaleness: 8 },
      task: { inputShape: [28, 28, 1], numClasses: 10, labelNames: [] },
      ...settings,
    },
    publicSet: null,
    currentRound: 0,
    consensusVersion: 0,
    participantsOnline: 0,
    minParticipants: 2,
    waitingForParticipants: true,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

const round = (number: number, status = 'closed'): Round => ({
  number,
  status,
  closeReason: status === 'open' ? null : 'quorum',
  batchSize: 64,
  openedAt: '2026-01-01T00:00:00.000Z',
  closedAt: status === 'open' ? null : '2026-01-01T00:00:02.000Z',
  submissions: 2,
  aggregationMs: 1.5,
  bytesReceived: 2048,
});

const metric = (participantId: string, r: number, metrics: Record<string, number>): MetricRow => ({
  round: r,
  participantId,
  source: 'submission',
  metrics,
  at: `2026-01-01T00:00:0${r}.000Z`,
});

const participant: Participant = {
  id: 'p1-0000000000000',
  name: 'lab 1',
  kind: 'node',
  modelArch: 'mlp',
  online: true,
  firstSeenAt: '2026-01-01T00:00:00.000Z',
  lastSeenAt: '2026-01-01T00:00:00.000Z',
  bytesIn: 10,
  bytesOut: 20,
  trust: null,
  flagged: false,
  flagReason: null,
};

function run(s: DashboardState, ...actions: DashboardAction[]): DashboardState {
  return actions.reduce(reduceDashboard, s);
}

function signedIn(): DashboardState {
  return reduceDashboard(initialDashboardState(), {
    type: 'signed-in',
    federations: [federation('a'), federation('b', { mode: 'async' })],
    wanted: 'b',
  });
}

function refreshed(
  s: DashboardState,
  over: Partial<Extract<DashboardAction, { type: 'refreshed' }>> = {},
): DashboardAction {
  return {
    type: 'refreshed',
    session: s.session,
    federationId: s.federationId,
    participants: [participant],
    rounds: [],
    metrics: [],
    traffic: { bytesIn: 100, bytesOut: 200, participants: [] },
    at: 1000,
    ...over,
  };
}

describe('dashboard: signing in and out', () => {
  test('signing in selects the federation in the URL, else the first', () => {
    const s = signedIn();
    assert.equal(s.signedIn, true);
    assert.equal(s.federationId, 'b');
    assert.equal(s.session, 1);
    const first = reduceDashboard(initialDashboardState(), {
      type: 'signed-in',
      federations: [federation('a')],
      wanted: 'gone',
    });
    assert.equal(first.federationId, 'a');
    const none = reduceDashboard(initialDashboardState(), {
      type: 'signed-in',
      federations: [],
      wanted: null,
    });
    assert.equal(none.federationId, '');
  });

  test('a refused token signs out with the reason', () => {
    const s = reduceDashboard(signedIn(), {
      type: 'signed-out',
      message: 'The coordinator refused that admin token.',
    });
    assert.equal(s.signedIn, false);
    assert.deepEqual(s.federations, []);
    assert.deepEqual(s.alert, { kind: 'error', text: 'The coordinator refused that admin token.' });
  });

  test('a 401 from a poll still in flight after sign-out does not say the token was refused', () => {
    const before = signedIn();
    const out = reduceDashboard(before, { type: 'signed-out' });
    assert.equal(out.alert, null);
    // The poll of the earlier session comes back refused (the token was cleared): nothing to say.
    assert.equal(reduceDashboard(out, { type: 'unauthorized', session: before.session }), out);
    assert.equal(
      reduceDashboard(out, { type: 'federations', session: before.session, federations: [] }),
      out,
    );
    assert.equal(reduceDashboard(out, refreshed(before)), out);
    // In the current session it does.
    const refused = reduceDashboard(before, { type: 'unauthorized', session: before.session });
    assert.equal(refused.signedIn, false);
    assert.match(refused.alert?.text ?? '', /no longer accepted/);
  });
});

describe('dashboard: live data', () => {
  test('rounds merge by number: an open round is replaced when it closes', () => {
    let s = signedIn();
    s = reduceDashboard(s, refreshed(s, { rounds: [round(1), round(2, 'open')] }));
    assert.equal(roundsFrom(s), 2, 'the open round can still change');
    s = reduceDashboard(s, refreshed(s, { rounds: [round(2), round(3, 'open')] }));
    assert.deepEqual(
      s.rounds.map((r) => `${r.number}:${r.status}`),
      ['1:closed', '2:closed', '3:open'],
    );
    s = reduceDashboard(s, refreshed(s, { rounds: [round(3)] }));
    assert.equal(roundsFrom(s), 3, 'none open: from the newest');
  });

  test('metrics become accuracy points once each, whatever the polls overlap', () => {
    let s = signedIn();
    const rows = [metric('p1', 1, { valAccuracy: 0.5 }), metric('p2', 1, { trainLoss: 1 })];
    s = run(
      s,
      refreshed(s, { metrics: rows }),
      refreshed(s, { metrics: [...rows, metric('p1', 2, { valAccuracy: 0.6 })] }),
    );
    assert.equal(s.accuracyPoints, 2);
    assert.deepEqual(
      s.accuracy.map((p) => [p.participantId, p.round, p.accuracy]),
      [
        ['p1', 1, 0.5],
        ['p1', 2, 0.6],
      ],
    );
    assert.deepEqual(s.latestAccuracy, { p1: 0.6 });
    assert.equal(s.metricsFrom, 2);
  });

  test('the accuracy shown prefers the shared test set, then held-out data, then training', () => {
    assert.equal(reportedAccuracy({ hasTestAccuracy: 1, testAccuracy: 0.9, valAccuracy: 0.8 }), 0.9);
    assert.equal(reportedAccuracy({ hasTestAccuracy: 0, testAccuracy: 0, valAccuracy: 0.8 }), 0.8);
    assert.equal(reportedAccuracy({ valAccuracy: 0, trainAccuracy: 0.7 }), 0.7);
    assert.equal(reportedAccuracy({ trainLoss: 1 }), null);
  });

  test('answers for another federation than the selected one are dropped', () => {
    const s = signedIn();
    assert.equal(reduceDashboard(s, refreshed(s, { federationId: 'a' })), s);
  });

  test('selecting another federation starts its data afresh; the same one changes nothing', () => {
    let s = signedIn();
    s = run(s, refreshed(s, { metrics: [metric('p1', 1, { valAccuracy: 0.5 })] }), {
      type: 'join-link',
      url: 'x',
    });
    assert.equal(reduceDashboard(s, { type: 'select', id: 'b' }), s);
    s = reduceDashboard(s, { type: 'select', id: 'a' });
    assert.equal(s.federationId, 'a');
    assert.deepEqual(
      [s.accuracy, s.participants, s.traffic, s.joinUrl, s.trafficPoints],
      [[], [], [], '', 0],
    );
  });

  test('traffic keeps the last samples from a fixed origin, and counts them all', () => {
    let s = signedIn();
    for (let i = 0; i < MAX_TRAFFIC + 10; i++) s = reduceDashboard(s, refreshed(s, { at: 5000 + i }));
    assert.equal(s.traffic.length, MAX_TRAFFIC);
    assert.equal(s.trafficPoints, MAX_TRAFFIC + 10);
    assert.equal(s.trafficSince, 5000);
    assert.equal(s.traffic[0]!.at, 5010);
  });

  test('a failed poll warns; the next good one clears that warning but not an operator error', () => {
    let s = signedIn();
    s = reduceDashboard(s, {
      type: 'poll-failed',
      session: s.session,
      message: 'cannot reach the coordinator',
    });
    assert.equal(s.alert?.kind, 'warn');
    assert.match(s.alert?.text ?? '', /Live updates paused: cannot reach the coordinator\. Retrying\./);
    s = reduceDashboard(s, { type: 'poll-ok', session: s.session });
    assert.equal(s.alert, null);
    assert.equal(s.polls, 1);
    s = run(
      s,
      { type: 'failed', message: 'Could not create a join link' },
      { type: 'poll-ok', session: s.session },
    );
    assert.equal(s.alert?.text, 'Could not create a join link');
  });
});

describe('dashboard: words', () => {
  test('round settings are labelled values, not JSON', () => {
    const sync = Object.fromEntries(settingsRows(federation('a')));
    assert.equal(sync['Round closes with'], 'all active participants');
    assert.equal(sync['Round deadline'], '30 s');
    assert.equal(sync['Minimum participants'], '2');
    const async = Object.fromEntries(settingsRows(federation('b', { mode: 'async' })));
    assert.equal(async['New version after'], '3 contributions');
    assert.equal(async['Maximum staleness'], '8 versions');
    for (const rows of [sync, async]) assert.ok(Object.values(rows).every((v) => !v.includes('{')));
  });

  test('a new federation needs a name; FedAvg runs synchronously with cnn-small', () => {
    const form = { name: '  ', dataset: 'mnist', publicSamples: 512, mode: 'async', strategy: 'mutual' };
    assert.equal(newFederationRequest(form), 'Give the federation a name.');
    assert.deepEqual(newFederationRequest({ ...form, name: ' lab ' }), {
      name: 'lab',
      publicSet: { dataset: 'mnist', split: 'test', offset: 0, count: 512 },
      settings: { mode: 'async', strategy: 'mutual', batchSize: 256 },
    });
    const fedavg = newFederationRequest({ ...form, name: 'x', strategy: 'fedavg' }) as { settings: unknown };
    assert.deepEqual(fedavg.settings, {
      mode: 'sync',
      strategy: 'fedavg',
      batchSize: 256,
      modelArch: 'cnn-small',
    });
  });

  test('participants are labelled by name, kind and model once known', () => {
    assert.equal(participantLabel([participant], participant.id), 'lab 1 (node, mlp)');
    assert.equal(participantLabel([], 'abcdefghijk'), 'abcdefgh');
  });
});

const link = (id: string, createdAt: string, over: Partial<JoinLinkRow> = {}): JoinLinkRow => ({
  id,
  label: 'dashboard',
  createdAt,
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  maxUses: null,
  ...over,
});

describe('dashboard: managing federations and join links', () => {
  test('join links are listed newest first, for the selected federation and session only', () => {
    const s = signedIn();
    const links = [link('t1', '2026-01-01T00:00:01.000Z'), link('t2', '2026-01-01T00:00:02.000Z')];
    const listed = reduceDashboard(s, { type: 'join-links', session: s.session, federationId: 'b', links });
    assert.deepEqual(
      listed.joinLinks.map((l) => l.id),
      ['t2', 't1'],
    );
    for (const stale of [
      { type: 'join-links', session: s.session, federationId: 'a', links },
      { type: 'join-links', session: s.session - 1, federationId: 'b', links },
    ] as const) {
      assert.equal(reduceDashboard(s, stale), s);
    }
    // Another federation selected: its links are not the previous one's.
    assert.deepEqual(reduceDashboard(listed, { type: 'select', id: 'a' }).joinLinks, []);
  });

  test('the global student: kept per federation and session, the same upload not replaced, dropped on select', () => {
    const s = signedIn();
    const student = (sha256: string): Student => ({
      federationId: 'b',
      info: {
        arch: 'cnn-tiny',
        encoding: 'uint8',
        epochs: 30,
        temperature: 3,
        params: 9018,
        rows: 2000,
        consensusVersion: 20,
        targetAgreement: 0.99,
      },
      sha256,
      weightBytes: 9018,
      modelJsonBytes: 5400,
      modelUrl: '/v1/federations/b/student/model.json',
      weightsUrl: '/v1/federations/b/student/weights.bin',
      uploadedAt: '2026-01-01T00:00:00.000Z',
    });
    assert.equal(s.student, null);
    const one = reduceDashboard(s, {
      type: 'student',
      session: s.session,
      federationId: 'b',
      student: student('x'),
    });
    assert.equal(one.student?.sha256, 'x');
    // Polled again, unchanged: the same state object (the view redraws nothing).
    assert.equal(
      reduceDashboard(one, { type: 'student', session: s.session, federationId: 'b', student: student('x') }),
      one,
    );
    assert.equal(
      reduceDashboard(one, { type: 'student', session: s.session, federationId: 'b', student: student('y') })
        .student?.sha256,
      'y',
    );
    assert.equal(
      reduceDashboard(one, { type: 'student', session: s.session, federationId: 'b', student: null }).student,
      null,
    );
    for (const stale of [
      { type: 'student', session: s.session, federationId: 'a', student: student('z') },
      { type: 'student', session: s.session - 1, federationId: 'b', student: student('z') },
    ] as const) {
      assert.equal(reduceDashboard(one, stale), one);
    }
    assert.equal(reduceDashboard(one, { type: 'select', id: 'a' }).student, null);
  });

  test("a join link's state: active, revoked, or expired", () => {
    const now = Date.parse('2026-01-02T00:00:00.000Z');
    assert.equal(joinLinkStatus(link('t', ''), now), 'active');
    assert.equal(joinLinkStatus(link('t', '', { revokedAt: '2026-01-01T00:00:00.000Z' }), now), 'revoked');
    assert.equal(joinLinkStatus(link('t', '', { expiresAt: '2026-01-01T00:00:00.000Z' }), now), 'expired');
    assert.equal(joinLinkStatus(link('t', '', { expiresAt: '2026-01-03T00:00:00.000Z' }), now), 'active');
  });

  test('deleting the selected federation selects another and drops its data, with a notice', () => {
    let s = signedIn();
    s = run(s, refreshed(s, { rounds: [round(1)] }), { type: 'timeline-page', page: 0 });
    assert.equal(s.rounds.length, 1);
    const after = reduceDashboard(s, {
      type: 'deleted',
      session: s.session,
      id: 'b',
      name: 'fed b',
      // The list may still hold it if it was read before the delete landed.
      federations: [federation('a'), federation('b')],
    });
    assert.deepEqual(
      after.federations.map((f) => f.id),
      ['a'],
    );
    assert.equal(after.federationId, 'a');
    assert.deepEqual(after.rounds, []);
    assert.deepEqual(after.alert, { kind: 'info', text: 'Deleted the federation "fed b".' });
    // The last one deleted: nothing is selected.
    const none = reduceDashboard(after, {
      type: 'deleted',
      session: s.session,
      id: 'a',
      name: 'fed a',
      federations: [],
    });
    assert.equal(none.federationId, '');
    assert.equal(none.federations.length, 0);
  });

  test("a command that worked replaces an earlier command's error", () => {
    const s = run(
      signedIn(),
      { type: 'failed', message: 'Give the federation a name.' },
      { type: 'notice', text: 'Created the federation "x".' },
    );
    assert.deepEqual(s.alert, { kind: 'info', text: 'Created the federation "x".' });
  });

  test('live (pushed) updates: per session, and gone at sign-out', () => {
    const s = signedIn();
    const live = reduceDashboard(s, { type: 'live', session: s.session, live: true });
    assert.equal(live.live, true);
    assert.equal(reduceDashboard(s, { type: 'live', session: s.session - 1, live: true }), s);
    assert.equal(reduceDashboard(live, { type: 'select', id: 'a' }).live, true);
    assert.equal(reduceDashboard(live, { type: 'signed-out' }).live, false);
  });

  test('deleting another federation keeps the selection and its data', () => {
    let s = signedIn();
    s = run(s, refreshed(s, { rounds: [round(1)] }));
    const after = reduceDashboard(s, {
      type: 'deleted',
      session: s.session,
      id: 'a',
      name: 'fed a',
      federations: [federation('b', { mode: 'async' })],
    });
    assert.equal(after.federationId, 'b');
    assert.equal(after.rounds.length, 1);
  });

  test('the rounds table is paged newest first; the page is kept within range', () => {
    let s = signedIn();
    const rounds = Array.from({ length: 2 * TIMELINE_PAGE + 5 }, (_, i) => round(i + 1));
    s = run(s, refreshed(s, { rounds }));
    assert.equal(timelinePages(s), 3);
    assert.deepEqual(
      timelineRows(s).map((r) => r.number),
      Array.from({ length: TIMELINE_PAGE }, (_, i) => rounds.length - i),
    );
    s = reduceDashboard(s, { type: 'timeline-page', page: 1 });
    assert.equal(timelineRows(s)[0]?.number, rounds.length - TIMELINE_PAGE);
    assert.equal(timelineRows(s).length, TIMELINE_PAGE);
    // The last page holds the oldest rows, fewer than a page.
    s = reduceDashboard(s, { type: 'timeline-page', page: 9 });
    assert.equal(s.timelinePage, 2);
    assert.deepEqual(
      timelineRows(s).map((r) => r.number),
      [5, 4, 3, 2, 1],
    );
    assert.equal(reduceDashboard(s, { type: 'timeline-page', page: -3 }).timelinePage, 0);
    assert.equal(timelinePages({ rounds: [] }), 1);
    assert.deepEqual(timelineRows({ rounds: [], timelinePage: 0 }), []);
  });

  test('a federation below its minimum says it waits, with how many of how many are online', () => {
    const waiting = { ...federation('a'), participantsOnline: 1, minParticipants: 2 };
    assert.match(waitingText(waiting) ?? '', /^Waiting for participants \(1 of 2 online\): no round opens/);
    const async = { ...federation('b', { mode: 'async' }), participantsOnline: 0, minParticipants: 3 };
    assert.match(waitingText(async) ?? '', /\(0 of 3 online\): no version opens until 3/);
    assert.equal(waitingText({ ...waiting, waitingForParticipants: false }), null);
    const rows = Object.fromEntries(settingsRows({ ...async, minParticipants: 3 }));
    assert.equal(rows['Minimum participants'], '3');
  });
});
