/**
 * Entry point: parse configuration, prepare the data directory and the admin token, build
 * the app, listen, and shut down gracefully on SIGTERM/SIGINT (stop accepting, tell
 * participants, finish writes, close the database).
 *
 * A start that fails for a reason the operator can fix (a refused option, a busy port, an
 * unwritable data directory, an unreachable PostgreSQL: start/start-error.ts) ends with one
 * line `mutua-server: …` on stderr and exit code 2; only the unexpected prints a stack (exit 1).
 */
import { ConfigError, helpText, loadConfig, type ServerConfig } from './config.ts';
import { chooseAdminToken } from './start/admin-token.ts';
import { prepareDataDir } from './start/data-dir.ts';
import { explainStartError } from './start/start-error.ts';

function refuse(message: string): never {
  process.stderr.write(`mutua-server: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config: ServerConfig | 'help';
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.message);
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(helpText());
    return;
  }
  const cfg = config;
  const fail = (err: unknown): never => {
    const known = explainStartError(err, cfg);
    if (known) refuse(known.message);
    throw err;
  };

  let admin: ReturnType<typeof chooseAdminToken>;
  try {
    prepareDataDir(cfg.dataDir);
    admin = chooseAdminToken({
      dataDir: cfg.dataDir,
      configured: cfg.adminToken,
      rotate: cfg.rotateAdminToken,
    });
  } catch (err) {
    return fail(err);
  }
  if (admin.source === 'rotated') {
    process.stdout.write(`admin token: ${admin.minted}\n`);
    process.stderr.write(
      `mutua-server: a new admin token is stored (hashed) in ${admin.file}; the old one no longer works once the coordinator restarts${cfg.adminToken !== undefined ? ' (MUTUA_ADMIN_TOKEN / --admin-token is set and takes precedence while it is)' : ''}\n`,
    );
    return;
  }

  // Loaded only now: --help and a refused configuration answer at once, without
  // loading fastify, Prisma and the protocol first.
  const [{ buildApp }, { serverLogger }] = await Promise.all([import('./app.ts'), import('./logging.ts')]);
  let app: Awaited<ReturnType<typeof buildApp>>;
  let address: string;
  try {
    app = await buildApp({
      ...cfg,
      adminToken: undefined,
      adminTokenHash: admin.hash,
      logger: serverLogger(cfg.logLevel),
    });
    address = await app.listen({ port: cfg.port, host: cfg.host });
  } catch (err) {
    return fail(err);
  }
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
  if (admin.minted) {
    process.stdout.write(`admin token: ${admin.minted}\n`);
    process.stdout.write(
      `  (shown once: only its hash is kept, in ${admin.file}; mutua-server --rotate-admin-token mints a new one)\n`,
    );
  } else if (admin.source === 'stored') {
    app.log.info({ file: admin.file }, 'admin token: the one stored (hashed) in the data directory');
  }
  const where =
    cfg.host === '0.0.0.0' || cfg.host === '::' ? `${address} (all interfaces: ${cfg.host})` : address;
  process.stdout.write(
    `mutua-server listening on ${where} (data: ${cfg.databaseUrl ? 'PostgreSQL' : cfg.dataDir})\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`mutua-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
