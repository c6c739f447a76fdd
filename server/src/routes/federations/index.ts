/**
 * The admin API for federations, one file per resource: federations, join tokens,
 * participants (and traffic), rounds (and metrics), and the live event stream. Every route needs the admin token;
 * the work is done by the federations service (plugins/federations-service.ts).
 */
import type { FastifyInstance } from 'fastify';
import eventRoutes from './events.ts';
import federationRoutes from './federations.ts';
import participantRoutes from './participants.ts';
import roundRoutes from './rounds.ts';
import tokenRoutes from './tokens.ts';

export default async function federationsApi(app: FastifyInstance): Promise<void> {
  await app.register(federationRoutes);
  await app.register(tokenRoutes);
  await app.register(participantRoutes);
  await app.register(roundRoutes);
  await app.register(eventRoutes);
}
