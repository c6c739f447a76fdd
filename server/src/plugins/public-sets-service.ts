/** The public sets service as `app.publicSets`, for routes/public-sets.ts and the federations service. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PublicSetsService } from '../services/public-sets-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    publicSets: PublicSetsService;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorate('publicSets', new PublicSetsService(app.db));
  },
  { name: 'mutua-public-sets-service', dependencies: ['mutua-database'] },
);
