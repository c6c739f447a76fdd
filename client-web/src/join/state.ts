/**
 * The join page's state and its reducer: everything the page shows, changed only by
 * `reduceJoin(state, action)`, a pure function (no DOM, no timers, no worker), so it is
 * tested under node. The controller (controller.ts) turns worker messages, fetches and
 * clicks into actions; the view (view.ts) draws the state. The state is also readable
 * as `window.mutuaJoin` (the browser tests poll it).
 */
import type { BackendReport, DataReport, ErrorReport, TaskInfo, WorkerToPage } from './messages.ts';
import type { ParticipantRecord } from './store.ts';
import { explain, FORGOTTEN, LEFT, NO_TOKEN, NO_WASM, PAUSED_BEFORE_JOIN } from './words.ts';

/** GET /v1/join/{token}/info (server/src/routes/join.ts). */
export interface JoinInfo {
  federation: {
    id: string;
    name: string;
    status: 'active' | 'paused';
    strategy: string;
    mode: 'sync' | 'async';
    task: TaskInfo;
    modelArch: string;
    localEpochs: number;
    currentRound: number;
    consensusVersion: number;
    participantsOnline: number;
    /** Participants needed before rounds or versions open. */
    minParticipants: number;
    /** Active, but fewer than minParticipants connected: nothing opens until others join. */
    waitingForParticipants: boolean;
  };
  demo: { available: boolean; dataset: string | null; maxSamples: number };
}

export interface UploadRow {
  round: number;
  valAccuracy: number | null;
  trainAccuracy: number | null;
  trainLoss: number;
  staleness: number;
  trainMs: number;
  /** The upload's frame and the prediction rows it carried (fewer with delta payloads). */
  uploadBytes?: number;
  uploadRows?: number | null;
}

/** What the training is doing, shown above the progress bar. */
export type Activity =
  | { kind: 'waiting' }
  | { kind: 'training'; round: number }
  | { kind: 'epoch'; round: number; epoch: number; epochs: number; batch: number; batches: number }
  | { kind: 'sent'; round: number }
  | { kind: 'left' }
  | { kind: 'stopped' };

export interface Alert {
  /** One alert per id: a newer one with the same id replaces it in place. */
  id: string;
  kind: 'error' | 'warn' | 'info';
  text: string;
}

export type Phase = 'loading' | 'setup' | 'running' | 'left' | 'failed';

export interface JoinState {
  phase: Phase;
  /** The browser has WebAssembly (else training falls back to the CPU backend). */
  wasm: boolean;
  info: JoinInfo | null;
  federationId: string;
  mode: string;
  /** 0 before the first start; +1 at each start (the view rebuilds the training card). */
  run: number;
  leaving: boolean;
  backend: string;
  backendReason: string;
  backendReport: BackendReport | null;
  model: { arch: string; params: number; reason: string; restored: boolean } | null;
  data: DataReport | null;
  arch: string;
  participantId: string;
  resumed: boolean;
  /** Prediction payloads as negotiated, e.g. "soft2 + deflate-raw + delta" ('' before the Welcome). */
  payload: string;
  /** The session's state, as the worker reports it (connecting, ready, training, …). */
  state: string;
  round: number;
  /** Uploads acknowledged since this run started. */
  roundsCompleted: number;
  bytesUp: number;
  bytesDown: number;
  peersOnline: number;
  contributors: number;
  valAccuracy: number | null;
  trainAccuracy: number | null;
  loss: number | null;
  samplesPerSecond: number | null;
  activity: Activity;
  /** Of the current task, 0..1. */
  progress: number;
  /** The newest uploads, oldest first (at most MAX_UPLOADS). */
  uploads: UploadRow[];
  lastError: ErrorReport | null;
  /** The setup card (data and model choice) is shown. */
  setupOpen: boolean;
  /** An earlier participation this browser can continue, offered on the resume card. */
  resume: ParticipantRecord | null;
  alerts: Alert[];
}

export type JoinAction =
  | { type: 'info'; info: JoinInfo }
  | { type: 'info-failed'; error: { code: string; message: string } }
  | { type: 'offer-setup'; resume: ParticipantRecord | null }
  | { type: 'setup-invalid'; message: string }
  | { type: 'forgotten' }
  | { type: 'start' }
  | { type: 'leave' }
  | { type: 'worker-failed'; message: string }
  | { type: 'worker'; message: WorkerToPage };

/** A rate over less time than this is noise (the first batch of an epoch): keep the last one. */
export const MIN_RATE_SECONDS = 0.5;
/** Uploads kept in the state; the page's table shows the newest 50. */
export const MAX_UPLOADS = 200;

const RUN_RESET = {
  leaving: false,
  backend: '',
  backendReason: '',
  backendReport: null,
  model: null,
  data: null,
  arch: '',
  participantId: '',
  resumed: false,
  payload: '',
  state: 'starting',
  round: 0,
  roundsCompleted: 0,
  bytesUp: 0,
  bytesDown: 0,
  contributors: 0,
  valAccuracy: null,
  trainAccuracy: null,
  loss: null,
  samplesPerSecond: null,
  activity: { kind: 'waiting' },
  progress: 0,
  uploads: [],
  lastError: null,
} satisfies Partial<JoinState>;

export function initialJoinState(opts: { token: string; wasm: boolean }): JoinState {
  let alerts: Alert[] = [];
  if (!opts.token) alerts = withAlert(alerts, 'alert', 'error', NO_TOKEN);
  if (!opts.wasm) alerts = withAlert(alerts, 'wasm', 'warn', NO_WASM);
  return {
    ...RUN_RESET,
    state: '',
    phase: opts.token ? 'loading' : 'failed',
    wasm: opts.wasm,
    info: null,
    federationId: '',
    mode: '',
    run: 0,
    peersOnline: 0,
    setupOpen: false,
    resume: null,
    alerts,
  };
}

export function withAlert(alerts: Alert[], id: string, kind: Alert['kind'], text: string): Alert[] {
  const next = { id, kind, text };
  const at = alerts.findIndex((a) => a.id === id);
  return at < 0 ? [...alerts, next] : alerts.map((a, i) => (i === at ? next : a));
}

export function withoutAlert(alerts: Alert[], ...ids: string[]): Alert[] {
  return alerts.some((a) => ids.includes(a.id)) ? alerts.filter((a) => !ids.includes(a.id)) : alerts;
}

export function reduceJoin(s: JoinState, a: JoinAction): JoinState {
  switch (a.type) {
    case 'info':
      if (s.phase === 'loading' && !s.info) {
        const paused = a.info.federation.status === 'paused';
        return {
          ...s,
          info: a.info,
          mode: a.info.federation.mode,
          alerts: paused ? withAlert(s.alerts, 'paused', 'info', PAUSED_BEFORE_JOIN) : s.alerts,
        };
      }
      return {
        ...s,
        info: a.info,
        // Everyone online but this tab, while its session is connected.
        peersOnline: Math.max(
          0,
          a.info.federation.participantsOnline -
            (s.phase === 'running' && s.state !== 'disconnected' ? 1 : 0),
        ),
        alerts: withoutAlert(s.alerts, 'link'),
      };
    case 'info-failed':
      if (s.phase === 'loading' && !s.info) {
        return {
          ...s,
          phase: 'failed',
          lastError: { ...a.error, fatal: true, stage: 'session' },
          alerts: withAlert(s.alerts, 'alert', 'error', explain(a.error)),
        };
      }
      // Later polls: a link revoked meanwhile is worth saying; a dropped network is not news.
      return a.error.code === 'UNREACHABLE'
        ? s
        : { ...s, alerts: withAlert(s.alerts, 'link', 'error', explain(a.error)) };
    case 'offer-setup':
      return {
        ...s,
        phase: s.phase === 'loading' ? 'setup' : s.phase,
        setupOpen: true,
        resume: a.resume,
      };
    case 'setup-invalid':
      return { ...s, alerts: withAlert(s.alerts, 'alert', 'warn', a.message) };
    case 'forgotten':
      return { ...s, resume: null, alerts: withAlert(s.alerts, 'alert', 'info', FORGOTTEN) };
    case 'start':
      if (!s.info || s.phase === 'running') return s;
      return {
        ...s,
        ...RUN_RESET,
        phase: 'running',
        mode: s.info.federation.mode,
        run: s.run + 1,
        setupOpen: false,
        resume: null,
        // The previous run's outcome is not this one's.
        alerts: withoutAlert(s.alerts, 'alert', 'notice', 'conn'),
      };
    case 'leave':
      return s.phase === 'running' ? { ...s, leaving: true, state: 'leaving' } : s;
    case 'worker-failed':
      return {
        ...s,
        phase: 'failed',
        alerts: withAlert(s.alerts, 'alert', 'error', `The training worker failed: ${a.message}`),
      };
    case 'worker':
      return s.phase === 'running' || a.message.type === 'closed' ? onWorker(s, a.message) : s;
  }
}

function onWorker(s: JoinState, m: WorkerToPage): JoinState {
  switch (m.type) {
    case 'backend':
      return { ...s, backend: m.backend.name, backendReason: m.backend.reason, backendReport: m.backend };
    case 'data':
      return { ...s, data: m.data };
    case 'model':
      return {
        ...s,
        arch: m.arch,
        model: { arch: m.arch, params: m.params, reason: m.reason, restored: m.restored },
      };
    case 'state': {
      const connected = m.state === 'ready' || m.state === 'training';
      // Leaving stays "leaving" until the worker says the session closed.
      return {
        ...s,
        state: s.leaving ? s.state : m.state,
        alerts: connected ? withoutAlert(s.alerts, 'conn') : s.alerts,
      };
    }
    case 'welcome':
      return {
        ...s,
        participantId: m.participantId,
        resumed: m.resumed,
        payload: m.payload,
        federationId: s.info?.federation.id ?? '',
        round: m.round,
        alerts: withoutAlert(s.alerts, 'conn'),
      };
    case 'task':
      return {
        ...s,
        round: m.round,
        contributors: m.contributors,
        activity: { kind: 'training', round: m.round },
        progress: 0,
      };
    case 'progress': {
      const { round, epoch, epochs, batch, batches } = m;
      const done = epochs > 0 && batches > 0 ? (epoch - 1 + batch / batches) / epochs : 0;
      return {
        ...s,
        activity: { kind: 'epoch', round, epoch, epochs, batch, batches },
        progress: Math.min(1, Math.max(0, done)),
        loss: m.loss,
        samplesPerSecond: m.seconds >= MIN_RATE_SECONDS ? m.samples / m.seconds : s.samplesPerSecond,
      };
    }
    case 'uploaded': {
      const row: UploadRow = {
        round: m.round,
        valAccuracy: m.valAccuracy,
        trainAccuracy: m.trainAccuracy,
        trainLoss: m.trainLoss,
        staleness: m.staleness,
        trainMs: m.trainMs,
        uploadBytes: m.uploadBytes,
        uploadRows: m.uploadRows,
      };
      return {
        ...s,
        roundsCompleted: s.roundsCompleted + 1,
        bytesUp: m.bytesUp,
        bytesDown: m.bytesDown,
        valAccuracy: m.valAccuracy,
        trainAccuracy: m.trainAccuracy,
        loss: m.trainLoss,
        progress: 1,
        activity: { kind: 'sent', round: m.round },
        uploads: [...s.uploads.slice(-(MAX_UPLOADS - 1)), row],
      };
    }
    case 'round-closed':
      return s;
    case 'error':
      // Not fatal: a rejected upload, a repeated task. Shown; the session carries on.
      return { ...s, lastError: m.error, alerts: withAlert(s.alerts, 'notice', 'warn', explain(m.error)) };
    case 'reconnecting':
      return {
        ...s,
        lastError: m.error,
        state: 'reconnecting',
        alerts: withAlert(
          s.alerts,
          'conn',
          m.error.code === 'FEDERATION_PAUSED' ? 'info' : 'warn',
          `${explain(m.error)} Next attempt in ${Math.round(m.delayMs / 1000)} s.`,
        ),
      };
    case 'closed': {
      // The session is over: no "next attempt" any more, and the setup is offered again.
      const alerts = withoutAlert(s.alerts, 'conn');
      // Live numbers of a session that ended are not current: no progress bar, no rate.
      const ended = { ...s, leaving: false, setupOpen: true, progress: 0, samplesPerSecond: null };
      if (m.error) {
        return {
          ...ended,
          phase: 'failed',
          lastError: m.error,
          state: 'stopped',
          activity: { kind: 'stopped' },
          alerts: withAlert(alerts, 'alert', 'error', explain(m.error)),
        };
      }
      return {
        ...ended,
        phase: 'left',
        state: 'left',
        activity: { kind: 'left' },
        alerts: withAlert(alerts, 'alert', 'info', LEFT),
      };
    }
  }
}

/**
 * The training card is shown once a run started, except after a run that failed before
 * the coordinator ever welcomed it (bad data, no model): then only the error and the
 * setup are relevant, not an empty "waiting for the first task" panel.
 */
export function showsRunCard(s: JoinState): boolean {
  return s.run > 0 && !(s.phase === 'failed' && s.participantId === '');
}
