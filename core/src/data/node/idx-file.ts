/** Node-only: IDX files (optionally .gz) from disk. */
import type { Dataset } from '../dataset.ts';
import { type IdxArray, type IdxDatasetOptions, parseIdx, parseIdxDataset } from '../idx.ts';
import { readDataFile } from './files.ts';

export async function loadIdxFile(path: string): Promise<IdxArray> {
  return parseIdx(await readDataFile(path), { name: path });
}

export interface IdxFilesOptions extends Omit<IdxDatasetOptions, 'imagesName' | 'labelsName'> {
  /** Path of the images file, e.g. train-images-idx3-ubyte(.gz). */
  readonly images: string;
  /** Path of the labels file. */
  readonly labels: string;
}

/** An images file and a labels file as one Dataset (see parseIdxDataset). */
export async function loadIdxDataset(options: IdxFilesOptions): Promise<Dataset> {
  const { images, labels, ...rest } = options;
  const [imageBytes, labelBytes] = await Promise.all([readDataFile(images), readDataFile(labels)]);
  return parseIdxDataset(imageBytes, labelBytes, { ...rest, imagesName: images, labelsName: labels });
}
