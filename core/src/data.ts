/**
 * @mutua/core/data: data sets without tfjs and without node modules (browser-safe):
 * the Dataset type, IDX/CSV parsers over bytes, the seeded PRNG and the non-IID
 * Dirichlet split with held-out public and test sets.
 */
export * from './data/csv.ts';
export * from './data/dataset.ts';
export * from './data/errors.ts';
export * from './data/fashion-mnist.ts';
export * from './data/idx.ts';
export * from './data/mnist.ts';
export * from './data/partition.ts';
export * from './data/rng.ts';
export * from './data/take.ts';
