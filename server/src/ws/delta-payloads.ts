/**
 * The coordinator's side of delta payloads (PROTOCOL.md, "Delta payloads").
 *
 * Uploads: per participant, the rows of its acknowledged uploads, kept in memory beside the
 * federation's runtime. When none are held (a coordinator restart, a participant that comes
 * from another replica, an evicted one), they are rebuilt from the participant's stored
 * uploads before its first delta is checked (restoreUploads). A delta against any other round
 * is DELTA_BASE_UNKNOWN, and the participant forgets its rows and resends that upload full.
 * The rows are taken in when the upload is acknowledged (a duplicate included), the moment
 * the participant takes in its own copy.
 *
 * Targets: per participant too (Admission.delta.targets), updated as each Task leaves. A new
 * connection continues from them only when the participant's Hello names the same version
 * (it may not have received the last Task before the old connection dropped); else they
 * start empty.
 */
import {
  DeltaRows,
  decodePredictions,
  encodeDelta,
  encodePredictions,
  type PredictionEncoding,
  ProtocolError,
} from '@mutua/proto';
import type { UploadHistoryRow } from '../db/submissions-repository.ts';
import { DEFAULT_PAYLOAD_RETENTION_VERSIONS } from '../engine/payload-retention.ts';

/**
 * Participants whose upload rows one runtime keeps; the least recently used beyond it are
 * dropped (their next delta is DELTA_BASE_UNKNOWN, answered with a full upload). A
 * participant's rows take about 4 * classes * public-set size bytes (80 KB for 2,000 MNIST
 * rows), so this bounds them to about 330 MB at that size.
 */
export const MAX_HELD_PARTICIPANTS = 4096;

const uploads = new WeakMap<object, Map<string, DeltaRows>>();
const targets = new WeakMap<object, Map<string, DeltaRows>>();

/** The rows held for `participantId`'s uploads to `runtime` (empty when none). */
export function heldUploads(runtime: object, participantId: string, classes: number): DeltaRows {
  return rowsOf(uploads, runtime, participantId, classes);
}

/** Stored uploads read back to rebuild held rows: more than payload retention keeps. */
export const RESTORE_UPLOADS_LIMIT = 2 * DEFAULT_PAYLOAD_RETENTION_VERSIONS;
const restoring = new WeakMap<DeltaRows, Promise<void>>();

/**
 * When no upload rows are held for `participantId`, rebuilds them from its stored uploads
 * (null when rows are held: the caller goes on synchronously):
 * newest first, each public row's newest value, stopping at the first upload whose payload
 * retention dropped (anything older could hold a value a newer upload replaced). Their
 * round is the newest stored upload's, the one the participant last had acknowledged, so a
 * delta against it is accepted as before the restart. Stored payloads are the decoded
 * values re-encoded in the upload's encoding, so they decode to the values both sides took
 * in. On any failure nothing is held and the delta is answered DELTA_BASE_UNKNOWN, as
 * before.
 */
export function restoreUploads(
  runtime: object & { uploadHistory(participantId: string, limit: number): Promise<UploadHistoryRow[]> },
  participantId: string,
  classes: number,
): Promise<void> | null {
  const rows = heldUploads(runtime, participantId, classes);
  if (rows.version !== 0) return null; // held: nothing to wait for
  let p = restoring.get(rows);
  if (!p) {
    p = runtime
      .uploadHistory(participantId, RESTORE_UPLOADS_LIMIT)
      .then((history) => {
        if (rows.version !== 0) return; // an upload was acknowledged meanwhile
        const usable: UploadHistoryRow[] = [];
        for (const h of history) {
          if (!h.payload || h.classes !== classes || h.indices.length < h.rows) break;
          usable.push(h);
        }
        for (const h of usable.reverse()) {
          const enc = h.encoding as PredictionEncoding;
          const probs = decodePredictions(h.payload!, h.rows, classes, enc, { k: h.k });
          rows.update(h.indices.subarray(0, h.rows), probs, h.version);
        }
      })
      .catch(() => rows.clear())
      .finally(() => restoring.delete(rows));
    restoring.set(rows, p);
  }
  return p;
}

/** The restore of `participantId`'s upload rows still running, if any (messages behind it wait). */
export function pendingRestore(runtime: object, participantId: string): Promise<void> | null {
  const rows = uploads.get(runtime)?.get(participantId);
  return (rows && restoring.get(rows)) ?? null;
}

/**
 * The Targets rows sent to `participantId`, to continue from on a new connection when the
 * participant's Hello says it holds the same version (Hello.delta_targets_version); emptied
 * otherwise, so the next Targets go full.
 */
export function heldTargets(
  runtime: object,
  participantId: string,
  classes: number,
  holds: number,
): DeltaRows {
  const rows = rowsOf(targets, runtime, participantId, classes);
  if (holds === 0 || rows.version !== holds) rows.clear();
  return rows;
}

function rowsOf(
  held: WeakMap<object, Map<string, DeltaRows>>,
  runtime: object,
  participantId: string,
  classes: number,
): DeltaRows {
  let byId = held.get(runtime);
  if (!byId) {
    byId = new Map();
    held.set(runtime, byId);
  }
  let rows = byId.get(participantId);
  if (rows) byId.delete(participantId);
  else rows = new DeltaRows(classes);
  byId.set(participantId, rows);
  if (byId.size > MAX_HELD_PARTICIPANTS) byId.delete(byId.keys().next().value!);
  return rows;
}

/** DELTA_BASE_UNKNOWN unless `rows` are as of `deltaBase`. */
export function checkBase(rows: DeltaRows, deltaBase: number): ProtocolError | null {
  if (rows.version === deltaBase) return null;
  return new ProtocolError(
    'DELTA_BASE_UNKNOWN',
    rows.version === 0
      ? `the upload is a delta against round ${deltaBase}, but no acknowledged upload of this participant is held (coordinator restarted?); resend it full`
      : `the upload is a delta against round ${deltaBase}, but the rows held are of round ${rows.version}; resend it full`,
  );
}

/**
 * A Targets payload for this connection: a delta against the rows sent before (when there are
 * any), and the rows the participant holds once it is decoded.
 */
export function targetsPayload(
  probs: Float32Array,
  indices: ArrayLike<number>,
  version: number,
  C: number,
  enc: PredictionEncoding,
  k: number,
  delta: { threshold: number; targets: DeltaRows },
): { payload: Uint8Array; deltaBase: number } {
  const opts = { k: enc === 'topk' ? k : undefined, threshold: delta.threshold };
  const rows = delta.targets;
  if (rows.version === 0) {
    const payload = encodePredictions(probs, indices.length, C, enc, opts);
    rows.update(indices, decodePredictions(payload, indices.length, C, enc, opts), version);
    return { payload, deltaBase: 0 };
  }
  const deltaBase = rows.version;
  const d = encodeDelta(probs, indices, C, enc, rows, opts);
  // Almost every row changed: the full payload is no larger.
  const whole = d.full.payload.length <= d.payload.length;
  rows.update(indices, whole ? d.full.values : d.values, version);
  return whole ? { payload: d.full.payload, deltaBase: 0 } : { payload: d.payload, deltaBase };
}
