/**
 * Compressed Targets payloads (PROTOCOL.md, "Payload compression") are inflated before the
 * Task or Targets is validated. Inflating is asynchronous (the Compression Streams API, the
 * same in browsers and Node), so InOrder keeps messages in their arrival order: while one
 * inflates, later ones wait behind it; with nothing compressed everything stays synchronous.
 */
import {
  compressionName,
  encodingName,
  inflateRawAsync,
  maxDeltaByteLength,
  PayloadError,
  ProtocolError,
  predictionByteLength,
  type TargetsInit,
} from '@mutua/proto';

export function isCompressed(t: TargetsInit | null | undefined): boolean {
  return t != null && (t.compression ?? 0) !== 0;
}

/**
 * The Targets with their payload inflated (compression cleared), the Targets unchanged when
 * they cannot be sized (validation then names the problem), or the coded error.
 */
export async function inflateTargets(t: TargetsInit): Promise<TargetsInit | ProtocolError> {
  if (compressionName(t.compression ?? 0) !== 'deflate-raw') return t;
  const enc = encodingName(t.encoding);
  let expected: number;
  // A delta's length depends on the rows it sends: inflate up to the all-rows size.
  const delta = Number(t.deltaBase ?? 0) !== 0;
  try {
    expected = (delta ? maxDeltaByteLength : predictionByteLength)(
      t.rows ?? 0,
      t.classes ?? 0,
      enc ?? 'float32',
      t.k ?? 0,
    );
  } catch {
    return t;
  }
  if (enc === undefined) return t;
  try {
    const payload = await inflateRawAsync(t.payload ?? new Uint8Array(0), expected, !delta);
    return { ...t, payload, compression: 0 };
  } catch (e) {
    if (e instanceof PayloadError) {
      return new ProtocolError('BAD_PAYLOAD', `targets payload: ${e.message}`, { detail: e.code });
    }
    throw e;
  }
}

/** Runs handlers in arrival order, each after the asynchronous preparation of its message. */
export class InOrder {
  private tail: Promise<void> | null = null;

  /** `prepare` is null for a message that needs none: it runs now when nothing is pending. */
  run<T>(prepare: (() => Promise<T>) | null, handle: (value: T | undefined) => void): void {
    if (prepare === null && this.tail === null) {
      handle(undefined);
      return;
    }
    const prev = this.tail ?? Promise.resolve();
    const next = prev.then(async () => handle(prepare ? await prepare() : undefined));
    const settled = next.catch(() => {});
    this.tail = settled;
    void settled.then(() => {
      if (this.tail === settled) this.tail = null;
    });
  }
}
