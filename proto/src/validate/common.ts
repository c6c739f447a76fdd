/** The result type every validator returns, and the helpers that build it. */
import { ProtocolError } from '../errors.ts';
import { mutua } from '../gen/mutua.js';
import { PayloadError } from '../prediction-codec.ts';

export type Validated<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export type LocalMetricsInit = mutua.v1.LocalMetrics.$Properties;

export function ok<T>(value: T): Validated<T> {
  return { ok: true, value };
}

export function err<T>(error: ProtocolError): Validated<T> {
  return { ok: false, error };
}

/** A PayloadError becomes BAD_SHAPE (PAYLOAD_BAD_SHAPE) or BAD_PAYLOAD, keeping its code as detail. */
export function payloadFailure(what: string, e: unknown): ProtocolError {
  if (e instanceof PayloadError) {
    const code =
      e.code === 'PAYLOAD_BAD_SHAPE'
        ? 'BAD_SHAPE'
        : e.code === 'PAYLOAD_DELTA_BASE'
          ? 'DELTA_BASE_UNKNOWN'
          : 'BAD_PAYLOAD';
    return new ProtocolError(code, `${what}: ${e.message}`, { detail: e.code, cause: e });
  }
  return new ProtocolError('INTERNAL', `${what}: could not be decoded (${String(e)})`, { cause: e });
}

export function describeEncoding(value: number | null | undefined): string {
  const name = mutua.v1.Encoding[value ?? 0] as string | undefined;
  return name === undefined ? `encoding ${value}` : `encoding ${value} (${name})`;
}
