/**
 * The participant's side of delta payloads (PROTOCOL.md, "Delta payloads").
 *
 * Uploads: the rows of this participant's acknowledged uploads, as the coordinator decoded
 * them. They outlive reconnects (the coordinator keeps its copy per participant) and are
 * forgotten when the coordinator's numbering restarts. Each upload is a delta against them
 * once there are any; its rows are taken in when its Ack arrives. A DELTA_BASE_UNKNOWN answer
 * (the coordinator restarted, or took in an upload whose Ack was lost) makes the same upload
 * go again full (`fullUpload`).
 *
 * Targets: the rows of the Targets received, and their version, which the Hello names
 * (Hello.delta_targets_version) so that the coordinator continues from them on a new
 * connection when it holds the same (else it sends the next Targets full).
 */
import {
  DeltaRows,
  decodeDelta,
  decodePredictions,
  encodeDelta,
  encodePredictions,
  encodingName,
  PayloadError,
  type PredictionEncoding,
  ProtocolError,
  type TargetsInit,
} from '@mutua/proto';

interface PendingUpload {
  round: number;
  indices: ArrayLike<number>;
  probs: Float32Array;
  encoding: PredictionEncoding;
  k: number;
  /** What the coordinator holds once it accepted what was last sent. */
  values: Float32Array;
  /** Rows that travelled in what was last sent. */
  sent: number;
}

export class PayloadDeltas {
  private uploads: DeltaRows | null = null;
  private targets: DeltaRows | null = null;
  private pending: PendingUpload | null = null;

  /** The upload of `round` (a delta when rows are held) and the base it names (0 = full). */
  encodeUpload(
    probs: Float32Array,
    indices: ArrayLike<number>,
    C: number,
    encoding: PredictionEncoding,
    k: number,
    threshold: number,
    round: number,
  ): { payload: Uint8Array; deltaBase: number } {
    if (this.uploads?.classes !== C) this.uploads = new DeltaRows(C);
    const rows = this.uploads;
    const opts = { k: encoding === 'topk' ? k : undefined, threshold };
    const pending = { round, indices, probs, encoding, k };
    if (rows.version === 0) {
      const payload = encodePredictions(probs, indices.length, C, encoding, opts);
      const values = decodePredictions(payload, indices.length, C, encoding, opts);
      this.pending = { ...pending, values, sent: indices.length };
      return { payload, deltaBase: 0 };
    }
    const d = encodeDelta(probs, indices, C, encoding, rows, opts);
    if (d.full.payload.length <= d.payload.length) {
      // Almost every row changed: the full payload is no larger.
      this.pending = { ...pending, values: d.full.values, sent: indices.length };
      return { payload: d.full.payload, deltaBase: 0 };
    }
    this.pending = { ...pending, values: d.values, sent: d.sent };
    return { payload: d.payload, deltaBase: rows.version };
  }

  /**
   * The same upload in full, for the coordinator that does not hold the base; null if it is
   * not the one pending. The rows held are forgotten: once it is acknowledged both sides
   * hold exactly its rows (else rows the coordinator lacks would be left out again, and
   * refused again, round after round).
   */
  fullUpload(round: number): Uint8Array | null {
    const p = this.pending;
    if (!p || p.round !== round || !this.uploads) return null;
    this.uploads = new DeltaRows(this.uploads.classes);
    const opts = { k: p.encoding === 'topk' ? p.k : undefined };
    const payload = encodePredictions(p.probs, p.indices.length, this.uploads.classes, p.encoding, opts);
    p.values = decodePredictions(payload, p.indices.length, this.uploads.classes, p.encoding, opts);
    p.sent = p.indices.length;
    return payload;
  }

  /** The upload of `round` was acknowledged: the coordinator now holds its rows. Returns the rows it carried. */
  acknowledged(round: number): number | undefined {
    const p = this.pending;
    if (!p || p.round !== round || !this.uploads) return undefined;
    this.uploads.update(p.indices, p.values, round);
    this.pending = null;
    return p.sent;
  }

  /** Rows held for the uploads (0 = none yet) and their round. */
  get uploadBase(): number {
    return this.uploads?.version ?? 0;
  }

  /**
   * Targets as a full float32 payload (exactly the values meant), their rows taken in; the
   * Targets unchanged when they cannot be sized (validation names the problem); or the
   * coded error (DELTA_BASE_UNKNOWN when they name a base this connection never received).
   * `payload` is already inflated.
   */
  decodeTargets(t: TargetsInit, classes: number): TargetsInit | ProtocolError {
    const enc = encodingName(t.encoding);
    const indices = t.indices ?? [];
    if (
      enc === undefined ||
      (t.classes ?? 0) !== classes ||
      (t.rows ?? 0) !== indices.length ||
      !indices.length
    )
      return t;
    if (this.targets?.classes !== classes) this.targets = new DeltaRows(classes);
    const rows = this.targets;
    const base = Number(t.deltaBase ?? 0);
    const version = Number(t.version ?? 0);
    const opts = { k: enc === 'topk' ? (t.k ?? 0) : undefined, maxElements: indices.length * classes };
    try {
      if (base === 0) {
        rows.update(
          indices,
          decodePredictions(t.payload ?? new Uint8Array(0), indices.length, classes, enc, opts),
          version,
        );
        return t;
      }
      if (rows.version !== base) {
        return new ProtocolError(
          'DELTA_BASE_UNKNOWN',
          `targets are a delta against version ${base}, but this connection holds ${rows.version || 'none'}`,
        );
      }
      const { values } = decodeDelta(t.payload ?? new Uint8Array(0), indices, classes, enc, rows, opts);
      rows.update(indices, values, version);
      const payload = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      return { ...t, encoding: 1, k: 0, payload, deltaBase: 0 };
    } catch (e) {
      if (e instanceof PayloadError) {
        const code = e.code === 'PAYLOAD_DELTA_BASE' ? 'DELTA_BASE_UNKNOWN' : 'BAD_PAYLOAD';
        return new ProtocolError(code, `targets payload: ${e.message}`, { detail: e.code });
      }
      throw e;
    }
  }

  /** The Targets version whose rows are held (0: none), for the Hello. */
  get targetsVersion(): number {
    return this.targets?.version ?? 0;
  }

  /** The coordinator's numbering restarted: nothing it held is there any more. */
  restart(): void {
    this.uploads?.clear();
    this.targets?.clear();
    this.pending = null;
  }
}
