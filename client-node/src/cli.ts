/**
 * `mutua-client`: parses the command line, runs a federated participant (or the local-only
 * baseline), and turns the outcome into an exit status. SIGINT / SIGTERM ask the run to
 * stop gracefully (exit 0 once it has left); a second SIGINT quits at once (130).
 */
import { DataError } from '@mutua/core/data';
import { ModelConfigError } from '@mutua/core/model-archs';
import { CliError, describeError } from './cli-error.ts';
import { LOCAL_MUTUAL_HELP, parseLocalMutualOptions } from './local-mutual/options.ts';
import { HELP, parseOptions } from './options.ts';
import { Reporter } from './reporter.ts';

/** Problems with the user's inputs (exit 2) as opposed to bugs (exit 1). */
function asCliError(err: unknown): CliError | null {
  if (err instanceof CliError) return err;
  if (err instanceof DataError) {
    // DataError messages already start with their code.
    return new CliError(
      err.code,
      err.message.startsWith(`${err.code}: `) ? err.message.slice(err.code.length + 2) : err.message,
    );
  }
  if (err instanceof ModelConfigError) return new CliError(err.code, err.message);
  return null;
}

export async function main(argv: readonly string[]): Promise<number> {
  let reporter = new Reporter();
  try {
    if (argv.some((a) => a === '--local-mutual' || a.startsWith('--local-mutual='))) {
      return await localMutual(argv);
    }
    const options = parseOptions(argv);
    if (!options) {
      process.stdout.write(HELP);
      return 0;
    }
    reporter = new Reporter({ quiet: options.quiet });
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1 && signal === 'SIGINT') {
        reporter.error('interrupted');
        process.exit(130);
      }
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Loaded only now: tfjs, its backends and the data loaders take most of a start, and
    // --help or a refused option needs none of them.
    const run = options.localOnly
      ? (await import('./local-only.ts')).runLocalOnly
      : (await import('./participant.ts')).runParticipant;
    const result = await run(options, reporter, controller.signal);
    if (result.error) reporter.error(describeError(result.error));
    return result.exitCode;
  } catch (err) {
    const known = asCliError(err);
    if (known) {
      reporter.error(describeError(known));
      return known.exitCode;
    }
    reporter.error(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

/** `--local-mutual`: the local mutual-learning experiment (local-mutual/), its own options. */
async function localMutual(argv: readonly string[]): Promise<number> {
  const options = parseLocalMutualOptions(argv);
  if (!options) {
    process.stdout.write(LOCAL_MUTUAL_HELP);
    return 0;
  }
  const reporter = new Reporter({ quiet: options.quiet });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { localMutualMain } = await import('./local-mutual/main.ts');
  return localMutualMain(options, reporter, controller.signal);
}

// Exit explicitly: the wasm backend and undici keep-alive sockets may hold the event loop open.
process.exit(await main(process.argv.slice(2)));
