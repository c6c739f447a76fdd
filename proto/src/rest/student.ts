/**
 * The federation's global student (issue 15, item 4): the consensus targets an operator
 * distills a compact model from (`mutua federation distill`), and the student it publishes
 * for download in the TF.js layers format.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable, PrintableText } from './schema.ts';

/** Most consensus versions one targets request reads (each is one round's or version's batches). */
export const MAX_TARGET_VERSIONS = 1024;
/** A student's weights.bin and model.json, each at most this many bytes (compact models are KiBs). */
export const MAX_STUDENT_BYTES = 8 << 20;

export const ConsensusTargetsQuery = Type.Object({
  versions: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_TARGET_VERSIONS,
      default: 64,
      description: 'the newest N consensus versions to read (default 64)',
    }),
  ),
});
export type ConsensusTargetsQuery = Static<typeof ConsensusTargetsQuery>;

export const ConsensusTargetsView = Type.Object({
  federationId: Type.String(),
  /** The federation's temperature: the targets are aggregates of tempered predictions. */
  temperature: Type.Number(),
  classes: Type.Integer(),
  /** Distinct public rows with a target (at most the public set's size). */
  rows: Type.Integer(),
  /** The versions read, newest first; a row's target is from the newest version holding it. */
  versions: Type.Array(
    Type.Object({
      version: Type.Integer(),
      rows: Type.Integer(),
      contributors: Type.Integer(),
      createdAt: Type.String(),
    }),
  ),
  /** Versions in range whose rows cannot be told (stored by an older coordinator, a batch aggregated in part). */
  skippedVersions: Type.Integer(),
  /** Public-set row of each target row. */
  indices: Type.Array(Type.Integer({ minimum: 0 })),
  targets: Type.String({
    contentEncoding: 'base64',
    description:
      'rows×classes float32 little-endian, base64: row r is the aggregate over ALL participants (the ensemble) of their tempered predictions on public sample indices[r]',
  }),
});
export type ConsensusTargetsView = Static<typeof ConsensusTargetsView>;

/** What the distilling command reports about the student it uploads (shown back by GET). */
export const StudentInfo = Type.Object({
  arch: PrintableText({ minLength: 1, maxLength: 64 }),
  /** Weight encoding of weights.bin: float32, float16 or uint8 (TF.js converter quantization). */
  encoding: PrintableText({ minLength: 1, maxLength: 16 }),
  epochs: Type.Integer({ minimum: 0 }),
  temperature: Type.Number({ exclusiveMinimum: 0 }),
  params: Type.Integer({ minimum: 0 }),
  /** Public rows it was distilled on, and the newest consensus version among them. */
  rows: Type.Integer({ minimum: 0 }),
  consensusVersion: Type.Integer({ minimum: 0 }),
  /** Fraction of those rows where its argmax matches the targets' argmax. */
  targetAgreement: Type.Number({ minimum: 0, maximum: 1 }),
  /** Accuracy on a labeled test set, when the command was given one (--eval). */
  testAccuracy: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
  testSet: Type.Optional(Nullable(PrintableText({ maxLength: 200 }))),
});
export type StudentInfo = Static<typeof StudentInfo>;

export const StudentUploadBody = Type.Object({
  /** The model.json of the TF.js layers format; its one weights group names `weights.bin`. */
  model: Type.Unsafe<Record<string, unknown>>({ type: 'object' }),
  /** weights.bin, base64. */
  weights: Type.String({ contentEncoding: 'base64', maxLength: Math.ceil(MAX_STUDENT_BYTES / 3) * 4 }),
  info: StudentInfo,
});
export type StudentUploadBody = Static<typeof StudentUploadBody>;

export const StudentView = Type.Object({
  federationId: Type.String(),
  info: StudentInfo,
  /** SHA-256 of weights.bin (also its ETag). */
  sha256: Type.String(),
  weightBytes: Type.Integer(),
  modelJsonBytes: Type.Integer(),
  /** Paths of the download (no token needed): tf.loadLayersModel(origin + modelUrl) loads it. */
  modelUrl: Type.String(),
  weightsUrl: Type.String(),
  uploadedAt: Type.String(),
});
export type StudentView = Static<typeof StudentView>;
