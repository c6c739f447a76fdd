/**
 * What the join page says, as pure functions of its state: hints for error codes, the
 * backend line, the activity line under the stats. No DOM here, so the reducer tests can
 * check the words a person reads.
 */
import type { BackendReport } from './messages.ts';
import type { Activity, JoinInfo, JoinState } from './state.ts';

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

export const NO_TOKEN =
  'This page needs a join link of the form /join/<token>. Ask the federation operator for one.';
export const NO_WASM =
  'This browser has no WebAssembly (it may be disabled by a policy or an extension). Training falls back to the CPU backend, which is 10–50× slower: enable WebAssembly or use a current Chrome, Firefox, Edge or Safari.';
export const PAUSED_BEFORE_JOIN =
  'The operator paused this federation. You can join now: training starts when it resumes.';
export const LEFT =
  'You left the federation. Your model and data stay in this browser; you can continue later.';
export const FORGOTTEN = 'Forgotten: this browser keeps nothing of that participation any more.';

/** An error code and message in words a person can act on. */
export function explain(e: { code: string; message: string }): string {
  const hint = HINTS[e.code];
  return hint ? `${hint} (${e.code}: ${e.message})` : `${e.message} (${e.code})`;
}

export function describeBackend(b: BackendReport): string {
  if (b.name === 'webgl') return `Backend: WebGL on the GPU (${b.reason}).`;
  const why = b.reason ? ` Not WebGL: ${b.reason}.` : '';
  if (b.name === 'wasm') {
    const threads = b.threads ?? 1;
    return `Backend: WebAssembly (${b.simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads > 1 ? 's' : ''}).${why}`;
  }
  return `Backend: CPU (plain JavaScript, the slowest).${why}`;
}

/** "Round" in synchronous federations, "Version" (of the consensus) in asynchronous ones. */
export function unitName(mode: string): 'Round' | 'Version' {
  return mode === 'async' ? 'Version' : 'Round';
}

/**
 * What the page says while the federation has fewer participants than it needs (no round
 * or version opens, so training alone would teach nothing), or null when it can run.
 */
export function waitingForOthers(info: JoinInfo | null): string | null {
  const f = info?.federation;
  if (!f?.waitingForParticipants) return null;
  const unit = f.mode === 'async' ? 'versions' : 'rounds';
  return `Waiting for others: ${f.participantsOnline} of ${f.minParticipants} participants connected. Training starts when ${f.minParticipants} are (${unit} need more than one participant).`;
}

/** The line above the progress bar; `waiting` (waitingForOthers) replaces "waiting for a task". */
export function activityText(a: Activity, mode: string, waiting: string | null = null): string {
  const unit = unitName(mode);
  if (waiting && (a.kind === 'waiting' || a.kind === 'sent')) return waiting;
  switch (a.kind) {
    case 'waiting':
      return 'Waiting for the first task…';
    case 'training':
      return `${unit} ${a.round}: training…`;
    case 'epoch':
      return `${unit} ${a.round}: epoch ${a.epoch}/${a.epochs}, batch ${a.batch}/${a.batches}`;
    case 'sent':
      return `${unit} ${a.round}: sent, waiting for the next task`;
    case 'left':
      return 'Not training: you left the federation.';
    case 'stopped':
      return 'Not training: the session stopped (see above).';
  }
}

/** The participant tile: a short id, marked when the coordinator recognised an earlier visit. */
export function participantText(s: Pick<JoinState, 'participantId' | 'resumed'>): string {
  return s.participantId ? `${s.participantId.slice(0, 12)}${s.resumed ? ' (resumed)' : ''}` : '–';
}
