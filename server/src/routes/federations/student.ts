/**
 * The global student of a mutual-distillation federation (issue 15, item 4):
 * the consensus targets it is distilled from (admin), its upload and description (admin),
 * and its download in the TF.js layers format (no token, like the public set: the operator
 * publishes it for participants and the dashboard; `tf.loadLayersModel(origin + modelUrl)`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ConsensusTargetsQuery,
  ConsensusTargetsView,
  FederationParams,
  MAX_STUDENT_BYTES,
  StudentUploadBody,
  StudentView,
} from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';
import { consensusTargets } from '../../services/consensus-targets.ts';
import { admin, clientErrors, security } from '../common.ts';

const tags = ['global student'];

const binary = (description: string) =>
  Type.Unsafe<Buffer>({ description, type: 'string', format: 'binary' });

const studentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/federations/:id/consensus-targets',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'The newest consensus targets (aggregate over all participants) with their public-set rows, to distill a global student from',
        security,
        params: FederationParams,
        querystring: ConsensusTargetsQuery,
        response: { 200: ConsensusTargetsView, ...clientErrors },
      },
    },
    (req) => consensusTargets(app.db, req.params.id, req.query.versions ?? 64),
  );

  app.put(
    '/v1/federations/:id/student',
    {
      ...admin,
      // Base64 weights and the model.json: a compact student is KiBs; this bounds a mistake.
      bodyLimit: Math.ceil((MAX_STUDENT_BYTES * 4) / 3) + MAX_STUDENT_BYTES + 65536,
      schema: {
        tags,
        summary: 'Publish the global student (TF.js layers format; replaces the previous one)',
        security,
        params: FederationParams,
        body: StudentUploadBody,
        response: { 200: StudentView, ...clientErrors },
      },
    },
    (req) => app.students.put(req.params.id, req.body),
  );

  app.get(
    '/v1/federations/:id/student',
    {
      ...admin,
      schema: {
        tags,
        summary: 'The published global student: how it was made, its size and its download URLs',
        security,
        params: FederationParams,
        response: { 200: StudentView, ...clientErrors },
      },
    },
    (req) => app.students.get(req.params.id),
  );

  app.get(
    '/v1/federations/:id/student/model.json',
    {
      schema: {
        tags,
        summary: "The global student's model.json (no token needed); its weights are weights.bin beside it",
        params: FederationParams,
        response: { 200: binary('TF.js layers-format model.json'), ...clientErrors },
      },
    },
    async (req, reply) =>
      reply
        .type('application/json')
        .header('Cache-Control', 'no-cache')
        .send(await app.students.file(req.params.id, 'model')),
  );

  app.get(
    '/v1/federations/:id/student/weights.bin',
    {
      schema: {
        tags,
        summary: "The global student's weights (no token needed)",
        params: FederationParams,
        response: { 200: binary('weights.bin (application/octet-stream)'), ...clientErrors },
      },
    },
    async (req, reply) =>
      reply
        .type('application/octet-stream')
        .header('Cache-Control', 'no-cache')
        .send(await app.students.file(req.params.id, 'weights')),
  );
};

export default studentRoutes;
