/**
 * Public sets: made from a built-in data set slice or an uploaded file, stored content-
 * addressed (the same bytes again are the same set), and served to participants from
 * memory after their first download.
 */
import { PUBLIC_SET_FORMAT } from '@mutua/proto';
import type { BuiltinSlice, UploadQuery } from '@mutua/proto/rest';
import type { Db, PublicSetRow } from '../db/index.ts';
import { notFound } from '../errors.ts';
import { type BuiltPublicSet, buildBuiltin, buildUpload } from '../public-set-builder.ts';
import { PublicSetEncodings, type Representation } from './public-set-encodings.ts';

export interface StoredPublicSet {
  publicSet: PublicSetRow;
  /** False when the same bytes were stored before. */
  created: boolean;
}

export class PublicSetsService {
  /**
   * Bytes of the sets downloaded so far. Sets are immutable and few (an operator makes
   * them), and every participant of a federation downloads its set: not bounded.
   */
  private readonly bytes = new Map<string, Uint8Array>();
  /** Their gzip and brotli forms, made once per process on first download. */
  private readonly encodings = new PublicSetEncodings();

  constructor(private readonly db: Db) {}

  /** A slice of MNIST or Fashion-MNIST (Ajv has filled in the slice's defaults). */
  async createBuiltin(slice: BuiltinSlice): Promise<StoredPublicSet> {
    return this.store(await buildBuiltin(slice));
  }

  /** An uploaded IDX, CSV or mutua-public-v1 file; a malformed one is a 400 with the parser's code. */
  async upload(file: Uint8Array, query: UploadQuery): Promise<StoredPublicSet> {
    const shape = query.shape?.split('x').map(Number);
    return this.store(buildUpload(file, query.format, shape, query.name ?? 'upload'));
  }

  list(): Promise<PublicSetRow[]> {
    return this.db.publicSets.list();
  }

  get(id: string): Promise<PublicSetRow | null> {
    return this.db.publicSets.get(id);
  }

  /** Whether the set exists (without reading its bytes). */
  async exists(id: string): Promise<boolean> {
    return this.bytes.has(id) || (await this.db.publicSets.get(id)) !== null;
  }

  /** The set's bytes; 404 when there is no such set. */
  async data(id: string): Promise<Uint8Array> {
    let data = this.bytes.get(id);
    if (!data) {
      const stored = await this.db.publicSets.getData(id);
      if (!stored) throw notFound(`public set ${id}`);
      data = stored;
      this.bytes.set(id, data);
    }
    return data;
  }

  /** What to send for an Accept-Encoding header (404 when there is no such set). */
  async representation(id: string, acceptEncoding: string | undefined): Promise<Representation> {
    return this.encodings.choose(id, await this.data(id), acceptEncoding);
  }

  /** Resolves when the set's compressed forms are all made (tests, benchmarks). */
  async compressed(id: string): Promise<void> {
    await this.encodings.ready(id, await this.data(id));
  }

  private store(built: BuiltPublicSet): Promise<StoredPublicSet> {
    return this.db.publicSets.put({ ...built, format: PUBLIC_SET_FORMAT });
  }
}
