/**
 * `node --import tsx scripts/simulate/combine-runs.ts --baseline DIR --baseline-methods
 * fedavg,fedavg-f16,fedavg-u8 --out DIR RUN_DIR [RUN_DIR...]`: reads the results.json of a
 * baseline run and of later runs on the same split (see combine.ts), and writes into --out
 * what a single sweep would: summary.json (vsFedavg per encoding), summary.md (with the
 * per-encoding table appended), the CSVs and plots, accuracy-vs-mb-sweep.svg being one curve
 * per encoding (FedAvg's runs drawn once) and accuracy-vs-mb-encodings-public.svg the same
 * with each run's public-set download added. The runs' own results.json stay where they are;
 * the combined one is not written (it would only repeat them).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { combineReports, encodingsPlot, encodingsTable } from './combine.ts';
import type { SimulationReport } from './output.ts';
import { writeOutputs } from './output.ts';
import { METHODS, type MethodName } from './types.ts';

function readReport(dir: string): SimulationReport {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as SimulationReport;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      baseline: { type: 'string' },
      'baseline-methods': { type: 'string', default: 'fedavg,fedavg-f16,fedavg-u8' },
      out: { type: 'string' },
    },
  });
  if (!values.baseline || !values.out || positionals.length === 0) {
    throw new Error('usage: combine-runs.ts --baseline DIR [--baseline-methods LIST] --out DIR RUN_DIR...');
  }
  const methods = values['baseline-methods'].split(',').map((m) => m.trim());
  const unknown = methods.find((m) => !(METHODS as readonly string[]).includes(m));
  if (unknown) throw new Error(`--baseline-methods: unknown method ${unknown}`);
  const command = `node --import tsx scripts/simulate/combine-runs.ts ${process.argv.slice(2).join(' ')}`;
  const report = combineReports(
    readReport(values.baseline),
    methods as MethodName[],
    positionals.map(readReport),
    command,
  );
  const out = values.out;
  const files = writeOutputs(out, report);
  rmSync(join(out, 'results.json'));
  const o = report.options;
  const subtitle = `${o.dataset}, ${o.clients} participants, alpha ${o.alpha}`;
  writeFileSync(join(out, 'accuracy-vs-mb-sweep.svg'), encodingsPlot(report, false, subtitle));
  writeFileSync(join(out, 'accuracy-vs-mb-encodings-public.svg'), encodingsPlot(report, true, subtitle));
  const table = encodingsTable(report);
  const md = readFileSync(join(out, 'summary.md'), 'utf8');
  writeFileSync(
    join(out, 'summary.md'),
    `${md}\n## Per encoding\n\nFrom ${[values.baseline, ...positionals].join(', ')} (their results.json). Target: the lower of the method's and the FedAvg reference's final accuracy.\n\n${table}\n![accuracy vs MB per encoding, with the public set](accuracy-vs-mb-encodings-public.svg)\n`,
  );
  const written = [
    ...files.filter((f) => !f.endsWith('results.json')),
    join(out, 'accuracy-vs-mb-encodings-public.svg'),
  ];
  console.log(table);
  console.log(`combine-runs: wrote ${written.map((f) => relative(process.cwd(), f)).join(', ')}`);
}

try {
  main();
} catch (err) {
  console.error(`combine-runs: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
