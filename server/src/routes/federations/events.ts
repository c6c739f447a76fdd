/**
 * GET /v1/events: the coordinator's lifecycle events (coordinator/lifecycle-events.ts) as
 * server-sent events, for the dashboard's live updates instead of polling: federation
 * created/paused/resumed/deleted, participant joined/left/replaced, round or version
 * opened/closed, waiting for participants, token issued/revoked. Each is one SSE message,
 * `event: <type>` and `data: <the event as JSON>`; a comment line every 15 s keeps proxies
 * from closing an idle stream. `?federation=<id>` keeps that federation's events only.
 *
 * Needs the admin token like every admin route, so browsers read it with fetch() (an
 * EventSource cannot send an Authorization header). In a cluster a replica streams what it
 * sees: round events come from the replica that owns the federation, so clients keep a
 * slow poll as well (the dashboard does).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { LifecycleEvent } from '../../coordinator/lifecycle-events.ts';
import { admin, clientErrors, security } from '../common.ts';

/** A comment line this often keeps the stream alive through proxies and idle timeouts. */
export const SSE_KEEPALIVE_MS = 15_000;
/** A reader this far behind (bytes queued) is cut off rather than buffered without end. */
const MAX_QUEUED_BYTES = 1024 * 1024;

/** One SSE message: the event's type as its name, the event as JSON data. */
export function sseMessage(e: LifecycleEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const open = new Set<() => void>();
  // Streams never end by themselves: close them, or app.close() would wait for them.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/v1/events',
    {
      ...admin,
      schema: {
        tags: ['events'],
        summary: 'Lifecycle events as server-sent events (text/event-stream), for live dashboards',
        description:
          'One message per event: `event: <type>`, `data: <JSON>` with the type and federationId. Types: federation-created, federation-paused, federation-resumed, federation-deleted, participant-joined, participant-left, participant-replaced, round-opened, round-closed, waiting-for-participants, token-issued, token-revoked. The first message is `event: ready`.',
        security,
        querystring: Type.Object({
          federation: Type.Optional(Type.String({ description: "only this federation's events" })),
        }),
        response: {
          200: Type.Unsafe<string>({ type: 'string', description: 'text/event-stream' }),
          ...clientErrors,
        },
      },
    },
    async (req, reply) => {
      const only = req.query.federation;
      // An unknown or deleted federation is a 404 now, not a stream that stays silent.
      if (only !== undefined) await app.federations.get(only);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx and similar buffer responses unless told not to.
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 5000\nevent: ready\ndata: {}\n\n`);
      const end = () => {
        if (!open.delete(end)) return;
        off();
        clearInterval(keepalive);
        res.end();
      };
      const off = app.coordinator.events.on((e) => {
        if (only !== undefined && e.federationId !== only) return;
        if (res.writableLength > MAX_QUEUED_BYTES) {
          end();
          return;
        }
        res.write(sseMessage(e));
      });
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
      keepalive.unref();
      open.add(end);
      req.raw.on('close', end);
      res.on('error', end);
    },
  );
};

export default eventRoutes;
