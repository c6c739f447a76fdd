/**
 * The join page's effects: it reads the join link, asks the coordinator for the federation's
 * info (and keeps asking every few seconds while the page is shown), reads what IndexedDB
 * kept of an earlier visit, runs the training worker (worker.ts), and turns all of it into
 * actions for the reducer (state.ts), whose state the view (view.ts) draws.
 *
 * A refresh resumes as the same participant: the worker keeps the resume token, the data and
 * the model in IndexedDB, and the page restarts it when the earlier visit was still
 * training. Leaving stops the session cleanly (Leave message, socket closed).
 */
import { sha256Sync } from '../shared/sha256.ts';
import type { ArchChoice, DataChoice, StartCommand, WorkerToPage } from './messages.ts';
import { dataChoice } from './setup-form.ts';
import { initialJoinState, type JoinAction, type JoinInfo, type JoinState, reduceJoin } from './state.ts';
import * as store from './store.ts';
import { JoinView } from './view.ts';
import { readSetupForm } from './view-setup.ts';

/** How often the task card's live numbers (status, participants online) are refreshed. */
const INFO_POLL_MS = 3000;

export interface JoinPageOptions {
  root: HTMLElement;
  /** The page's location (the token is in its path). */
  location: Pick<Location, 'pathname' | 'origin' | 'protocol' | 'host'>;
  wasm: boolean;
}

function tokenFromPath(pathname: string): string {
  const m = /^\/join\/(.+)$/.exec(pathname);
  return m ? decodeURIComponent(m[1]!.replace(/\/+$/, '')) : '';
}

export class JoinController {
  private state: JoinState;
  private readonly view: JoinView;
  private readonly token: string;
  private readonly origin: string;
  private readonly wsUrl: string;
  private readonly storageKey: string;
  private worker: Worker | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  /** The page is shown: polling may run (false after pagehide, until pageshow). */
  private shown = true;

  constructor(opts: JoinPageOptions) {
    const loc = opts.location;
    this.token = tokenFromPath(loc.pathname);
    this.origin = loc.origin;
    this.wsUrl = `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/v1/ws`;
    // One participant per coordinator and join link; the token itself is not the key.
    this.storageKey = `join:${loc.host}:${sha256Sync(new TextEncoder().encode(this.token)).slice(0, 24)}`;
    this.state = initialJoinState({ token: this.token, wasm: opts.wasm });
    this.view = new JoinView(opts.root, {
      join: () => this.onJoinClicked(),
      continueStored: () => this.startRun({ kind: 'stored' }, 'auto', ''),
      forget: () => void this.forget(),
      leave: () => this.leave(),
    });
    this.publish();
  }

  get current(): JoinState {
    return this.state;
  }

  async boot(): Promise<void> {
    if (!this.token) return;
    const got = await this.fetchInfo();
    if (!('federation' in got)) {
      this.dispatch({ type: 'info-failed', error: got });
      return;
    }
    this.dispatch({ type: 'info', info: got });
    this.schedulePoll();
    const record = await this.storedRecord();
    const kept = record
      ? await store.get<store.StoredDataset>('datasets', this.storageKey).catch(() => undefined)
      : undefined;
    if (record?.active && kept) {
      // The earlier visit was still training (a refresh, a crash): carry on as the same participant.
      this.startRun({ kind: 'stored' }, 'auto', '');
      return;
    }
    this.dispatch({ type: 'offer-setup', resume: record && kept ? record : null });
  }

  /** The page is going away or into the back-forward cache: no timer outlives it. */
  hide(): void {
    this.shown = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Back from the back-forward cache: the live numbers resume. */
  show(): void {
    this.shown = true;
    if (this.state.info && !this.pollTimer) this.schedulePoll();
  }

  private dispatch(action: JoinAction): void {
    this.state = reduceJoin(this.state, action);
    this.publish();
  }

  private publish(): void {
    (window as unknown as { mutuaJoin: JoinState }).mutuaJoin = this.state;
    this.view.render(this.state);
  }

  private schedulePoll(): void {
    if (!this.shown) return;
    this.pollTimer = setTimeout(async () => {
      const next = await this.fetchInfo();
      if (!this.shown) return;
      this.dispatch(
        'federation' in next ? { type: 'info', info: next } : { type: 'info-failed', error: next },
      );
      this.schedulePoll();
    }, INFO_POLL_MS);
  }

  private async fetchInfo(): Promise<JoinInfo | { code: string; message: string }> {
    try {
      const res = await fetch(`/v1/join/${encodeURIComponent(this.token)}/info`);
      const body = (await res.json()) as JoinInfo & { code?: string; message?: string };
      if (!res.ok)
        return { code: body.code ?? `HTTP_${res.status}`, message: body.message ?? res.statusText };
      return body;
    } catch (err) {
      return { code: 'UNREACHABLE', message: err instanceof Error ? err.message : String(err) };
    }
  }

  private storedRecord(): Promise<store.ParticipantRecord | undefined> {
    return store.get<store.ParticipantRecord>('participants', this.storageKey).catch(() => undefined);
  }

  private onJoinClicked(): void {
    const form = readSetupForm();
    const data = dataChoice(form);
    if (typeof data === 'string') this.dispatch({ type: 'setup-invalid', message: data });
    else this.startRun(data, form.arch, form.name);
  }

  private async forget(): Promise<void> {
    await store.forget(this.storageKey);
    this.dispatch({ type: 'forgotten' });
  }

  private startRun(data: DataChoice, arch: ArchChoice, name: string): void {
    const info = this.state.info;
    if (!info || this.worker) return;
    this.dispatch({ type: 'start' });
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      type: 'module',
      name: 'mutua-trainer',
    });
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<WorkerToPage>) => this.onWorkerMessage(e.data);
    worker.onerror = (e) => this.dispatch({ type: 'worker-failed', message: e.message });
    const nav = navigator as Navigator & { deviceMemory?: number };
    const cmd: StartCommand = {
      type: 'start',
      wsUrl: this.wsUrl,
      origin: this.origin,
      joinToken: this.token,
      storageKey: this.storageKey,
      task: info.federation.task,
      requiredArch: info.federation.modelArch,
      arch,
      data,
      device: { cores: nav.hardwareConcurrency || 1, memoryGb: nav.deviceMemory ?? null },
      name,
    };
    worker.postMessage(cmd);
  }

  private leave(): void {
    this.dispatch({ type: 'leave' });
    this.worker?.postMessage({ type: 'stop', reason: 'the participant left from the browser' });
  }

  private onWorkerMessage(m: WorkerToPage): void {
    this.dispatch({ type: 'worker', message: m });
    if (m.type !== 'closed') return;
    this.worker?.terminate();
    this.worker = null;
    // Offer to carry on: the earlier participation, if the worker kept one, and the setup.
    void this.storedRecord().then((record) => {
      if (!this.worker) this.dispatch({ type: 'offer-setup', resume: record ?? null });
    });
  }
}

/**
 * Starts the join page in `root`: nothing happens on import. The live state is also on
 * `window.mutuaJoin` (the browser tests read it). Returns the controller.
 */
export function start(root: HTMLElement): JoinController {
  const page = new JoinController({ root, location, wasm: typeof WebAssembly === 'object' });
  // The training worker is not stopped here: the browser ends it with the page, and the
  // participant record stays "active" so that a refresh resumes the same participant.
  addEventListener('pagehide', () => page.hide());
  addEventListener('pageshow', (e) => {
    if (e.persisted) page.show();
  });
  void page.boot();
  return page;
}
