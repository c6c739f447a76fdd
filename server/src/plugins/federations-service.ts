/** The federations service as `app.federations`, for the admin routes (routes/federations/). */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { FederationsService } from '../services/federations-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    federations: FederationsService;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorate('federations', new FederationsService(app.db, app.coordinator, app.publicSets));
  },
  {
    name: 'mutua-federations-service',
    dependencies: ['mutua-database', 'mutua-coordinator', 'mutua-public-sets-service'],
  },
);
