/**
 * Recovery grace (settings.recoveryGraceMs): after a restart, the participants of the
 * round / version that was open and that are neither back nor done with it. While any is
 * awaited, the "every connected participant" rules (sync quorum 0, async all-waiting)
 * wait for them too and a sync deadline holds; the set empties as they come back, and is
 * cleared when the grace expires or that round / version publishes.
 */
import type { OnlineSet } from './online-view.ts';
import type { VersionState } from './runtime-types.ts';

export class RecoveryGrace {
  private readonly awaited = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  /** @param onExpire runs when the grace runs out with participants still awaited. */
  constructor(private readonly onExpire: () => void) {}

  /** Participants are still awaited. */
  get active(): boolean {
    return this.awaited.size > 0;
  }

  /** A grace is running or holds participants (publishing ends it). */
  get running(): boolean {
    return this.timer !== null || this.awaited.size > 0;
  }

  /**
   * Starts the grace for version `open`. Its participants are those seen since it opened
   * (`seen`) and those that contributed to it or to the loaded versions before it (sync:
   * the previous round; async: the last maxStaleness versions), which covers whoever was
   * sent its Task in the last second before the crash; minus those done with it or online.
   */
  start(
    ms: number,
    open: VersionState,
    loaded: Iterable<VersionState>,
    seen: readonly string[],
    online: OnlineSet,
  ): void {
    for (const id of seen) if (!open.contributions.has(id)) this.awaited.add(id);
    for (const v of loaded) {
      if (v.version > open.version) continue;
      for (const id of v.contributions.keys()) if (!open.contributions.has(id)) this.awaited.add(id);
    }
    for (const id of online.keys()) this.awaited.delete(id);
    if (this.awaited.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onExpire();
    }, ms);
  }

  /** `id` is back; true when it was the last one awaited (the grace is over). */
  arrived(id: string): boolean {
    return this.awaited.delete(id) && this.awaited.size === 0;
  }

  end(): void {
    this.awaited.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
