/**
 * Which token Hello carries, and keeping the resume token the coordinator hands out.
 *
 * Hello carries the resume token when one is known (options.resumeToken, else storage),
 * otherwise the join token. Every Welcome's resume token is stored. If a resume token is
 * rejected with BAD_TOKEN and a join token is configured, the keeper forgets it and the
 * next Hello joins once more with the join token (as a new participant): the usual cause
 * is a coordinator whose database was reset.
 */
import { fnv1a64 } from './hash.ts';
import { SessionError } from './session-error.ts';
import type { TokenStorage } from './session-types.ts';

export interface HelloToken {
  kind: 'join' | 'resume';
  value: string;
}

/** The default storage key: one resume token per coordinator URL and join token. */
export function defaultStorageKey(url: string, joinToken: string | undefined): string {
  return `mutua.resume.${fnv1a64(`${url}\n${joinToken ?? ''}`)}`;
}

function memoryStorage(): TokenStorage {
  const map = new Map<string, string>();
  return { get: (k) => map.get(k), set: (k, v) => void map.set(k, v) };
}

export class TokenKeeper {
  private readonly storage: TokenStorage;
  private resumeToken: string | null;
  /** The kind of the last token handed out for a Hello. */
  private lastKind: HelloToken['kind'] = 'join';
  /**
   * 'used': a resume token was rejected since the last Welcome, so storage is not read and
   * Hello joins; a join token rejected in turn ends the session instead of looping.
   */
  private fallback: 'none' | 'used' = 'none';

  constructor(
    private readonly storageKey: string,
    private readonly joinToken: string | undefined,
    resumeToken: string | undefined,
    storage: TokenStorage | undefined,
  ) {
    this.storage = storage ?? memoryStorage();
    this.resumeToken = resumeToken || null;
  }

  /** The token for the next Hello; a fatal NO_TOKEN error when there is none. */
  async pick(): Promise<HelloToken> {
    const token = await this.choose();
    this.lastKind = token.kind;
    return token;
  }

  private async choose(): Promise<HelloToken> {
    if (this.resumeToken) return { kind: 'resume', value: this.resumeToken };
    if (this.fallback === 'none') {
      const stored = await this.storage.get(this.storageKey);
      if (stored) return { kind: 'resume', value: stored };
    }
    if (this.joinToken) return { kind: 'join', value: this.joinToken };
    throw new SessionError('NO_TOKEN', 'no resume token is stored and no join token was given', {
      fatal: true,
    });
  }

  /**
   * After BAD_TOKEN: true when the rejected token was a resume token and the join token may
   * be tried instead (once until the next Welcome); the next pick() returns the join token.
   */
  fallBackToJoin(): boolean {
    if (this.lastKind !== 'resume' || !this.joinToken || this.fallback === 'used') return false;
    this.fallback = 'used';
    this.resumeToken = null;
    return true;
  }

  /** A Welcome arrived: its resume token (if any) is the one to use from now on, and is stored. */
  async welcomed(resumeToken: string | undefined | null): Promise<void> {
    this.fallback = 'none';
    if (!resumeToken) return;
    this.resumeToken = resumeToken;
    await this.storage.set(this.storageKey, resumeToken);
  }
}
