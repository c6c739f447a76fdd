/**
 * The selected federation's card: settings, controls (join links, pause/resume, delete),
 * whether it waits for participants, who is online, the accuracy and traffic charts (each
 * saying "no data yet" while empty), and the timeline of rounds or versions, paged. Built
 * when another federation is selected; afterwards each part is redrawn only when its
 * slice of the state changed.
 */
import { formatAgo, formatBytes, formatPercent, h } from '../shared/dom.ts';
import type { Federation } from './api.ts';
import { AccuracyChart, TrafficChart } from './charts.ts';
import {
  type DashboardState,
  selectedFederation,
  TIMELINE_PAGE,
  timelinePages,
  timelineRows,
} from './state.ts';
import { joinLinksSection, renderJoinLink, renderJoinLinks } from './view-links.ts';
import { renderStudent, studentSection } from './view-student.ts';
import { participantLabel, settingsRows, unitName, waitingText } from './words.ts';

export interface FederationHandlers {
  createJoinLink(federationId: string): void;
  pauseOrResume(federationId: string): void;
  /** Called once the operator confirmed. */
  deleteFederation(federationId: string): void;
  revokeJoinLink(federationId: string, tokenId: string): void;
  timelinePage(page: number): void;
}

export class FederationCard {
  private builtFor = '';
  private last: Partial<DashboardState> = {};
  private accuracy: AccuracyChart | null = null;
  private traffic: TrafficChart | null = null;
  private shownPage = 0;

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
      const waiting = waitingText(f);
      el('waiting').classList.toggle('hidden', !waiting);
      el('waiting').textContent = waiting ?? '';
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
    if (s.joinUrl !== this.last.joinUrl) renderJoinLink(el('join-link'), s.joinUrl);
    if (s.student !== this.last.student || !('student' in this.last))
      renderStudent(el('student'), s.student, f.id);
    if (s.joinLinks !== this.last.joinLinks) {
      renderJoinLinks(el('join-links-count'), el('join-links-body'), s.joinLinks, (tokenId) =>
        this.on.revokeJoinLink(f.id, tokenId),
      );
    }
    if (s.participants !== this.last.participants || s.latestAccuracy !== this.last.latestAccuracy) {
      this.renderParticipants(s, el('online-count'), el('participants-body'));
    }
    if (s.rounds !== this.last.rounds || s.timelinePage !== this.last.timelinePage) {
      this.renderTimeline(s, el('rounds-summary'), el('timeline-body'));
    }
    this.accuracy?.draw(s.accuracy, (id) => participantLabel(s.participants, id));
    this.traffic?.draw(s.rounds);
    el('accuracy-empty').classList.toggle('hidden', s.accuracy.length > 0);
    el('traffic-empty').classList.toggle(
      'hidden',
      s.rounds.some((r) => r.bytesReceived > 0),
    );
    const total = s.traffic.at(-1);
    el('traffic-total').textContent = total
      ? ` — ${formatBytes(total.bytesIn)} received, ${formatBytes(total.bytesOut)} sent since it was created`
      : '';
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
          h(
            'button',
            {
              class: 'danger',
              id: 'delete-federation',
              onclick: () => {
                const sure = confirm(
                  `Delete the federation "${f.name}"? Its participants are disconnected and its join links stop working. Its history is kept.`,
                );
                if (sure) this.on.deleteFederation(f.id);
              },
            },
            'Delete',
          ),
        ),
      ),
      h('div', { id: 'waiting', class: 'alert warn hidden', role: 'status' }),
      ...joinLinksSection(),
      studentSection(),
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
          chartBox('accuracy', `No data yet: a point per participant and ${unit.toLowerCase()}.`),
        ),
        h(
          'div',
          {},
          h('h2', {}, 'Bytes transferred', h('span', { class: 'muted', id: 'traffic-total' })),
          chartBox('traffic', `No data yet: bytes appear as participants upload.`),
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
            ...[unit, 'Status', 'Closed by', 'Submissions', 'Received', 'Opened', 'Took', 'Aggregation'].map(
              (t) => h('th', {}, t),
            ),
          ),
        ),
        h('tbody', { id: 'timeline-body' }),
      ),
      h(
        'div',
        { class: 'row', style: 'margin-top: 0.5rem' },
        h('button', { class: 'secondary', id: 'timeline-newer', onclick: () => this.page(-1) }, 'Newer'),
        h('span', { class: 'muted', id: 'timeline-page' }),
        h('button', { class: 'secondary', id: 'timeline-older', onclick: () => this.page(1) }, 'Older'),
      ),
    );
    const canvas = (id: string) => this.card.querySelector<HTMLCanvasElement>(`#${id}`)!;
    this.accuracy = new AccuracyChart(canvas('accuracy-chart'), unit.toLowerCase());
    this.traffic = new TrafficChart(canvas('traffic-chart'), unit.toLowerCase());
  }

  /** One page newer (-1) or older (+1) than the one shown. */
  private page(step: number): void {
    this.on.timelinePage(this.shownPage + step);
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
            'data-flag-reason': p.flagReason ?? '',
          },
          h('td', {}, p.name),
          h('td', {}, h('code', { title: p.id }, p.id.slice(0, 13))),
          h('td', {}, p.kind),
          h('td', {}, p.modelArch || '–'),
          h(
            'td',
            {},
            h('span', { class: `pill ${p.online ? 'ok' : 'bad'}` }, p.online ? 'online' : 'offline'),
            // 'agreement' down-weights this participant's uploads: they lie far from the others',
            // or repeat the targets it was sent (free-riding).
            p.flagged &&
              h(
                'span',
                {
                  class: 'pill bad',
                  title: `trust weight ${(p.trust ?? 0).toFixed(2)}: its uploads are down-weighted${p.flagReason ? ` (${p.flagReason})` : ''}`,
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
    const recent = timelineRows(s);
    const closed = s.rounds.filter((r) => r.status !== 'open').length;
    summary.textContent = ` — ${s.rounds.length} opened, ${closed} closed`;
    const pages = timelinePages(s);
    this.shownPage = Math.min(s.timelinePage, pages - 1);
    const pageLine = this.card.querySelector<HTMLElement>('#timeline-page')!;
    pageLine.textContent = `page ${this.shownPage + 1} of ${pages} (${TIMELINE_PAGE} per page, newest first)`;
    this.card.querySelector<HTMLButtonElement>('#timeline-newer')!.disabled = this.shownPage === 0;
    this.card.querySelector<HTMLButtonElement>('#timeline-older')!.disabled = this.shownPage >= pages - 1;
    if (recent.length === 0) {
      body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No data yet.')));
      return;
    }
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
          h('td', {}, formatBytes(r.bytesReceived)),
          h('td', {}, new Date(r.openedAt).toLocaleTimeString()),
          h('td', {}, took),
          h('td', {}, r.aggregationMs === null ? '–' : `${r.aggregationMs.toFixed(1)} ms`),
        );
      }),
    );
  }
}

/** A chart's canvas, with the words shown over it while it has no points. */
function chartBox(name: string, empty: string): HTMLElement {
  return h(
    'div',
    { class: 'chart-box' },
    h('canvas', { id: `${name}-chart` }),
    h('div', { class: 'no-data', id: `${name}-empty` }, empty),
  );
}
