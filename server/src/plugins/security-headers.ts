/**
 * Security headers on every response (@fastify/helmet): a Content-Security-Policy the
 * dashboard and the join page work under, no framing by any site (frame-ancestors 'none',
 * X-Frame-Options DENY), nosniff, no referrer leaking join tokens in /join/<token> URLs.
 *
 * The policy allows what the pages need and nothing more: scripts, styles and workers from
 * this origin; WebAssembly compilation ('wasm-unsafe-eval', the tfjs wasm backend); blob:
 * workers (the threaded wasm backend starts its pthreads from a blob URL); fetch and the
 * WebSocket to this origin; data: images (the inline favicon). No upgrade-insecure-requests
 * and no HSTS: the coordinator is often run over plain HTTP on a LAN, and TLS is the
 * business of the proxy in front of it.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'worker-src': ["'self'", 'blob:'],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

export default fp(
  async (app: FastifyInstance) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: Object.fromEntries(Object.entries(CONTENT_SECURITY_POLICY).map(([k, v]) => [k, [...v]])),
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: false,
      // The web routes set their own cross-origin isolation (COOP/COEP/CORP, routes/web.ts).
      crossOriginEmbedderPolicy: false,
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: false,
    });
  },
  { name: 'mutua-security-headers' },
);
