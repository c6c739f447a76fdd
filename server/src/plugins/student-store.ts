/** The federations' global students as `app.students`, for routes/federations/student.ts. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { StudentStore } from '../services/student-store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    students: StudentStore;
  }
}

export default fp(
  async (app: FastifyInstance, opts: { dataDir: string }) => {
    app.decorate('students', new StudentStore(app.db, opts.dataDir));
  },
  { name: 'mutua-student-store', dependencies: ['mutua-database'] },
);
