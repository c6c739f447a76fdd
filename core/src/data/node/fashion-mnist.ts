/**
 * Node-only: Fashion-MNIST from the installed `fashion-mnist` package (nothing is downloaded);
 * each class file may also be gzipped (<c>.json.gz), as in the container image.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from '../dataset.ts';
import { checkInt, DataError } from '../errors.ts';
import {
  assembleFashionMnist,
  FASHION_MNIST_LABELS,
  type FashionMnistClass,
  parseFashionMnistJson,
} from '../fashion-mnist.ts';
import type { Split } from '../mnist.ts';
import { take } from '../take.ts';
import { memo } from './cache.ts';
import { readDataFile } from './files.ts';

export interface FashionMnistOptions {
  readonly split: Split;
  /** Keep the first `limit` samples; the order is class-interleaved, so any prefix is balanced. */
  readonly limit?: number;
}

/** The folder holding the package's per-class JSON files. */
export function fashionMnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
}

/**
 * Fashion-MNIST: 60,000 train / 10,000 test images (how the package's 70,000 are split is
 * explained in fashion-mnist.ts), pixels in [0, 1], shape [28, 28, 1], labels 0..9 with
 * labelNames. Parsed once per process: the result's arrays are shared between callers, so
 * treat them as read-only (subset() copies).
 */
export async function loadFashionMnist(options: FashionMnistOptions): Promise<Dataset> {
  if (options.split !== 'train' && options.split !== 'test') {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `split must be 'train' or 'test', got ${String(options.split)}`,
    );
  }
  if (options.limit !== undefined) checkInt('limit', options.limit, 0);
  const split = options.split;
  const full = await memo(`fashion-mnist\0${split}`, async () =>
    assembleFashionMnist(await memo('fashion-mnist\0classes', loadClasses), split),
  );
  return take(full, options.limit);
}

/**
 * Reads the ten files one after another into one reused buffer: 155 MB of JSON then costs
 * one 17 MB allocation instead of ten, which matters where fresh memory is slow to fault in.
 */
async function loadClasses(): Promise<FashionMnistClass[]> {
  const dir = fashionMnistDataDir();
  const classes: FashionMnistClass[] = [];
  let buffer = Buffer.alloc(0);
  for (let c = 0; c < FASHION_MNIST_LABELS.length; c++) {
    const file = join(dir, `${c}.json`);
    // The container image keeps the files gzipped (a quarter of the size): <c>.json.gz.
    if (!existsSync(file) && existsSync(`${file}.gz`)) {
      const bytes = await readDataFile(`${file}.gz`);
      classes.push(parseFashionMnistJson(bytes, `${file}.gz`));
      continue;
    }
    let size: number;
    try {
      const handle = await open(file, 'r');
      try {
        size = (await handle.stat()).size;
        if (buffer.length < size) buffer = Buffer.allocUnsafe(size);
        let read = 0;
        while (read < size) {
          const { bytesRead } = await handle.read(buffer, read, size - read, read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        size = read;
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw new DataError('DATA_FILE_NOT_FOUND', 'cannot read the fashion-mnist package file', {
        file,
        cause: err,
      });
    }
    classes.push(parseFashionMnistJson(buffer.subarray(0, size), file));
  }
  return classes;
}
