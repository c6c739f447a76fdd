/**
 * The admin API for federations, one file per resource: federations, join tokens,
 * participants (and traffic), rounds (and metrics), the live event stream, the global
 * student. Every route needs the admin token but the student's download; the work is done
 * by the federations service (plugins/federations-service.ts) and, for the student,
 * services/student-store.ts.
 */
import type { FastifyInstance } from 'fastify';
import eventRoutes from './events.ts';
import federationRoutes from './federations.ts';
import participantRoutes from './participants.ts';
import roundRoutes from './rounds.ts';
import studentRoutes from './student.ts';
import tokenRoutes from './tokens.ts';

export default async function federationsApi(app: FastifyInstance): Promise<void> {
  await app.register(federationRoutes);
  await app.register(tokenRoutes);
  await app.register(participantRoutes);
  await app.register(roundRoutes);
  await app.register(eventRoutes);
  await app.register(studentRoutes);
}
