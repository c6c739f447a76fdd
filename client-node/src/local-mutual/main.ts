/** `mutua-client --local-mutual …`: parse, run, print the table, write JSON / CSV. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Reporter } from '../reporter.ts';
import { LOCAL_MUTUAL_HELP, type LocalMutualOptions, parseLocalMutualOptions } from './options.ts';
import { formatTable, summarize, toCsv } from './report.ts';
import { runLocalMutual } from './run.ts';

export { LOCAL_MUTUAL_HELP, parseLocalMutualOptions };

export async function localMutualMain(
  o: LocalMutualOptions,
  reporter: Reporter,
  stop: AbortSignal,
): Promise<number> {
  const started = new Date().toISOString();
  const results = await runLocalMutual(o, reporter, stop);
  if (stop.aborted) {
    reporter.info('stopped before the end: no table written');
    return 0;
  }
  const summary = summarize(results);
  if (!reporter.quiet) process.stdout.write(`\n${formatTable(summary)}\n`);
  const write = async (path: string, text: string) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  };
  if (o.out) {
    const doc = {
      command: 'mutua-client --local-mutual',
      options: o,
      started,
      finished: new Date().toISOString(),
      summary,
      results,
    };
    await write(o.out, `${JSON.stringify(doc, null, 2)}\n`);
    reporter.info(`results: ${o.out}`);
  }
  if (o.csv) {
    await write(o.csv, toCsv(results));
    reporter.info(`results (CSV): ${o.csv}`);
  }
  return 0;
}
