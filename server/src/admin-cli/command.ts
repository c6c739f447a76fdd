/** What every command file exports, and the context a command runs with. */
import { GLOBAL_HELP, type OptionSpec, type Parsed } from './args.ts';
import type { AdminClient } from './client.ts';

export interface Context {
  client: AdminClient;
  json: boolean;
  /** Results (tables, JSON). */
  out(text: string): void;
  /** Notes for the person (hints, "following… Ctrl-C to stop"); never part of --json output. */
  note(text: string): void;
  /**
   * A status line redrawn in place (stderr is a terminal), `last` ends it; undefined when
   * stderr is a file or a pipe, where commands print whole lines with note() instead.
   */
  progress?(line: string, last: boolean): void;
  /** Aborted on Ctrl-C / SIGTERM: long-running commands (--follow) end cleanly. */
  signal: AbortSignal;
}

export interface Command {
  /** The words that select it, e.g. ['federation', 'create'] or ['rounds']. */
  words: readonly string[];
  /** After `mutua <words>`: arguments and options, e.g. 'NAME --public-set SPEC [options]'. */
  args: string;
  summary: string;
  /** The options and notes block of --help. */
  details?: string;
  options: OptionSpec;
  run(ctx: Context, p: Parsed): Promise<void>;
}

export const commandLine = (c: Command) => `mutua ${c.words.join(' ')}`;

export function commandHelp(c: Command): string {
  return [
    `Usage: ${commandLine(c)} ${c.args}`.trimEnd(),
    '',
    c.summary,
    ...(c.details ? ['', c.details.trimEnd()] : []),
    '',
    GLOBAL_HELP,
    '',
  ].join('\n');
}
