/**
 * Payload compression: a byte-level wrapper around any prediction encoding's payload.
 *
 * 'deflate-raw' is RFC 1951 deflate with no zlib or gzip header (what the browsers'
 * CompressionStream('deflate-raw') and Node's zlib.deflateRawSync produce). The receiver knows
 * the exact length the inflated payload must have (predictionByteLength of the message's
 * shape and encoding), so it inflates AT MOST that many bytes plus one and refuses anything
 * else: a decompression bomb costs it the cap, never more (PAYLOAD_INFLATE).
 *
 * This module holds the isomorphic, asynchronous implementation over the Compression Streams
 * API (browsers, Node >= 18). The coordinator uses Node's synchronous zlib instead
 * (server/src/ws/payload-compression.ts); both produce and accept the same bytes.
 */
import { PayloadError } from './types.ts';

export type CompressionName = 'none' | 'deflate-raw';
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'deflate-raw'];

/**
 * The compression a participant uses: the first of the federation's preferences that the
 * participant supports; 'none' when there is none in common (every peer can do 'none').
 */
export function negotiateCompression(
  preferred: readonly CompressionName[],
  supported: readonly CompressionName[],
): CompressionName {
  return preferred.find((c) => c === 'none' || supported.includes(c)) ?? 'none';
}

/** Raw-deflates `bytes` with the Compression Streams API. */
export async function deflateRawAsync(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Inflates raw-deflate `bytes` that must come to exactly `expected` bytes (`exact` false: at
 * most, for delta payloads); stops reading as soon as the output passes `expected`
 * (PAYLOAD_INFLATE), so a bomb costs at most one chunk more than the cap.
 */
export async function inflateRawAsync(
  bytes: Uint8Array,
  expected: number,
  exact = true,
): Promise<Uint8Array> {
  const out = new Uint8Array(expected);
  let length = 0;
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate-raw'))
    .getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.length > expected) {
        throw inflateError(`inflates to more than the ${expected} bytes its shape and encoding allow`);
      }
      out.set(value, length);
      length += value.length;
    }
  } catch (e) {
    if (e instanceof PayloadError) throw e;
    throw inflateError(`is not a valid raw-deflate stream (${(e as Error).message})`);
  } finally {
    reader.cancel().catch(() => {});
  }
  if (exact && length !== expected)
    throw inflateError(`inflates to ${length} bytes, its shape and encoding need ${expected}`);
  return length === expected ? out : out.slice(0, length);
}

export function inflateError(what: string): PayloadError {
  return new PayloadError('PAYLOAD_INFLATE', `the compressed payload ${what}`);
}
