/**
 * @mutua/client-node: the edge client as a library. The `mutua-client` command (cli.ts) is
 * a thin shell over runParticipant / runLocalOnly; the pieces are exported for programs that
 * embed a participant or, like the experiment harness, must split data exactly as it does.
 */
export { type CheckpointState, CheckpointStore } from './checkpoints.ts';
export { CliError, describeError } from './cli-error.ts';
export { coordinatorWsUrl } from './coordinator-url.ts';
export {
  type BuiltinName,
  builtinSource,
  ConcatSource,
  type DataSpec,
  holdOut,
  loadBuiltin,
  loadBuiltinSplit,
  loadPrivateData,
  type PrivateData,
  parseDataSpec,
  shardOf,
  withNumClasses,
} from './data-source.ts';
export { FileTokenStorage } from './file-token-storage.ts';
export { runLocalOnly } from './local-only.ts';
export { type MetricsLine, MetricsLog } from './metrics-log.ts';
export {
  fileSystemHandler,
  LAYERS_MODEL_FORMAT,
  loadModelDir,
  MODEL_JSON,
  saveModelDir,
  snapshotArtifacts,
  WEIGHTS_BIN,
} from './model-files.ts';
export {
  type ClientOptions,
  defaultCacheDir,
  HELP,
  parseOptions,
  parseShape,
  type ShardOptions,
} from './options.ts';
export { CLIENT_VERSION, type RunResult, runParticipant } from './participant.ts';
export { createPublicSetFetcher, type PublicSetFetchEvent, sha256Hex } from './public-set-cache.ts';
export { formatBytes, Reporter, type ReporterOptions } from './reporter.ts';
export { type Prepared, prepare, seeds } from './setup.ts';
export { type TrainTiming, withSlowdown } from './slowdown.ts';
