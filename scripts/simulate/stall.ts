/**
 * Detects the end-of-run stall of an async federation. An async coordinator gives a
 * participant no new task until a consensus version newer than its last contribution is
 * published, and publishes only after `bufferK` new contributions. When participants that
 * reached --max-rounds have left and every one still running has contributed to the
 * current version, nobody can contribute again and no version will come: they would wait
 * forever. The harness then stops them and says so.
 */

export interface ParticipantState {
  /** Still running (its process has not exited). */
  running: boolean;
  /** The round (async: consensus version) of its latest report; undefined before the first. */
  lastRound: number | undefined;
}

/**
 * The indices of the participants that are stuck when every running participant has
 * reported for `currentVersion` and at least one has left; else null (someone can still
 * contribute, or nobody has left, which is a different problem).
 */
export function stalledAsync(states: readonly ParticipantState[], currentVersion: number): number[] | null {
  const running = states.flatMap((s, i) => (s.running ? [i] : []));
  if (running.length === 0 || running.length === states.length) return null;
  const stuck = running.every((i) => states[i]!.lastRound === currentVersion);
  return stuck ? running : null;
}
