/**
 * buildApp(options): the coordinator as a fastify instance — admin REST API under /v1/,
 * the participant WebSocket at /v1/ws, OpenAPI at /docs/json, /healthz and /metrics, and the
 * browser client (dashboard at /, join page at /join/<token>).
 * Only main.ts listens; tests use app.inject() and real sockets on port 0.
 */
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServerConfig } from './config.ts';
import { Coordinator } from './coordinator.ts';
import { type Db, openDatabase } from './db/index.ts';
import { DbCoordinatorStore } from './db-coordinator-store.ts';
import { errorResponseSchema, HttpError } from './errors.ts';
import { type LazySchemaCompilers, lazySchemaCompilers } from './lazy-schema-compilers.ts';
import { CoordinatorMetrics } from './metrics-registry.ts';
import adminAuth from './plugins/admin-auth.ts';
import federationRoutes from './routes/federations.ts';
import healthRoutes from './routes/health.ts';
import joinRoutes from './routes/join.ts';
import publicSetRoutes from './routes/public-sets.ts';
import webRoutes from './routes/web.ts';
import wsRoutes from './routes/ws.ts';
import { AJV_OPTIONS, coerceNumericQuery, formatValidationErrors } from './schema-validation.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    metrics: CoordinatorMetrics;
    coordinator: Coordinator;
    config: AppOptions;
  }
}

export type AppOptions = Pick<
  ServerConfig,
  | 'dataDir'
  | 'databaseUrl'
  | 'adminToken'
  | 'maxFrameBytes'
  | 'maxMessagesPerSecond'
  | 'heartbeatIntervalMs'
  | 'maxUploadBytes'
> & {
  logger?: FastifyServerOptions['logger'];
  /** An already opened database (tests); otherwise opened (and migrated) from dataDir/databaseUrl. */
  db?: Db;
  /** The built browser client served at / and /join/*; default client-web/dist (routes/web.ts). */
  webDir?: string;
  /** Compiles the routes' schemas on first use; pass one to compile them all at will (tests). */
  schemaCompilers?: LazySchemaCompilers;
};

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.maxUploadBytes,
    ajv: { customOptions: AJV_OPTIONS },
    schemaErrorFormatter: formatValidationErrors,
    schemaController: {
      compilersFactory: (options.schemaCompilers ?? lazySchemaCompilers()).compilersFactory,
    },
  });
  app.addHook('preValidation', coerceNumericQuery);
  const ownsDb = !options.db;
  const db =
    options.db ?? (await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir }));
  const metrics = new CoordinatorMetrics();
  const coordinator = new Coordinator({
    db: new DbCoordinatorStore(db),
    metrics,
    log: app.log,
    maxFrameBytes: options.maxFrameBytes,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
  });
  app.decorate('db', db);
  app.decorate('metrics', metrics);
  app.decorate('coordinator', coordinator);
  app.decorate('config', options);
  // Close order: participants first (they are told SHUTTING_DOWN and pending writes finish), then the database.
  app.addHook('onClose', async () => {
    await coordinator.close();
    if (ownsDb) await db.close();
  });
  // Recover every active federation at start, not when its first participant returns:
  // a sync round's deadline must keep running after a restart.
  app.addHook('onReady', async () => {
    for (const f of await db.federations.list({ status: 'active' })) {
      const record = await coordinator.federationRecord(f.id);
      if (record) await coordinator.runtime(record);
    }
  });

  app.setErrorHandler(
    (err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
      if (err instanceof HttpError) {
        return reply
          .code(err.statusCode)
          .send({ statusCode: err.statusCode, code: err.code, error: err.name, message: err.message });
      }
      if (err.validation) {
        return reply.code(400).send({
          statusCode: 400,
          code: 'MUTUA_ERR_VALIDATION',
          error: 'Bad Request',
          message: err.message,
        });
      }
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) req.log.error({ err }, 'request failed');
      return reply.code(status).send({
        statusCode: status,
        code: status === 500 ? 'MUTUA_ERR_INTERNAL' : (err.code ?? 'MUTUA_ERR_BAD_REQUEST'),
        error: status === 500 ? 'Internal Server Error' : 'Bad Request',
        message: status === 500 ? 'internal error' : err.message,
      });
    },
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Mutua coordinator',
        version: '1.0.0',
        description:
          'Admin API of the Mutua federated mutual-distillation coordinator. Participants use the WebSocket at /v1/ws (proto/PROTOCOL.md).',
      },
      components: {
        securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  app.addSchema({ $id: 'Error', ...errorResponseSchema });
  await app.register(adminAuth, { adminToken: options.adminToken });
  await app.register(websocket, {
    // ws itself closes with 1009 above this; frames between maxFrameBytes and this get a coded FRAME_TOO_LARGE.
    options: { maxPayload: options.maxFrameBytes + 1024 * 1024 },
    // The plugin's default closes every socket without a word before onClose runs; participants
    // must be told SHUTTING_DOWN (1001) instead, and their last writes must land before the database closes.
    preClose: async () => {
      await coordinator.close();
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
    },
  });
  await app.register(healthRoutes);
  await app.register(federationRoutes);
  await app.register(publicSetRoutes);
  await app.register(joinRoutes);
  await app.register(wsRoutes, {
    maxFrameBytes: options.maxFrameBytes,
    maxMessagesPerSecond: options.maxMessagesPerSecond,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
  });
  await app.register(webRoutes, { distDir: options.webDir });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
