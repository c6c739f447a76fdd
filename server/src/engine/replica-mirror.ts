/**
 * The follower side of a federation runtime in a cluster: a replica that does not own the
 * federation mirrors the owner's decisions (cluster-port.ts StateAnnouncement) so that it
 * admits uploads against the right version and sends its own participants their Tasks and
 * leave-one-out targets. An announcement out of sequence (one missed: this replica was
 * busy loading, or the bus dropped it) is answered by reloading from the store, which
 * holds every decision before it is announced.
 */

import type { RuntimeStore, StoredSubmission } from '../db/store.ts';
import type { StateAnnouncement } from './cluster-port.ts';
import { targetsFromMean } from './mutual-strategy.ts';
import { consensusFromWire, fillUploads } from './replica-consensus.ts';
import type { SessionRoster } from './session-roster.ts';
import type { FederationSettings } from './settings.ts';
import type { Consensus } from './strategy.ts';
import type { VersionLedger } from './version-ledger.ts';

export interface MirrorHost {
  readonly federationId: string;
  readonly settings: FederationSettings;
  readonly store: RuntimeStore;
  readonly versions: VersionLedger;
  readonly roster: SessionRoster;
  decode(s: StoredSubmission): { probs?: Float32Array; params?: Float32Array };
  consensus(): Consensus | null;
  setConsensus(c: Consensus, signature?: string): void;
  /** The batch indices version `version` draws (seeded by version: the same on every replica). */
  indices(version: number): Uint32Array;
  prune(): void;
  /** Reloads versions and consensus from the store. */
  recover(): Promise<void>;
  closesOnPublish: boolean;
}

export class ReplicaMirror {
  constructor(private readonly host: MirrorHost) {}

  /** Applies one announcement (in the runtime's queue). */
  async apply(a: StateAnnouncement): Promise<void> {
    const { versions, roster } = this.host;
    const consensusVersion = this.host.consensus()?.version ?? 0;
    const inSequence =
      a.type === 'opened'
        ? a.version === versions.current + 1 && a.consensusVersion === consensusVersion
        : a.version === versions.current && versions.get(a.version) !== undefined;
    if (!inSequence) {
      // Already applied (a duplicate) or older: nothing to do; ahead: something was missed.
      if (a.version > versions.current || (a.type === 'published' && a.version === versions.current))
        await this.reload();
      return;
    }
    if (a.type === 'opened') {
      this.open(a.version, a.openedAt);
      roster.offerAll();
      return;
    }
    if (a.consensus) {
      const c = consensusFromWire(a.consensus, {
        indices: (v) => versions.get(v)?.indices ?? this.host.indices(v),
        held: (id, v) => versions.get(v)?.contributions.get(id),
      });
      this.host.setConsensus(c, a.consensus.kind === 'fedavg' ? a.consensus.signature : undefined);
      await this.complete((id) => roster.has(id));
    }
    if (this.host.closesOnPublish) versions.get(a.version)!.open = false;
    versions.published();
    if (a.opened) this.open(a.opened.version, a.opened.openedAt);
    roster.announce({ round: a.version, submissions: a.submissions, reason: a.reason });
  }

  /**
   * Puts in the consensus the stored uploads it lacks that targets need: those of the
   * participants `wanted` selects under 'mean' and 'agreement' (their own, to leave out of
   * the announced mean: an 'agreement' batch's announced weights already carry the owner's
   * trust and copy factors), every one under the other robust rules (leave-one-out
   * recomputes over the others).
   */
  async complete(wanted: (participantId: string) => boolean): Promise<void> {
    const c = this.host.consensus();
    if (!c) return;
    const ownOnly = targetsFromMean(this.host.settings.aggregation);
    const filled = await fillUploads(c, (id) => !ownOnly || wanted(id), {
      store: this.host.store,
      federationId: this.host.federationId,
      decode: (s) => this.host.decode(s),
    });
    if (filled !== c) this.host.setConsensus(filled);
  }

  async reload(): Promise<void> {
    await this.host.recover();
    this.host.roster.offerAll();
  }

  private open(version: number, openedAt: number): void {
    this.host.versions.add(version, this.host.indices(version), openedAt);
    this.host.prune();
  }
}
