/**
 * The data directory (--data-dir / MUTUA_DATA_DIR) is made ready before anything opens a
 * file in it: created if missing, and proved writable with a probe file, so that a path
 * that is a file, a read-only or root-owned mount, or a place where nothing can be created
 * (/proc/…) fails at once with a StartError naming the directory and the fix.
 * (ensure-directory.ts: Node's recursive mkdir hung on /proc/nope.)
 */
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureDirectory } from '../ensure-directory.ts';
import { StartError } from './start-error.ts';

function codeOf(err: unknown): string {
  return err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
}

const uid = () => process.getuid?.() ?? '?';

/** Creates the data directory if needed and checks this user can write in it. */
export function prepareDataDir(dir: string): void {
  try {
    ensureDirectory(dir);
  } catch (err) {
    const code = codeOf(err);
    const at = (err as NodeJS.ErrnoException).path ?? dir;
    if (code === 'ENOTDIR' || code === 'EEXIST')
      throw new StartError(
        'MUTUA_ERR_DATA_DIR',
        at === resolve(dir)
          ? `--data-dir ${dir} is a file, not a directory: point --data-dir / MUTUA_DATA_DIR at a directory`
          : `--data-dir ${dir} cannot be created: ${at} is a file, not a directory`,
        { cause: err },
      );
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new StartError(
        'MUTUA_ERR_DATA_DIR',
        `cannot create the data directory ${dir} (${code} at ${at}): create it writable by this user (uid ${uid()}) or choose another --data-dir`,
        { cause: err },
      );
    throw new StartError(
      'MUTUA_ERR_DATA_DIR',
      `cannot create the data directory ${dir} (${code || 'error'}): choose another --data-dir / MUTUA_DATA_DIR`,
      { cause: err },
    );
  }
  const probe = resolve(dir, `.write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = codeOf(err) || 'error';
    throw new StartError(
      'MUTUA_ERR_DATA_DIR',
      `the data directory ${dir} is not writable by this user (uid ${uid()}, ${code}): chown it (e.g. a bind-mounted /data) or choose another --data-dir`,
      { cause: err },
    );
  }
}
