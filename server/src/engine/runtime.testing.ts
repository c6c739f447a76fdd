/** Test helpers for federation runtimes: a session that records its Tasks, and an upload. */
import type { SessionPort, TaskView } from './runtime-types.ts';

export class FakeSession implements SessionPort {
  readonly tasks: TaskView[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly participantId: string) {}
  sendTask(task: TaskView): void {
    this.tasks.push(task);
    for (const w of this.waiters.splice(0)) w();
  }
  sendRoundClosed(): void {}
  /** Tasks received for `round`. */
  count(round: number): number {
    return this.tasks.filter((t) => t.round === round).length;
  }
  /** The first task received whose round is at least `round`. */
  async task(round: number): Promise<TaskView> {
    for (;;) {
      const t = this.tasks.find((x) => x.round >= round);
      if (t) return t;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
  /** As task(), or null when none came within `ms`. */
  async taskWithin(round: number, ms: number): Promise<TaskView | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const t = this.tasks.find((x) => x.round >= round);
      const left = deadline - Date.now();
      if (t || left <= 0) return t ?? null;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }
}

/** A float32 prediction upload of `rows` rows peaked on class `cls`. */
export function uploadOf(version: number, cls: number, rows: number, classes: number) {
  const probs = new Float32Array(rows * classes).fill(0.05);
  for (let r = 0; r < rows; r++) probs[r * classes + cls] = 0.9;
  return {
    version,
    probs,
    encoding: 'float32' as const,
    payload: new Uint8Array(probs.buffer.slice(0)),
    rows,
    classes,
    k: 0,
    bytes: probs.byteLength,
    metrics: {},
  };
}
