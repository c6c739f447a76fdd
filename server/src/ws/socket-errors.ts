/**
 * What the coordinator does with an error emitted on an established WebSocket. `ws` emits
 * one whenever a peer breaks the framing — a frame above maxPayload, a bad opcode, invalid
 * UTF-8 in a close reason, an unmasked frame — and then closes the socket itself (1009,
 * 1002, 1007 …). Those are the peer's doing: logged at debug, never at error level with a
 * stack trace (the @fastify/websocket default), which let any unauthenticated socket fill
 * the error log (issue 10, item 10; found by `npm run fuzz`). Anything else (a bug in a
 * handler) stays an error.
 */
import type { FastifyBaseLogger } from 'fastify';

/** ws's own error codes (WS_ERR_INVALID_OPCODE, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, …). */
export function isPeerFramingError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('WS_ERR_');
}

/** ECONNRESET / EPIPE: the peer went away mid-write; nothing the coordinator did wrong. */
function isDisconnect(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

export function socketErrorHandler(
  error: Error,
  socket: { terminate(): void },
  request: { log: FastifyBaseLogger },
): void {
  if (isPeerFramingError(error) || isDisconnect(error))
    request.log.debug(
      { code: (error as { code?: string }).code, reason: error.message },
      'websocket closed by a peer error',
    );
  else request.log.error(error);
  socket.terminate();
}
