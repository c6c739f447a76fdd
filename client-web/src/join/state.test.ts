/** The join page's reducer, under node: no DOM, no worker, no coordinator. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorkerToPage } from './messages.ts';
import { CHART_HEIGHT, chartGeometry } from './progress-chart.ts';
import { dataChoice, type SetupForm } from './setup-form.ts';
import {
  initialJoinState,
  type JoinAction,
  type JoinInfo,
  type JoinState,
  MAX_UPLOADS,
  reduceJoin,
  showsRunCard,
} from './state.ts';
import type { ParticipantRecord } from './store.ts';
import { activityText, explain, participantText, waitingForOthers } from './words.ts';

function info(over: Partial<JoinInfo['federation']> = {}): JoinInfo {
  return {
    federation: {
      id: 'fed-1',
      name: 'demo',
      status: 'active',
      strategy: 'mutual',
      mode: 'sync',
      task: { inputShape: [28, 28, 1], numClasses: 10, labelNames: [] },
      modelArch: '',
      localEpochs: 1,
      currentRound: 0,
      consensusVersion: 0,
      participantsOnline: 2,
      minParticipants: 2,
      waitingForParticipants: false,
      ...over,
    },
    demo: { available: true, dataset: 'mnist', maxSamples: 5000 },
  };
}

const record: ParticipantRecord = {
  participantId: 'p-123',
  federationId: 'fed-1',
  arch: 'cnn-small',
  active: false,
  dataSource: 'demo shard',
  rounds: 4,
  updatedAt: 0,
};

function run(s: JoinState, ...actions: JoinAction[]): JoinState {
  return actions.reduce(reduceJoin, s);
}

const w = (message: WorkerToPage): JoinAction => ({ type: 'worker', message });
const alertIds = (s: JoinState) => s.alerts.map((a) => `${a.id}:${a.kind}`);

/** A page that loaded, offered the setup, and started a run. */
function running(over: Partial<JoinInfo['federation']> = {}): JoinState {
  return run(
    initialJoinState({ token: 't', wasm: true }),
    { type: 'info', info: info(over) },
    { type: 'offer-setup', resume: null },
    { type: 'start' },
  );
}

const progress = (seconds: number, samples: number, batch = 1, round = 1): WorkerToPage => ({
  type: 'progress',
  round,
  epoch: 1,
  epochs: 2,
  batch,
  batches: 10,
  loss: 0.5,
  samples,
  seconds,
});

const uploaded = (round: number): WorkerToPage => ({
  type: 'uploaded',
  round,
  staleness: 0,
  weight: 1,
  duplicate: false,
  bytesUp: 100 * round,
  bytesDown: 200 * round,
  uploadBytes: 90,
  uploadRows: round === 5 ? 64 : 12,
  trainLoss: 0.25,
  trainAccuracy: 0.8,
  valAccuracy: 0.7,
  trainMs: 1500,
  samples: 540,
});

describe('join page: loading', () => {
  test('without a token the page fails at once; without WebAssembly it warns', () => {
    const s = initialJoinState({ token: '', wasm: false });
    assert.equal(s.phase, 'failed');
    assert.deepEqual(alertIds(s), ['alert:error', 'wasm:warn']);
    assert.match(s.alerts[0]!.text, /needs a join link/);
    assert.match(s.alerts[1]!.text, /no WebAssembly.*CPU backend/);
  });

  test('info, then the setup; a paused federation says so before anyone joins', () => {
    let s = initialJoinState({ token: 't', wasm: true });
    assert.equal(s.phase, 'loading');
    s = reduceJoin(s, { type: 'info', info: info({ status: 'paused', mode: 'async' }) });
    assert.equal(s.mode, 'async');
    assert.deepEqual(alertIds(s), ['paused:info']);
    s = reduceJoin(s, { type: 'offer-setup', resume: record });
    assert.equal(s.phase, 'setup');
    assert.equal(s.setupOpen, true);
    assert.equal(s.resume, record);
    assert.equal(showsRunCard(s), false);
  });

  test('a refused link fails the page with the coded error and a hint', () => {
    const s = reduceJoin(initialJoinState({ token: 't', wasm: true }), {
      type: 'info-failed',
      error: { code: 'MUTUA_ERR_BAD_TOKEN', message: 'unknown token' },
    });
    assert.equal(s.phase, 'failed');
    assert.equal(s.lastError?.code, 'MUTUA_ERR_BAD_TOKEN');
    assert.equal(s.lastError?.fatal, true);
    assert.match(s.alerts[0]!.text, /join link is not valid.*MUTUA_ERR_BAD_TOKEN: unknown token/);
  });

  test('later polls: a dropped network is not news, a revoked link is, and it clears when fixed', () => {
    let s = running();
    const before = s;
    s = reduceJoin(s, { type: 'info-failed', error: { code: 'UNREACHABLE', message: 'offline' } });
    assert.equal(s, before, 'unchanged state: nothing to redraw');
    s = reduceJoin(s, {
      type: 'info-failed',
      error: { code: 'MUTUA_ERR_TOKEN_REVOKED', message: 'revoked' },
    });
    assert.deepEqual(alertIds(s), ['link:error']);
    assert.equal(s.phase, 'running', 'the session decides whether the run is over');
    s = reduceJoin(s, { type: 'info', info: info({ participantsOnline: 3 }) });
    assert.deepEqual(alertIds(s), []);
    assert.equal(s.peersOnline, 2, 'everyone online but this tab');
  });
});

describe('join page: a run', () => {
  test('start resets the previous run and hides the setup', () => {
    let s = run(running(), w(uploaded(1)), w({ type: 'closed' }));
    assert.equal(s.roundsCompleted, 1);
    s = reduceJoin(s, { type: 'start' });
    assert.equal(s.phase, 'running');
    assert.equal(s.run, 2);
    assert.equal(s.roundsCompleted, 0);
    assert.deepEqual(s.uploads, []);
    assert.equal(s.setupOpen, false);
    assert.deepEqual(alertIds(s), [], "the previous run's outcome is gone");
    assert.equal(reduceJoin(s, { type: 'start' }), s, 'a second start while running is ignored');
  });

  test('welcome, task, progress and uploads fill the tiles and the table', () => {
    let s = run(
      running({ mode: 'async' }),
      w({ type: 'backend', backend: { name: 'wasm', reason: 'no GPU', threads: 2, simd: true } }),
      w({ type: 'model', arch: 'cnn-small', params: 1234, reason: 'auto', restored: true }),
      w({
        type: 'welcome',
        participantId: 'abcdefghijklmnop',
        resumed: true,
        round: 4,
        mode: 'async',
        payload: 'soft2 + deflate-raw + delta',
      }),
      w({ type: 'task', round: 5, localEpochs: 2, targetsVersion: 4, contributors: 2 }),
    );
    assert.equal(s.backend, 'wasm');
    assert.equal(s.arch, 'cnn-small');
    assert.equal(s.federationId, 'fed-1');
    assert.equal(participantText(s), 'abcdefghijkl (resumed)');
    assert.equal(activityText(s.activity, s.mode), 'Version 5: training…');
    s = reduceJoin(s, w(progress(1, 160, 5, 5)));
    assert.equal(s.progress, 0.25);
    assert.equal(activityText(s.activity, s.mode), 'Version 5: epoch 1/2, batch 5/10');
    s = run(s, w(uploaded(5)), w(uploaded(6)));
    assert.equal(s.roundsCompleted, 2);
    assert.equal(s.bytesUp, 600);
    assert.equal(s.progress, 1);
    assert.equal(activityText(s.activity, s.mode), 'Version 6: sent, waiting for the next task');
    assert.deepEqual(
      s.uploads.map((u) => u.round),
      [5, 6],
    );
    assert.equal(s.payload, 'soft2 + deflate-raw + delta');
    assert.deepEqual(
      s.uploads.map((u) => u.uploadRows),
      [64, 12],
    );
  });

  test('uploads kept in the state are capped; the count is not', () => {
    let s = running();
    for (let r = 1; r <= MAX_UPLOADS + 5; r++) s = reduceJoin(s, w(uploaded(r)));
    assert.equal(s.uploads.length, MAX_UPLOADS);
    assert.equal(s.uploads[0]!.round, 6);
    assert.equal(s.roundsCompleted, MAX_UPLOADS + 5);
  });

  test('samples/s ignores rates over a near-zero interval (the tile once read 6,400,000)', () => {
    let s = reduceJoin(running(), w(progress(0.00001, 64)));
    assert.equal(s.samplesPerSecond, null, 'no rate yet rather than 64 samples / 10 µs');
    s = reduceJoin(s, w(progress(2, 640, 10)));
    assert.equal(s.samplesPerSecond, 320);
    s = reduceJoin(s, w(progress(0.01, 32)));
    assert.equal(s.samplesPerSecond, 320, 'the first batch of the next epoch keeps the last rate');
  });

  test('reconnecting says when it tries again, and the alert goes once connected', () => {
    let s = reduceJoin(
      running(),
      w({
        type: 'reconnecting',
        attempt: 1,
        delayMs: 2600,
        error: { code: 'FEDERATION_PAUSED', message: 'paused', fatal: false, stage: 'session' },
      }),
    );
    assert.equal(s.state, 'reconnecting');
    assert.equal(s.lastError?.code, 'FEDERATION_PAUSED');
    assert.deepEqual(alertIds(s), ['conn:info']);
    assert.match(s.alerts[0]!.text, /operator paused the federation.*Next attempt in 3 s/);
    s = reduceJoin(s, w({ type: 'state', state: 'ready' }));
    assert.deepEqual(alertIds(s), []);
    s = reduceJoin(
      s,
      w({ type: 'error', error: { code: 'STALE_ROUND', message: 'late', fatal: false, stage: 'session' } }),
    );
    assert.deepEqual(alertIds(s), ['notice:warn']);
    assert.equal(s.phase, 'running', 'a non-fatal error does not end the run');
  });

  test('leave: "leaving" until the session closes; then nothing says it still trains', () => {
    let s = run(
      running(),
      w({ type: 'welcome', participantId: 'p', resumed: false, round: 1, mode: 'sync', payload: 'uint8' }),
    );
    s = run(s, w({ type: 'task', round: 2, localEpochs: 1, targetsVersion: null, contributors: 0 }));
    s = run(s, w(progress(1, 64, 3)));
    s = run(s, { type: 'leave' }, w({ type: 'state', state: 'training' }));
    assert.equal(s.state, 'leaving');
    assert.equal(s.leaving, true);
    s = run(
      s,
      w({
        type: 'reconnecting',
        attempt: 1,
        delayMs: 1000,
        error: { code: 'CONNECTION_LOST', message: 'x', fatal: false, stage: 'session' },
      }),
      w({ type: 'closed' }),
    );
    assert.equal(s.phase, 'left');
    assert.equal(s.state, 'left');
    assert.equal(activityText(s.activity, s.mode), 'Not training: you left the federation.');
    assert.deepEqual(alertIds(s), ['alert:info'], 'no stale "next attempt" alert after leaving');
    assert.equal(s.setupOpen, true);
    assert.equal(showsRunCard(s), true, 'the finished run stays readable');
    // The last batch's progress and rate are not shown as if it still trained.
    assert.equal(s.progress, 0);
    assert.equal(s.samplesPerSecond, null);
  });

  test('data that does not fit: the error, the setup again, no stale "waiting for the first task" card', () => {
    const s = run(
      running(),
      w({
        type: 'closed',
        error: { code: 'DATA_SHAPE', message: 'narrow.csv does not fit', fatal: true, stage: 'data' },
      }),
    );
    assert.equal(s.phase, 'failed');
    assert.equal(s.lastError?.code, 'DATA_SHAPE');
    assert.match(s.alerts.find((a) => a.id === 'alert')!.text, /narrow\.csv does not fit \(DATA_SHAPE\)/);
    assert.equal(s.setupOpen, true);
    assert.equal(showsRunCard(s), false);
    // The person picks another file and tries again: a fresh run.
    const again = reduceJoin(s, { type: 'start' });
    assert.equal(again.phase, 'running');
    assert.equal(again.lastError, null);
    assert.equal(showsRunCard(again), true);
  });

  test('worker messages after the run ended are ignored, except its close', () => {
    const s = run(running(), { type: 'worker-failed', message: 'boom' });
    assert.equal(s.phase, 'failed');
    assert.match(s.alerts[0]!.text, /training worker failed: boom/);
    assert.equal(reduceJoin(s, w(uploaded(1))), s);
    assert.equal(reduceJoin(s, w({ type: 'closed' })).phase, 'left');
  });

  test('forgetting an earlier participation removes the offer and says so', () => {
    let s = run(initialJoinState({ token: 't', wasm: true }), { type: 'info', info: info() });
    s = run(s, { type: 'offer-setup', resume: record }, { type: 'forgotten' });
    assert.equal(s.resume, null);
    assert.match(s.alerts[0]!.text, /Forgotten/);
  });
});

describe('join page: words and the setup form', () => {
  test('explain uses the hint for known codes and the message for others', () => {
    assert.match(
      explain({ code: 'FEDERATION_FULL', message: 'm' }),
      /^The federation is full.*\(FEDERATION_FULL: m\)$/,
    );
    assert.equal(explain({ code: 'WHATEVER', message: 'it broke' }), 'it broke (WHATEVER)');
  });

  test('the form says what is missing before anything starts', () => {
    const form: SetupForm = {
      choice: 'csv',
      demoSamples: 600,
      imageFiles: [],
      csvFile: null,
      arch: 'auto',
      name: '',
    };
    assert.equal(dataChoice(form), 'Choose a CSV file first.');
    assert.equal(dataChoice({ ...form, choice: 'images' }), 'Choose a folder or image files first.');
    assert.equal(dataChoice({ ...form, choice: '' }), 'Choose where your data comes from.');
    assert.deepEqual(dataChoice({ ...form, choice: 'demo' }), { kind: 'demo', samples: 600 });
    const file = new File(['1,0\n'], 'a.csv');
    assert.deepEqual(dataChoice({ ...form, csvFile: file }), { kind: 'csv', file });
    const s = reduceJoin(running(), { type: 'setup-invalid', message: 'Choose a CSV file first.' });
    assert.deepEqual(alertIds(s), ['alert:warn']);
  });
});

describe('join page: waiting for others, and its own progress', () => {
  test('a federation below its minimum says so, in the activity line too, until enough are in', () => {
    const alone = info({ participantsOnline: 1, minParticipants: 2, waitingForParticipants: true });
    assert.equal(
      waitingForOthers(alone),
      'Waiting for others: 1 of 2 participants connected. Training starts when 2 are (rounds need more than one participant).',
    );
    const asyncAlone = info({
      mode: 'async',
      participantsOnline: 0,
      minParticipants: 3,
      waitingForParticipants: true,
    });
    assert.match(waitingForOthers(asyncAlone) ?? '', /0 of 3 .*versions need/);
    assert.equal(waitingForOthers(info()), null);
    assert.equal(waitingForOthers(null), null);
    const text = waitingForOthers(alone);
    assert.equal(activityText({ kind: 'waiting' }, 'sync', text), text);
    assert.equal(activityText({ kind: 'sent', round: 3 }, 'sync', text), text);
    // Training in progress (a round opened before someone left) is still said as such.
    assert.equal(activityText({ kind: 'training', round: 4 }, 'sync', text), 'Round 4: training…');
    assert.equal(activityText({ kind: 'waiting' }, 'sync', null), 'Waiting for the first task…');
    // The reducer keeps the polled info: the flag clears when the second participant joins.
    let s = running({ participantsOnline: 1, waitingForParticipants: true });
    assert.ok(waitingForOthers(s.info));
    s = reduceJoin(s, { type: 'info', info: info({ participantsOnline: 2 }) });
    assert.equal(waitingForOthers(s.info), null);
  });

  test('the progress chart: a point per contribution, x by round, y by accuracy', () => {
    const row = (round: number, valAccuracy: number | null, trainAccuracy: number | null) => ({
      round,
      valAccuracy,
      trainAccuracy,
      trainLoss: 0.3,
      staleness: 0,
      trainMs: 100,
    });
    assert.deepEqual(chartGeometry([]), { local: '', training: '', from: 0, to: 0 });
    const g = chartGeometry([row(2, 0, 0.5), row(4, 1, null), row(6, 0.5, 1)]);
    assert.equal(g.from, 2);
    assert.equal(g.to, 6);
    const pts = (line: string) => line.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    const local = pts(g.local);
    assert.equal(local.length, 3);
    // Evenly spaced rounds are evenly spaced on x; 100% is above 50%, which is above 0%.
    assert.ok(Math.abs(local[1]![0] - local[0]![0] - (local[2]![0] - local[1]![0])) < 0.2);
    assert.ok(local[1]![1] < local[2]![1] && local[2]![1] < local[0]![1]);
    assert.ok(local.every(([, y]) => y >= 0 && y <= CHART_HEIGHT));
    // A missing value leaves its point out rather than drawing it at 0%.
    assert.equal(pts(g.training).length, 2);
    // One round only: the point sits in the middle, not at NaN.
    assert.doesNotMatch(chartGeometry([row(1, 0.5, 0.5)]).local, /NaN/);
  });
});
