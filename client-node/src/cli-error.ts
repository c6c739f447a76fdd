/**
 * A problem the person running the client must fix (a bad option, an unreachable
 * coordinator, a rejected token, unreadable data, a model the federation cannot use).
 * The CLI prints `mutua-client: <code>: <message>` on one line and exits with `exitCode`
 * (2: the run cannot succeed as configured). Anything else thrown is a bug (exit 1).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    /** Stable, searchable: the session/protocol error code, a DataError code, or USAGE. */
    readonly code: string,
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** The one line the CLI prints for `err`. */
export function describeError(err: unknown): string {
  if (err instanceof CliError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
