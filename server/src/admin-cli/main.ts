/**
 * `mutua`: the operator's command line over the coordinator's admin REST API.
 * Finds the command from its words, parses its options, runs it, and turns the outcome
 * into an exit status: 0 done, 2 a problem the user can fix (one line on stderr), 1 a bug.
 */
import { flag, GLOBAL_HELP, parse, splitCommandWords, str } from './args.ts';
import { AdminClient, DEFAULT_COORDINATOR, normaliseCoordinator } from './client.ts';
import { type Command, type Context, commandHelp } from './command.ts';
import { distillCommands } from './distill.ts';
import { CliError } from './errors.ts';
import { federationCommands } from './federation.ts';
import { participantsCommands } from './participants.ts';
import { publicSetCommands } from './public-set.ts';
import { roundsCommands } from './rounds.ts';
import { tokenCommands } from './token.ts';

export const COMMANDS: readonly Command[] = [
  ...federationCommands,
  ...distillCommands,
  ...tokenCommands,
  ...publicSetCommands,
  ...participantsCommands,
  ...roundsCommands,
];

const GROUPS = [...new Set(COMMANDS.map((c) => c.words[0]!))];

function overview(commands: readonly Command[]): string {
  const lines = commands.map((c) => `  ${`${c.words.join(' ')} ${c.args}`.trimEnd()}`);
  return lines.join('\n');
}

export const HELP = `Usage: mutua <command> [options]

Operates a Mutua coordinator over its admin REST API: federations, join tokens, public
sets, participants and rounds, and distills a federation's global student.

Commands
${overview(COMMANDS)}

FEDERATION is a federation's id or its name. \`mutua <command> --help\` explains each.

${GLOBAL_HELP}

Exit status: 0 done, 2 a problem named on stderr (bad option, unreachable coordinator,
refused admin token, unknown federation, request refused), 1 an unexpected error.
`;

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.words[0] === group);
  return `Usage: mutua ${group} <${commands.map((c) => c.words[1]).join('|')}> [options]\n\nCommands\n${overview(commands)}\n\n\`mutua ${group} <command> --help\` explains each.\n\n${GLOBAL_HELP}\n`;
}

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stderr is a terminal: progress lines may be redrawn in place. */
  stderrIsTty?: boolean;
}

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  try {
    const {
      words: [group],
      rest: afterGroup,
    } = splitCommandWords(argv, 1);
    if (group === undefined || group === 'help') {
      if (group === undefined && !argv.includes('--help') && !argv.includes('-h'))
        throw new CliError('missing command (see mutua --help)');
      io.stdout(HELP);
      return 0;
    }
    if (!GROUPS.includes(group)) throw new CliError(`unknown command "${group}" (see mutua --help)`);
    const grouped = COMMANDS.filter((c) => c.words[0] === group);
    let command = grouped.find((c) => c.words.length === 1);
    let rest = afterGroup;
    if (!command) {
      const split = splitCommandWords(afterGroup, 1);
      const action = split.words[0];
      if (action === undefined) {
        if (afterGroup.includes('--help') || afterGroup.includes('-h')) {
          io.stdout(groupHelp(group));
          return 0;
        }
        throw new CliError(
          `missing ${group} command: ${grouped.map((c) => c.words[1]).join(', ')} (see mutua ${group} --help)`,
        );
      }
      command = grouped.find((c) => c.words[1] === action);
      if (!command)
        throw new CliError(
          `unknown ${group} command "${action}": ${grouped.map((c) => c.words[1]).join(', ')} (see mutua ${group} --help)`,
        );
      rest = split.rest;
    }
    const parsed = parse(rest, command.options, `mutua ${command.words.join(' ')} --help`);
    if (flag(parsed, 'help')) {
      io.stdout(commandHelp(command));
      return 0;
    }
    const coordinator = normaliseCoordinator(
      str(parsed, 'coordinator') ?? (env.MUTUA_COORDINATOR || DEFAULT_COORDINATOR),
    );
    const token = str(parsed, 'admin-token') ?? (env.MUTUA_ADMIN_TOKEN || undefined);
    const ctx: Context = {
      client: new AdminClient(coordinator, token),
      json: flag(parsed, 'json'),
      out: io.stdout,
      note: (text) => io.stderr(`${text}\n`),
      progress: io.stderrIsTty ? (line, last) => io.stderr(`\r\x1b[K${line}${last ? '\n' : ''}`) : undefined,
      signal,
    };
    await command.run(ctx, parsed);
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`mutua: ${err.message}\n`);
      return 2;
    }
    io.stderr(
      `mutua: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}
