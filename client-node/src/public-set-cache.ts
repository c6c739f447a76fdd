/**
 * Fetches a federation's public set over HTTP at most once and keeps it on disk,
 * content-addressed by its sha256: <cacheDir>/public-sets/<sha256>. The Welcome names the
 * sha256 before any download, so a participant that already holds the set — in its cache
 * from an earlier run or federation, or shipped with the application (--public-set-file) —
 * never downloads it. The digest is checked on every read: a truncated or tampered file is
 * reported, removed and fetched again rather than trusted. Writes go to a temporary file
 * renamed into place, so concurrent clients sharing a cache never see half a file.
 *
 * The download asks for br/gzip (fetch decodes it); `wireBytes` is what travelled.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchPublicSet } from '@mutua/core/session';

export interface PublicSetFetchEvent {
  url: string;
  sha256: string;
  bytes: number;
  /** Where it came from: the cache, a --public-set-file, or the coordinator. */
  source: 'cache' | 'file' | 'download';
  /** True when no download was needed. */
  cached: boolean;
  path: string;
  /** Bytes on the wire for a download (Content-Length of the encoded body); 0 otherwise. */
  wireBytes: number;
  /** The download's Content-Encoding ('identity' when none); '' without a download. */
  contentEncoding: string;
}

export interface PublicSetCacheOptions {
  cacheDir: string;
  /** Public-set files shipped with the application: used (and cached) when one has the announced sha256. */
  files?: readonly string[];
  /** Called once per fetch that succeeded. */
  onFetched?: (event: PublicSetFetchEvent) => void;
  /** A cached file did not hash to its name and is being downloaded again. */
  onCorrupt?: (info: { path: string; sha256: string; got: string }) => void;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writeAtomically(dir: string, path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

export function createPublicSetFetcher(options: PublicSetCacheOptions): FetchPublicSet {
  const dir = join(options.cacheDir, 'public-sets');
  const doFetch = options.fetch ?? fetch;
  /** sha256 of each --public-set-file, computed once. */
  let shipped: Promise<Map<string, string>> | null = null;
  const shippedFiles = () => {
    shipped ??= Promise.all(
      (options.files ?? []).map(async (f) => {
        const bytes = await readIfExists(f);
        return [bytes ? sha256Hex(bytes) : '', f] as const;
      }),
    ).then((pairs) => new Map(pairs.filter(([h]) => h !== '')));
    return shipped;
  };
  const done = (event: Omit<PublicSetFetchEvent, 'cached'>, bytes: Uint8Array) => {
    options.onFetched?.({ ...event, cached: event.source !== 'download' });
    return bytes;
  };

  return async (url, sha256) => {
    if (!SHA256_HEX.test(sha256)) throw new Error(`the public set's sha256 "${sha256}" is not 64 hex digits`);
    const path = join(dir, sha256);
    const none = { url, sha256, wireBytes: 0, contentEncoding: '' };
    const cached = await readIfExists(path);
    if (cached) {
      const got = sha256Hex(cached);
      if (got === sha256) return done({ ...none, bytes: cached.byteLength, source: 'cache', path }, cached);
      options.onCorrupt?.({ path, sha256, got });
      await rm(path, { force: true });
    }
    const file = (await shippedFiles()).get(sha256);
    const fromFile = file ? await readIfExists(file) : null;
    if (file && fromFile && sha256Hex(fromFile) === sha256) {
      await writeAtomically(dir, path, fromFile);
      return done({ ...none, bytes: fromFile.byteLength, source: 'file', path: file }, fromFile);
    }
    const res = await doFetch(url, { headers: { 'accept-encoding': 'br, gzip' } });
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status} ${res.statusText}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const got = sha256Hex(bytes);
    if (got !== sha256) {
      throw new Error(`the public set from ${url} has sha256 ${got}, the coordinator announced ${sha256}`);
    }
    await writeAtomically(dir, path, bytes);
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    return done(
      {
        url,
        sha256,
        bytes: bytes.byteLength,
        source: 'download',
        path,
        wireBytes: Number.isFinite(length) ? length : bytes.byteLength,
        contentEncoding: res.headers.get('content-encoding') ?? 'identity',
      },
      bytes,
    );
  };
}
