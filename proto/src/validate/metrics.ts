/** LocalMetrics: finite numbers, accuracies in [0, 1]. */
import { ProtocolError } from '../errors.ts';
import type { LocalMetricsInit } from './common.ts';

export const ACCURACIES = ['trainAccuracy', 'valAccuracy', 'testAccuracy'] as const;
export const LOSSES = ['trainLoss', 'distillLoss'] as const;

/**
 * LocalMetrics: every number finite, accuracies within [0, 1]. Returns the error or undefined.
 * Absent metrics are fine (they are optional everywhere).
 */
export function validateMetrics(m: LocalMetricsInit | null | undefined): ProtocolError | undefined {
  if (m == null) return undefined;
  for (const key of [...LOSSES, ...ACCURACIES]) {
    const v = m[key];
    if (v != null && !Number.isFinite(v)) {
      return new ProtocolError('BAD_PAYLOAD', `metrics.${snake(key)} is ${v}; metrics must be finite`, {
        detail: 'METRICS_NON_FINITE',
      });
    }
  }
  for (const key of ACCURACIES) {
    const v = m[key];
    if (v != null && (v < 0 || v > 1)) {
      return new ProtocolError('BAD_PAYLOAD', `metrics.${snake(key)} is ${v}; accuracies lie in [0, 1]`, {
        detail: 'METRICS_RANGE',
      });
    }
  }
  return undefined;
}

export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
