/** Node-only: a CSV file (optionally .gz) from disk. */
import { type CsvOptions, parseCsv } from '../csv.ts';
import type { Dataset } from '../dataset.ts';
import { readDataFile } from './files.ts';

export async function loadCsvFile(path: string, options: Omit<CsvOptions, 'name'> = {}): Promise<Dataset> {
  return parseCsv(await readDataFile(path), { ...options, name: path });
}
