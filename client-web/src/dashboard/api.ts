/**
 * The dashboard's view of the coordinator's admin REST API (server/src/routes/federations.ts),
 * authenticated with the admin token the operator typed in (kept in sessionStorage: gone
 * when the tab closes, never in a URL or in localStorage).
 */

export interface Federation {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'deleted';
  settings: Record<string, unknown> & {
    mode?: string;
    strategy?: string;
    task?: { inputShape: number[]; numClasses: number; labelNames: string[] };
  };
  publicSet: { id: string; sampleCount: number; shape: number[]; source: string } | null;
  currentRound: number;
  consensusVersion: number;
  participantsOnline: number;
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

export interface MetricRow {
  round: number;
  participantId: string;
  source: string;
  metrics: Record<string, number>;
  at: string;
}

export interface Traffic {
  bytesIn: number;
  bytesOut: number;
  participants: { id: string; name: string; bytesIn: number; bytesOut: number }[];
}

export interface JoinLink {
  id: string;
  token: string;
  joinUrl: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'mutua.adminToken';

export const adminToken = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${adminToken.get()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(
      0,
      'UNREACHABLE',
      `cannot reach the coordinator: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!res.ok)
    throw new ApiError(res.status, json.code ?? `HTTP_${res.status}`, json.message ?? res.statusText);
  return json;
}

export const api = {
  federations: () => call<Federation[]>('GET', '/v1/federations'),
  participants: (id: string) => call<Participant[]>('GET', `/v1/federations/${id}/participants`),
  rounds: (id: string, from = 0) =>
    call<Round[]>('GET', `/v1/federations/${id}/rounds?from=${from}&limit=1000`),
  metrics: (id: string, from = 0) => call<MetricRow[]>('GET', `/v1/federations/${id}/metrics?from=${from}`),
  traffic: (id: string) => call<Traffic>('GET', `/v1/federations/${id}/traffic`),
  createJoinLink: (id: string, label: string) =>
    call<JoinLink>('POST', `/v1/federations/${id}/tokens`, { label }),
  pause: (id: string) => call<Federation>('POST', `/v1/federations/${id}/pause`),
  resume: (id: string) => call<Federation>('POST', `/v1/federations/${id}/resume`),
  createFederation: (body: unknown) => call<Federation>('POST', '/v1/federations', body),
};
