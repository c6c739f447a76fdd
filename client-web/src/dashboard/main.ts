/**
 * The coordinator dashboard, at `/`: asks for the admin token (kept in sessionStorage),
 * then lists the federations with their settings, and for the selected one shows who is
 * online (kind, architecture, last seen, traffic), a live timeline of rounds or consensus
 * versions, and chart.js charts of the participants' reported accuracy and of the bytes
 * transferred. It polls the REST API every 1.5 s (incrementally where the API allows) and
 * can create join links, pause and resume, and create a federation.
 *
 * For tests the live state is also on `window.mutuaDashboard`.
 */
import { byId, formatAgo, formatBytes, formatPercent, h, setText } from '../shared/dom.ts';
import {
  ApiError,
  adminToken,
  api,
  type Federation,
  type MetricRow,
  type Participant,
  type Round,
} from './api.ts';
import { AccuracyChart, TrafficChart } from './charts.ts';

const POLL_MS = 1500;

const state = {
  federationId: '',
  federations: [] as Federation[],
  participants: [] as Participant[],
  rounds: [] as Round[],
  accuracyPoints: 0,
  trafficPoints: 0,
  polls: 0,
  lastError: '',
  joinUrl: '',
};
(window as unknown as { mutuaDashboard: typeof state }).mutuaDashboard = state;

let accuracy: AccuracyChart | null = null;
let traffic: TrafficChart | null = null;
let metricsFrom = 0;
let pollTimer: ReturnType<typeof setTimeout> | null = null;

const app = byId('app');

function alertBox(kind: 'error' | 'info' | 'warn', text: string): void {
  const box = byId('alerts');
  box.replaceChildren(h('div', { class: `alert ${kind}`, role: 'alert' }, text));
}

function clearAlerts(): void {
  document.getElementById('alerts')?.replaceChildren();
}

// ------------------------------------------------------------------ sign-in

function renderSignIn(message?: string): void {
  stopPolling();
  app.replaceChildren(
    h(
      'main',
      {},
      h('h1', {}, 'Mutua · coordinator dashboard'),
      h('div', { id: 'alerts' }),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Admin token'),
        h(
          'p',
          { class: 'muted' },
          'The token the coordinator was started with (MUTUA_ADMIN_TOKEN). It is kept in this tab only (sessionStorage).',
        ),
        h(
          'form',
          { id: 'token-form', class: 'row', onsubmit: onSignIn },
          h('input', {
            type: 'password',
            id: 'token-input',
            autocomplete: 'off',
            size: 40,
            placeholder: 'admin token',
          }),
          h('button', { type: 'submit', id: 'token-submit' }, 'Open dashboard'),
        ),
      ),
    ),
  );
  if (message) alertBox('error', message);
  (byId('token-input') as HTMLInputElement).focus();
}

async function onSignIn(e: Event): Promise<void> {
  e.preventDefault();
  const token = (byId('token-input') as HTMLInputElement).value.trim();
  if (!token) return;
  adminToken.set(token);
  await openDashboard();
}

async function openDashboard(): Promise<void> {
  try {
    state.federations = await api.federations();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      adminToken.clear();
      renderSignIn(`The coordinator refused that admin token (${err.message}).`);
      return;
    }
    renderSignIn(err instanceof Error ? err.message : String(err));
    return;
  }
  renderShell();
  const wanted = new URLSearchParams(location.hash.slice(1)).get('federation');
  const first = state.federations.find((f) => f.id === wanted) ?? state.federations[0];
  if (first) selectFederation(first.id);
  else renderFederations();
  startPolling();
}

// ------------------------------------------------------------------ layout

function renderShell(): void {
  app.replaceChildren(
    h(
      'main',
      {},
      h(
        'div',
        { class: 'row', style: 'justify-content: space-between' },
        h('h1', {}, 'Mutua · coordinator dashboard'),
        h(
          'button',
          {
            class: 'secondary',
            id: 'sign-out',
            onclick: () => {
              adminToken.clear();
              renderSignIn();
            },
          },
          'Sign out',
        ),
      ),
      h('div', { id: 'alerts' }),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Federations'),
        h(
          'table',
          { id: 'federations' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Name', 'Status', 'Strategy', 'Mode', 'Round / version', 'Online', 'Public set'].map((t) =>
                h('th', {}, t),
              ),
            ),
          ),
          h('tbody', { id: 'federations-body' }),
        ),
        h(
          'details',
          { style: 'margin-top: 0.7rem' },
          h('summary', {}, 'New federation'),
          newFederationForm(),
        ),
      ),
      h('section', { class: 'card hidden', id: 'federation-card' }),
    ),
  );
}

function newFederationForm(): HTMLElement {
  return h(
    'form',
    {
      id: 'new-federation',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const value = (id: string) => (byId(id) as HTMLInputElement | HTMLSelectElement).value;
        try {
          const f = await api.createFederation({
            name: value('nf-name') || 'federation',
            publicSet: {
              dataset: value('nf-dataset'),
              split: 'test',
              offset: 0,
              count: Number(value('nf-public')),
            },
            settings: {
              mode: value('nf-mode'),
              strategy: value('nf-strategy'),
              batchSize: Math.min(256, Number(value('nf-public'))),
              ...(value('nf-strategy') === 'fedavg' ? { modelArch: 'cnn-small', mode: 'sync' } : {}),
            },
          });
          state.federations = await api.federations();
          selectFederation(f.id);
        } catch (err) {
          alertBox(
            'error',
            `Could not create the federation: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      },
    },
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'Name ', h('input', { type: 'text', id: 'nf-name', value: 'mnist demo' })),
      selectField('Data set', 'nf-dataset', [
        ['mnist', 'MNIST'],
        ['fashion-mnist', 'Fashion-MNIST'],
      ]),
      selectField(
        'Public samples',
        'nf-public',
        [256, 512, 1000, 2000].map((n) => [n, String(n)]),
      ),
      selectField('Mode', 'nf-mode', [
        ['async', 'asynchronous'],
        ['sync', 'synchronous'],
      ]),
      selectField('Strategy', 'nf-strategy', [
        ['mutual', 'mutual distillation'],
        ['fedavg', 'FedAvg (cnn-small)'],
      ]),
      h('button', { type: 'submit' }, 'Create'),
    ),
  );
}

/** A labelled <select> of [value, text] options, the first selected. */
function selectField(label: string, id: string, options: [string | number, string][]): HTMLElement {
  return h(
    'label',
    {},
    `${label} `,
    h('select', { id }, ...options.map(([value, text]) => h('option', { value }, text))),
  );
}

function renderFederations(): void {
  const body = document.getElementById('federations-body');
  if (!body) return;
  if (state.federations.length === 0) {
    body.replaceChildren(
      h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No federation yet: create one below.')),
    );
    return;
  }
  body.replaceChildren(
    ...state.federations.map((f) =>
      h(
        'tr',
        {
          'data-federation-id': f.id,
          style: `cursor: pointer;${f.id === state.federationId ? ' background: #eef3ff' : ''}`,
          onclick: () => selectFederation(f.id),
        },
        h('td', {}, f.name),
        h('td', {}, h('span', { class: `pill ${f.status === 'active' ? 'ok' : 'warn'}` }, f.status)),
        h('td', {}, String(f.settings.strategy ?? '')),
        h('td', {}, String(f.settings.mode ?? '')),
        h('td', {}, f.settings.mode === 'async' ? `v${f.consensusVersion}` : `${f.currentRound}`),
        h('td', {}, f.participantsOnline),
        h('td', {}, f.publicSet ? `${f.publicSet.source} (${f.publicSet.sampleCount})` : '–'),
      ),
    ),
  );
}

function selectFederation(id: string): void {
  if (state.federationId !== id) {
    state.federationId = id;
    state.participants = [];
    state.rounds = [];
    state.joinUrl = '';
    metricsFrom = 0;
    accuracy?.destroy();
    traffic?.destroy();
    accuracy = null;
    traffic = null;
    history.replaceState(null, '', `#federation=${id}`);
  }
  renderFederations();
  renderFederation();
  refreshSelected().catch(() => undefined);
}

function settingsRows(f: Federation): [string, string][] {
  const s = f.settings as Record<string, unknown>;
  const task = f.settings.task;
  const rows: [string, string][] = [
    ['Task', task ? `${task.inputShape.join('×')} → ${task.numClasses} classes` : '–'],
    ['Strategy', String(s.strategy)],
    ['Mode', String(s.mode)],
    ['Aggregation', String(s.aggregation)],
    ['Temperature T / λ', `${s.temperature} / ${s.lambda}`],
    ['Public batch per task', String(s.batchSize)],
    ['Encodings', Array.isArray(s.encodings) ? s.encodings.join(', ') : '–'],
    ['Local epochs', String(s.localEpochs)],
  ];
  if (s.mode === 'sync') rows.push(['Sync', JSON.stringify(s.sync)]);
  else rows.push(['Async', JSON.stringify(s.async)]);
  if (s.strategy === 'fedavg') rows.push(['Architecture', String(s.modelArch)]);
  return rows;
}

function renderFederation(): void {
  const f = state.federations.find((x) => x.id === state.federationId);
  const card = byId('federation-card');
  if (!f) {
    card.classList.add('hidden');
    return;
  }
  card.classList.remove('hidden');
  const unit = f.settings.mode === 'async' ? 'Version' : 'Round';
  card.replaceChildren(
    h(
      'div',
      { class: 'row', style: 'justify-content: space-between' },
      h('h2', { id: 'federation-title' }, `${f.name} `, h('span', { class: 'muted' }, f.id)),
      h(
        'div',
        { class: 'row' },
        h('button', { id: 'create-join-link', onclick: () => void createJoinLink(f.id) }, 'Create join link'),
        h(
          'button',
          {
            class: 'secondary',
            id: 'pause-resume',
            onclick: async () => {
              try {
                if (f.status === 'paused') await api.resume(f.id);
                else await api.pause(f.id);
                state.federations = await api.federations();
                renderFederations();
                renderFederation();
              } catch (err) {
                alertBox('error', err instanceof Error ? err.message : String(err));
              }
            },
          },
          f.status === 'paused' ? 'Resume' : 'Pause',
        ),
      ),
    ),
    h('div', { id: 'join-link', class: state.joinUrl ? 'alert info' : 'hidden' }, state.joinUrl),
    h(
      'div',
      { class: 'grid' },
      ...settingsRows(f).map(([k, v]) =>
        h(
          'div',
          { class: 'stat' },
          h('div', { class: 'label' }, k),
          h('div', { class: 'value', style: 'font-size: 0.95rem' }, v),
        ),
      ),
    ),
    h(
      'h2',
      { style: 'margin-top: 1rem' },
      'Participants ',
      h('span', { class: 'muted', id: 'online-count' }),
    ),
    h(
      'table',
      { id: 'participants' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'Name',
            'Id',
            'Kind',
            'Architecture',
            'Online',
            'Last seen',
            'Accuracy',
            'Received',
            'Sent',
          ].map((t) => h('th', {}, t)),
        ),
      ),
      h('tbody', { id: 'participants-body' }),
    ),
    h(
      'div',
      { class: 'charts', style: 'margin-top: 1rem' },
      h(
        'div',
        {},
        h('h2', {}, 'Reported accuracy'),
        h('div', { class: 'chart-box' }, h('canvas', { id: 'accuracy-chart' })),
      ),
      h(
        'div',
        {},
        h('h2', {}, 'Bytes transferred'),
        h('div', { class: 'chart-box' }, h('canvas', { id: 'traffic-chart' })),
      ),
    ),
    h('h2', { style: 'margin-top: 1rem' }, `${unit}s`, h('span', { class: 'muted', id: 'rounds-summary' })),
    h(
      'table',
      { id: 'timeline' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[unit, 'Status', 'Closed by', 'Submissions', 'Opened', 'Took', 'Aggregation'].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      h('tbody', { id: 'timeline-body' }),
    ),
  );
  accuracy?.destroy();
  traffic?.destroy();
  accuracy = new AccuracyChart(byId('accuracy-chart') as HTMLCanvasElement, unit.toLowerCase());
  traffic = new TrafficChart(byId('traffic-chart') as HTMLCanvasElement);
  // The metrics seen so far are redrawn on the fresh chart.
  metricsFrom = 0;
  state.accuracyPoints = 0;
  state.trafficPoints = 0;
}

async function createJoinLink(federationId: string): Promise<void> {
  try {
    const link = await api.createJoinLink(federationId, 'dashboard');
    state.joinUrl = new URL(link.joinUrl, location.origin).href;
    const box = byId('join-link');
    box.className = 'alert info';
    box.replaceChildren(
      'Join link (shown once; anyone with it can join): ',
      h('a', { id: 'join-url', href: state.joinUrl, target: '_blank', rel: 'noopener' }, state.joinUrl),
      ' ',
      h(
        'button',
        {
          class: 'secondary',
          onclick: () => void navigator.clipboard?.writeText(state.joinUrl).catch(() => undefined),
        },
        'Copy',
      ),
    );
  } catch (err) {
    alertBox('error', `Could not create a join link: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ------------------------------------------------------------------ live data

/** The accuracy a participant reported: the shared test set's if any, else its held-out data's, else training. */
function reportedAccuracy(m: Record<string, number>): number | null {
  if (m.hasTestAccuracy && typeof m.testAccuracy === 'number') return m.testAccuracy;
  if (typeof m.valAccuracy === 'number' && m.valAccuracy > 0) return m.valAccuracy;
  if (typeof m.trainAccuracy === 'number') return m.trainAccuracy;
  return null;
}

function participantLabel(id: string): string {
  const p = state.participants.find((x) => x.id === id);
  return p ? `${p.name} (${p.kind}, ${p.modelArch || '?'})` : id.slice(0, 8);
}

const latestAccuracy = new Map<string, number>();

function addMetrics(rows: MetricRow[]): void {
  if (!accuracy) return;
  for (const r of rows) {
    const acc = reportedAccuracy(r.metrics);
    if (acc === null) continue;
    if (
      accuracy.add(
        r.participantId,
        participantLabel(r.participantId),
        r.round,
        acc,
        `${r.participantId}|${r.round}|${r.source}|${r.at}`,
      )
    ) {
      latestAccuracy.set(r.participantId, acc);
    }
    metricsFrom = Math.max(metricsFrom, r.round);
  }
  for (const p of state.participants) accuracy.relabel(p.id, participantLabel(p.id));
  accuracy.render();
  state.accuracyPoints = accuracy.points;
}

function renderParticipants(): void {
  const body = document.getElementById('participants-body');
  if (!body) return;
  const online = state.participants.filter((p) => p.online).length;
  setText('online-count', `— ${online} online of ${state.participants.length}`);
  const sorted = [...state.participants].sort(
    (a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name),
  );
  body.replaceChildren(
    ...sorted.map((p) =>
      h(
        'tr',
        { 'data-participant-id': p.id, 'data-online': String(p.online), 'data-kind': p.kind },
        h('td', {}, p.name),
        h('td', {}, h('code', { title: p.id }, p.id.slice(0, 13))),
        h('td', {}, p.kind),
        h('td', {}, p.modelArch || '–'),
        h('td', {}, h('span', { class: `pill ${p.online ? 'ok' : 'bad'}` }, p.online ? 'online' : 'offline')),
        h('td', {}, formatAgo(p.lastSeenAt)),
        h('td', {}, formatPercent(latestAccuracy.get(p.id))),
        h('td', {}, formatBytes(p.bytesIn)),
        h('td', {}, formatBytes(p.bytesOut)),
      ),
    ),
  );
}

function renderTimeline(): void {
  const body = document.getElementById('timeline-body');
  if (!body) return;
  const recent = [...state.rounds].sort((a, b) => b.number - a.number).slice(0, 40);
  const closed = state.rounds.filter((r) => r.status !== 'open').length;
  setText('rounds-summary', ` — ${state.rounds.length} opened, ${closed} closed`);
  body.replaceChildren(
    ...recent.map((r) => {
      const took = r.closedAt
        ? `${((Date.parse(r.closedAt) - Date.parse(r.openedAt)) / 1000).toFixed(1)} s`
        : '…';
      return h(
        'tr',
        { 'data-round': r.number, 'data-status': r.status },
        h('td', {}, r.number),
        h('td', {}, h('span', { class: `pill ${r.status === 'open' ? 'warn' : 'ok'}` }, r.status)),
        h('td', {}, r.closeReason ?? '–'),
        h('td', {}, r.submissions),
        h('td', {}, new Date(r.openedAt).toLocaleTimeString()),
        h('td', {}, took),
        h('td', {}, r.aggregationMs === null ? '–' : `${r.aggregationMs.toFixed(1)} ms`),
      );
    }),
  );
}

async function refreshSelected(): Promise<void> {
  const id = state.federationId;
  if (!id) return;
  // Rounds still open can change: fetch from the oldest open one (or the newest known).
  const open = state.rounds.filter((r) => r.status === 'open').map((r) => r.number);
  const roundsFrom = open.length > 0 ? Math.min(...open) : (state.rounds.at(-1)?.number ?? 0);
  const [participants, rounds, metrics, trafficNow] = await Promise.all([
    api.participants(id),
    api.rounds(id, roundsFrom),
    api.metrics(id, metricsFrom),
    api.traffic(id),
  ]);
  if (id !== state.federationId) return;
  state.participants = participants;
  const byNumber = new Map(state.rounds.map((r) => [r.number, r]));
  for (const r of rounds) byNumber.set(r.number, r);
  state.rounds = [...byNumber.values()].sort((a, b) => a.number - b.number);
  addMetrics(metrics);
  renderParticipants();
  renderTimeline();
  traffic?.add(trafficNow.bytesIn, trafficNow.bytesOut);
  state.trafficPoints = traffic?.points ?? 0;
}

async function poll(): Promise<void> {
  try {
    state.federations = await api.federations();
    renderFederations();
    const f = state.federations.find((x) => x.id === state.federationId);
    const button = document.getElementById('pause-resume');
    if (f && button) button.textContent = f.status === 'paused' ? 'Resume' : 'Pause';
    await refreshSelected();
    state.polls++;
    if (state.lastError) clearAlerts();
    state.lastError = '';
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      adminToken.clear();
      renderSignIn('The admin token is no longer accepted: sign in again.');
      return;
    }
    state.lastError = err instanceof Error ? err.message : String(err);
    alertBox('warn', `Live updates paused: ${state.lastError}. Retrying.`);
  }
  pollTimer = setTimeout(() => void poll(), POLL_MS);
}

function startPolling(): void {
  stopPolling();
  pollTimer = setTimeout(() => void poll(), POLL_MS);
}

function stopPolling(): void {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

if (adminToken.get()) void openDashboard();
else renderSignIn();
