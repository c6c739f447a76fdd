/** Public sets over REST: created from a built-in data set slice or an uploaded file. */
import { type Static, Type } from '@sinclair/typebox';
import { PUBLIC_SET_FORMAT } from '../public-set.ts';
import { StringEnum } from './schema.ts';

export const BUILTIN_DATASETS = ['mnist', 'fashion-mnist'] as const;
export type BuiltinDataset = (typeof BUILTIN_DATASETS)[number];

/** A slice of a built-in data set (the coordinator ships MNIST and Fashion-MNIST). */
export const BuiltinSlice = Type.Object(
  {
    dataset: StringEnum(BUILTIN_DATASETS),
    split: Type.Optional(StringEnum(['train', 'test'] as const, { default: 'test' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 70000, default: 1000 })),
  },
  { additionalProperties: false },
);
/** As the handler sees it: Ajv has filled in the defaults. */
export type BuiltinSlice = Required<Static<typeof BuiltinSlice>>;

export const PublicSetView = Type.Object({
  id: Type.String({ description: 'lowercase hex SHA-256 of the file' }),
  byteLength: Type.Integer(),
  sampleCount: Type.Integer(),
  shape: Type.Array(Type.Integer()),
  format: Type.String(),
  source: Type.String(),
  url: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type PublicSetView = Static<typeof PublicSetView>;

export const UPLOAD_FORMATS = ['idx', 'csv', PUBLIC_SET_FORMAT] as const;

export const UploadQuery = Type.Object({
  format: StringEnum(UPLOAD_FORMATS),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  shape: Type.Optional(
    Type.String({ pattern: '^[0-9]+(x[0-9]+)*$', description: 'CSV sample shape, e.g. 28x28x1' }),
  ),
});
export type UploadQuery = Static<typeof UploadQuery>;

export const PublicSetParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{64}$' }) });
