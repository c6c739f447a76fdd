/**
 * Why the coordinator cannot start, said in one line an operator can act on: main.ts
 * prints `mutua-server: <message>` and exits 2 (no stack). explainStartError() turns the
 * system errors a start commonly meets (a busy port, an unwritable data directory, an
 * unreachable PostgreSQL) into one; anything else stays unexpected (exit 1, with stack).
 */

export class StartError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StartError';
  }
}

/** What the explanation may name: where it tried to listen and what database it opened. */
export interface StartContext {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
}

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  path?: unknown;
  hostname?: unknown;
  message?: unknown;
}

/** The error and its causes (Prisma and pg wrap the socket's error), outermost first. */
function chain(err: unknown): SystemError[] {
  const out: SystemError[] = [];
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e) && out.length < 8) {
    seen.add(e);
    out.push(e as SystemError);
    if (e instanceof AggregateError) out.push(...(e.errors as SystemError[]));
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** The database host:port of a postgresql:// URL, for messages (never the password). */
function databaseHost(url: string | undefined): string {
  if (!url) return 'the database';
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.hostname}:${u.port || '5432'}`;
  } catch {
    return 'PostgreSQL';
  }
}

export function explainStartError(err: unknown, ctx: StartContext): StartError | null {
  const errors = chain(err);
  const direct = errors.find((e) => e instanceof StartError);
  if (direct) return direct as StartError;
  for (const e of errors) {
    const code = typeof e.code === 'string' ? e.code : '';
    const listening = e.syscall === 'listen' || e.syscall === 'bind';
    if (code === 'EADDRINUSE' && listening)
      return new StartError(
        'MUTUA_ERR_PORT_IN_USE',
        `port ${ctx.port} on ${ctx.host} is already in use (EADDRINUSE): stop the other process or choose another --port / PORT`,
        { cause: err },
      );
    if ((code === 'EACCES' || code === 'EPERM') && listening)
      return new StartError(
        'MUTUA_ERR_PORT_DENIED',
        `not allowed to listen on port ${ctx.port} (${code}): ports below 1024 need privileges; choose another --port / PORT`,
        { cause: err },
      );
    if (code === 'EADDRNOTAVAIL' && listening)
      return new StartError(
        'MUTUA_ERR_HOST_UNAVAILABLE',
        `cannot bind ${ctx.host} (EADDRNOTAVAIL): no interface of this machine has that address; check --host / HOST`,
        { cause: err },
      );
    if (ctx.databaseUrl && (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH'))
      return new StartError(
        'MUTUA_ERR_DATABASE_UNREACHABLE',
        `cannot reach ${databaseHost(ctx.databaseUrl)} (${code}): is PostgreSQL running and listening there? Check DATABASE_URL / --database-url`,
        { cause: err },
      );
    if (ctx.databaseUrl && (code === 'ENOTFOUND' || code === 'EAI_AGAIN'))
      return new StartError(
        'MUTUA_ERR_DATABASE_UNREACHABLE',
        `cannot resolve the host of ${databaseHost(ctx.databaseUrl)} (${code}): check DATABASE_URL / --database-url`,
        { cause: err },
      );
    // PostgreSQL's own refusals (SQLSTATE): wrong password, no such database or role.
    if (ctx.databaseUrl && (code === '28P01' || code === '28000' || code === '3D000'))
      return new StartError(
        'MUTUA_ERR_DATABASE_REFUSED',
        `${databaseHost(ctx.databaseUrl)} refused the connection: ${String(e.message ?? code)} (SQLSTATE ${code}); check DATABASE_URL`,
        { cause: err },
      );
    if ((code === 'EACCES' || code === 'EPERM' || code === 'EROFS') && typeof e.path === 'string')
      return new StartError(
        'MUTUA_ERR_DATA_DIR',
        `cannot write ${e.path} (${code}): the data directory ${ctx.dataDir} must be writable by this user (uid ${process.getuid?.() ?? '?'})`,
        { cause: err },
      );
  }
  return null;
}
