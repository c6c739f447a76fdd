/** @mutua/core/data-node: @mutua/core/data plus the Node loaders that read files (see data/node/index.ts). */
export * from './data/index.ts';
export * from './data/node/index.ts';
