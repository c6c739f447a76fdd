/**
 * A problem the person running `mutua` can fix: a bad option, an unreachable coordinator,
 * a rejected admin token, an unknown federation, a request the coordinator refused.
 * The CLI prints `mutua: <message>` on one line and exits 2. Anything else is a bug (exit 1).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** The coordinator's error code (MUTUA_ERR_*) when it answered with one, else a CLI code. */
    readonly code = 'MUTUA_CLI_USAGE',
  ) {
    super(message);
  }
}

export const usage = (message: string, help = 'mutua --help') => new CliError(`${message} (see ${help})`);
