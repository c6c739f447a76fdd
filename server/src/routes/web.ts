/**
 * Serves the built browser client (client-web/dist, `npm run build -w @mutua/client-web`):
 * the dashboard at `/`, the join page at `/join/<token>`, and the files they load from
 * /assets/ (content-hashed, cached for good) and /tfjs-wasm/ (the tfjs wasm binaries).
 *
 * A deliberately small static handler over node:fs instead of a new dependency: a fixed
 * set of prefixes, a content-type table, and a containment check after resolving the
 * path, so `..` (plain or percent-encoded) never leaves the dist folder. The folder is
 * looked up on every request, so building after the coordinator started works; while it
 * is missing the pages answer 503 saying how to build it.
 *
 * Every response is cross-origin isolated (COOP same-origin + COEP require-corp): that
 * is what lets the join page's worker use SharedArrayBuffer, i.e. the multi-threaded
 * WebAssembly backend. Everything the pages load is same-origin, so nothing breaks.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError, notFound } from '../errors.ts';

export interface WebRoutesOptions {
  /** The built client; default client-web/dist of this repository. */
  distDir?: string;
}

export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../../client-web/dist', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const;

const notBuilt = (dir: string) =>
  new HttpError(
    'MUTUA_ERR_WEB_NOT_BUILT',
    `the web client is not built (no ${dir}): run \`npm run build -w @mutua/client-web\` and reload`,
  );

export default async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions): Promise<void> {
  const root = resolve(opts.distDir ?? DEFAULT_WEB_DIST);

  /** The file under root for a relative path, or null when it escapes root or is not a plain file. */
  async function locate(relative: string): Promise<{ path: string; size: number; mtime: Date } | null> {
    if (relative.includes('\0')) return null;
    const path = resolve(root, relative);
    if (!path.startsWith(root + sep)) return null;
    // No dotfiles anywhere on the way (.git, .env, editors' swap files).
    if (
      path
        .slice(root.length)
        .split(sep)
        .some((part) => part.startsWith('.'))
    )
      return null;
    try {
      const s = await stat(path);
      return s.isFile() ? { path, size: s.size, mtime: s.mtime } : null;
    } catch {
      return null;
    }
  }

  async function send(reply: FastifyReply, relative: string, cache: string, page: boolean) {
    const file = await locate(relative);
    if (!file) {
      if (page || !(await locate('index.html'))) throw notBuilt(root);
      throw notFound(`/${relative}`);
    }
    const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    return reply
      .headers({
        ...ISOLATION,
        'content-type': type,
        'content-length': String(file.size),
        'cache-control': cache,
        'last-modified': file.mtime.toUTCString(),
      })
      .send(createReadStream(file.path));
  }

  const hidden = { schema: { hide: true } } as const;
  // Pages are revalidated each time so a rebuild shows at once; they are small.
  const pageCache = 'no-cache';
  app.get('/', hidden, (_req, reply) => send(reply, 'index.html', pageCache, true));
  app.get('/join', hidden, (_req, reply) => send(reply, 'join.html', pageCache, true));
  app.get('/join/*', hidden, (_req, reply) => send(reply, 'join.html', pageCache, true));
  app.get<{ Params: { '*': string } }>('/assets/*', hidden, (req, reply) =>
    // Vite puts a content hash in every asset's name: a changed file has a new URL.
    send(reply, `assets/${req.params['*']}`, 'public, max-age=31536000, immutable', false),
  );
  app.get<{ Params: { '*': string } }>('/tfjs-wasm/*', hidden, (req, reply) =>
    send(reply, `tfjs-wasm/${req.params['*']}`, 'public, max-age=3600', false),
  );
}
