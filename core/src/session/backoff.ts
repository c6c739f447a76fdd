/**
 * Reconnect delays: exponential backoff with jitter, so that participants dropped together
 * (a coordinator restart) do not all come back in the same instant.
 *
 *   base(n)  = min(maxDelayMs, initialDelayMs * factor^(n-1))      for attempt n >= 1
 *   delay(n) = base(n) * (1 - jitter + jitter * random())          random() in [0, 1)
 *
 * jitter = 0 gives the plain exponential sequence, jitter = 1 "full jitter" (uniform in
 * [0, base)); the default 0.5 keeps every delay within [base/2, base).
 */
export interface BackoffOptions {
  /** Delay before the first retry; default 500 ms. */
  initialDelayMs: number;
  /** Cap on the delay; default 30 s. */
  maxDelayMs: number;
  /** Growth per attempt; default 2. */
  factor: number;
  /** Fraction of the delay that is randomized, in [0, 1]; default 0.5. */
  jitter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/** The delay before reconnect attempt `attempt` (1-based). Throws RangeError on bad options. */
export function backoffDelay(
  attempt: number,
  options: Partial<BackoffOptions> = {},
  random: () => number = Math.random,
): number {
  const initialDelayMs = options.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs;
  const maxDelayMs = options.maxDelayMs ?? Math.max(DEFAULT_BACKOFF.maxDelayMs, initialDelayMs);
  const factor = options.factor ?? DEFAULT_BACKOFF.factor;
  const jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
  if (!(initialDelayMs >= 0 && maxDelayMs >= initialDelayMs && factor >= 1 && jitter >= 0 && jitter <= 1)) {
    throw new RangeError(
      `backoff needs 0 <= initialDelayMs <= maxDelayMs, factor >= 1 and jitter in [0, 1]; got ${JSON.stringify({ initialDelayMs, maxDelayMs, factor, jitter })}`,
    );
  }
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(maxDelayMs, initialDelayMs * factor ** (n - 1));
  return Math.round(base * (1 - jitter + jitter * random()));
}
