/**
 * Who is online in a federation across a cluster: the participants connected to this
 * replica (the roster's sessions) and those other replicas reported (participant → the
 * replica holding its connection). A participant that moved keeps one entry per side until
 * the old side hears of it; it is counted once. Single-process, the remote side stays empty.
 */
export interface OnlineSet {
  readonly size: number;
  has(participantId: string): boolean;
  keys(): Iterable<string>;
}

export class OnlineView implements OnlineSet {
  private readonly remote = new Map<string, string>();
  /** Remote entries that are not also local; recomputed after a change. */
  private extra: number | null = 0;

  constructor(private readonly local: ReadonlyMap<string, unknown>) {}

  get size(): number {
    if (this.extra === null) {
      let n = 0;
      for (const id of this.remote.keys()) if (!this.local.has(id)) n++;
      this.extra = n;
    }
    return this.local.size + this.extra;
  }

  has(participantId: string): boolean {
    return this.local.has(participantId) || this.remote.has(participantId);
  }

  *keys(): IterableIterator<string> {
    yield* this.local.keys();
    for (const id of this.remote.keys()) if (!this.local.has(id)) yield id;
  }

  /** The local roster changed (join or leave here). */
  changed(): void {
    if (this.remote.size > 0) this.extra = null;
  }

  /** `replica` reports `participantId` connected (true) or gone (false); returns whether it is new. */
  setRemote(participantId: string, replica: string, online: boolean): boolean {
    const was = this.remote.get(participantId);
    if (online) this.remote.set(participantId, replica);
    else if (was === replica) this.remote.delete(participantId);
    this.extra = null;
    return online && was === undefined;
  }

  /** `replica`'s whole list (after an ownership change); returns the participants new to the view. */
  replaceReplica(replica: string, ids: readonly string[]): string[] {
    this.dropReplica(replica);
    const fresh: string[] = [];
    for (const id of ids) if (this.setRemote(id, replica, true)) fresh.push(id);
    return fresh;
  }

  /** Forgets every other replica's report (a new owner asks them all again). */
  clearRemote(): void {
    this.remote.clear();
    this.extra = 0;
  }

  /** `replica` died or left: its participants are offline until they reconnect elsewhere. */
  dropReplica(replica: string): number {
    let n = 0;
    for (const [id, r] of this.remote) {
      if (r !== replica) continue;
      this.remote.delete(id);
      n++;
    }
    this.extra = null;
    return n;
  }
}
