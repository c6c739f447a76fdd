/**
 * The HTTP error registry: every error the coordinator's HTTP API answers with has a
 * stable code here, with its status, as the protocol's codes have their policy in
 * ../errors.ts. Routes throw by code; the status follows from this table, never from the
 * call site, and the OpenAPI document and clients read the same list.
 *
 * A condition the WebSocket protocol names too is not named twice: its HTTP code is
 * `MUTUA_ERR_` + the protocol's ErrorCode name (`BAD_TOKEN` → `MUTUA_ERR_BAD_TOKEN`), and
 * `protocol` says which one, so a client can treat both alike.
 *
 * A 400 about an uploaded file carries the parser's own code instead: core's DataErrorCode
 * (`DATA_*`, IDX and CSV) or this package's PublicSetErrorCode (`PUBLIC_SET_*`).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { ErrorCodeName } from '../errors.ts';
import type { PublicSetErrorCode } from '../public-set.ts';

export interface HttpErrorPolicy {
  readonly status: number;
  /** When a person sees it, and what to do. */
  readonly description: string;
  /** The protocol ErrorCode naming the same condition (the HTTP code is MUTUA_ERR_ + it). */
  readonly protocol?: ErrorCodeName;
}

export const HTTP_ERRORS = {
  MUTUA_ERR_BAD_REQUEST: {
    status: 400,
    description: 'the request cannot be carried out as asked (see message)',
  },
  MUTUA_ERR_VALIDATION: {
    status: 400,
    description: 'the request does not match the route schema; the message names what to fix',
  },
  MUTUA_ERR_BAD_SETTINGS: {
    status: 400,
    description: 'federation settings that are each valid but do not fit together (cross-field rules)',
  },
  MUTUA_ERR_UNAUTHORIZED: { status: 401, description: 'admin route without the admin token, or a wrong one' },
  MUTUA_ERR_BAD_TOKEN: {
    status: 401,
    description: 'the join token is unknown: ask the operator for a new join link',
    protocol: 'BAD_TOKEN',
  },
  MUTUA_ERR_TOKEN_REVOKED: {
    status: 401,
    description: 'the operator revoked the join token',
    protocol: 'TOKEN_REVOKED',
  },
  MUTUA_ERR_TOKEN_EXPIRED: { status: 401, description: 'the join token has expired' },
  MUTUA_ERR_ORIGIN_NOT_ALLOWED: {
    status: 403,
    description: "the WebSocket Origin is not in the coordinator's allow-list (--allowed-origins)",
  },
  MUTUA_ERR_METRICS_TOKEN: {
    status: 401,
    description: '/metrics is protected: send Authorization: Bearer <metrics token> (--metrics-token)',
  },
  MUTUA_ERR_NOT_FOUND: {
    status: 404,
    description: 'no such resource (or it was deleted, possibly while this request ran)',
  },
  MUTUA_ERR_NO_DEMO_DATA: { status: 404, description: 'the public set is not a built-in data set' },
  MUTUA_ERR_CONFLICT: { status: 409, description: 'the request conflicts with stored state' },
  MUTUA_ERR_NO_CONSENSUS: {
    status: 409,
    description:
      'the federation has no consensus with public-row targets yet: let participants run rounds first',
  },
  MUTUA_ERR_NOT_MUTUAL: {
    status: 409,
    description:
      'the route needs a mutual-distillation federation; a FedAvg federation has no prediction targets',
  },
  MUTUA_ERR_NO_STUDENT: {
    status: 404,
    description: 'no global student is published for this federation yet (mutua federation distill)',
  },
  MUTUA_ERR_BODY_TOO_LARGE: {
    status: 413,
    description: 'the request body is larger than this route accepts (uploads: --max-upload-bytes)',
  },
  MUTUA_ERR_RATE_LIMITED: {
    status: 429,
    description: 'too many requests from this address for this route; retry after Retry-After seconds',
    protocol: 'RATE_LIMITED',
  },
  MUTUA_ERR_INTERNAL: {
    status: 500,
    description: 'a fault of the coordinator (logged there); retry later',
    protocol: 'INTERNAL',
  },
  MUTUA_ERR_UNAVAILABLE: {
    status: 503,
    description: 'the database is unreachable or not migrated; retry later',
  },
  MUTUA_ERR_WEB_NOT_BUILT: { status: 503, description: 'the browser client is not built on this server' },
  MUTUA_ERR_TOO_MANY_CONNECTIONS: {
    status: 503,
    description:
      'the WebSocket connection caps are reached (globally, or for this address); retry after Retry-After seconds',
  },
} as const satisfies Record<`MUTUA_ERR_${string}`, HttpErrorPolicy>;

export type RegisteredHttpErrorCode = keyof typeof HTTP_ERRORS;

/** Codes of a malformed uploaded file (status 400): core's DataErrorCode and PublicSetErrorCode. */
export type DataFormatErrorCode = `DATA_${string}` | PublicSetErrorCode;

export type HttpErrorCode = RegisteredHttpErrorCode | DataFormatErrorCode;

export function isDataFormatErrorCode(code: string): code is DataFormatErrorCode {
  return /^(DATA|PUBLIC_SET)_[A-Z0-9_]+$/.test(code);
}

/** The HTTP status of a code (400 for a data-format code). */
export function httpStatusOf(code: HttpErrorCode): number {
  return code in HTTP_ERRORS ? HTTP_ERRORS[code as RegisteredHttpErrorCode].status : 400;
}

/** The HTTP code naming the same condition as a protocol ErrorCode, if the HTTP API has it. */
export function httpCodeOfProtocol(code: ErrorCodeName): RegisteredHttpErrorCode | undefined {
  const name = `MUTUA_ERR_${code}`;
  return name in HTTP_ERRORS && (HTTP_ERRORS as Record<string, HttpErrorPolicy>)[name]!.protocol === code
    ? (name as RegisteredHttpErrorCode)
    : undefined;
}

/** The JSON body of every error response (fastify's shape, with a stable code). */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'a code of the HTTP error registry (proto/src/rest/errors.ts)' }),
    error: Type.Optional(Type.String({ description: 'the HTTP reason phrase' })),
    message: Type.String({ description: 'what went wrong and what to do, for a person' }),
  },
  { $id: 'Error' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;
