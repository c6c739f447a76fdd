/** Rounds (sync) or consensus versions (async), and the metrics participants reported. */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from './schema.ts';

export const RoundsQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
});
export type RoundsQuery = Static<typeof RoundsQuery>;

export const RoundView = Type.Object({
  number: Type.Integer(),
  status: Type.String(),
  closeReason: Nullable(Type.String()),
  batchSize: Type.Integer(),
  openedAt: Type.String(),
  closedAt: Nullable(Type.String()),
  submissions: Type.Integer(),
  aggregationMs: Nullable(Type.Number()),
  bytesReceived: Type.Integer({
    description: 'bytes of the frames that carried its accepted submissions (kept after payloads are pruned)',
  }),
});
export type RoundView = Static<typeof RoundView>;

export const MetricsQuery = Type.Object({ from: Type.Optional(Type.Integer({ minimum: 0 })) });
export type MetricsQuery = Static<typeof MetricsQuery>;

export const MetricView = Type.Object({
  round: Type.Integer(),
  participantId: Type.String(),
  source: Type.String(),
  metrics: Type.Unsafe<Record<string, number | boolean>>({
    type: 'object',
    additionalProperties: { type: ['number', 'boolean'] },
    description:
      'LocalMetrics by camelCase name: numbers, and hasTestAccuracy as a boolean (whether testAccuracy was measured)',
  }),
  at: Type.String(),
});
export type MetricView = Static<typeof MetricView>;
