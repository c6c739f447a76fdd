/**
 * buildApp(options): the coordinator as a fastify instance — admin REST API under /v1/,
 * the participant WebSocket at /v1/ws, OpenAPI at /docs (document at /docs/json), /healthz and /metrics, and the
 * browser client (dashboard at /, join page at /join/<token>).
 * Only main.ts listens; tests use app.inject() and real sockets on port 0.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import { ErrorResponse } from '@mutua/proto/rest';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { ServerConfig } from './config.ts';
import type { Db } from './db/index.ts';
import { type LazySchemaCompilers, lazySchemaCompilers } from './lazy-schema-compilers.ts';
import adminAuth from './plugins/admin-auth.ts';
import bodyLimits, { JSON_BODY_LIMIT } from './plugins/body-limits.ts';
import coordinatorPlugin from './plugins/coordinator.ts';
import databasePlugin from './plugins/database.ts';
import errorHandler from './plugins/error-handler.ts';
import federationsService from './plugins/federations-service.ts';
import joinService from './plugins/join-service.ts';
import publicSetsService from './plugins/public-sets-service.ts';
import requestLog from './plugins/request-log.ts';
import securityHeaders from './plugins/security-headers.ts';
import studentStore from './plugins/student-store.ts';
import federationsApi from './routes/federations/index.ts';
import healthRoutes from './routes/health.ts';
import joinRoutes from './routes/join.ts';
import publicSetRoutes from './routes/public-sets.ts';
import webRoutes from './routes/web.ts';
import wsRoutes from './routes/ws.ts';
import { AJV_OPTIONS, coerceNumericQuery, formatValidationErrors } from './schema-validation.ts';
import { DEFAULT_CONNECTION_CAPS } from './ws/connection-caps.ts';
import { DEFAULT_HELLO_TIMEOUT_MS } from './ws/pre-auth-guard.ts';
import { socketErrorHandler } from './ws/socket-errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: AppOptions;
  }
}

export type AppOptions = Pick<
  ServerConfig,
  | 'dataDir'
  | 'databaseUrl'
  | 'maxFrameBytes'
  | 'maxMessagesPerSecond'
  | 'heartbeatIntervalMs'
  | 'maxUploadBytes'
> &
  Partial<
    Pick<
      ServerConfig,
      | 'helloTimeoutMs'
      | 'maxConnections'
      | 'maxConnectionsPerAddress'
      | 'maxUnauthenticated'
      | 'maxUnauthenticatedPerAddress'
      | 'allowedOrigins'
      | 'metricsToken'
      | 'demoShardsPerMinute'
      | 'payloadRetentionVersions'
      | 'natsUrl'
      | 'replicaId'
      | 'leaseMs'
      | 'clusterName'
    >
  > & {
    /** The admin token (tests), or adminTokenHash: its SHA-256 in hex (main.ts, start/admin-token.ts). */
    adminToken?: string | undefined;
    adminTokenHash?: string | undefined;
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
    // One debug line per request instead (plugins/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // Small everywhere; the upload route sets its own (plugins/body-limits.ts).
    bodyLimit: JSON_BODY_LIMIT,
    ajv: { customOptions: AJV_OPTIONS },
    schemaErrorFormatter: formatValidationErrors,
    schemaController: {
      compilersFactory: (options.schemaCompilers ?? lazySchemaCompilers()).compilersFactory,
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('preValidation', coerceNumericQuery);
  app.decorate('config', options);
  await app.register(errorHandler);
  await app.register(requestLog);
  await app.register(securityHeaders);
  await app.register(bodyLimits);
  await app.register(databasePlugin, {
    db: options.db,
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
  });
  await app.register(coordinatorPlugin, {
    maxFrameBytes: options.maxFrameBytes,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    payloadRetentionVersions: options.payloadRetentionVersions,
    cluster: options.natsUrl
      ? {
          natsUrl: options.natsUrl,
          replicaId: options.replicaId,
          leaseMs: options.leaseMs ?? 3000,
          name: options.clusterName ?? 'mutua',
        }
      : undefined,
  });
  await app.register(publicSetsService);
  await app.register(federationsService);
  await app.register(joinService);
  await app.register(studentStore, { dataDir: options.dataDir });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Mutua coordinator',
        version: '1.0.0',
        description:
          'Admin API of the Mutua federated mutual-distillation coordinator. Participants use the WebSocket at /v1/ws (proto/PROTOCOL.md). Error codes: proto/src/rest/errors.ts.',
      },
      components: {
        securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  app.addSchema(ErrorResponse);
  // The OpenAPI page at /docs (its document at /docs/json). Swagger UI's files come from the
  // package (no CDN), all same-origin: the CSP of plugins/security-headers.ts allows them.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null, deepLinking: false },
  });
  await app.register(adminAuth, { adminToken: options.adminToken, adminTokenHash: options.adminTokenHash });
  await app.register(websocket, {
    // ws itself closes with 1009 above this; frames between maxFrameBytes and this get a coded FRAME_TOO_LARGE.
    options: { maxPayload: options.maxFrameBytes + 1024 * 1024 },
    // A peer's framing errors are its own doing: not error-level log lines (ws/socket-errors.ts).
    errorHandler: socketErrorHandler,
    // The plugin's default closes every socket without a word before onClose runs; participants
    // must be told SHUTTING_DOWN (1001) instead, and their last writes must land before the database closes.
    preClose: async () => {
      await app.coordinator.close();
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
    },
  });
  await app.register(healthRoutes, { metricsToken: options.metricsToken });
  await app.register(federationsApi);
  await app.register(publicSetRoutes, { maxUploadBytes: options.maxUploadBytes });
  await app.register(joinRoutes, { demoShardsPerMinute: options.demoShardsPerMinute ?? 60 });
  await app.register(wsRoutes, {
    maxFrameBytes: options.maxFrameBytes,
    maxMessagesPerSecond: options.maxMessagesPerSecond,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    helloTimeoutMs: options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
    caps: {
      maxConnections: options.maxConnections ?? DEFAULT_CONNECTION_CAPS.maxConnections,
      maxConnectionsPerAddress:
        options.maxConnectionsPerAddress ?? DEFAULT_CONNECTION_CAPS.maxConnectionsPerAddress,
      maxUnauthenticated: options.maxUnauthenticated ?? DEFAULT_CONNECTION_CAPS.maxUnauthenticated,
      maxUnauthenticatedPerAddress:
        options.maxUnauthenticatedPerAddress ?? DEFAULT_CONNECTION_CAPS.maxUnauthenticatedPerAddress,
    },
    allowedOrigins: options.allowedOrigins,
  });
  await app.register(webRoutes, { distDir: options.webDir });
  return app;
}
