/**
 * Getting the learner ready, once per session, after the first Welcome: fetch the public set
 * (through the injected fetchPublicSet, which caches and verifies sha256), decode it and
 * check it against its descriptor and the model, then build the learner (or take the one
 * given) and, for fedavg, count its parameters.
 *
 * A fetch failure is probably transient (network, a cache being written) and is reported
 * non-fatal, so that the session retries through the reconnect backoff; an undecodable or
 * mismatching file, a failing factory or a learner unfit for the strategy is fatal.
 * Task and Targets messages that arrive before the learner is ready are held (the newest
 * MAX_HELD) and replayed once it is.
 */
import { decodePublicSet, type PublicSet, type TargetsInit, type TaskInit } from '@mutua/proto';
import { describe } from './connection-loop.ts';
import type { Learner } from './learner.ts';
import { SessionError } from './session-error.ts';
import type { ParticipantSessionOptions } from './session-types.ts';
import type { PublicSetInfo, SessionWelcome } from './welcome.ts';

const MAX_HELD = 64;

export interface PreparedLearner {
  learner: Learner;
  /** Built by the session's factory, so the session disposes it. */
  owned: boolean;
  /** The public set's sha256 and sample count; null / undefined without one. */
  publicSetId: string | null;
  publicSetSize: number | undefined;
  /** fedavg: the number of model parameters; 0 otherwise. */
  weightCount: number;
}

export type HeldMessage = { task: TaskInit } | { targets: TargetsInit };

type PrepareOptions = Pick<ParticipantSessionOptions, 'url' | 'model' | 'learner' | 'fetchPublicSet'>;

/** The public-set URL a Welcome gives, made absolute against the session URL (ws -> http, wss -> https). */
export function resolvePublicSetUrl(sessionUrl: string, path: string): string {
  const url = new URL(path, sessionUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.toString();
}

function asFatal(err: unknown, code: 'PUBLIC_SET' | 'LEARNER'): SessionError {
  if (err instanceof SessionError) return err.fatal ? err : err.asFatal();
  return new SessionError(code, describe(err), { fatal: true, cause: err });
}

export class LearnerPreparation {
  private prepared: PreparedLearner | null = null;
  private inFlight: Promise<PreparedLearner> | null = null;
  private readonly held: HeldMessage[] = [];

  constructor(private readonly opts: PrepareOptions) {}

  get ready(): PreparedLearner | null {
    return this.prepared;
  }

  /** Neither ready nor being prepared. */
  get needed(): boolean {
    return this.prepared === null && this.inFlight === null;
  }

  /**
   * Prepares for `welcome`. Resolves with the learner, which is kept unless `keep` says the
   * session no longer wants it (then an owned learner is disposed and null returned). Rejects
   * with a SessionError: non-fatal (fetch failed, may be tried again) or fatal.
   */
  async prepare(welcome: SessionWelcome, keep: () => boolean): Promise<PreparedLearner | null> {
    const attempt = this.build(welcome);
    this.inFlight = attempt;
    let result: PreparedLearner;
    try {
      result = await attempt;
    } finally {
      if (this.inFlight === attempt) this.inFlight = null;
    }
    if (!keep()) {
      if (result.owned) result.learner.dispose?.();
      return null;
    }
    this.prepared = result;
    return result;
  }

  /** Keeps a message that came before the learner was ready. */
  hold(msg: HeldMessage): void {
    this.held.push(msg);
    if (this.held.length > MAX_HELD) this.held.shift();
  }

  /** The held messages, oldest first; the hold is emptied. */
  release(): HeldMessage[] {
    return this.held.splice(0);
  }

  /** Disposes an owned learner. */
  dispose(): void {
    if (this.prepared?.owned) this.prepared.learner.dispose?.();
  }

  private async build(welcome: SessionWelcome): Promise<PreparedLearner> {
    const info = welcome.publicSet;
    let publicSet: PublicSet | undefined;
    if (info) {
      const bytes = await this.fetch(info);
      try {
        publicSet = this.check(decodePublicSet(bytes), info);
      } catch (err) {
        throw asFatal(err, 'PUBLIC_SET');
      }
    }
    const given = this.opts.learner;
    const owned = typeof given === 'function';
    let learner: Learner | undefined;
    try {
      learner = owned ? await given({ federation: welcome.federation, publicSet }) : given;
      let weightCount = 0;
      if (welcome.federation.strategy === 'fedavg') {
        if (!learner.getWeights || !learner.setWeights) {
          throw new SessionError(
            'LEARNER',
            'a fedavg federation needs a learner with getWeights and setWeights',
            {
              fatal: true,
            },
          );
        }
        weightCount = (await learner.getWeights()).length;
      }
      return {
        learner,
        owned,
        publicSetId: info?.sha256 ?? null,
        publicSetSize: publicSet?.sampleCount,
        weightCount,
      };
    } catch (err) {
      if (owned) learner?.dispose?.();
      throw asFatal(err, 'LEARNER');
    }
  }

  private async fetch(info: PublicSetInfo): Promise<Uint8Array> {
    const fetchPublicSet = this.opts.fetchPublicSet;
    if (!fetchPublicSet) {
      throw new SessionError(
        'PUBLIC_SET',
        'this federation uses a public set, but no fetchPublicSet was given',
        {
          fatal: true,
        },
      );
    }
    try {
      return await fetchPublicSet(resolvePublicSetUrl(this.opts.url, info.url), info.sha256, info);
    } catch (err) {
      throw new SessionError('PUBLIC_SET', `could not fetch the public set: ${describe(err)}`, {
        cause: err,
      });
    }
  }

  private check(set: PublicSet, info: PublicSetInfo): PublicSet {
    const problems: string[] = [];
    if (info.sampleCount > 0 && set.sampleCount !== info.sampleCount) {
      problems.push(`${set.sampleCount} samples, the descriptor says ${info.sampleCount}`);
    }
    if (info.shape.length > 0 && set.shape.join('x') !== info.shape.join('x')) {
      problems.push(`samples [${set.shape}], the descriptor says [${info.shape}]`);
    }
    if (set.shape.join('x') !== this.opts.model.inputShape.join('x')) {
      problems.push(`samples [${set.shape}], the model takes [${this.opts.model.inputShape}]`);
    }
    if (problems.length > 0) {
      throw new SessionError('PUBLIC_SET', `the public set does not match: ${problems.join('; ')}`, {
        fatal: true,
      });
    }
    return set;
  }
}
