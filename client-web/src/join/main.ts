/**
 * The join page, /join/<token>: shows the federation's task, lets the person choose their
 * private data (a demo shard, image files or a folder, a CSV file) and a model, then
 * trains in a Web Worker (worker.ts) and shows what happens: backend, per-epoch progress,
 * round or version, local accuracy, bytes up and down, peers. Data never leaves the tab;
 * only predictions on the public set are sent.
 *
 * A refresh resumes as the same participant: the worker keeps the resume token, the data
 * and the model in IndexedDB, and the page restarts it when the earlier visit was still
 * training. Leaving stops the session cleanly (Leave message, socket closed).
 *
 * For tests and curious people the live state is also on `window.mutuaJoin`.
 */
import { byId, formatBytes, formatPercent, h, setText } from '../shared/dom.ts';
import { sha256Sync } from '../shared/sha256.ts';
import type {
  ArchChoice,
  BackendReport,
  DataChoice,
  ErrorReport,
  StartCommand,
  TaskInfo,
  WorkerToPage,
} from './messages.ts';
import * as store from './store.ts';

interface JoinInfo {
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
  };
  demo: { available: boolean; dataset: string | null; maxSamples: number };
}

interface UploadRow {
  round: number;
  valAccuracy: number | null;
  trainAccuracy: number | null;
  trainLoss: number;
  staleness: number;
  trainMs: number;
}

/** Everything the page shows, also readable as window.mutuaJoin. */
const status = {
  phase: 'loading' as 'loading' | 'setup' | 'running' | 'left' | 'failed',
  federationId: '',
  mode: '',
  backend: '',
  backendReason: '',
  arch: '',
  participantId: '',
  resumed: false,
  state: '',
  round: 0,
  roundsCompleted: 0,
  bytesUp: 0,
  bytesDown: 0,
  peersOnline: 0,
  contributors: 0,
  valAccuracy: null as number | null,
  uploads: [] as UploadRow[],
  lastError: null as ErrorReport | null,
  wasm: typeof WebAssembly === 'object',
};
(window as unknown as { mutuaJoin: typeof status }).mutuaJoin = status;

const HINTS: Record<string, string> = {
  MUTUA_ERR_BAD_TOKEN:
    'This join link is not valid. Check that you copied it whole, or ask the operator for a new one.',
  BAD_TOKEN: 'This join link is not valid (any more). Ask the operator for a new one.',
  MUTUA_ERR_TOKEN_REVOKED: 'The operator revoked this join link. Ask for a new one.',
  TOKEN_REVOKED:
    'The operator revoked this join link or removed you from the federation. Ask for a new link.',
  MUTUA_ERR_TOKEN_EXPIRED: 'This join link has expired. Ask the operator for a new one.',
  MUTUA_ERR_NOT_FOUND: 'The federation of this join link no longer exists.',
  FEDERATION_NOT_FOUND: 'The federation no longer exists.',
  FEDERATION_PAUSED:
    'The operator paused the federation. This page keeps trying and carries on when it resumes.',
  FEDERATION_FULL: 'The federation is full right now. This page tries again later.',
  MODEL_MISMATCH: 'Your model does not fit this federation.',
  UNREACHABLE: 'Cannot reach the coordinator. Check your connection; this page keeps trying.',
  CONNECTION_LOST: 'The connection to the coordinator dropped; reconnecting.',
  HEARTBEAT_LOST: 'The coordinator stopped answering; reconnecting.',
  SHUTTING_DOWN: 'The coordinator is restarting; reconnecting.',
};

function tokenFromPath(): string {
  const m = /^\/join\/(.+)$/.exec(location.pathname);
  return m ? decodeURIComponent(m[1]!.replace(/\/+$/, '')) : '';
}

const token = tokenFromPath();
const origin = location.origin;
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`;
// One participant per coordinator and join link; the token itself is not the key.
const storageKey = `join:${location.host}:${sha256Sync(new TextEncoder().encode(token)).slice(0, 24)}`;

let info: JoinInfo | null = null;
let worker: Worker | null = null;

const app = byId('app');

function showAlert(kind: 'error' | 'warn' | 'info', text: string, id = 'alert'): void {
  let el = document.getElementById(id);
  if (!el) {
    el = h('div', { id, role: 'alert' });
    byId('alerts').append(el);
  }
  el.className = `alert ${kind}`;
  el.textContent = text;
}

function clearAlert(id = 'alert'): void {
  document.getElementById(id)?.remove();
}

function explain(e: { code: string; message: string }): string {
  const hint = HINTS[e.code];
  return hint ? `${hint} (${e.code}: ${e.message})` : `${e.message} (${e.code})`;
}

function stat(id: string, label: string, value = '–'): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value', id }, value),
  );
}

function layout(): void {
  app.replaceChildren(
    h(
      'main',
      {},
      h('h1', {}, 'Mutua · join a federation'),
      h('div', { id: 'alerts' }),
      h(
        'section',
        { class: 'card', id: 'task-card' },
        h('h2', {}, 'Federation'),
        h('div', { id: 'task' }, 'Loading…'),
      ),
      h('section', { class: 'card hidden', id: 'resume-card' }),
      h('section', { class: 'card hidden', id: 'setup-card' }),
      h('section', { class: 'card hidden', id: 'run-card' }),
    ),
  );
}

function renderTask(i: JoinInfo): void {
  const f = i.federation;
  const t = f.task;
  const labels = t.labelNames.length > 0 ? t.labelNames.join(', ') : `0–${t.numClasses - 1}`;
  byId('task').replaceChildren(
    h(
      'div',
      { class: 'grid' },
      stat('fed-name', 'Name', f.name),
      stat('fed-status', 'Status', f.status),
      stat('fed-mode', 'Rounds', f.mode === 'async' ? 'asynchronous' : 'synchronous'),
      stat('fed-strategy', 'Strategy', f.strategy === 'fedavg' ? 'FedAvg (weights)' : 'mutual distillation'),
      stat('fed-samples', 'Samples', `${t.inputShape.join('×')}`),
      stat('fed-classes', 'Classes', `${t.numClasses}`),
      stat('fed-online', 'Participants online', `${f.participantsOnline}`),
    ),
    h(
      'p',
      { class: 'muted' },
      `Classes: ${labels}. Your data stays in this tab: only predictions on a shared public set are sent.`,
    ),
  );
}

// ------------------------------------------------------------------ setup

function renderSetup(i: JoinInfo): void {
  const card = byId('setup-card');
  card.classList.remove('hidden');
  const t = i.federation.task;
  const images = t.inputShape.length === 3;
  const demo = i.demo.available;
  const fixedArch = i.federation.modelArch;
  card.replaceChildren(
    h('h2', {}, 'Your data'),
    h(
      'label',
      {},
      h('input', {
        type: 'radio',
        name: 'data',
        value: 'demo',
        id: 'data-demo',
        checked: demo,
        disabled: !demo,
      }),
      ` A demo shard from the coordinator (${i.demo.dataset ?? 'not offered for this task'}), `,
      h(
        'select',
        { id: 'demo-size' },
        ...[300, 600, 1200, 2400].map((n) => h('option', { value: n, selected: n === 600 }, `${n} samples`)),
      ),
    ),
    h(
      'label',
      {},
      h('input', {
        type: 'radio',
        name: 'data',
        value: 'images',
        id: 'data-images',
        disabled: !images,
        checked: !demo && images,
      }),
      ` Images (${t.inputShape[1] ?? '?'}×${t.inputShape[0] ?? '?'}${t.inputShape[2] === 1 ? ', grayscale' : ''}): a folder with one sub-folder per class `,
      h('input', { type: 'file', id: 'folder-input', webkitdirectory: true, multiple: true }),
      ' or files named like 3_a.png ',
      h('input', { type: 'file', id: 'files-input', multiple: true, accept: 'image/*' }),
    ),
    h(
      'label',
      {},
      h('input', { type: 'radio', name: 'data', value: 'csv', id: 'data-csv', checked: !demo && !images }),
      ' A CSV file (label, then the features of one sample per line) ',
      h('input', { type: 'file', id: 'csv-input', accept: '.csv,text/csv' }),
    ),
    h('h2', {}, 'Model'),
    h(
      'label',
      {},
      fixedArch
        ? h('span', {}, `This federation trains ${fixedArch} (FedAvg). `)
        : h(
            'select',
            { id: 'arch' },
            h('option', { value: 'auto' }, 'Pick one for this device'),
            h('option', { value: 'mlp' }, 'mlp (fastest)'),
            h('option', { value: 'cnn-small', disabled: !images }, 'cnn-small'),
            h('option', { value: 'cnn-fedavg', disabled: !images }, 'cnn-fedavg (largest)'),
          ),
    ),
    h(
      'label',
      {},
      'Name shown to the operator (optional) ',
      h('input', { type: 'text', id: 'name', maxlength: 60 }),
    ),
    h('div', { class: 'row' }, h('button', { id: 'join-button', onclick: onJoinClicked }, 'Join and train')),
  );
  // Choosing files selects their option.
  for (const [input, radio] of [
    ['folder-input', 'data-images'],
    ['files-input', 'data-images'],
    ['csv-input', 'data-csv'],
  ] as const) {
    byId(input).addEventListener('change', () => {
      (byId(radio) as HTMLInputElement).checked = true;
    });
  }
}

function chosenData(): DataChoice | string {
  const choice = (document.querySelector('input[name="data"]:checked') as HTMLInputElement | null)?.value;
  if (choice === 'demo')
    return { kind: 'demo', samples: Number((byId('demo-size') as HTMLSelectElement).value) };
  if (choice === 'images') {
    const files = [
      ...Array.from((byId('folder-input') as HTMLInputElement).files ?? []),
      ...Array.from((byId('files-input') as HTMLInputElement).files ?? []),
    ];
    return files.length > 0 ? { kind: 'images', files } : 'Choose a folder or image files first.';
  }
  if (choice === 'csv') {
    const file = (byId('csv-input') as HTMLInputElement).files?.[0];
    return file ? { kind: 'csv', file } : 'Choose a CSV file first.';
  }
  return 'Choose where your data comes from.';
}

function onJoinClicked(): void {
  const data = chosenData();
  if (typeof data === 'string') {
    showAlert('warn', data);
    return;
  }
  clearAlert();
  const arch = ((document.getElementById('arch') as HTMLSelectElement | null)?.value ?? 'auto') as ArchChoice;
  start(data, arch, (byId('name') as HTMLInputElement).value.trim());
}

async function renderResume(record: store.ParticipantRecord): Promise<void> {
  const card = byId('resume-card');
  card.classList.remove('hidden');
  card.replaceChildren(
    h('h2', {}, 'Welcome back'),
    h(
      'p',
      {},
      'You took part before as participant ',
      h('code', { id: 'resume-participant' }, record.participantId),
      ` (${record.rounds} rounds, ${record.arch}, ${record.dataSource}).`,
    ),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        { id: 'continue-button', onclick: () => start({ kind: 'stored' }, 'auto', '') },
        'Continue as this participant',
      ),
      h(
        'button',
        {
          class: 'secondary',
          id: 'forget-button',
          onclick: async () => {
            await store.forget(storageKey);
            card.classList.add('hidden');
            showAlert('info', 'Forgotten: this browser keeps nothing of that participation any more.');
          },
        },
        'Forget me',
      ),
    ),
  );
}

// ------------------------------------------------------------------ running

function renderRun(): void {
  byId('setup-card').classList.add('hidden');
  byId('resume-card').classList.add('hidden');
  const card = byId('run-card');
  card.classList.remove('hidden');
  card.replaceChildren(
    // Leave sits at the top, where it stays put while the rounds table below grows.
    h(
      'div',
      { class: 'row', style: 'justify-content: space-between' },
      h('h2', {}, 'Training'),
      h('button', { id: 'leave-button', class: 'secondary', onclick: leave }, 'Leave'),
    ),
    h('p', { id: 'backend-line', class: 'muted' }, 'Choosing a backend…'),
    h('p', { id: 'model-line', class: 'muted' }),
    h('p', { id: 'data-line', class: 'muted' }),
    h(
      'div',
      { class: 'grid' },
      stat('participant', 'Participant'),
      stat('session-state', 'State', 'starting'),
      stat('round', status.mode === 'async' ? 'Version' : 'Round'),
      stat('rounds-done', 'Contributions'),
      stat('val-accuracy', 'Local accuracy'),
      stat('train-accuracy', 'Training accuracy'),
      stat('loss', 'Loss'),
      stat('speed', 'Samples/s'),
      stat('bytes-up', 'Sent'),
      stat('bytes-down', 'Received'),
      stat('peers', 'Peers online'),
      stat('contributors', 'Peers in consensus'),
    ),
    h('p', {}, h('span', { id: 'epoch-line' }, 'Waiting for the first task…')),
    h('progress', { id: 'epoch-progress', max: 1, value: 0 }),
    h(
      'table',
      { id: 'rounds-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, status.mode === 'async' ? 'Version' : 'Round'),
          h('th', {}, 'Local accuracy'),
          h('th', {}, 'Training accuracy'),
          h('th', {}, 'Loss'),
          h('th', {}, 'Staleness'),
          h('th', {}, 'Time'),
        ),
      ),
      h('tbody', { id: 'rounds-body' }),
    ),
  );
}

function start(data: DataChoice, arch: ArchChoice, name: string): void {
  if (!info) return;
  status.phase = 'running';
  status.lastError = null;
  status.mode = info.federation.mode;
  renderRun();
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'mutua-trainer' });
  worker.onmessage = (e: MessageEvent<WorkerToPage>) => onWorkerMessage(e.data);
  worker.onerror = (e) => {
    status.phase = 'failed';
    showAlert('error', `The training worker failed: ${e.message}`);
  };
  const nav = navigator as Navigator & { deviceMemory?: number };
  const cmd: StartCommand = {
    type: 'start',
    wsUrl,
    origin,
    joinToken: token,
    storageKey,
    task: info.federation.task,
    requiredArch: info.federation.modelArch,
    arch,
    data,
    device: { cores: nav.hardwareConcurrency || 1, memoryGb: nav.deviceMemory ?? null },
    name,
  };
  worker.postMessage(cmd);
}

function describeBackend(b: BackendReport): string {
  if (b.name === 'webgl') return `Backend: WebGL on the GPU (${b.reason}).`;
  const why = b.reason ? ` Not WebGL: ${b.reason}.` : '';
  if (b.name === 'wasm') {
    const threads = b.threads ?? 1;
    return `Backend: WebAssembly (${b.simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads > 1 ? 's' : ''}).${why}`;
  }
  return `Backend: CPU (plain JavaScript, the slowest).${why}`;
}

function leave(): void {
  (byId('leave-button') as HTMLButtonElement).disabled = true;
  setText('session-state', 'leaving');
  worker?.postMessage({ type: 'stop', reason: 'the participant left from the browser' });
}

function onWorkerMessage(m: WorkerToPage): void {
  switch (m.type) {
    case 'backend':
      status.backend = m.backend.name;
      status.backendReason = m.backend.reason;
      setText('backend-line', describeBackend(m.backend));
      byId('backend-line').dataset.backend = m.backend.name;
      return;
    case 'data':
      setText(
        'data-line',
        `Data: ${m.data.source} — ${m.data.train} for training, ${m.data.validation} held out to measure local accuracy`,
      );
      return;
    case 'model':
      status.arch = m.arch;
      setText(
        'model-line',
        `Model: ${m.arch}, ${m.params.toLocaleString()} parameters (${m.reason})${m.restored ? ', weights restored from your last visit' : ''}`,
      );
      return;
    case 'state':
      status.state = m.state;
      setText('session-state', m.state);
      if (m.state === 'ready' || m.state === 'training') clearAlert('conn');
      return;
    case 'welcome':
      status.participantId = m.participantId;
      status.resumed = m.resumed;
      status.federationId = info?.federation.id ?? '';
      setText('participant', `${m.participantId.slice(0, 12)}${m.resumed ? ' (resumed)' : ''}`);
      byId('participant').title = m.participantId;
      byId('participant').dataset.participantId = m.participantId;
      setText('round', m.round);
      clearAlert('conn');
      return;
    case 'task':
      status.round = m.round;
      status.contributors = m.contributors;
      setText('round', m.round);
      setText('contributors', m.contributors || '–');
      setText('epoch-line', `${status.mode === 'async' ? 'Version' : 'Round'} ${m.round}: training…`);
      return;
    case 'progress': {
      const done = (m.epoch - 1 + m.batch / m.batches) / m.epochs;
      const bar = byId('epoch-progress') as HTMLProgressElement;
      bar.value = done;
      setText(
        'epoch-line',
        `${status.mode === 'async' ? 'Version' : 'Round'} ${m.round}: epoch ${m.epoch}/${m.epochs}, batch ${m.batch}/${m.batches}`,
      );
      setText('loss', m.loss.toFixed(3));
      if (m.samplesPerSecond > 0) setText('speed', Math.round(m.samplesPerSecond));
      return;
    }
    case 'uploaded': {
      status.roundsCompleted++;
      status.bytesUp = m.bytesUp;
      status.bytesDown = m.bytesDown;
      status.valAccuracy = m.valAccuracy;
      const row: UploadRow = {
        round: m.round,
        valAccuracy: m.valAccuracy,
        trainAccuracy: m.trainAccuracy,
        trainLoss: m.trainLoss,
        staleness: m.staleness,
        trainMs: m.trainMs,
      };
      status.uploads.push(row);
      setText('rounds-done', status.roundsCompleted);
      setText('val-accuracy', formatPercent(m.valAccuracy));
      setText('train-accuracy', formatPercent(m.trainAccuracy));
      setText('loss', m.trainLoss.toFixed(3));
      setText('bytes-up', formatBytes(m.bytesUp));
      setText('bytes-down', formatBytes(m.bytesDown));
      (byId('epoch-progress') as HTMLProgressElement).value = 1;
      setText(
        'epoch-line',
        `${status.mode === 'async' ? 'Version' : 'Round'} ${m.round}: sent, waiting for the next task`,
      );
      const rows = byId('rounds-body');
      // The newest 50 rounds; a long session should not grow the page without end.
      while (rows.children.length >= 50) rows.lastElementChild?.remove();
      rows.prepend(
        h(
          'tr',
          {},
          h('td', {}, m.round),
          h('td', {}, formatPercent(m.valAccuracy)),
          h('td', {}, formatPercent(m.trainAccuracy)),
          h('td', {}, m.trainLoss.toFixed(3)),
          h('td', {}, m.staleness),
          h('td', {}, `${(m.trainMs / 1000).toFixed(1)} s`),
        ),
      );
      return;
    }
    case 'round-closed':
      return;
    case 'error':
      // Non-fatal: a rejected upload, a repeated task. Shown, the session carries on.
      status.lastError = m.error;
      showAlert('warn', explain(m.error), 'notice');
      return;
    case 'reconnecting':
      status.lastError = m.error;
      setText('session-state', 'reconnecting');
      showAlert(
        m.error.code === 'FEDERATION_PAUSED' ? 'info' : 'warn',
        `${explain(m.error)} Next attempt in ${Math.round(m.delayMs / 1000)} s.`,
        'conn',
      );
      return;
    case 'closed':
      worker?.terminate();
      worker = null;
      if (m.error) {
        status.phase = 'failed';
        status.lastError = m.error;
        showAlert('error', explain(m.error));
        setText('session-state', 'stopped');
      } else {
        status.phase = 'left';
        setText('session-state', 'left');
        showAlert(
          'info',
          'You left the federation. Your model and data stay in this browser; you can continue later.',
        );
      }
      void offerRestart();
      return;
  }
}

async function offerRestart(): Promise<void> {
  const leaveButton = document.getElementById('leave-button') as HTMLButtonElement | null;
  if (leaveButton) leaveButton.disabled = true;
  if (!info) return;
  const record = await store.get<store.ParticipantRecord>('participants', storageKey).catch(() => undefined);
  if (record) await renderResume(record);
  renderSetup(info);
}

// ------------------------------------------------------------------ boot

async function fetchInfo(): Promise<JoinInfo | { code: string; message: string }> {
  try {
    const res = await fetch(`/v1/join/${encodeURIComponent(token)}/info`);
    const body = (await res.json()) as JoinInfo & { code?: string; message?: string };
    if (!res.ok) return { code: body.code ?? `HTTP_${res.status}`, message: body.message ?? res.statusText };
    return body;
  } catch (err) {
    return { code: 'UNREACHABLE', message: err instanceof Error ? err.message : String(err) };
  }
}

/** Keeps the task card's live numbers (status, participants online) fresh. */
function poll(): void {
  setInterval(async () => {
    const next = await fetchInfo();
    if (!('federation' in next)) {
      if (next.code !== 'UNREACHABLE') showAlert('error', explain(next), 'link');
      return;
    }
    info = next;
    clearAlert('link');
    setText('fed-status', next.federation.status);
    setText('fed-online', next.federation.participantsOnline);
    const me = status.phase === 'running' && status.state !== 'disconnected' ? 1 : 0;
    status.peersOnline = Math.max(0, next.federation.participantsOnline - me);
    setText('peers', status.phase === 'running' ? status.peersOnline : '–');
  }, 3000);
}

async function boot(): Promise<void> {
  layout();
  if (!token) {
    status.phase = 'failed';
    showAlert(
      'error',
      'This page needs a join link of the form /join/<token>. Ask the federation operator for one.',
    );
    return;
  }
  if (!status.wasm) {
    showAlert(
      'warn',
      'This browser has no WebAssembly (it may be disabled by a policy or an extension). Training falls back to the CPU backend, which is 10–50× slower: enable WebAssembly or use a current Chrome, Firefox, Edge or Safari.',
      'wasm',
    );
  }
  const got = await fetchInfo();
  if (!('federation' in got)) {
    status.phase = 'failed';
    status.lastError = { code: got.code, message: got.message, fatal: true, stage: 'session' };
    byId('task').textContent = 'Cannot join.';
    showAlert('error', explain(got));
    return;
  }
  info = got;
  renderTask(got);
  if (got.federation.status === 'paused') {
    showAlert(
      'info',
      'The operator paused this federation. You can join now: training starts when it resumes.',
      'paused',
    );
  }
  poll();
  const record = await store.get<store.ParticipantRecord>('participants', storageKey).catch(() => undefined);
  const kept = record
    ? await store.get<store.StoredDataset>('datasets', storageKey).catch(() => undefined)
    : undefined;
  if (record?.active && kept) {
    // The earlier visit was still training (a refresh, a crash): carry on as the same participant.
    start({ kind: 'stored' }, 'auto', '');
    return;
  }
  status.phase = 'setup';
  if (record && kept) await renderResume(record);
  renderSetup(got);
}

void boot();
