/**
 * Fetches a federation's public set over HTTP once and keeps it on disk, content-addressed
 * by its sha256: <cacheDir>/public-sets/<sha256>. The digest is checked on every read, so a
 * truncated or tampered file is fetched again rather than trusted. Writes go to a temporary
 * file renamed into place, so concurrent clients sharing a cache never see half a file.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchPublicSet } from '@mutua/core/session';

export interface PublicSetFetchEvent {
  url: string;
  sha256: string;
  bytes: number;
  /** True when the file came from the cache (no download). */
  cached: boolean;
  path: string;
}

export interface PublicSetCacheOptions {
  cacheDir: string;
  /** Called once per fetch that succeeded. */
  onFetched?: (event: PublicSetFetchEvent) => void;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function createPublicSetFetcher(options: PublicSetCacheOptions): FetchPublicSet {
  const dir = join(options.cacheDir, 'public-sets');
  const doFetch = options.fetch ?? fetch;
  return async (url, sha256) => {
    if (!SHA256_HEX.test(sha256)) throw new Error(`the public set's sha256 "${sha256}" is not 64 hex digits`);
    const path = join(dir, sha256);
    try {
      const cached = new Uint8Array(await readFile(path));
      if (sha256Hex(cached) === sha256) {
        options.onFetched?.({ url, sha256, bytes: cached.byteLength, cached: true, path });
        return cached;
      }
      await rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const res = await doFetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status} ${res.statusText}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const got = sha256Hex(bytes);
    if (got !== sha256) {
      throw new Error(`the public set from ${url} has sha256 ${got}, the coordinator announced ${sha256}`);
    }
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    options.onFetched?.({ url, sha256, bytes: bytes.byteLength, cached: false, path });
    return bytes;
  };
}
