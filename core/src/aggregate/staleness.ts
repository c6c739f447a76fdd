/**
 * Staleness weights for asynchronous contributions. A participant's predictions were made
 * against a consensus `tau` versions old (tau = current version − version it trained on);
 * the older, the less they should move the new consensus, and beyond a limit they are
 * refused. The functions are FedAsync's (Xie, Koyejo & Gupta, "Asynchronous Federated
 * Optimization", arXiv:1903.03934, §5) and are what FedBuff-style buffered aggregation
 * multiplies contributions by.
 */
import { AggregationError } from './errors.ts';
import { checkRange } from './validate.ts';

/** How weight decays with staleness tau >= 0. All give weight 1 at tau = 0. */
export type StalenessFunction =
  /** s(tau) = 1: staleness ignored (until maxStaleness). */
  | { readonly kind: 'constant' }
  /** s(tau) = (1 + tau)^−a, a >= 0. FedAsync's recommended default, e.g. a = 0.5. */
  | { readonly kind: 'polynomial'; readonly a: number }
  /** s(tau) = 1 if tau <= b, else 1 / (a·(tau − b) + 1); a, b >= 0. Fresh-enough counts fully. */
  | { readonly kind: 'hinge'; readonly a: number; readonly b: number };

/** A decay plus an optional hard limit: contributions with tau > maxStaleness are rejected. */
export type StalenessPolicy = StalenessFunction & {
  /** Largest accepted tau; default Infinity (nothing rejected). */
  readonly maxStaleness?: number;
};

/** True when a contribution `tau` versions old must be rejected under `policy`. */
export function isTooStale(tau: number, policy: StalenessPolicy): boolean {
  checkTau(tau);
  const max = policy.maxStaleness ?? Number.POSITIVE_INFINITY;
  if (!(max >= 0)) {
    throw new AggregationError('ERR_AGG_OPTION', `maxStaleness must be >= 0, got ${max}`);
  }
  return tau > max;
}

/**
 * The weight in (0, 1] of a contribution `tau` versions old, or exactly 0 when
 * tau > maxStaleness, meaning "reject it" (no decay function ever returns 0 itself, so 0
 * is unambiguous). Multiply it into the contribution's other weight.
 *
 * @throws AggregationError if tau is negative or not finite, or a parameter is out of range.
 */
export function stalenessWeight(tau: number, policy: StalenessPolicy): number {
  if (isTooStale(tau, policy)) return 0;
  switch (policy.kind) {
    case 'constant':
      return 1;
    case 'polynomial':
      checkRange('polynomial staleness exponent a', policy.a, 0, Number.POSITIVE_INFINITY, { maxOpen: true });
      return atLeastTiny((1 + tau) ** -policy.a);
    case 'hinge':
      checkRange('hinge staleness slope a', policy.a, 0, Number.POSITIVE_INFINITY, { maxOpen: true });
      checkRange('hinge staleness threshold b', policy.b, 0, Number.POSITIVE_INFINITY, { maxOpen: true });
      return tau <= policy.b ? 1 : atLeastTiny(1 / (policy.a * (tau - policy.b) + 1));
    default:
      throw new AggregationError(
        'ERR_AGG_OPTION',
        `unknown staleness kind ${JSON.stringify((policy as { kind: unknown }).kind)}; use constant, polynomial or hinge`,
      );
  }
}

/** Keeps an accepted weight from underflowing to 0, which would read as "rejected". */
function atLeastTiny(weight: number): number {
  return weight > 0 ? weight : Number.MIN_VALUE;
}

function checkTau(tau: number): void {
  if (!(Number.isFinite(tau) && tau >= 0)) {
    throw new AggregationError('ERR_AGG_OPTION', `staleness tau must be a finite number >= 0, got ${tau}`);
  }
}
