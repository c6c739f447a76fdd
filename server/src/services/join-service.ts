/**
 * What a join link opens, for the browser join page: the federation a join token admits
 * to, its task and settings, and demo data to try it with. The join token is the
 * credential; only a usable one (known, not revoked, not expired, federation not deleted)
 * gets an answer. A paused federation still answers, with status "paused", so the page
 * can say so before trying to join.
 */
import { randomInt } from 'node:crypto';
import type { JoinInfo } from '@mutua/proto/rest';
import type { Coordinator } from '../coordinator.ts';
import { type Db, type FederationRow, hashToken } from '../db/index.ts';
import {
  buildDemoShard,
  DEMO_SHARD_MAX,
  type DemoShard,
  demoSourceOf,
  warmDemoSource,
} from '../demo-shard.ts';
import { requiredParticipants, resolveSettings, type SettingsInput } from '../engine/settings.ts';
import { HttpError, notFound } from '../errors.ts';

export class JoinService {
  constructor(
    private readonly db: Db,
    private readonly coordinator: Coordinator,
  ) {}

  async info(token: string): Promise<JoinInfo> {
    const f = await this.federationFor(token);
    const s = resolveSettings(f.settings as SettingsInput);
    const rt = await this.coordinator.liveRuntime(f.id).catch(() => undefined);
    const demo = await this.demoSource(f);
    const online = rt?.onlineCount ?? 0;
    // As the admin view says it (services/views.ts): the join page shows the same wait.
    const required = requiredParticipants(s);
    // Whoever reads this is likely to ask for a demo shard next: have its data set ready.
    if (demo) warmDemoSource(demo);
    return {
      federation: {
        id: f.id,
        name: f.name,
        status: f.status === 'paused' ? 'paused' : 'active',
        strategy: s.strategy,
        mode: s.mode,
        task: s.task,
        modelArch: s.modelArch,
        localEpochs: s.localEpochs,
        currentRound: rt?.currentVersion ?? f.currentRound,
        consensusVersion: rt?.consensusVersion ?? f.consensusVersion,
        participantsOnline: online,
        minParticipants: required,
        waitingForParticipants: f.status === 'active' && online < required,
      },
      demo: {
        available: demo !== null,
        dataset: demo?.dataset ?? null,
        maxSamples: DEMO_SHARD_MAX,
        url: demo ? `/v1/join/${encodeURIComponent(token)}/demo-shard` : null,
      },
    };
  }

  /** n labeled samples outside the public set; a random seed unless one is given. */
  async demoShard(token: string, n: number, seed = randomInt(0, 2 ** 32 - 1)): Promise<DemoShard> {
    const source = await this.demoSource(await this.federationFor(token));
    if (!source) {
      throw new HttpError(
        'MUTUA_ERR_NO_DEMO_DATA',
        'this federation has no demo data (its public set is not a built-in data set): use your own data',
      );
    }
    return buildDemoShard(source, n, seed);
  }

  /** The federation a usable join token admits to; coded 401/404 otherwise. */
  private async federationFor(token: string): Promise<FederationRow> {
    const t = await this.db.joinTokens.findByHash(hashToken(token));
    if (!t) {
      throw new HttpError(
        'MUTUA_ERR_BAD_TOKEN',
        'this join link is not valid: check that it was copied whole, or ask the operator for a new one',
      );
    }
    if (t.revokedAt) {
      throw new HttpError(
        'MUTUA_ERR_TOKEN_REVOKED',
        'this join link was revoked by the operator: ask for a new one',
      );
    }
    if (t.expiresAt && t.expiresAt.getTime() <= Date.now()) {
      throw new HttpError('MUTUA_ERR_TOKEN_EXPIRED', 'this join link has expired: ask for a new one');
    }
    const f = await this.db.federations.get(t.federationId);
    if (!f || f.status === 'deleted') throw notFound('the federation of this join link');
    return f;
  }

  private async demoSource(f: FederationRow) {
    const ps = f.publicSetId ? await this.db.publicSets.get(f.publicSetId) : null;
    return ps ? demoSourceOf(ps.source) : null;
  }
}
