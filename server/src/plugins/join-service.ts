/** The join service as `app.join`, for the join page's routes (routes/join.ts). */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { JoinService } from '../services/join-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    join: JoinService;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorate('join', new JoinService(app.db, app.coordinator));
  },
  { name: 'mutua-join-service', dependencies: ['mutua-database', 'mutua-coordinator'] },
);
