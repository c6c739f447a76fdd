/**
 * The selected federation's card: settings, controls (join link, pause/resume), who is
 * online, the accuracy and traffic charts, and the timeline of rounds or versions. Built
 * when another federation is selected; afterwards each part is redrawn only when its
 * slice of the state changed.
 */
import { formatAgo, formatBytes, formatPercent, h } from '../shared/dom.ts';
import type { Federation } from './api.ts';
import { AccuracyChart, TrafficChart } from './charts.ts';
import { type DashboardState, selectedFederation } from './state.ts';
import { participantLabel, settingsRows, unitName } from './words.ts';

export interface FederationHandlers {
  createJoinLink(federationId: string): void;
  pauseOrResume(federationId: string): void;
}

/** Rows of the timeline: the newest; older ones are in the REST API. */
const TIMELINE_ROWS = 40;

export class FederationCard {
  private builtFor = '';
  private last: Partial<DashboardState> = {};
  private accuracy: AccuracyChart | null = null;
  private traffic: TrafficChart | null = null;

  constructor(
    private readonly card: HTMLElement,
    private readonly on: FederationHandlers,
  ) {}

  render(s: DashboardState): void {
    const f = selectedFederation(s);
    this.card.classList.toggle('hidden', !f);
    if (!f) return;
    const key = `${f.id}|${unitName(f)}`;
    if (key !== this.builtFor) {
      this.build(f);
      this.builtFor = key;
      this.last = {};
    }
    const el = (id: string) => this.card.querySelector<HTMLElement>(`#${id}`)!;
    if (s.federations !== this.last.federations) {
      el('pause-resume').textContent = f.status === 'paused' ? 'Resume' : 'Pause';
      el('settings').replaceChildren(
        ...settingsRows(f).map(([k, v]) =>
          h(
            'div',
            { class: 'stat' },
            h('div', { class: 'label' }, k),
            h('div', { class: 'value', style: 'font-size: 0.95rem' }, v),
          ),
        ),
      );
    }
    if (s.joinUrl !== this.last.joinUrl) this.renderJoinLink(el('join-link'), s.joinUrl);
    if (s.participants !== this.last.participants || s.latestAccuracy !== this.last.latestAccuracy) {
      this.renderParticipants(s, el('online-count'), el('participants-body'));
    }
    if (s.rounds !== this.last.rounds) this.renderTimeline(s, el('rounds-summary'), el('timeline-body'));
    this.accuracy?.draw(s.accuracy, (id) => participantLabel(s.participants, id));
    this.traffic?.draw(s.traffic, s.trafficSince, s.trafficPoints);
    this.last = s;
  }

  destroy(): void {
    this.accuracy?.destroy();
    this.traffic?.destroy();
    this.accuracy = null;
    this.traffic = null;
    this.builtFor = '';
  }

  private build(f: Federation): void {
    this.destroy();
    const unit = unitName(f);
    this.card.replaceChildren(
      h(
        'div',
        { class: 'row', style: 'justify-content: space-between' },
        h('h2', { id: 'federation-title' }, `${f.name} `, h('span', { class: 'muted' }, f.id)),
        h(
          'div',
          { class: 'row' },
          h(
            'button',
            { id: 'create-join-link', onclick: () => this.on.createJoinLink(f.id) },
            'Create join link',
          ),
          h(
            'button',
            {
              class: 'secondary',
              id: 'pause-resume',
              onclick: () => this.on.pauseOrResume(f.id),
            },
            f.status === 'paused' ? 'Resume' : 'Pause',
          ),
        ),
      ),
      h('div', { id: 'join-link', class: 'hidden' }),
      h('div', { class: 'grid', id: 'settings' }),
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
    const canvas = (id: string) => this.card.querySelector<HTMLCanvasElement>(`#${id}`)!;
    this.accuracy = new AccuracyChart(canvas('accuracy-chart'), unit.toLowerCase());
    this.traffic = new TrafficChart(canvas('traffic-chart'));
  }

  private renderJoinLink(box: HTMLElement, url: string): void {
    if (!url) {
      box.className = 'hidden';
      box.replaceChildren();
      return;
    }
    box.className = 'alert info';
    box.replaceChildren(
      'Join link (shown once; anyone with it can join): ',
      h('a', { id: 'join-url', href: url, target: '_blank', rel: 'noopener' }, url),
      ' ',
      h(
        'button',
        {
          class: 'secondary',
          onclick: () => void navigator.clipboard?.writeText(url).catch(() => undefined),
        },
        'Copy',
      ),
    );
  }

  private renderParticipants(s: DashboardState, count: HTMLElement, body: HTMLElement): void {
    const online = s.participants.filter((p) => p.online).length;
    count.textContent = `— ${online} online of ${s.participants.length}`;
    const sorted = [...s.participants].sort(
      (a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name),
    );
    body.replaceChildren(
      ...sorted.map((p) =>
        h(
          'tr',
          {
            'data-participant-id': p.id,
            'data-online': String(p.online),
            'data-kind': p.kind,
            'data-flagged': String(p.flagged),
          },
          h('td', {}, p.name),
          h('td', {}, h('code', { title: p.id }, p.id.slice(0, 13))),
          h('td', {}, p.kind),
          h('td', {}, p.modelArch || '–'),
          h(
            'td',
            {},
            h('span', { class: `pill ${p.online ? 'ok' : 'bad'}` }, p.online ? 'online' : 'offline'),
            // 'agreement' down-weights this participant's uploads: they lie far from the others'.
            p.flagged &&
              h(
                'span',
                {
                  class: 'pill bad',
                  title: `trust weight ${(p.trust ?? 0).toFixed(2)}: its uploads are down-weighted`,
                },
                'flagged',
              ),
          ),
          h('td', {}, formatAgo(p.lastSeenAt)),
          h('td', {}, formatPercent(s.latestAccuracy[p.id])),
          h('td', {}, formatBytes(p.bytesIn)),
          h('td', {}, formatBytes(p.bytesOut)),
        ),
      ),
    );
  }

  private renderTimeline(s: DashboardState, summary: HTMLElement, body: HTMLElement): void {
    const recent = s.rounds.slice(-TIMELINE_ROWS).reverse();
    const closed = s.rounds.filter((r) => r.status !== 'open').length;
    summary.textContent = ` — ${s.rounds.length} opened, ${closed} closed`;
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
}
