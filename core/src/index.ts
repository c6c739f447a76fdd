/**
 * @mutua/core: the isomorphic learning core (Node and browser; depends on tfjs only).
 *
 * - models: validated factories for mlp, cnn-small, cnn-fedavg (emit logits)
 * - distill: tempered softmax, the mutual KL loss (T², log space), Trainer, predictPublic, evaluate
 * - aggregate: the coordinator's pure aggregation maths (also `@mutua/core/aggregate`, no tfjs)
 * - data: Dataset, IDX/CSV parsers, seeded PRNG, Dirichlet split (also `@mutua/core/data`)
 * - session: the participant session over an abstract transport (also `@mutua/core/session`)
 * - backend / kernels: wasm gradient kernels and backend names
 *
 * Node-only entry points live apart so browser bundles never see node:fs:
 * `@mutua/core/backend-node` (selectBackend) and `@mutua/core/data-node` (file loaders).
 * Payload codecs (predictions, weights, public set) belong to the protocol: `@mutua/proto`.
 */
export * from './aggregate.ts';
export * from './backend.ts';
export * from './data.ts';
export * from './distill.ts';
export * from './kernels/register.ts';
export * from './models.ts';
export * from './session/index.ts';
