/**
 * The coordinator's side of payload compression (PROTOCOL.md, "Payload compression"): Node's
 * synchronous zlib, byte-compatible with the browsers' CompressionStream('deflate-raw').
 * Inflating is capped at the length the payload's shape and encoding require, plus one byte
 * to tell "too long" from "exact": a decompression bomb costs at most that much memory.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { type CompressionName, inflateError } from '@mutua/proto';

/** `exact` false: at most `expected` bytes (a delta payload, whose length its row mask decides). */
export function inflatePayload(
  payload: Uint8Array,
  expected: number,
  how: CompressionName,
  exact = true,
): Uint8Array {
  if (how === 'none') return payload;
  let out: Buffer;
  try {
    out = inflateRawSync(payload, { maxOutputLength: expected + 1 });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw inflateError(`inflates to more than the ${expected} bytes its shape and encoding allow`);
    }
    throw inflateError(`is not a valid raw-deflate stream (${(e as Error).message})`);
  }
  if (out.length > expected || (exact && out.length !== expected)) {
    throw inflateError(`inflates to ${out.length} bytes, its shape and encoding need ${expected}`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function deflatePayload(payload: Uint8Array, how: CompressionName): Uint8Array {
  if (how === 'none') return payload;
  const out = deflateRawSync(payload);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
