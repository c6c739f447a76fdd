/**
 * The coordinator as the harness runs it: `server/bin/mutua-server.js` on port 0 with an
 * embedded database in a temp data dir, its address read from the "listening on" line,
 * and a small client for the admin REST API.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, type ProcessGroup, waitForLine } from './processes.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_BIN = join(REPO_ROOT, 'server/bin/mutua-server.js');

/** Variables the coordinator reads: never inherited from the shell that runs the harness. */
const CONFIG_ENV = /^(PORT|HOST|DATABASE_URL|LOG_LEVEL|MUTUA_.*|NODE_TEST_CONTEXT|NODE_OPTIONS)$/;

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!CONFIG_ENV.test(k)) out[k] = v;
  return { ...out, ...extra };
}

export interface ParticipantTrust {
  name: string;
  trust: number | null;
  flagged: boolean;
  flagReason: string | null;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Traffic {
  bytesIn: number;
  bytesOut: number;
  participants: { id: string; name: string; bytesIn: number; bytesOut: number }[];
}

export interface RoundRow {
  number: number;
  status: string;
  submissions: number;
  openedAt: string;
  closedAt: string | null;
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: BodyInit | undefined;
    if (raw) {
      headers['content-type'] = 'application/octet-stream';
      payload = new Uint8Array(raw); // a copy on an ArrayBuffer, which fetch accepts as a body
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload });
    const text = await res.text();
    if (!res.ok) throw new AdminError(res.status, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  uploadPublicSet(
    bytes: Uint8Array,
    name: string,
  ): Promise<{ id: string; byteLength: number; sampleCount: number }> {
    return this.request(
      'PUT',
      `/v1/public-sets?format=mutua-public-v1&name=${encodeURIComponent(name)}`,
      undefined,
      bytes,
    );
  }

  createFederation(body: {
    name: string;
    publicSetId: string;
    settings: Record<string, unknown>;
  }): Promise<{ id: string; settings: Record<string, unknown> }> {
    return this.request('POST', '/v1/federations', body);
  }

  async createToken(federationId: string, label: string): Promise<string> {
    const r = await this.request<{ token: string }>('POST', `/v1/federations/${federationId}/tokens`, {
      label,
    });
    return r.token;
  }

  traffic(federationId: string): Promise<Traffic> {
    return this.request('GET', `/v1/federations/${federationId}/traffic`);
  }

  /** Its participants with the trust weight and flag of aggregation 'agreement'. */
  participants(federationId: string): Promise<ParticipantTrust[]> {
    return this.request('GET', `/v1/federations/${federationId}/participants`);
  }

  /** currentRound is the open round (sync) or the newest version (async). */
  federation(
    federationId: string,
  ): Promise<{ id: string; currentRound: number; participantsOnline: number }> {
    return this.request('GET', `/v1/federations/${federationId}`);
  }

  rounds(federationId: string): Promise<RoundRow[]> {
    return this.request('GET', `/v1/federations/${federationId}/rounds?limit=10000`);
  }

  /**
   * Public-set body bytes the coordinator has sent, every content coding together
   * (`mutua_public_set_bytes_sent_total` on /metrics): what the participants' downloads
   * really cost on the wire (brotli or gzip as they accept; none when a cache answered).
   */
  async publicSetBytesSent(): Promise<number> {
    const res = await fetch(`${this.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!res.ok) throw new AdminError(res.status, `GET /metrics: ${res.status}`);
    return publicSetBytesFromMetrics(await res.text());
  }

  /** Soft-deletes the federation: its participants are disconnected. */
  deleteFederation(federationId: string): Promise<void> {
    return this.request('DELETE', `/v1/federations/${federationId}`);
  }
}

export interface Coordinator {
  url: string;
  wsUrl: string;
  admin: AdminClient;
  child: Child;
}

export async function startCoordinator(
  group: ProcessGroup,
  dataDir: string,
  options: { logFile?: string; startTimeoutMs?: number } = {},
): Promise<Coordinator> {
  const token = randomBytes(24).toString('base64url');
  const child = group.spawn(
    'coordinator',
    process.execPath,
    [
      SERVER_BIN,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--admin-token',
      token,
      // Ten participants training on two cores can keep an event loop busy for seconds;
      // a generous heartbeat keeps the simulation about learning, not about timeouts.
      '--heartbeat-ms',
      '60000',
    ],
    { cwd: REPO_ROOT, env: cleanEnv({ LOG_LEVEL: 'warn' }), logFile: options.logFile },
  );
  const m = await waitForLine(
    child,
    /mutua-server listening on (http:\/\/\S+)/,
    options.startTimeoutMs ?? 60_000,
  );
  const url = m[1]!;
  return { url, wsUrl: `${url.replace(/^http/, 'ws')}/v1/ws`, admin: new AdminClient(url, token), child };
}

/** Sums `mutua_public_set_bytes_sent_total` over its labels in a Prometheus text exposition. */
export function publicSetBytesFromMetrics(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^mutua_public_set_bytes_sent_total(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$/.exec(line);
    if (m) total += Number(m[1]);
  }
  return total;
}
