/**
 * minParticipants (settings.ts): a round (sync) or consensus version (async) opens only
 * while that many participants are connected; alone, a participant would train on its own
 * consensus at full speed. The gate says whether a version may open now, tells the host
 * when it may not ("waiting for participants"), and remembers a publish that could not open
 * the next version, so the join that reaches the minimum opens it (async versions stay
 * open for late work, so "no open version" cannot tell this state apart).
 */
export class PeerGate {
  private held = false;
  /** Inside restart recovery: its participants are on their way back (see recovering()). */
  private restarting = false;

  constructor(
    readonly required: number,
    private readonly waiting: (online: number, required: number) => void,
  ) {}

  /** A publish left the next version unopened for want of participants. */
  get holding(): boolean {
    return this.held;
  }

  /** Whether `online` participants are enough; when not, the host is told. */
  allows(online: number): boolean {
    if (online >= this.required) return true;
    this.waiting(online, this.required);
    return false;
  }

  /** After a publish: true (remembered) when the next version must wait for participants. */
  holdAfterPublish(online: number): boolean {
    if (this.restarting || this.allows(online)) return false;
    this.held = true;
    return true;
  }

  /**
   * Runs restart recovery's own publish: a round that was complete at the crash closes and
   * the next one opens at once, as it would have without the crash (the gate held when that
   * round opened; nobody is connected yet only because everyone is reconnecting).
   */
  async recovering<T>(work: () => Promise<T>): Promise<T> {
    this.restarting = true;
    try {
      return await work();
    } finally {
      this.restarting = false;
    }
  }

  /** Takes the remembered hold: true when a held publish's next version should open now. */
  release(): boolean {
    const held = this.held;
    this.held = false;
    return held;
  }
}
