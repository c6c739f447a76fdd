/** @mutua/core/data: browser-safe data sets, parsers, PRNG and the Dirichlet split (see data/index.ts). */
export * from './data/index.ts';
