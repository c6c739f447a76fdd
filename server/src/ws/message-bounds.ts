/**
 * Bounds on numbers a participant sends that the wire schema cannot bound by itself
 * (PROTOCOL.md, "Bounds"). Each check returns a coded, non-fatal ProtocolError or null.
 */
import { ProtocolError } from '@mutua/proto';

/**
 * MetricsReport.round names a round the participant worked on: 0 (before any) up to the
 * federation's current round/version. Anything else would be stored as is (a round 2^31
 * stretched the dashboard's chart to 2×10^9, and overflowed PostgreSQL's integer column).
 */
export function checkMetricsRound(round: number, currentVersion: number): ProtocolError | null {
  if (Number.isSafeInteger(round) && round >= 0 && round <= currentVersion) return null;
  return new ProtocolError(
    'UNKNOWN_ROUND',
    `MetricsReport.round ${round} is not a round of this federation (0 to ${currentVersion})`,
    { detail: 'METRICS_ROUND' },
  );
}
