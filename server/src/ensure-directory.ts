/**
 * mkdir -p without Node's recursive mode, which loops for ever on a path such as
 * /proc/nope (mkdir answers ENOENT although the parent exists): parents are created one
 * level at a time and the first failure is thrown as is.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function ensureDirectory(dir: string): void {
  const path = resolve(dir);
  const s = statSync(path, { throwIfNoEntry: false });
  if (s) {
    if (s.isDirectory()) return;
    const err = new Error(`ENOTDIR: not a directory, mkdir '${path}'`) as NodeJS.ErrnoException;
    err.code = 'ENOTDIR';
    err.path = path;
    throw err;
  }
  const parent = dirname(path);
  if (parent !== path) ensureDirectory(parent);
  try {
    mkdirSync(path);
  } catch (err) {
    // Created meanwhile by someone else: fine if it is a directory.
    if (
      (err as NodeJS.ErrnoException).code === 'EEXIST' &&
      statSync(path, { throwIfNoEntry: false })?.isDirectory()
    )
      return;
    throw err;
  }
}
