/**
 * The public set on the wire: each set is compressed ONCE per process (gzip level 9 and
 * brotli quality 11, on libuv's thread pool, never per request) and the smallest
 * representation the client accepts is served (RFC 9110 12.5.3 Accept-Encoding).
 *
 * Measured on the MNIST test[0:2000] set (1,568,096 bytes raw): gzip -9 311,818 bytes,
 * brotli q11 266,486 (Fashion-MNIST test[0:2000]: 877,837 and 758,904). Brotli q11 costs
 * 15-30 s of CPU once on a loaded machine, so until it is ready a client that accepts br
 * gets gzip; gzip (about 1.5 s) is awaited by the first request. deflate is not offered:
 * it is gzip without the 18-byte header, and "deflate" has been ambiguous in practice.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export type ContentCoding = 'br' | 'gzip' | 'identity';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

interface Compressed {
  gzip: Promise<Uint8Array>;
  /** null until ready (or when brotli failed: gzip is served instead). */
  br: Uint8Array | null;
  brDone: Promise<void>;
}

export interface Representation {
  coding: ContentCoding;
  body: Uint8Array;
  /** Strong ETag of this representation: the set's sha256, suffixed by the coding. */
  etag: string;
}

/** Strong ETag of one representation of set `id`. */
export function etagFor(id: string, coding: ContentCoding): string {
  return coding === 'identity' ? `"${id}"` : `"${id}-${coding}"`;
}

/**
 * The codings a client accepts, by preference (q > 0), from an Accept-Encoding header.
 * No header: any coding is acceptable (RFC 9110), but we answer identity, as curl users expect.
 */
export function acceptedCodings(header: string | undefined): ContentCoding[] {
  if (header === undefined) return ['identity'];
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [first, ...params] = part.toLowerCase().split(';');
    const name = first?.trim();
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (Number.isFinite(weight)) q.set(name, Math.max(q.get(name) ?? 0, weight));
  }
  const star = q.get('*');
  const weightOf = (c: ContentCoding): number =>
    q.get(c) ?? (c === 'identity' ? (star ?? 0.001) : (star ?? 0));
  // Among equal weights, the smaller representation first.
  const order: ContentCoding[] = ['br', 'gzip', 'identity'];
  return order.filter((c) => weightOf(c) > 0).sort((a, b) => weightOf(b) - weightOf(a));
}

export class PublicSetEncodings {
  private readonly byId = new Map<string, Compressed>();

  /** Starts compressing `data` (idempotent); returns at once. */
  prepare(id: string, data: Uint8Array): void {
    this.compressed(id, data);
  }

  /** Resolves when every representation of `id` is ready (tests, benchmarks). */
  async ready(id: string, data: Uint8Array): Promise<void> {
    const c = this.compressed(id, data);
    await c.gzip;
    await c.brDone;
  }

  /** The representation to send for an Accept-Encoding header. */
  async choose(id: string, data: Uint8Array, acceptEncoding: string | undefined): Promise<Representation> {
    const c = this.compressed(id, data);
    for (const coding of acceptedCodings(acceptEncoding)) {
      if (coding === 'br' && c.br) return { coding, body: c.br, etag: etagFor(id, coding) };
      if (coding === 'gzip') return { coding, body: await c.gzip, etag: etagFor(id, coding) };
      if (coding === 'identity') break;
    }
    // identity: asked for, or the only thing left (a client that refuses identity too gets
    // it anyway; a 406 would help nobody with a file this size).
    return { coding: 'identity', body: data, etag: etagFor(id, 'identity') };
  }

  private compressed(id: string, data: Uint8Array): Compressed {
    let c = this.byId.get(id);
    if (c) return c;
    const gz = gzip(data, { level: 9 }).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    const entry: Compressed = { gzip: gz, br: null, brDone: Promise.resolve() };
    entry.brDone = brotli(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength,
      },
    }).then(
      (b) => {
        entry.br = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      },
      () => undefined,
    );
    c = entry;
    this.byId.set(id, c);
    return c;
  }
}
