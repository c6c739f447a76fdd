/** The participant WebSocket endpoint, /v1/ws: binary protobuf frames only (proto/PROTOCOL.md). */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.ts';
import { ConnectionCaps, type ConnectionCapsOptions, isRefusal } from '../ws/connection-caps.ts';
import { originAllowed } from '../ws/origin-policy.ts';
import { ParticipantConnection } from '../ws/participant-connection.ts';

export interface WsRouteOptions {
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  caps: ConnectionCapsOptions;
  /** Browser Origins allowed to connect (origin-policy.ts); undefined or empty = any. */
  allowedOrigins?: readonly string[];
}

/** RFC 6455 1013 "Try Again Later": a cap filled up between the upgrade check and the socket. */
const CLOSE_TRY_AGAIN_LATER = 1013;

export default async function wsRoutes(app: FastifyInstance, opts: WsRouteOptions): Promise<void> {
  const caps = new ConnectionCaps(opts.caps);
  const { caps: _caps, allowedOrigins, ...connectionOptions } = opts;
  app.get(
    '/v1/ws',
    {
      websocket: true,
      schema: { hide: true },
      // Refused before the upgrade: no WebSocket, no buffers, an HTTP status the client can read.
      onRequest: async (req, reply) => {
        if (!originAllowed(req.headers.origin, req.headers.host, allowedOrigins)) {
          throw new HttpError('MUTUA_ERR_ORIGIN_NOT_ALLOWED', `origin ${req.headers.origin} may not connect`);
        }
        const refused = caps.admissible(req.ip);
        if (refused) {
          reply.header('Retry-After', '5');
          throw new HttpError('MUTUA_ERR_TOO_MANY_CONNECTIONS', refused.reason);
        }
      },
    },
    (socket, req) => {
      const ticket = caps.open(req.ip);
      if (isRefusal(ticket)) {
        socket.close(CLOSE_TRY_AGAIN_LATER, 'too many connections');
        return;
      }
      const coordinator = app.coordinator;
      const conn = new ParticipantConnection(socket, {
        ...connectionOptions,
        ticket,
        metrics: app.metrics,
        log: app.log,
        admit: (hello) => coordinator.admit(hello),
        countTraffic: (id, i, o) => coordinator.countTraffic(id, i, o),
        register: (id, conn, fed) => coordinator.register(id, conn, fed),
        unregister: (id, conn, fed) => coordinator.unregister(id, conn, fed),
      });
      coordinator.track(conn);
    },
  );
}
