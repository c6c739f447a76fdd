/**
 * Per-process memo for the built-in data sets: parsing MNIST once is ~0.2 s and 190 MB of
 * float32, so every loader call with the same source shares one result. A failed load is
 * forgotten so that a retry can succeed.
 */
const entries = new Map<string, Promise<unknown>>();

export function memo<T>(key: string, load: () => Promise<T>): Promise<T> {
  let p = entries.get(key) as Promise<T> | undefined;
  if (p === undefined) {
    p = load();
    entries.set(key, p);
    p.catch(() => entries.delete(key));
  }
  return p;
}

/** Drops every cached data set (their memory is freed once callers drop theirs too). */
export function clearDataCache(): void {
  entries.clear();
}
