/** The participant WebSocket endpoint, /v1/ws: binary protobuf frames only (proto/PROTOCOL.md). */
import type { FastifyInstance } from 'fastify';
import { ParticipantConnection } from '../ws/participant-connection.ts';

export interface WsRouteOptions {
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  heartbeatIntervalMs: number;
}

export default async function wsRoutes(app: FastifyInstance, opts: WsRouteOptions): Promise<void> {
  app.get('/v1/ws', { websocket: true, schema: { hide: true } }, (socket) => {
    const coordinator = app.coordinator;
    const conn = new ParticipantConnection(socket, {
      ...opts,
      metrics: app.metrics,
      log: app.log,
      admit: (hello) => coordinator.admit(hello),
      countTraffic: (id, i, o) => coordinator.countTraffic(id, i, o),
      register: (id, conn, fed) => coordinator.register(id, conn, fed),
      unregister: (id, conn, fed) => coordinator.unregister(id, conn, fed),
    });
    coordinator.track(conn);
  });
}
