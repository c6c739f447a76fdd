/**
 * What the join page keeps in IndexedDB so that a refresh, a crash or a dropped connection
 * resumes as the same participant: the resume token, the prepared private data set, the
 * model's weights after each acknowledged round, and the public set (by its sha256). All
 * of it stays in this browser; nothing here is sent anywhere.
 *
 * Both the page and the worker open the same database; each call opens, works and closes,
 * so neither blocks the other's upgrades.
 */
import type { ModelArch } from '@mutua/core/models';
import type { TokenStorage } from '@mutua/core/session';

const DB_NAME = 'mutua-join';
const DB_VERSION = 1;
export const STORES = ['tokens', 'participants', 'datasets', 'weights', 'public-sets'] as const;
export type StoreName = (typeof STORES)[number];

/** What the page needs to know about an earlier visit. */
export interface ParticipantRecord {
  participantId: string;
  federationId: string;
  arch: ModelArch;
  /** Training was running when the page went away: resume without asking. */
  active: boolean;
  dataSource: string;
  rounds: number;
  updatedAt: number;
}

export interface StoredDataset {
  x: Float32Array;
  y: Int32Array;
  n: number;
  shape: number[];
  numClasses: number;
  source: string;
}

export interface StoredWeights {
  arch: ModelArch;
  shapes: number[][];
  values: Float32Array[];
  round: number;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function open(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') {
    return Promise.reject(
      new Error('this browser has no IndexedDB (a private window?): progress cannot be kept'),
    );
  }
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    for (const name of STORES)
      if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
  };
  return request(req);
}

async function withStore<T>(
  name: StoreName,
  mode: IDBTransactionMode,
  fn: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await open();
  try {
    const tx = db.transaction(name, mode);
    const result = await request(fn(tx.objectStore(name)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  } finally {
    db.close();
  }
}

export async function get<T>(store: StoreName, key: string): Promise<T | undefined> {
  return (await withStore(store, 'readonly', (s) => s.get(key))) as T | undefined;
}

export async function put(store: StoreName, key: string, value: unknown): Promise<void> {
  await withStore(store, 'readwrite', (s) => s.put(value, key));
}

export async function remove(store: StoreName, key: string): Promise<void> {
  await withStore(store, 'readwrite', (s) => s.delete(key));
}

/** Forgets everything kept for one participant (not the shared public-set cache). */
export async function forget(key: string): Promise<void> {
  for (const store of ['tokens', 'participants', 'datasets', 'weights'] as const) await remove(store, key);
}

/** The session's resume-token storage, in IndexedDB. */
export const tokenStorage: TokenStorage = {
  get: (key) => get<string>('tokens', key),
  set: (key, value) => put('tokens', key, value),
};
