/**
 * Group commit: callers submit one item each; items that arrive while a batch is being
 * written are written together in the next one, so N concurrent writers cost about one
 * transaction (and, on SQLite with synchronous=FULL, one fsync) instead of N. Each
 * caller's promise settles once ITS batch is committed, so durability is per item as if
 * written alone, and a lone writer waits one turn of the event loop.
 *
 * A batch starts on the turn after its first item (setImmediate), so that everything
 * received in the same turn joins it: with a synchronous driver (better-sqlite3) a write
 * started at once would finish before the next WebSocket frame is even read, and no batch
 * would ever hold more than one item.
 *
 * With `lingerMs` > 0 a batch starts that long after its first item instead (admission:
 * Hellos of a reconnect storm arrive spread over the event loop's turns, each behind its
 * socket's upgrade; a few milliseconds gather hundreds of them into one statement).
 *
 * If a batch fails, its items are retried one by one so that one bad item (e.g. a
 * missing round) fails alone; `write` must therefore be all-or-nothing (a transaction).
 */
export class GroupCommit<In, Out> {
  readonly #write: (items: In[]) => Promise<Out[]>;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  #pending: { item: In; resolve: (out: Out) => void; reject: (e: unknown) => void }[] = [];
  #running = false;

  constructor(write: (items: In[]) => Promise<Out[]>, maxBatch: number, lingerMs = 0) {
    this.#write = write;
    this.#maxBatch = maxBatch;
    this.#lingerMs = lingerMs;
  }

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        if (this.#lingerMs > 0) setTimeout(() => void this.#drain(), this.#lingerMs);
        else setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#maxBatch);
        try {
          const outs = await this.#write(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) b.resolve(outs[i]!);
        } catch (e) {
          if (batch.length === 1) {
            batch[0]!.reject(e);
            continue;
          }
          for (const b of batch) {
            try {
              b.resolve((await this.#write([b.item]))[0]!);
            } catch (single) {
              b.reject(single);
            }
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
