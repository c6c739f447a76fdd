/**
 * HTTP errors of the coordinator's API. Codes and statuses come from the registry in
 * @mutua/proto/rest (HTTP_ERRORS), so a route names the condition and the status follows;
 * `toHttpError` maps what lower layers throw (persistence, settings, data parsers) to it,
 * so that, e.g., a row deleted under a running request is a 404 and never a 500.
 */
import { ProtocolError } from '@mutua/proto';
import {
  type ErrorResponse,
  type HttpErrorCode,
  httpCodeOfProtocol,
  httpStatusOf,
  isDataFormatErrorCode,
  type RegisteredHttpErrorCode,
} from '@mutua/proto/rest';
import { DbError, type DbErrorCode } from './db/index.ts';
import { SettingsError } from './engine/settings.ts';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.statusCode = httpStatusOf(code);
  }

  /** The JSON body sent for this error. */
  body(): ErrorResponse {
    return {
      statusCode: this.statusCode,
      code: this.code,
      error: reasonPhrase(this.statusCode),
      message: this.message,
    };
  }
}

export const notFound = (what: string) => new HttpError('MUTUA_ERR_NOT_FOUND', `${what} not found`);
export const badRequest = (message: string) => new HttpError('MUTUA_ERR_BAD_REQUEST', message);

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
export const reasonPhrase = (status: number) =>
  REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Bad Request');

/** How each persistence failure reaches an HTTP client. */
const DB_ERRORS: Record<DbErrorCode, RegisteredHttpErrorCode> = {
  // The row is gone: deleted, possibly by another request while this one ran.
  MUTUA_ERR_DB_NOT_FOUND: 'MUTUA_ERR_NOT_FOUND',
  MUTUA_ERR_DB_CONFLICT: 'MUTUA_ERR_CONFLICT',
  MUTUA_ERR_DB_INVALID: 'MUTUA_ERR_BAD_REQUEST',
  MUTUA_ERR_DB_CONFIG: 'MUTUA_ERR_UNAVAILABLE',
  MUTUA_ERR_DB_MIGRATION: 'MUTUA_ERR_UNAVAILABLE',
};

/**
 * The HttpError for an error thrown while serving a request, or null when it is a fault
 * of the coordinator (answered 500, logged). Fastify's own client errors (bad JSON, body
 * too large, unsupported media type …) keep their status and FST_ERR_* code.
 */
export function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof DbError) {
    const code = DB_ERRORS[err.code];
    // Storage being down is not the client's fault, but not a bug either: no stack in the body, a 503.
    return new HttpError(
      code,
      code === 'MUTUA_ERR_UNAVAILABLE' ? 'the database is unavailable' : err.message,
      {
        cause: err,
      },
    );
  }
  if (err instanceof SettingsError)
    return new HttpError('MUTUA_ERR_BAD_SETTINGS', err.message, { cause: err });
  if (err instanceof ProtocolError) {
    const code = httpCodeOfProtocol(err.code);
    if (code) return new HttpError(code, err.message, { cause: err });
  }
  if (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'string' &&
    isDataFormatErrorCode(err.code)
  ) {
    return new HttpError(err.code, err.message, { cause: err });
  }
  return null;
}
