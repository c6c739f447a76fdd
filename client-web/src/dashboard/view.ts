/**
 * Draws the dashboard from its state: the sign-in form, or the shell (federations table,
 * new-federation form) with the selected federation's card (view-federation.ts). Parts are
 * rebuilt only when the state they show changed (the state is immutable, so by identity),
 * and never a form the operator is typing in.
 */
import { byId, h } from '../shared/dom.ts';
import type { DashboardState } from './state.ts';
import { FederationCard, type FederationHandlers } from './view-federation.ts';
import type { NewFederationForm } from './words.ts';

export interface DashboardHandlers extends FederationHandlers {
  signIn(token: string): void;
  signOut(): void;
  select(id: string): void;
  createFederation(form: NewFederationForm): void;
}

export class DashboardView {
  private last: Partial<DashboardState> = {};
  private shown: 'sign-in' | 'shell' | null = null;
  private card: FederationCard | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly on: DashboardHandlers,
  ) {}

  render(s: DashboardState): void {
    const want = s.signedIn ? 'shell' : 'sign-in';
    if (want !== this.shown) {
      this.card?.destroy();
      this.card = null;
      this.last = {};
      if (want === 'shell') this.buildShell();
      else this.buildSignIn();
      this.shown = want;
    }
    if (s.alert !== this.last.alert) {
      byId('alerts').replaceChildren(
        ...(s.alert ? [h('div', { class: `alert ${s.alert.kind}`, role: 'alert' }, s.alert.text)] : []),
      );
    }
    if (s.signedIn) {
      if (s.federations !== this.last.federations || s.federationId !== this.last.federationId) {
        this.renderFederations(s);
      }
      if (s.live !== this.last.live) {
        const status = byId('live-status');
        status.textContent = s.live ? '● live' : 'polling every 1.5 s';
        status.title = s.live
          ? "changes are pushed by the coordinator's event stream"
          : 'the event stream is not connected: the dashboard asks every 1.5 s';
        status.dataset.live = String(s.live);
      }
      this.card ??= new FederationCard(byId('federation-card'), this.on);
      this.card.render(s);
    }
    this.last = s;
  }

  /** After a federation was created: the form starts over rather than keeping old values. */
  resetNewFederationForm(): void {
    (document.getElementById('new-federation') as HTMLFormElement | null)?.reset();
  }

  private buildSignIn(): void {
    const input = h('input', {
      type: 'password',
      id: 'token-input',
      autocomplete: 'off',
      size: 40,
      placeholder: 'admin token',
    });
    this.root.replaceChildren(
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
            {
              id: 'token-form',
              class: 'row',
              onsubmit: (e: Event) => {
                e.preventDefault();
                const token = input.value.trim();
                if (token) this.on.signIn(token);
              },
            },
            input,
            h('button', { type: 'submit', id: 'token-submit' }, 'Open dashboard'),
          ),
        ),
      ),
    );
    input.focus();
  }

  private buildShell(): void {
    this.root.replaceChildren(
      h(
        'main',
        {},
        h(
          'div',
          { class: 'row', style: 'justify-content: space-between' },
          h('h1', {}, 'Mutua · coordinator dashboard'),
          h(
            'div',
            { class: 'row' },
            h('span', { class: 'muted', id: 'live-status' }),
            h('button', { class: 'secondary', id: 'sign-out', onclick: () => this.on.signOut() }, 'Sign out'),
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
                ...['Name', 'Status', 'Strategy', 'Mode', 'Round / version', 'Online', 'Public set'].map(
                  (t) => h('th', {}, t),
                ),
              ),
            ),
            h('tbody', { id: 'federations-body' }),
          ),
          h(
            'details',
            { style: 'margin-top: 0.7rem' },
            h('summary', {}, 'New federation'),
            this.newFederationForm(),
          ),
        ),
        h('section', { class: 'card hidden', id: 'federation-card' }),
      ),
    );
  }

  private newFederationForm(): HTMLElement {
    const value = (id: string) => byId<HTMLInputElement | HTMLSelectElement>(id).value;
    return h(
      'form',
      {
        id: 'new-federation',
        onsubmit: (e: Event) => {
          e.preventDefault();
          this.on.createFederation({
            name: value('nf-name'),
            dataset: value('nf-dataset'),
            publicSamples: Number(value('nf-public')),
            mode: value('nf-mode'),
            strategy: value('nf-strategy'),
          });
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

  private renderFederations(s: DashboardState): void {
    const body = byId('federations-body');
    if (s.federations.length === 0) {
      body.replaceChildren(
        h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No federation yet: create one below.')),
      );
      return;
    }
    body.replaceChildren(
      ...s.federations.map((f) =>
        h(
          'tr',
          {
            'data-federation-id': f.id,
            style: `cursor: pointer;${f.id === s.federationId ? ' background: #eef3ff' : ''}`,
            onclick: () => this.on.select(f.id),
          },
          h('td', {}, f.name),
          h(
            'td',
            {},
            h('span', { class: `pill ${f.status === 'active' ? 'ok' : 'warn'}` }, f.status),
            f.waitingForParticipants &&
              h(
                'span',
                { class: 'pill warn', title: 'no round or version opens until enough are connected' },
                `waiting (${f.participantsOnline} of ${f.minParticipants})`,
              ),
          ),
          h('td', {}, String(f.settings.strategy ?? '')),
          h('td', {}, String(f.settings.mode ?? '')),
          h('td', {}, f.settings.mode === 'async' ? `v${f.consensusVersion}` : `${f.currentRound}`),
          h('td', {}, f.participantsOnline),
          h('td', {}, f.publicSet ? `${f.publicSet.source} (${f.publicSet.sampleCount})` : '–'),
        ),
      ),
    );
  }
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
