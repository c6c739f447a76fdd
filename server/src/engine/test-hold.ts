/**
 * TEST-ONLY: stopping a federation inside a named crash window, so the crash tests
 * (server/test/crash-windows.test.ts) kill the coordinator exactly there instead of by
 * timing luck.
 *
 *   MUTUA_TEST_HOLD_AT="<federation name>=<point>[,<federation name>=<point>…]"
 *
 * The first time the runtime of a named federation reaches its point, it prints
 * `mutua-test-hold <name> <point>` on stdout and never goes on; from then on every hold
 * point of that federation blocks too (it behaves as if the process had died there). The
 * test waits for the line and sends SIGKILL. Unset (always, outside those tests) the
 * runtime gets no hook and each hold point is an `await undefined`.
 */
export const HOLD_POINTS = [
  /** An upload passed every check; its write has not started (it is not stored, not acknowledged). */
  'before-submission-saved',
  /** An upload is durable; its Ack is not sent. */
  'after-submission-saved',
  /** A round / version is complete (its uploads acknowledged); its consensus is not saved. */
  'before-consensus-saved',
  /** The consensus is saved; the round is neither closed nor the next one opened. */
  'after-consensus-saved',
  /** The next round is open and persisted; no participant was sent its Task. */
  'before-tasks-sent',
] as const;
export type HoldPoint = (typeof HOLD_POINTS)[number];
export type TestHold = (point: HoldPoint) => Promise<void>;

export const TEST_HOLD_ENV = 'MUTUA_TEST_HOLD_AT';

/** The hook for federation `name` from MUTUA_TEST_HOLD_AT, or undefined when it names none. */
export function testHoldFromEnv(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): TestHold | undefined {
  const spec = env[TEST_HOLD_ENV];
  if (!spec) return undefined;
  let target: HoldPoint | undefined;
  for (const entry of spec.split(',')) {
    const eq = entry.lastIndexOf('=');
    const point = entry.slice(eq + 1) as HoldPoint;
    if (eq < 1 || !HOLD_POINTS.includes(point)) {
      throw new Error(`${TEST_HOLD_ENV}: "${entry}" is not <federation name>=<${HOLD_POINTS.join('|')}>`);
    }
    if (entry.slice(0, eq) === name) target = point;
  }
  if (!target) return undefined;
  let held = false;
  const never = new Promise<void>(() => undefined);
  return (point) => {
    if (!held && point !== target) return Promise.resolve();
    if (!held) print(`mutua-test-hold ${name} ${point}`);
    held = true;
    return never;
  };
}
