/** Node-only: reading data files, transparently gunzipped. */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataError } from '../errors.ts';

const gunzipAsync = promisify(gunzip);

/**
 * The bytes of `path`. A file whose name ends in .gz, or that starts with the gzip magic
 * (1f 8b), is decompressed: MNIST is usually distributed as .gz.
 */
export async function readDataFile(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new DataError('DATA_FILE_NOT_FOUND', 'no such file', { file: path, cause: err });
    throw new DataError('DATA_FILE_UNREADABLE', `cannot read (${code ?? String(err)})`, {
      file: path,
      cause: err,
    });
  }
  const gzipped = path.toLowerCase().endsWith('.gz') || (raw[0] === 0x1f && raw[1] === 0x8b);
  if (!gzipped) return raw;
  try {
    return await gunzipAsync(raw);
  } catch (err) {
    throw new DataError('DATA_GZIP_CORRUPT', `not valid gzip data (${(err as Error).message})`, {
      file: path,
      cause: err,
    });
  }
}
