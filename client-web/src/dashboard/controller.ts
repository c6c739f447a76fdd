/**
 * The dashboard's effects: signing in with the admin token (kept in sessionStorage), the
 * REST calls (api.ts), live updates while the page is shown and signed in — fetched again
 * as soon as the coordinator's event stream (GET /v1/events, live-stream.ts) reports a
 * change, with a slow poll beside it for what has no event (traffic, last seen), and a
 * 1.5 s poll whenever the stream is down (incrementally where the API allows) — and the operator's commands (create a federation or a join
 * link, list and revoke join links, pause, resume, delete). Everything that comes back becomes an action for the reducer
 * (state.ts); the view (view.ts) draws the state.
 */
import { ApiError, adminToken, api } from './api.ts';
import { LiveStream } from './live-stream.ts';
import { eventConcerns } from './sse.ts';
import {
  type DashboardAction,
  type DashboardState,
  initialDashboardState,
  reduceDashboard,
  roundsFrom,
} from './state.ts';
import { DashboardView } from './view.ts';
import { type NewFederationForm, newFederationRequest } from './words.ts';

/** Without the event stream: every change is seen within this. */
const POLL_MS = 1500;
/** With the stream: changes come as events; this picks up traffic and last-seen times. */
const LIVE_POLL_MS = 10_000;
/** An event fetches again this soon (a burst of events becomes one fetch). */
const EVENT_DELAY_MS = 150;
/** The stream is opened again this long after it ended. */
const STREAM_RETRY_MS = 5000;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class DashboardController {
  private state = initialDashboardState();
  private readonly view: DashboardView;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  /** The page is shown (false after pagehide, until pageshow). */
  private shown = true;
  private stream: LiveStream | null = null;
  private streamRetry: ReturnType<typeof setTimeout> | null = null;
  /** A poll is running; `again` asks for another right after it (an event came meanwhile). */
  private polling = false;
  private again = false;

  constructor(root: HTMLElement) {
    this.view = new DashboardView(root, {
      signIn: (token) => {
        adminToken.set(token);
        void this.open();
      },
      signOut: () => {
        adminToken.clear();
        this.stopPolling();
        this.closeStream();
        this.dispatch({ type: 'signed-out' });
      },
      select: (id) => this.select(id),
      createFederation: (form) => void this.createFederation(form),
      createJoinLink: (id) => void this.createJoinLink(id),
      pauseOrResume: (id) => void this.pauseOrResume(id),
      deleteFederation: (id) => void this.deleteFederation(id),
      revokeJoinLink: (id, tokenId) => void this.revokeJoinLink(id, tokenId),
      timelinePage: (page) => this.dispatch({ type: 'timeline-page', page }),
    });
  }

  get current(): DashboardState {
    return this.state;
  }

  /** Signs in with the stored token if there is one, else shows the sign-in form. */
  boot(): void {
    if (adminToken.get()) void this.open();
    else this.dispatch({ type: 'signed-out' });
  }

  /** The page is going away or into the back-forward cache: no timer outlives it. */
  hide(): void {
    this.shown = false;
    this.stopPolling();
    this.closeStream();
  }

  show(): void {
    this.shown = true;
    if (this.state.signedIn) {
      this.schedulePoll();
      this.openStream();
    }
  }

  private dispatch(action: DashboardAction): void {
    this.state = reduceDashboard(this.state, action);
    (window as unknown as { mutuaDashboard: DashboardState }).mutuaDashboard = this.state;
    this.view.render(this.state);
  }

  private async open(): Promise<void> {
    let federations: Awaited<ReturnType<typeof api.federations>>;
    try {
      federations = await api.federations();
    } catch (err) {
      const refused = err instanceof ApiError && err.status === 401;
      if (refused) adminToken.clear();
      this.dispatch({
        type: 'signed-out',
        message: refused ? `The coordinator refused that admin token (${err.message}).` : message(err),
      });
      return;
    }
    const wanted = new URLSearchParams(location.hash.slice(1)).get('federation');
    this.dispatch({ type: 'signed-in', federations, wanted });
    this.afterSelect();
    this.schedulePoll();
    this.openStream();
  }

  private select(id: string): void {
    this.dispatch({ type: 'select', id });
    this.afterSelect();
  }

  /** The selection goes into the URL (a reload comes back to it) and its data is fetched now. */
  private afterSelect(): void {
    const id = this.state.federationId;
    history.replaceState(null, '', id ? `#federation=${id}` : location.pathname);
    if (!id) return;
    this.refreshSelected().catch(() => undefined);
  }

  private async refreshSelected(): Promise<void> {
    const { session, federationId: id, metricsFrom } = this.state;
    if (!id) return;
    const [participants, rounds, metrics, traffic, links, student] = await Promise.all([
      api.participants(id),
      api.rounds(id, roundsFrom(this.state)),
      api.metrics(id, metricsFrom),
      api.traffic(id),
      api.joinLinks(id),
      api.student(id),
    ]);
    this.dispatch({ type: 'join-links', session, federationId: id, links });
    this.dispatch({ type: 'student', session, federationId: id, student });
    this.dispatch({
      type: 'refreshed',
      session,
      federationId: id,
      participants,
      rounds,
      metrics,
      traffic,
      at: Date.now(),
    });
  }

  private schedulePoll(): void {
    this.stopPolling();
    if (!this.shown || !this.state.signedIn) return;
    const session = this.state.session;
    this.pollTimer = setTimeout(() => void this.poll(session), this.state.live ? LIVE_POLL_MS : POLL_MS);
  }

  /** Soon, rather than at the next tick of the poll (an event said something changed). */
  private pollSoon(): void {
    if (this.polling) {
      this.again = true;
      return;
    }
    this.stopPolling();
    const session = this.state.session;
    this.pollTimer = setTimeout(() => void this.poll(session), EVENT_DELAY_MS);
  }

  private openStream(): void {
    if (this.stream || !this.shown || !this.state.signedIn) return;
    if (this.streamRetry) clearTimeout(this.streamRetry);
    this.streamRetry = null;
    const session = this.state.session;
    const stream = new LiveStream({
      message: (m) => {
        if (session !== this.state.session) return;
        if (m.event === 'ready') this.dispatch({ type: 'live', session, live: true });
        else if (eventConcerns(m, this.state.federationId)) this.pollSoon();
      },
      end: (status) => {
        if (this.stream === stream) this.stream = null;
        this.dispatch({ type: 'live', session, live: false });
        if (status === 401) {
          if (session === this.state.session) adminToken.clear();
          this.dispatch({ type: 'unauthorized', session });
          return;
        }
        // Back to the fast poll now; the stream is tried again a little later.
        if (session !== this.state.session || !this.shown || !this.state.signedIn) return;
        if (!this.polling) this.schedulePoll();
        this.streamRetry = setTimeout(() => this.openStream(), STREAM_RETRY_MS);
      },
    });
    this.stream = stream;
  }

  private closeStream(): void {
    if (this.streamRetry) clearTimeout(this.streamRetry);
    this.streamRetry = null;
    const stream = this.stream;
    this.stream = null;
    stream?.close();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private async poll(session: number): Promise<void> {
    this.pollTimer = null;
    this.polling = true;
    this.again = false;
    try {
      this.dispatch({ type: 'federations', session, federations: await api.federations() });
      if (session === this.state.session) await this.refreshSelected();
      this.dispatch({ type: 'poll-ok', session });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        if (session === this.state.session) {
          adminToken.clear();
          this.closeStream();
        }
        this.dispatch({ type: 'unauthorized', session });
      } else {
        this.dispatch({ type: 'poll-failed', session, message: message(err) });
      }
    }
    this.polling = false;
    // Signed out (or in again) meanwhile: that session's polling ended with it.
    if (session !== this.state.session || this.pollTimer) return;
    if (this.again) this.pollSoon();
    else this.schedulePoll();
  }

  private async createFederation(form: NewFederationForm): Promise<void> {
    const body = newFederationRequest(form);
    if (typeof body === 'string') {
      this.dispatch({ type: 'failed', message: body });
      return;
    }
    try {
      const f = await api.createFederation(body);
      const session = this.state.session;
      this.dispatch({ type: 'federations', session, federations: await api.federations() });
      this.view.resetNewFederationForm();
      this.dispatch({ type: 'notice', text: `Created the federation "${f.name}".` });
      this.select(f.id);
    } catch (err) {
      this.dispatch({ type: 'failed', message: `Could not create the federation: ${message(err)}` });
    }
  }

  private async createJoinLink(federationId: string): Promise<void> {
    try {
      const link = await api.createJoinLink(federationId, 'dashboard');
      if (federationId === this.state.federationId) {
        this.dispatch({ type: 'join-link', url: new URL(link.joinUrl, location.origin).href });
        await this.refreshJoinLinks(federationId);
      }
    } catch (err) {
      this.dispatch({ type: 'failed', message: `Could not create a join link: ${message(err)}` });
    }
  }

  private async refreshJoinLinks(federationId: string): Promise<void> {
    const session = this.state.session;
    const links = await api.joinLinks(federationId);
    this.dispatch({ type: 'join-links', session, federationId, links });
  }

  /** Revoking admits nobody more with that link and disconnects whom it admitted. */
  private async revokeJoinLink(federationId: string, tokenId: string): Promise<void> {
    try {
      await api.revokeJoinLink(federationId, tokenId);
      await this.refreshJoinLinks(federationId);
    } catch (err) {
      this.dispatch({ type: 'failed', message: `Could not revoke the join link: ${message(err)}` });
    }
  }

  /** The view asked the operator to confirm first. */
  private async deleteFederation(federationId: string): Promise<void> {
    const f = this.state.federations.find((x) => x.id === federationId);
    if (!f) return;
    try {
      await api.deleteFederation(federationId);
      const session = this.state.session;
      this.dispatch({
        type: 'deleted',
        session,
        id: f.id,
        name: f.name,
        federations: await api.federations(),
      });
      this.afterSelect();
    } catch (err) {
      this.dispatch({ type: 'failed', message: `Could not delete the federation: ${message(err)}` });
    }
  }

  private async pauseOrResume(federationId: string): Promise<void> {
    const f = this.state.federations.find((x) => x.id === federationId);
    if (!f) return;
    try {
      if (f.status === 'paused') await api.resume(f.id);
      else await api.pause(f.id);
      const session = this.state.session;
      this.dispatch({ type: 'federations', session, federations: await api.federations() });
    } catch (err) {
      this.dispatch({ type: 'failed', message: message(err) });
    }
  }
}

/** Starts the dashboard in `root`: nothing happens on import. Returns the controller. */
export function start(root: HTMLElement): DashboardController {
  const page = new DashboardController(root);
  addEventListener('pagehide', () => page.hide());
  addEventListener('pageshow', (e) => {
    if (e.persisted) page.show();
  });
  page.boot();
  return page;
}
