/**
 * HTTP errors of the admin API. Every one has a stable code (MUTUA_ERR_*), in the
 * spirit of fastify's FST_ERR_*, so scripts can branch on it.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, 'MUTUA_ERR_NOT_FOUND', `${what} not found`);
export const badRequest = (message: string, code = 'MUTUA_ERR_BAD_REQUEST') =>
  new HttpError(400, code, message);
export const conflict = (message: string) => new HttpError(409, 'MUTUA_ERR_CONFLICT', message);

/** The JSON shape of every error response (also in the OpenAPI document). */
export const errorResponseSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['statusCode', 'code', 'message'],
} as const;
