/**
 * Entry point: parse configuration, build the app, listen, and shut down gracefully on
 * SIGTERM/SIGINT (stop accepting, tell participants, finish writes, close the database).
 */
import { ConfigError, helpText, loadConfig } from './config.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mutua-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(helpText());
    return;
  }
  // Loaded only now: --help and a refused configuration answer at once, without
  // loading fastify, Prisma and the protocol first.
  const { buildApp } = await import('./app.ts');
  const app = await buildApp({
    ...config,
    logger: { level: config.logLevel },
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const address = await app.listen({ port: config.port, host: config.host });
  if (config.adminTokenGenerated) {
    app.log.warn('no admin token configured (MUTUA_ADMIN_TOKEN / --admin-token); generated one for this run');
    process.stdout.write(`admin token: ${config.adminToken}\n`);
  }
  process.stdout.write(
    `mutua-server listening on ${address} (data: ${config.databaseUrl ? 'PostgreSQL' : config.dataDir})\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`mutua-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
