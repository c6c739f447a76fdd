/**
 * The coordinator's admin REST API over node's fetch. Only the HTTP contract is assumed
 * (URLs, bodies, status codes, the `{ statusCode, code, message }` error shape), never the
 * server's modules. Every failure becomes a one-line CliError that names the problem.
 */
import { CliError } from './errors.ts';

export const DEFAULT_COORDINATOR = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 30_000;
/**
 * A GET that meets a coordinator replica dying behind a load balancer (a 502/503/504, or the
 * connection cut before the answer) is sent again after these pauses: reading twice is
 * harmless. Other methods are never repeated (the first attempt may have taken effect), nor
 * is a refused connection or an unknown host (nothing listens there: say so at once).
 */
export const GET_RETRY_DELAYS_MS = [250, 750, 1500];
const RETRY_STATUS = new Set([502, 503, 504]);
const RETRY_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Federation {
  id: string;
  name: string;
  status: string;
  settings: Record<string, unknown> & { mode?: string; strategy?: string };
  publicSet: { id: string; sampleCount: number; shape: number[]; source: string; url: string } | null;
  currentRound: number;
  consensusVersion: number;
  participantsOnline: number;
  createdAt: string;
}

export interface JoinToken {
  id: string;
  token?: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  joinUrl?: string;
}

export interface PublicSet {
  id: string;
  byteLength: number;
  sampleCount: number;
  shape: number[];
  format: string;
  source: string;
  url: string;
  createdAt: string;
}

export interface Participant {
  id: string;
  name: string;
  kind: string;
  modelArch: string;
  online: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
  bytesIn: number;
  bytesOut: number;
}

export interface Round {
  number: number;
  status: string;
  closeReason: string | null;
  batchSize: number;
  openedAt: string;
  closedAt: string | null;
  submissions: number;
  aggregationMs: number | null;
}

/** GET /v1/federations/:id/consensus-targets (proto/src/rest/student.ts). */
export interface ConsensusTargets {
  federationId: string;
  temperature: number;
  classes: number;
  rows: number;
  versions: { version: number; rows: number; contributors: number; createdAt: string }[];
  skippedVersions: number;
  indices: number[];
  /** rows×classes float32 little-endian, base64. */
  targets: string;
}

/** GET/PUT /v1/federations/:id/student (proto/src/rest/student.ts). */
export interface StudentView {
  federationId: string;
  info: Record<string, unknown>;
  sha256: string;
  weightBytes: number;
  modelJsonBytes: number;
  modelUrl: string;
  weightsUrl: string;
  uploadedAt: string;
}

export interface MetricRow {
  round: number;
  participantId: string;
  source: string;
  /** Numbers, and hasTestAccuracy as a boolean (proto/src/rest/rounds.ts). */
  metrics: Record<string, number | boolean>;
  at: string;
}

/** http://host:port without a trailing slash; ws(s):// and a trailing /v1/ws are accepted too. */
export function normaliseCoordinator(given: string): string {
  let url: URL;
  try {
    url = new URL(given.includes('://') ? given : `http://${given}`);
  } catch {
    throw new CliError(`--coordinator must be a URL like http://127.0.0.1:8080, got "${given}"`);
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`--coordinator must be an http(s):// URL, got "${given}"`);
  const path = url.pathname.replace(/\/v1\/ws\/?$/, '').replace(/\/+$/, '');
  return `${url.origin}${path}`;
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<T> {
    if (!this.token)
      throw new CliError(
        'no admin token: set MUTUA_ADMIN_TOKEN or pass --admin-token (mutua-server prints it at start)',
        'MUTUA_CLI_NO_TOKEN',
      );
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: BodyInit | undefined;
    if (raw) {
      headers['content-type'] = 'application/octet-stream';
      payload = new Uint8Array(raw);
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await this.send(method, path, () => ({
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }));
    const text = await res.text().catch(() => '');
    if (!res.ok) throw httpError(this.baseUrl, method, path, res.status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `${this.baseUrl} answered ${method} ${path} with something other than JSON: is it a Mutua coordinator?`,
        'MUTUA_CLI_NOT_A_COORDINATOR',
      );
    }
  }

  listFederations = () => this.request<Federation[]>('GET', '/v1/federations');
  getFederation = (id: string) => this.request<Federation>('GET', `/v1/federations/${enc(id)}`);
  createFederation = (body: unknown) => this.request<Federation>('POST', '/v1/federations', body);
  setFederationState = (id: string, action: 'pause' | 'resume') =>
    this.request<Federation>('POST', `/v1/federations/${enc(id)}/${action}`);
  deleteFederation = (id: string) => this.request<void>('DELETE', `/v1/federations/${enc(id)}`);

  createToken = (id: string, body: { label?: string; expiresInSeconds?: number }) =>
    this.request<JoinToken>('POST', `/v1/federations/${enc(id)}/tokens`, body);
  listTokens = (id: string) => this.request<JoinToken[]>('GET', `/v1/federations/${enc(id)}/tokens`);
  revokeToken = (id: string, tokenId: string) =>
    this.request<void>('DELETE', `/v1/federations/${enc(id)}/tokens/${enc(tokenId)}`);

  listPublicSets = () => this.request<PublicSet[]>('GET', '/v1/public-sets');
  uploadPublicSet = (bytes: Uint8Array, query: Record<string, string>) =>
    this.request<PublicSet>('PUT', `/v1/public-sets?${new URLSearchParams(query)}`, undefined, bytes);

  participants = (id: string) =>
    this.request<Participant[]>('GET', `/v1/federations/${enc(id)}/participants`);
  rounds = (id: string, from?: number, limit?: number) =>
    this.request<Round[]>('GET', `/v1/federations/${enc(id)}/rounds${query({ from, limit })}`);
  metrics = (id: string, from?: number) =>
    this.request<MetricRow[]>('GET', `/v1/federations/${enc(id)}/metrics${query({ from })}`);

  consensusTargets = (id: string, versions: number) =>
    this.request<ConsensusTargets>(
      'GET',
      `/v1/federations/${enc(id)}/consensus-targets${query({ versions })}`,
    );
  uploadStudent = (id: string, body: unknown) =>
    this.request<StudentView>('PUT', `/v1/federations/${enc(id)}/student`, body);

  /** The bytes at `path` (a public set: no token needed; fetch undoes gzip/br). */
  async download(path: string): Promise<Uint8Array> {
    const res = await this.send('GET', path, () => ({ signal: AbortSignal.timeout(TIMEOUT_MS * 4) }));
    if (!res.ok) throw httpError(this.baseUrl, 'GET', path, res.status, await res.text().catch(() => ''));
    return new Uint8Array(await res.arrayBuffer());
  }

  /** fetch, with a GET sent again while it meets a dying replica (GET_RETRY_DELAYS_MS). */
  private async send(method: string, path: string, init: () => RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const again = method === 'GET' && attempt < GET_RETRY_DELAYS_MS.length;
      try {
        const res = await fetch(`${this.baseUrl}${path}`, init());
        if (!again || !RETRY_STATUS.has(res.status)) return res;
        await res.body?.cancel().catch(() => undefined);
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
        if (!again || !RETRY_ERRORS.has(code)) throw unreachable(this.baseUrl, err);
      }
      await sleep(GET_RETRY_DELAYS_MS[attempt]!);
    }
  }

  /**
   * A federation by id, or else by its exact name when exactly one live federation has it,
   * so `mutua rounds demo` works as well as `mutua rounds 0193…`.
   */
  async resolveFederation(ref: string): Promise<Federation> {
    try {
      return await this.getFederation(ref);
    } catch (err) {
      if (!(err instanceof CliError) || err.code !== 'MUTUA_ERR_NOT_FOUND') throw err;
    }
    const named = (await this.listFederations()).filter((f) => f.name === ref && f.status !== 'deleted');
    if (named.length === 1) return named[0]!;
    if (named.length > 1)
      throw new CliError(
        `${named.length} federations are named "${ref}" (${named.map((f) => f.id).join(', ')}): give the id`,
        'MUTUA_CLI_AMBIGUOUS',
      );
    throw new CliError(
      `federation "${ref}" not found (no federation has this id or name; see mutua federation list)`,
      'MUTUA_ERR_NOT_FOUND',
    );
  }
}

const enc = encodeURIComponent;

function query(params: Record<string, number | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined) as [string, number][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
}

/** fetch() rejects with a TypeError whose cause carries the system error (ECONNREFUSED, ENOTFOUND…). */
function unreachable(baseUrl: string, err: unknown): CliError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError')
    return new CliError(
      `the coordinator at ${baseUrl} did not answer within ${TIMEOUT_MS / 1000} s`,
      'ETIMEDOUT',
    );
  const code = e.cause?.code ?? '';
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND'
        ? 'unknown host'
        : (e.cause?.message ?? e.message);
  return new CliError(
    `cannot reach the coordinator at ${baseUrl} (${why}): is mutua-server running there? (--coordinator / MUTUA_COORDINATOR)`,
    code || 'MUTUA_CLI_UNREACHABLE',
  );
}

function httpError(baseUrl: string, method: string, path: string, status: number, text: string): CliError {
  let body: { code?: string; message?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not our error shape (a proxy, another server): report the status alone.
  }
  const code = body.code ?? `HTTP_${status}`;
  if (status === 401)
    return new CliError(
      `the coordinator at ${baseUrl} refused the admin token: ${body.message ?? 'unauthorized'} (check MUTUA_ADMIN_TOKEN / --admin-token)`,
      code,
    );
  // Every path this client asks for is a coordinator route, so a 404 that names the route
  // itself ("route GET /x/v1/... not found") means the base URL is not a coordinator's.
  const noRoute = status === 404 && /^route \S+ \S+ not found/.test(body.message ?? '');
  // The coordinator's errors carry a code (MUTUA_ERR_*, DATA_*); a body without one is another server's.
  if (body.code && body.message && !noRoute) return new CliError(`${body.message} (${code})`, code);
  return new CliError(
    `${baseUrl} answered ${status} to ${method} ${path}: is it a Mutua coordinator? (--coordinator / MUTUA_COORDINATOR)`,
    code,
  );
}
