// The browser pages for scripts/build.mjs: client-web/dist, built by vite.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The browser pages (client-web/dist: the dashboard at `/`, the join page) are built by
 * vite, so that `npm ci && npm start` serves them. Rebuilt when a file under client-web/src,
 * core/src or proto/src (the pages bundle both), an HTML entry or the vite config is newer
 * than dist/index.html. Built into a temporary folder and swapped in, like the others.
 */
export const WEB = 'client-web';
const WEB_SOURCES = ['client-web/src', 'core/src', 'proto/src'];
const WEB_FILES = [
  'client-web/index.html',
  'client-web/join.html',
  'client-web/bench.html',
  'client-web/vite.config.ts',
];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export function webStaleReason(root) {
  const index = join(root, 'client-web/dist/index.html');
  if (!existsSync(index)) return 'not built yet';
  const built = statSync(index).mtimeMs;
  for (const f of WEB_FILES) if (statSync(join(root, f)).mtimeMs > built) return `${f} changed`;
  for (const d of WEB_SOURCES) if (newestMtime(join(root, d)) > built) return `a file under ${d} changed`;
  return null;
}

export async function buildWeb(root, ifAvailable) {
  const startedAt = Date.now();
  let vite;
  try {
    vite = await import('vite');
  } catch (err) {
    if (ifAvailable) {
      console.log('build: vite is not installed (no dev dependencies); client-web skipped');
      return null;
    }
    throw err;
  }
  const outdir = join(root, 'client-web/dist');
  const tmp = `${outdir}.tmp-${process.pid}`;
  try {
    await vite.build({
      configFile: join(root, 'client-web/vite.config.ts'),
      logLevel: 'error',
      build: { outDir: tmp, emptyOutDir: true },
    });
    const old = `${outdir}.old-${process.pid}`;
    if (existsSync(outdir)) renameSync(outdir, old);
    renameSync(tmp, outdir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return Date.now() - startedAt;
}
