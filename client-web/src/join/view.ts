/**
 * Draws the join page from its state. Cards are built when what they are about appears
 * (the federation's info, a new run, an offer to resume) and then only updated in place:
 * a render touches text and visibility, never a form the person is filling in.
 */
import { formatBytes, formatPercent, h } from '../shared/dom.ts';
import { drawProgress, progressChart } from './progress-chart.ts';
import { type JoinState, showsRunCard } from './state.ts';
import { resumeCardContent, type SetupHandlers, setupCardContent } from './view-setup.ts';
import { activityText, describeBackend, participantText, unitName, waitingForOthers } from './words.ts';

export interface JoinHandlers extends SetupHandlers {
  leave(): void;
}

/** Rows of the rounds table: the newest first; a long session should not grow the page without end. */
const TABLE_ROWS = 50;

function stat(id: string, label: string): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value', id }, '–'),
  );
}

export class JoinView {
  private readonly alerts = h('div', { id: 'alerts' });
  private readonly task = h('div', { id: 'task' }, 'Loading…');
  private readonly resumeCard = h('section', { class: 'card hidden', id: 'resume-card' });
  private readonly setupCard = h('section', { class: 'card hidden', id: 'setup-card' });
  private readonly runCard = h('section', { class: 'card hidden', id: 'run-card' });
  /** What was last drawn, by identity: the state is immutable, so unchanged parts are skipped. */
  private last: Partial<Pick<JoinState, 'alerts' | 'info' | 'resume' | 'run' | 'uploads'>> = {};

  constructor(
    root: HTMLElement,
    private readonly on: JoinHandlers,
  ) {
    root.replaceChildren(
      h(
        'main',
        {},
        h('h1', {}, 'Mutua · join a federation'),
        this.alerts,
        h('section', { class: 'card', id: 'task-card' }, h('h2', {}, 'Federation'), this.task),
        this.resumeCard,
        this.setupCard,
        this.runCard,
      ),
    );
  }

  render(s: JoinState): void {
    if (s.alerts !== this.last.alerts) {
      this.alerts.replaceChildren(
        ...s.alerts.map((a) => h('div', { id: a.id, role: 'alert', class: `alert ${a.kind}` }, a.text)),
      );
    }
    this.renderTask(s);
    if (s.resume !== this.last.resume) {
      if (s.resume) this.resumeCard.replaceChildren(...resumeCardContent(s.resume, this.on));
      this.resumeCard.classList.toggle('hidden', !s.resume);
    }
    if (s.setupOpen && s.info && this.setupCard.childElementCount === 0) {
      this.setupCard.replaceChildren(...setupCardContent(s.info, this.on));
    }
    this.setupCard.classList.toggle('hidden', !s.setupOpen);
    this.renderRun(s);
    this.last = { alerts: s.alerts, info: s.info, resume: s.resume, run: s.run, uploads: s.uploads };
  }

  private renderTask(s: JoinState): void {
    const i = s.info;
    if (!i) {
      if (s.phase === 'failed') put(this.task, 'Cannot join.');
      return;
    }
    if (!this.last.info) {
      const f = i.federation;
      const t = f.task;
      const labels = t.labelNames.length > 0 ? t.labelNames.join(', ') : `0–${t.numClasses - 1}`;
      const tile = (id: string, label: string, value: string) => {
        const el = stat(id, label);
        put(el.querySelector('.value')!, value);
        return el;
      };
      this.task.replaceChildren(
        h(
          'div',
          { class: 'grid' },
          tile('fed-name', 'Name', f.name),
          tile('fed-status', 'Status', f.status),
          tile('fed-mode', 'Rounds', f.mode === 'async' ? 'asynchronous' : 'synchronous'),
          tile(
            'fed-strategy',
            'Strategy',
            f.strategy === 'fedavg' ? 'FedAvg (weights)' : 'mutual distillation',
          ),
          tile('fed-samples', 'Samples', t.inputShape.join('×')),
          tile('fed-classes', 'Classes', `${t.numClasses}`),
          tile('fed-online', 'Participants online', `${f.participantsOnline}`),
        ),
        h(
          'p',
          { class: 'muted' },
          `Classes: ${labels}. Your data stays in this tab: only predictions on a shared public set are sent.`,
        ),
        h('div', { id: 'waiting-others', class: 'alert warn hidden', role: 'status' }),
      );
    }
    set('fed-status', i.federation.status);
    set('fed-online', i.federation.participantsOnline);
    const waiting = waitingForOthers(i);
    const banner = document.getElementById('waiting-others');
    if (banner) {
      banner.classList.toggle('hidden', !waiting);
      put(banner, waiting ?? '');
    }
  }

  private renderRun(s: JoinState): void {
    this.runCard.classList.toggle('hidden', !showsRunCard(s));
    if (s.run === 0) return;
    if (s.run !== this.last.run) this.buildRunCard(s.mode);
    const b = s.backendReport;
    set('backend-line', b ? describeBackend(b) : 'Choosing a backend…');
    if (b) document.getElementById('backend-line')!.dataset.backend = b.name;
    const m = s.model;
    set(
      'model-line',
      m
        ? `Model: ${m.arch}, ${m.params.toLocaleString()} parameters (${m.reason})${m.restored ? ', weights restored from your last visit' : ''}`
        : '',
    );
    const d = s.data;
    set(
      'data-line',
      d
        ? `Data: ${d.source} — ${d.train} for training, ${d.validation} held out to measure local accuracy`
        : '',
    );
    const participant = document.getElementById('participant')!;
    put(participant, participantText(s));
    participant.title = s.participantId;
    participant.dataset.participantId = s.participantId;
    set('session-state', s.state);
    set('round', s.participantId ? s.round : '–');
    const uploaded = s.roundsCompleted > 0;
    set('rounds-done', uploaded ? s.roundsCompleted : '–');
    set('val-accuracy', formatPercent(s.valAccuracy));
    set('train-accuracy', formatPercent(s.trainAccuracy));
    set('loss', s.loss === null ? '–' : s.loss.toFixed(3));
    set('speed', s.samplesPerSecond === null ? '–' : Math.round(s.samplesPerSecond));
    set('bytes-up', uploaded ? formatBytes(s.bytesUp) : '–');
    set('bytes-down', uploaded ? formatBytes(s.bytesDown) : '–');
    set('peers', s.phase === 'running' ? s.peersOnline : '–');
    set('contributors', s.contributors || '–');
    // Only while this session is in: after it ended, the federation's wait is not its own.
    const waiting = s.phase === 'running' ? waitingForOthers(s.info) : null;
    set('epoch-line', activityText(s.activity, s.mode, waiting));
    (document.getElementById('epoch-progress') as HTMLProgressElement).value = s.progress;
    (document.getElementById('leave-button') as HTMLButtonElement).disabled =
      s.leaving || s.phase !== 'running';
    if (s.uploads !== this.last.uploads) {
      drawProgress(document.getElementById('progress-chart')!, s.uploads, unitName(s.mode));
      document.getElementById('rounds-body')!.replaceChildren(
        ...s.uploads
          .slice(-TABLE_ROWS)
          .reverse()
          .map((r) =>
            h(
              'tr',
              {},
              h('td', {}, r.round),
              h('td', {}, formatPercent(r.valAccuracy)),
              h('td', {}, formatPercent(r.trainAccuracy)),
              h('td', {}, r.trainLoss.toFixed(3)),
              h('td', {}, r.staleness),
              h('td', {}, `${(r.trainMs / 1000).toFixed(1)} s`),
            ),
          ),
      );
    }
  }

  private buildRunCard(mode: string): void {
    const unit = unitName(mode);
    this.runCard.replaceChildren(
      // Leave sits at the top, where it stays put while the rounds table below grows.
      h(
        'div',
        { class: 'row', style: 'justify-content: space-between' },
        h('h2', {}, 'Training'),
        h('button', { id: 'leave-button', class: 'secondary', onclick: () => this.on.leave() }, 'Leave'),
      ),
      h('p', { id: 'backend-line', class: 'muted' }),
      h('p', { id: 'model-line', class: 'muted' }),
      h('p', { id: 'data-line', class: 'muted' }),
      h(
        'div',
        { class: 'grid' },
        stat('participant', 'Participant'),
        stat('session-state', 'State'),
        stat('round', unit),
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
      h('p', {}, h('span', { id: 'epoch-line' })),
      h('progress', { id: 'epoch-progress', max: 1, value: 0 }),
      progressChart(),
      h(
        'table',
        { id: 'rounds-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...[unit, 'Local accuracy', 'Training accuracy', 'Loss', 'Staleness', 'Time'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h('tbody', { id: 'rounds-body' }),
      ),
    );
    this.last.uploads = undefined;
  }
}

/** Sets text only when it changed (a render runs for every worker message). */
function put(el: Element, text: string | number): void {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

function set(id: string, text: string | number): void {
  const el = document.getElementById(id);
  if (el) put(el, text);
}
