/**
 * The dashboard's view of the coordinator's admin REST API, authenticated with the admin
 * token the operator typed in (kept in sessionStorage: gone when the tab closes, never in a
 * URL or in localStorage). The types are the server's own, from the schemas it validates
 * and documents with (@mutua/proto/rest): imported as types only, so nothing of TypeBox
 * reaches the browser bundle.
 */
import type {
  CreateFederationBody,
  FederationView,
  HttpErrorCode,
  IssuedToken,
  MetricView,
  ParticipantView,
  RoundView,
  StudentView,
  TokenView,
  TrafficView,
} from '@mutua/proto/rest';

export type Federation = FederationView;
export type Participant = ParticipantView;
export type Round = RoundView;
export type MetricRow = MetricView;
export type Traffic = TrafficView;
export type Student = StudentView;
export type JoinLink = IssuedToken;
/** A join link as listed: never its secret. */
export type JoinLinkRow = TokenView;

/**
 * A code of the server's HTTP error registry, fastify's own (FST_ERR_*, e.g. a malformed
 * body), or one of the dashboard's: the coordinator is unreachable, or answered without a code.
 */
export type ApiErrorCode = HttpErrorCode | `FST_ERR_${string}` | 'UNREACHABLE' | `HTTP_${number}`;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
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
  const json = (await res.json().catch(() => ({}))) as T & { code?: ApiErrorCode; message?: string };
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
  joinLinks: (id: string) => call<JoinLinkRow[]>('GET', `/v1/federations/${id}/tokens`),
  revokeJoinLink: (id: string, tokenId: string) =>
    call<void>('DELETE', `/v1/federations/${id}/tokens/${tokenId}`),
  deleteFederation: (id: string) => call<void>('DELETE', `/v1/federations/${id}`),
  /** The published global student, or null when there is none yet (MUTUA_ERR_NO_STUDENT). */
  student: (id: string) =>
    call<Student>('GET', `/v1/federations/${id}/student`).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'MUTUA_ERR_NO_STUDENT') return null;
      throw err;
    }),
  pause: (id: string) => call<Federation>('POST', `/v1/federations/${id}/pause`),
  resume: (id: string) => call<Federation>('POST', `/v1/federations/${id}/resume`),
  // The create form still builds its body from strings (dashboard/main.ts); the server validates it.
  createFederation: (body: CreateFederationBody | Record<string, unknown>) =>
    call<Federation>('POST', '/v1/federations', body),
};
