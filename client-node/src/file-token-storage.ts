/**
 * Resume tokens in a JSON file in the checkpoint directory, so that a restarted client
 * resumes as the same participant. The file maps the session's storage key (a hash of the
 * coordinator URL and join token) to the token; it is written owner-only (0600), since a
 * resume token lets its holder act as this participant.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenStorage } from '@mutua/core/session';

export class FileTokenStorage implements TokenStorage {
  constructor(readonly path: string) {}

  private async read(): Promise<Record<string, string>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.path, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return {};
      throw err;
    }
  }

  async get(key: string): Promise<string | null> {
    const value = (await this.read())[key];
    return typeof value === 'string' ? value : null;
  }

  async set(key: string, value: string): Promise<void> {
    const all = await this.read();
    if (all[key] === value) return;
    all[key] = value;
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
  }
}
