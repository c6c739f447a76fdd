/**
 * The selected federation's join links: the one just created (its secret shown once) and
 * the list the coordinator keeps (label, state, created, last used — never the secret),
 * each active one with a Revoke button.
 */
import { formatAgo, h } from '../shared/dom.ts';
import type { JoinLinkRow } from './api.ts';
import { joinLinkStatus } from './words.ts';

export function joinLinksSection(): HTMLElement[] {
  return [
    h('div', { id: 'join-link', class: 'hidden' }),
    h(
      'details',
      { id: 'join-links-box', style: 'margin: 0.5rem 0' },
      h('summary', {}, 'Join links ', h('span', { class: 'muted', id: 'join-links-count' })),
      h(
        'table',
        { id: 'join-links' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Label', 'Id', 'State', 'Created', 'Last used', 'Uses', ''].map((t) => h('th', {}, t)),
          ),
        ),
        h('tbody', { id: 'join-links-body' }),
      ),
    ),
  ];
}

export function renderJoinLink(box: HTMLElement, url: string): void {
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

export function renderJoinLinks(
  count: HTMLElement,
  body: HTMLElement,
  links: JoinLinkRow[],
  revoke: (tokenId: string) => void,
): void {
  const active = links.filter((l) => joinLinkStatus(l) === 'active').length;
  count.textContent = `— ${active} active of ${links.length}`;
  if (links.length === 0) {
    body.replaceChildren(
      h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No join link yet: create one above.')),
    );
    return;
  }
  body.replaceChildren(
    ...links.map((l) => {
      const state = joinLinkStatus(l);
      return h(
        'tr',
        { 'data-token-id': l.id, 'data-state': state },
        h('td', {}, l.label || '–'),
        h('td', {}, h('code', { title: l.id }, l.id.slice(0, 13))),
        h('td', {}, h('span', { class: `pill ${state === 'active' ? 'ok' : 'bad'}` }, state)),
        h('td', {}, formatAgo(l.createdAt)),
        h('td', {}, l.lastUsedAt ? formatAgo(l.lastUsedAt) : 'never'),
        h('td', {}, l.maxUses === null ? 'no limit' : `at most ${l.maxUses}`),
        h(
          'td',
          {},
          state === 'active' &&
            h(
              'button',
              {
                class: 'danger',
                'data-revoke': l.id,
                title: 'It admits nobody more; participants that joined with it are disconnected',
                onclick: () => revoke(l.id),
              },
              'Revoke',
            ),
        ),
      );
    }),
  );
}
