/**
 * What the dashboard says, as pure functions of its data: the settings grid, participant
 * labels, the new-federation request. No DOM here, so the tests check it under node.
 */
import type { Federation, Participant } from './api.ts';

/** "Round" in synchronous federations, "Version" (of the consensus) in asynchronous ones. */
export function unitName(f: Federation | undefined): 'Round' | 'Version' {
  return f?.settings.mode === 'async' ? 'Version' : 'Round';
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The federation's settings as labelled values (the round settings too, not as JSON). */
export function settingsRows(f: Federation): [string, string][] {
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
    // Rounds or versions open only with this many connected (the coordinator's resolved value).
    ['Minimum participants', String(f.minParticipants)],
  ];
  if (s.mode === 'sync') {
    const sync = (s.sync ?? {}) as Record<string, unknown>;
    const quorum = num(sync.quorum);
    const deadline = num(sync.deadlineMs);
    rows.push(
      ['Round closes with', quorum ? `${quorum} submissions` : 'all active participants'],
      ['Round deadline', deadline ? `${(deadline / 1000).toLocaleString()} s` : 'none'],
    );
  } else {
    const async = (s.async ?? {}) as Record<string, unknown>;
    rows.push(
      ['New version after', `${num(async.bufferK) ?? '–'} contributions`],
      ['Staleness weight', `(1 + τ)^-${num(async.stalenessExponent) ?? '–'}`],
      ['Maximum staleness', `${num(async.maxStaleness) ?? '–'} versions`],
    );
  }
  if (s.strategy === 'fedavg') rows.push(['Architecture', String(s.modelArch)]);
  return rows;
}

export function participantLabel(participants: Participant[], id: string): string {
  const p = participants.find((x) => x.id === id);
  return p ? `${p.name} (${p.kind}, ${p.modelArch || '?'})` : id.slice(0, 8);
}

export interface NewFederationForm {
  name: string;
  dataset: string;
  publicSamples: number;
  mode: string;
  strategy: string;
}

/** The POST /v1/federations body for the form, or what to fix first. */
export function newFederationRequest(form: NewFederationForm): Record<string, unknown> | string {
  const name = form.name.trim();
  // The API would name it "federation": a list of those helps nobody.
  if (!name) return 'Give the federation a name.';
  const fedavg = form.strategy === 'fedavg';
  return {
    name,
    publicSet: { dataset: form.dataset, split: 'test', offset: 0, count: form.publicSamples },
    settings: {
      mode: fedavg ? 'sync' : form.mode,
      strategy: form.strategy,
      batchSize: Math.min(256, form.publicSamples),
      ...(fedavg ? { modelArch: 'cnn-small' } : {}),
    },
  };
}

/**
 * The "waiting for participants" banner of an active federation with fewer than its minimum
 * connected (no round or version opens meanwhile), or null when it runs or is paused.
 */
export function waitingText(f: Federation): string | null {
  if (!f.waitingForParticipants) return null;
  const unit = unitName(f) === 'Round' ? 'round' : 'version';
  return `Waiting for participants (${f.participantsOnline} of ${f.minParticipants} online): no ${unit} opens until ${f.minParticipants} are connected. Share a join link or start mutua-client.`;
}

/** A join link's state in the links table. */
export function joinLinkStatus(
  link: { revokedAt: string | null; expiresAt: string | null },
  now = Date.now(),
): 'revoked' | 'expired' | 'active' {
  if (link.revokedAt) return 'revoked';
  if (link.expiresAt && Date.parse(link.expiresAt) <= now) return 'expired';
  return 'active';
}
