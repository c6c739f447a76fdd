/**
 * Data loading and partitioning that runs anywhere (Node and the browser): parsers take
 * bytes or text, never paths. File, folder and package loaders are in ./node/index.ts,
 * which imports node:fs and must stay out of browser bundles.
 */
export { type CsvOptions, parseCsv } from './csv.ts';
export { type Dataset, sampleSize, subset } from './dataset.ts';
export { DataError, type DataErrorCode, type DataErrorDetails } from './errors.ts';
export {
  assembleFashionMnist,
  FASHION_MNIST_LABELS,
  type FashionMnistClass,
  parseFashionMnistJson,
} from './fashion-mnist.ts';
export {
  encodeIdx,
  type IdxArray,
  type IdxData,
  type IdxDatasetOptions,
  type IdxDtype,
  type IdxImages,
  type IdxImagesOptions,
  type IdxLabelsOptions,
  type IdxParseOptions,
  parseIdx,
  parseIdxDataset,
  parseIdxImages,
  parseIdxLabels,
} from './idx.ts';
export { MNIST_FILES, MNIST_LABELS, type Split } from './mnist.ts';
export {
  type DirichletOptions,
  type FederatedSplit,
  type FederatedSplitOptions,
  federatedSplit,
  labelHistogram,
  labelSkew,
  partitionDirichlet,
  totalVariation,
} from './partition.ts';
export { deriveSeed, type MutableArrayLike, Rng } from './rng.ts';
export { take } from './take.ts';
