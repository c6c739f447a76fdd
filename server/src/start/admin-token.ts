/**
 * Which admin token the coordinator accepts, decided once at start:
 * - configured (--admin-token / MUTUA_ADMIN_TOKEN): that one; nothing is stored;
 * - otherwise the one whose SHA-256 is stored in `<data dir>/admin-token.sha256`, so the
 *   dashboard and scripts stay signed in across restarts;
 * - otherwise (first start) a new one, minted by the tokens module like every other token,
 *   printed once and stored only as its hash;
 * - `--rotate-admin-token` mints and stores a new one in place of the stored one.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken, hashToken } from '../db/token-hash.ts';
import { StartError } from './start-error.ts';

export const ADMIN_TOKEN_FILE = 'admin-token.sha256';

export interface AdminTokenChoice {
  /** Lowercase hex SHA-256 of the accepted token. */
  hash: string;
  /** Set when the token was minted now: show it once, it is not kept anywhere in clear. */
  minted?: string;
  source: 'configured' | 'stored' | 'minted' | 'rotated';
  /** The hash file (stored, minted, rotated). */
  file?: string;
}

function readStored(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StartError('MUTUA_ERR_ADMIN_TOKEN', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const m = /^sha256:([0-9a-f]{64})\s*$/.exec(text);
  if (!m)
    throw new StartError(
      'MUTUA_ERR_ADMIN_TOKEN',
      `${file} is not an admin token hash (expected "sha256:<64 hex digits>"): delete it or run mutua-server --rotate-admin-token`,
    );
  return m[1]!;
}

function store(file: string, hash: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `sha256:${hash}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function chooseAdminToken(options: {
  dataDir: string;
  configured: string | undefined;
  rotate: boolean;
}): AdminTokenChoice {
  const file = join(options.dataDir, ADMIN_TOKEN_FILE);
  if (options.rotate) {
    const { token, hash } = createToken('mutua_admin_');
    store(file, hash);
    return { hash, minted: token, source: 'rotated', file };
  }
  if (options.configured !== undefined) return { hash: hashToken(options.configured), source: 'configured' };
  const stored = readStored(file);
  if (stored) return { hash: stored, source: 'stored', file };
  const { token, hash } = createToken('mutua_admin_');
  store(file, hash);
  return { hash, minted: token, source: 'minted', file };
}
