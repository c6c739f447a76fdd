/**
 * The coordinator's log: pino with ISO timestamps. JSON lines (for collectors) unless
 * stdout is a terminal, where each record becomes one human line:
 *
 *   18:51:02.123 INFO  round closed  federation=3f… round=12 submissions=3 aggregationMs=4.1
 *
 * MUTUA_LOG_FORMAT=json|pretty overrides the choice. The human format is a small stream
 * that re-reads pino's own JSON line (no worker thread, nothing to bundle): logging at a
 * terminal is for people, and its cost does not matter there.
 */
import type { FastifyServerOptions } from 'fastify';
import { stdTimeFunctions } from 'pino';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
/** Fields every line has, or that say nothing to a person reading a terminal. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'reqId']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  return JSON.stringify(v);
}

/** One pino JSON record as one human line (with ANSI colours when `colour`). */
export function prettyLine(json: string, colour: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : '';
  const [name, tint] = LEVELS[Number(rec.level)] ?? ['LOG  ', ''];
  const level = colour ? `${tint}${name}\x1b[0m` : name;
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(rec)) {
    if (HIDDEN.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as { message?: string; stack?: string; code?: string };
      fields.push(`err=${value(e.code ? `${e.code}: ${e.message}` : e.message)}`);
      if (Number(rec.level) >= 50 && e.stack) stack = `\n${e.stack}`;
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const rest =
    fields.length > 0 ? `  ${colour ? `\x1b[90m${fields.join(' ')}\x1b[0m` : fields.join(' ')}` : '';
  return `${time} ${level} ${String(rec.msg ?? '')}${rest}${stack}\n`;
}

/** A pino destination that writes human lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): {
  write(line: string): void;
} {
  const colour = out.isTTY === true && !process.env.NO_COLOR;
  return { write: (line: string) => void out.write(prettyLine(line, colour)) };
}

export function wantsPretty(env: NodeJS.ProcessEnv, stdout: { isTTY?: boolean }): boolean {
  if (env.MUTUA_LOG_FORMAT === 'json') return false;
  if (env.MUTUA_LOG_FORMAT === 'pretty') return true;
  return stdout.isTTY === true;
}

/** The logger options main.ts gives buildApp(). */
export function serverLogger(
  level: string,
  env: NodeJS.ProcessEnv = process.env,
  stdout: NodeJS.WriteStream = process.stdout,
): FastifyServerOptions['logger'] {
  return {
    level,
    timestamp: stdTimeFunctions.isoTime,
    ...(wantsPretty(env, stdout) ? { stream: prettyStream(stdout) } : {}),
  };
}
